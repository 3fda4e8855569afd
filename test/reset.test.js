// koffi.reset() in a process of its own, since it forgets every user-defined type.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, testLibPath } = require('./helpers.js');

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
