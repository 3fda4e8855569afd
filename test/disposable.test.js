// Disposable types. Kept in a file of its own: upstream 2.16.3 caches introspection results in a
// way that makes the process crash at exit when a disposable (or named pointer) copies a type that
// was introspected before, so the base types used here are never introspected first.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, upstream, testLibPath, pointerSize } = require('./helpers.js');

const lib = koffi.load(testLibPath);

test('DISP-01 / DISP-07 · disposable forms and introspection', () => {
    const named = koffi.disposable('DspOwnedStr', 'char *');
    const info = koffi.introspect(named);
    assert.equal(info.name, 'DspOwnedStr');
    assert.equal(info.primitive, 'String');
    assert.equal(info.disposable, true);
    assert.equal(info.size, pointerSize);

    const anon = koffi.introspect(koffi.disposable('char16_t *'));
    assert.equal(anon.disposable, true);
    assert.equal(anon.primitive, 'String16');
    assert.match(anon.name, /^<anonymous_\d+>$/);

    const withFn = koffi.introspect(koffi.disposable('int *', () => {}));
    assert.equal(withFn.disposable, true);
    assert.equal(withFn.primitive, 'Pointer');

    const nullName = koffi.introspect(koffi.disposable(null, 'double *', null));
    assert.equal(nullName.disposable, true);
    assert.equal(nullName.primitive, 'Pointer');
});

test('DISP-05 · the ! shorthand in type strings', () => {
    const info = koffi.introspect('str32!');
    assert.equal(info.disposable, true);
    assert.equal(info.primitive, 'String32');
    assert.equal(koffi.introspect('const char32_t **!').disposable, true);
});

test('DISP-02 · disposable construction errors', () => {
    assert.throws(() => koffi.disposable('int'), { name: 'TypeError', message: /Unexpected int type, expected pointer or string type/ });
    const D = koffi.disposable('DspTwice', 'uint8_t *');
    assert.throws(() => koffi.disposable(D), { name: 'TypeError', message: /Cannot use disposable type 'DspTwice' to create new disposable/ });
    assert.throws(() => koffi.disposable('DspBadFn', 'uint16_t *', 5), TypeError);
    assert.throws(() => koffi.disposable('int32_t *', 5), TypeError);
});

test('DISP-03 · disposable return values are freed after conversion', () => {
    const before = koffi.stats().disposed;
    const concat = lib.func('kt_concat_alloc', 'DspOwnedStr', ['const char *', 'const char *']);
    assert.equal(concat('ab', 'cd'), 'abcd');
    assert.equal(koffi.stats().disposed, before + 1);

    const concat2 = lib.func('char *! kt_concat_alloc(const char *a, const char *b)');
    assert.equal(concat2('x', 'y'), 'xy');
    assert.equal(concat2('long ', 'string'), 'long string');
    assert.equal(koffi.stats().disposed, before + 3);
});

test('DISP-03 · custom disposer receives the pointer with this === null', () => {
    const calls = [];
    const Owned = koffi.disposable('DspCustom', 'char *', function (ptr) {
        calls.push({ self: this, type: typeof ptr, nonNull: koffi.address(ptr) !== 0n });
        koffi.free(ptr);
    });
    const before = koffi.stats().disposed;
    const concat = lib.func('kt_concat_alloc', Owned, ['const char *', 'const char *']);
    assert.equal(concat('x', 'zz'), 'xzz');
    assert.deepEqual(calls, [{ self: null, type: 'object', nonNull: true }]);
    assert.equal(koffi.stats().disposed, before + 1);
});

test('DISP-04 · disposers run on NULL with a pointer value of address 0', () => {
    const seen = [];
    const Owned = koffi.disposable('DspNull', 'const char *', (ptr) => seen.push(ptr));
    const before = koffi.stats().disposed;
    assert.equal(lib.func('kt_null_str', Owned, [])(), null);
    assert.equal(seen.length, 1);
    assert.notEqual(seen[0], null);
    assert.equal(typeof seen[0], 'object');
    assert.equal(koffi.address(seen[0]), 0n);
    assert.equal(koffi.stats().disposed, before + 1);

    // MEM-08: encoding through a NULL pointer value is refused
    assert.throws(() => koffi.encode(seen[0], 'int', 1), { name: 'Error', message: /Cannot encode data in NULL pointer/ });
    // MEM-02: decoding a NULL pointer value gives null
    assert.equal(koffi.decode(seen[0], 'int'), null);
});

test('DISP-03 · disposer for a pointer type', () => {
    const seen = [];
    const IntPtr = koffi.disposable('DspIntPtr', 'int *', (ptr) => seen.push(koffi.decode(ptr, 'int')));
    const p = lib.func('kt_static_int_ptr', IntPtr, [])();
    assert.equal(koffi.decode(p, 'int'), 1234);
    assert.deepEqual(seen, [1234]);
});

test('DISP-03 · an exception in the disposer propagates to the caller', () => {
    const Boom = koffi.disposable('DspBoom', 'long *', () => { throw new RangeError('disposer failed'); });
    assert.throws(() => lib.func('kt_static_int_ptr', Boom, [])(), { name: 'RangeError', message: 'disposer failed' });
});

test('DISP-03 · disposable struct members and output arrays are disposed', () => {
    const seen = [];
    const Tracked = koffi.disposable('DspTracked', 'short *', (ptr) => seen.push(koffi.address(ptr)));
    const out = [null];
    lib.func('kt_get_static_int_ptr', 'void', [koffi.out(koffi.pointer(Tracked))])(out);
    assert.equal(seen.length, 1);
    assert.equal(seen[0], koffi.address(out[0]));

    const Person = koffi.struct('DspPerson', { name: 'const char *', age: 'int', score: Tracked });
    const person = lib.func('kt_person_make', Person, ['int'])(7);
    assert.equal(person.name, 'Ada');
    assert.equal(person.age, 7);
    assert.equal(seen.length, 2);
    assert.equal(seen[1], koffi.address(person.score));
    assert.equal(seen[1], seen[0]);
});

test('DISP-06 · decode() does not run disposers', () => {
    const seen = [];
    const Owned = koffi.disposable('DspDecode', 'unsigned char *', (ptr) => seen.push(ptr));
    const before = koffi.stats().disposed;
    const h = koffi.alloc('void *', 1);
    try {
        assert.equal(koffi.decode(h, Owned), null);
        assert.deepEqual(seen, []);
        assert.equal(koffi.stats().disposed, before);
    } finally {
        koffi.free(h);
    }
});

test('DISP-03 · disposable UTF-16 string members are disposed', () => {
    const seen = [];
    const D16 = koffi.disposable('DspWide16', 'char16_t *', (ptr) => seen.push(typeof ptr));
    const Wide = koffi.struct('DspWide', { text32: 'char32_t *', text16: D16, n: 'int' });
    const w = lib.func('kt_wide_make', Wide, [])();
    assert.deepEqual(w, { text32: 'Hi é中😀', text16: 'Hi é中😀', n: 7 });
    assert.deepEqual(seen, ['object']);
});

test('DISP-04 · disposable UTF-32 string members are disposed like the others', { skip: upstream && 'upstream quirk DISP-04 (String32 members are not disposed)' }, () => {
    const seen = [];
    const D32 = koffi.disposable('DspWide32', 'char32_t *', (ptr) => seen.push(typeof ptr));
    const Wide = koffi.struct('DspWideBoth', { text32: D32, text16: 'char16_t *', n: 'int' });
    const w = lib.func('kt_wide_make', Wide, [])();
    assert.equal(w.text32, 'Hi é中😀');
    assert.deepEqual(seen, ['object']);
});
