// koffi.reset() in a process of its own, since it forgets every user-defined type.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, upstream, testLibPath } = require('./helpers.js');

const stale = upstream && 'upstream frees the types of functions declared before reset() (aborts or misreads)';

test('RESET-01 · reset() forgets user types and keeps built-ins, libraries and functions', () => {
    const lib = koffi.load(testLibPath);
    koffi.struct('RsStruct', { a: 'int', b: 'int' });
    koffi.union('RsUnion', { i: 'int', f: 'float' });
    koffi.opaque('RsOpaque');
    koffi.proto('int RsProto(int)');
    koffi.pointer('RsPtr', koffi.opaque());
    koffi.alias('RsStructAlias', 'RsStruct');
    koffi.disposable('RsDisp', 'char16_t *');
    const diff = lib.func('int kt_ii_diff(RsStruct s)');
    const echo = lib.func('int kt_i32_echo(int)');
    assert.equal(diff({ a: 3, b: 1 }), 2);

    assert.equal(koffi.reset(), undefined);

    for (const name of ['RsStruct', 'RsUnion', 'RsOpaque', 'RsProto', 'RsPtr', 'RsStructAlias', 'RsDisp', 'RsStruct *'])
        assert.throws(() => koffi.resolve(name), { name: 'TypeError', message: /Unknown or invalid type name/ }, name);

    assert.equal(Object.keys(koffi.types).length, 79);
    assert.equal(koffi.introspect('int').name, 'int');
    assert.equal(koffi.sizeof('double'), 8);
    assert.equal(koffi.introspect('char *').primitive, 'String');

    // functions declared with built-in types still work; the library is still loaded
    assert.equal(echo(5), 5);
    assert.equal(lib.func('int kt_i32_inc(int)')(1), 2);

    // names can be registered again
    const S = koffi.struct('RsStruct', { only: 'int64_t' });
    assert.equal(koffi.sizeof(S), 8);
    assert.equal(koffi.sizeof(koffi.opaque('RsOpaque')), 0);
    assert.equal(koffi.introspect(koffi.proto('int RsProto(int)')).name, 'RsProto');
});

test('RESET-01 · functions declared before reset() keep their user-defined types', { skip: stale }, () => {
    const lib = koffi.load(testLibPath);
    koffi.struct('RsPair', { a: 'int', b: 'int' });
    const Cb = koffi.proto('int RsCb(int)');
    const diff = lib.func('int kt_ii_diff(RsPair s)');
    const ptrDiff = lib.func('int kt_ii_ptr_diff(const RsPair *s)');
    const swap = lib.func('RsPair kt_ii_swap(RsPair s)');
    const made = swap({ a: 1, b: 2 });
    const callInt = lib.func('int kt_cb_call_int(RsCb *cb, int x)');
    const cb = koffi.register((x) => x * 3, koffi.pointer(Cb));

    koffi.reset();
    // New types take the places the old ones had: the old functions must not see them.
    koffi.struct('RsOther', { x: 'double', y: 'double', z: 'double' });
    koffi.struct('RsPair', { b: 'int8_t' });
    koffi.proto('double RsCb(double, double)');

    assert.equal(diff({ a: 3, b: 1 }), 2);
    assert.equal(ptrDiff({ a: 10, b: 4 }), 6);
    assert.deepEqual(swap({ a: 5, b: 6 }), { a: 6, b: 5 });
    assert.deepEqual(made, { a: 2, b: 1 });
    assert.equal(callInt((x) => x + 1, 4), 5);
    assert.equal(callInt(cb, 4), 12);
    koffi.unregister(cb);
});

test('RESET-01 · type values made before reset() keep their meaning', { skip: stale }, () => {
    const U = koffi.union('RsNum', { i: 'int64_t', d: 'double' });
    const v = koffi.decode(new BigInt64Array([42n]), U);
    koffi.reset();
    koffi.union('RsNum', { i: 'int64_t', d: 'double' });
    const w = koffi.decode(new BigInt64Array([7n]), U);
    assert.equal(v.i, 42);
    assert.equal(w.i, 7);
    assert.equal(koffi.introspect(U).name, 'RsNum');
    assert.equal(koffi.sizeof(U), 8);
});
