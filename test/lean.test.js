// The lean call path (src/node/calls/lean.rs): functions of numbers, booleans, strings and
// data pointers get their own Node-API entry. These tests pin what it hands to the general
// path (missing arguments, unloaded libraries, values it does not convert itself), that
// nested calls made while its arguments convert cannot overwrite its frame, and that struct
// member keys (src/node/convert/keys.rs) survive `koffi.reset()` and shared names.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, upstream, testLibPath } = require('./helpers.js');

const lib = koffi.load(testLibPath);

test('CALL-02 · lean entries check and ignore arguments like every call', () => {
    const inc = lib.func('int kt_i32_inc(int x)');
    const now = lib.func('uint64_t kt_u64_max(void)');
    assert.equal(inc(41), 42);
    assert.equal(inc(41, 'ignored', {}), 42);
    assert.throws(() => inc(), { name: 'TypeError', message: /Expected 1 arguments?, got 0/ });
    // Without parameters: the function's data is found without asking for the arguments.
    assert.equal(now(), 2n ** 64n - 1n);
    assert.equal(now(1, 2, 3), 2n ** 64n - 1n);
    for (let i = 0; i < 1000; i++) assert.equal(inc(i), i + 1);
});

test('J2C-01 · which signatures take the lean path, on 64-bit and on 32-bit targets', { skip: upstream && 'koffi-rs diagnostic' }, () => {
    const lean = (proto) => koffi.implementation.leanCall(lib.func(proto));
    // Everything that fits one register word, on every target.
    assert.equal(lean('int kt_i32_inc(int x)'), true);
    assert.equal(lean('size_t strlen(const char *s)'), true);
    assert.equal(lean('int kt_sum_bytes(const uint8_t *p, int n)'), true);
    // 64-bit integers and doubles are one register on 64-bit targets. On 32-bit ones the ABI
    // splits them into two words (ARM32: r0:r1, d0 = s0:s1), which the general path moves.
    const wide = process.arch !== 'arm' && process.arch !== 'ia32';
    assert.equal(lean('int64_t kt_i64_inc(int64_t x)'), wide);
    assert.equal(lean('double kt_double_twice(double x)'), wide);
    assert.equal(lean('double kt_fdid(float a, double b, int c, double d)'), wide);
    // Output parameters need copying back: never lean.
    assert.equal(lean('void kt_get_static_str(_Out_ const char **out)'), false);
    assert.throws(() => koffi.implementation.leanCall(() => 1), /Not a function declared by koffi/);
});

test('J2C-01 · values the lean path does not convert itself go to the general conversion', () => {
    const inc64 = lib.func('int64_t kt_i64_inc(int64_t x)');
    const sumBytes = lib.func('int kt_sum_bytes(const uint8_t *p, int n)');
    const atoiLike = lib.func('size_t strlen(const char *s)');
    assert.equal(inc64(2n ** 60n), 2n ** 60n + 1n);
    assert.equal(sumBytes([1, 2, 3, 4], 4), 10);
    assert.equal(sumBytes(new Uint8Array([5, 6]).buffer, 2), 11);
    assert.equal(sumBytes(null, 0), 0);
    assert.equal(atoiLike('x'.repeat(100_000)), 100_000);
    assert.throws(() => inc64('nope'), { name: 'TypeError', message: /Unexpected String value, expected number/ });
    // Upstream takes 3.5 as the address 3 and crashes reading it.
    if (!upstream) assert.throws(() => sumBytes(3.5, 1), { name: 'TypeError', message: /Unexpected Number value/ });
});

test('LIB-09 · a lean function of an unloaded library throws instead of calling', { skip: upstream && 'upstream crashes or keeps the library' }, () => {
    const own = koffi.load(testLibPath);
    const inc = own.func('int kt_i32_inc(int x)');
    const zero = own.func('uint64_t kt_u64_max(void)');
    assert.equal(inc(1), 2);
    own.unload();
    assert.throws(() => inc(1), /unloaded/);
    assert.throws(() => zero(), /unloaded/);
});

test('CALL-13 · calls made while a lean call converts its arguments keep their own frame', () => {
    const arraySum = lib.func('int kt_ii_array_sum(const KtLeanII *arr, int n)');
    const weighted = lib.func('int64_t kt_weighted20(int a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8, int a9, int b0, int b1, int b2, int b3, int b4, int b5, int b6, int b7, int b8, int b9)');
    const args20 = Array.from({ length: 20 }, (_, i) => i + 1);
    const expected20 = weighted(...args20);
    // The getter runs while kt_ii_array_sum's arguments are converted: the nested call (with
    // stack arguments) must not land on the outer call's frame.
    let nested = 0n;
    const item = {
        get a() {
            nested = weighted(...args20);
            return 3;
        },
        b: 4,
    };
    assert.equal(arraySum([item, { a: 1, b: 2 }], 2), 34 + 12);
    assert.equal(nested, expected20);
    // Here the first argument is already in the frame when the getter's nested call runs.
    const scaledSum = lib.func('int kt_ii_scaled_sum(int k, const KtLeanII *arr, int n)');
    nested = 0n;
    assert.equal(scaledSum(7, [item, { a: 1, b: 2 }], 2), 7 * (34 + 12));
    assert.equal(nested, expected20);
    // The same with a struct passed by value (and one returned).
    const scale = lib.func('KtLeanII kt_ii_scale(int k, KtLeanII s)');
    nested = 0n;
    assert.deepEqual(scale(6, item), { a: 18, b: 24 });
    assert.equal(nested, expected20);
    assert.deepEqual(scale(2, { a: 1 }), { a: 2, b: 0 });
    assert.throws(() => scale(2, [1, 2]), { name: 'TypeError', message: /Unexpected Array value, expected object/ });
});
koffi.struct('KtLeanII', { a: 'int', b: 'int' });

test('REC-01 · struct member keys are shared by name and survive reset', { skip: upstream && 'upstream has no reset between tests' }, () => {
    const mk = () => {
        koffi.struct('KtII', { a: 'int', b: 'int' });
        return lib.func('int kt_ii_ptr_diff(const KtII *s)');
    };
    const diff = mk();
    assert.equal(diff({ a: 10, b: 3 }), 7);
    koffi.reset();
    const lib2 = koffi.load(testLibPath);
    // Same member names in another layout, and a new name after the reset.
    koffi.struct('KtII', { b: 'int', a: 'int' });
    const diff2 = lib2.func('int kt_ii_ptr_diff(const KtII *s)');
    assert.equal(diff2({ a: 10, b: 3 }), -7);
    koffi.struct('KtLater', { zeta_after_reset: 'int', b: 'int' });
    const decoded = koffi.decode(Buffer.from(new Int32Array([5, 6]).buffer), 'KtLater');
    assert.deepEqual({ ...decoded }, { zeta_after_reset: 5, b: 6 });
});
