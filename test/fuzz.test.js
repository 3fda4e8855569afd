// Bad input never crashes (spec ERR-01, ERR-02): a deterministic stream of random arguments to
// every type and memory function and to declared functions. Each throw must be a TypeError or
// an Error with a message; none may be an internal error (a caught Rust panic); the process must
// survive. Raw addresses are left out: what C does with a bad pointer is the caller's business.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, upstream, testLibPath } = require('./helpers.js');

function values() {
    return [undefined, null, true, 0, -1, 1.5, 2 ** 53, NaN, Infinity, 10n, -1n, 2n ** 70n, '', 'int', 'int *',
        'char *', 'Foo', 'int[3]', 'int[0]', 'int**********', '(', 'int (int)', '...', [], [1, 2], ['x'], {}, { a: 1 },
        () => 1, Symbol('s'), Buffer.alloc(4), new Float64Array(2), new ArrayBuffer(8), new DataView(new ArrayBuffer(4)),
        koffi.types.int, koffi.types.void, koffi.opaque(), new Array(5), { get a() { throw new Error('getter'); } }];
}

function fuzz(n, pick, run) {
    let seed = 20261125;
    const rnd = (k) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % k; };
    const vals = values();
    for (let i = 0; i < n; i++) {
        const args = Array.from({ length: rnd(5) }, () => vals[rnd(vals.length)]);
        try {
            run(pick(rnd), args);
        } catch (e) {
            assert.ok(e instanceof Error, `non-Error thrown: ${String(e)}`);
            assert.doesNotMatch(e.message, /Internal koffi-rs error/);
        }
    }
}

test('ERR-02 · random arguments to the type and memory API', { skip: upstream && 'upstream aborts on some inputs' }, () => {
    const names = ['struct', 'pack', 'union', 'opaque', 'pointer', 'array', 'alias', 'proto', 'disposable', 'in', 'out',
                   'inout', 'as', 'sizeof', 'alignof', 'offsetof', 'resolve', 'introspect', 'config', 'stats', 'errno',
                   'alloc', 'decode', 'encode', 'address', 'register', 'unregister'];
    fuzz(20000, (rnd) => names[rnd(names.length)], (name, args) => {
        // decode/encode only on buffers of our own: raw pointers are the caller's business
        if ((name === 'decode' || name === 'encode') && !(args[0] instanceof Uint8Array))
            args[0] = Buffer.alloc(16);
        koffi[name](...args);
    });
});

test('ERR-02 · random arguments to declared functions, sync and async', { skip: upstream && 'koffi-rs only' }, () => {
    const lib = koffi.load(testLibPath);
    const II = koffi.struct('FuzzII', { a: 'int', b: 'int' });
    const fns = [lib.func('int kt_i32_inc(int x)'), lib.func('double kt_double_twice(double)'),
                 lib.func('kt_ii_swap', II, [II]), lib.func('float kt_float_twice(float x)')];
    fuzz(20000, (rnd) => fns[rnd(fns.length)], (f, args) => {
        try {
            f(...args);
        } finally {
            f.async(...args, () => {});
        }
    });
});
