// Module surface, settings, statistics and errno. The tests in this file run in order: the
// configuration is changed before any library is loaded, then a library is loaded and the
// configuration becomes read-only.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, upstream, testLibPath } = require('./helpers.js');

const DEFAULTS = {
    sync_stack_size: 1024 * 1024,
    sync_heap_size: 2 * 1024 * 1024,
    async_stack_size: 128 * 1024,
    async_heap_size: 128 * 1024,
    resident_async_pools: 4,
    max_async_calls: 256,
    max_type_size: 64 * 1024 * 1024,
};

test('MOD-01 · module exports', () => {
    // (register/unregister belong to the callback milestone and are not checked here)
    const functions = ['load', 'struct', 'pack', 'union', 'Union', 'array', 'opaque', 'pointer', 'proto', 'alias', 'in',
                       'out', 'inout', 'disposable', 'as', 'call', 'decode', 'encode',
                       'address', 'view', 'alloc', 'free', 'sizeof', 'alignof', 'offsetof', 'resolve', 'introspect',
                       'config', 'stats', 'errno', 'reset', 'handle', 'callback'];
    for (const name of functions)
        assert.equal(typeof koffi[name], 'function', name);
    assert.equal(typeof koffi.types, 'object');
    assert.equal(typeof koffi.os, 'object');
    assert.equal(typeof koffi.node, 'object');
    assert.equal(typeof koffi.extension, 'string');
    assert.equal(typeof koffi.version, 'string');
});

test('MOD-03 / Q14 · version reports the emulated Koffi API level', () => {
    assert.equal(koffi.version, '2.16.3');
});

test('MOD-04 · extension is .so on Linux', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
    assert.equal(koffi.extension, '.so');
});

test('MOD-05 · koffi.internal is absent', () => {
    assert.equal(koffi.internal, undefined);
});

test('Q14 · koffi.implementation identifies koffi-rs', { skip: upstream && 'koffi-rs only (Q14)' }, () => {
    assert.equal(typeof koffi.implementation, 'object');
    assert.equal(koffi.implementation.name, 'koffi-rs');
    assert.match(koffi.implementation.version, /^\d+\.\d+\.\d+/);
});

test('NODE-01 · koffi.node.env is a non-NULL pointer value', () => {
    assert.equal(typeof koffi.node.env, 'object');
    assert.notEqual(koffi.node.env, null);
    assert.notEqual(koffi.address(koffi.node.env), 0n);
});

test('NODE-02 / NODE-03 · koffi.node.poll and PollHandle', () => {
    assert.equal(typeof koffi.node.poll, 'function');
    assert.equal(typeof koffi.node.PollHandle, 'function');
});

test('CFG-01 · config() returns the defaults as a fresh object', () => {
    const cfg = koffi.config();
    assert.deepEqual(cfg, DEFAULTS);
    assert.notEqual(koffi.config(), cfg);
    cfg.max_type_size = 1;
    assert.equal(koffi.config().max_type_size, DEFAULTS.max_type_size);
});

test('CFG-04 · config() validation errors', () => {
    assert.throws(() => koffi.config(5), { name: 'TypeError', message: /Unexpected Number value for config, expected object/ });
    assert.throws(() => koffi.config(null), { name: 'TypeError', message: /Unexpected Null value for config, expected object/ });
    assert.throws(() => koffi.config({ foo: 1 }), { name: 'Error', message: /Unexpected config member 'foo'/ });
    assert.throws(() => koffi.config({ sync_stack_size: 'x' }),
                  { name: 'TypeError', message: /Unexpected String value for 'sync_stack_size', expected number/ });
    assert.throws(() => koffi.config({ max_type_size: 1n }), { name: 'TypeError', message: /Unexpected BigInt value for 'max_type_size', expected number/ });
    assert.throws(() => koffi.config({ sync_stack_size: 1 }), { name: 'Error', message: /Setting 'sync_stack_size' must be between 1 kiB and 16 MiB/ });
    assert.throws(() => koffi.config({ sync_heap_size: 16 * 1024 * 1024 + 1 }), { name: 'Error', message: /Setting 'sync_heap_size' must be between/ });
    assert.throws(() => koffi.config({ async_stack_size: 512 }), { name: 'Error', message: /Setting 'async_stack_size' must be between/ });
    assert.throws(() => koffi.config({ async_heap_size: 512 }), { name: 'Error', message: /Setting 'async_heap_size' must be between/ });
    assert.throws(() => koffi.config({ resident_async_pools: 17 }), { name: 'Error', message: /Setting 'resident_async_pools' must be between 0 and 16/ });
    assert.throws(() => koffi.config({ max_async_calls: 4097 }), { name: 'Error', message: /Setting 'max_async_calls' must be between 0 and 4096/ });
    assert.throws(() => koffi.config({ max_type_size: 31 }), { name: 'Error', message: /Setting 'max_type_size' must be between 32 B and 512 MiB/ });
    assert.throws(() => koffi.config({ max_async_calls: 2, resident_async_pools: 3 }), { name: 'Error', message: /max_async_calls/ });
    assert.deepEqual(koffi.config(), DEFAULTS);
});

test('CFG-02 · config(obj) is validated as a whole before being applied', () => {
    assert.throws(() => koffi.config({ max_type_size: 1024 * 1024, foo: 1 }), Error);
    assert.equal(koffi.config().max_type_size, DEFAULTS.max_type_size);
    assert.throws(() => koffi.config({ max_type_size: 1024 * 1024, sync_heap_size: 'big' }), TypeError);
    assert.equal(koffi.config().max_type_size, DEFAULTS.max_type_size);
});

test('CFG-02 · config(obj) applies values and keeps the others', () => {
    const cfg = koffi.config({ max_type_size: 64, resident_async_pools: 2 });
    assert.equal(cfg.max_type_size, 64);
    assert.equal(cfg.resident_async_pools, 2);
    assert.equal(cfg.sync_heap_size, DEFAULTS.sync_heap_size);
    assert.deepEqual(koffi.config(), cfg);

    // max_type_size is enforced by array and struct construction
    assert.throws(() => koffi.array('int', 17), { name: 'TypeError', message: /Array length is too high \(max = 16\)/ });
    assert.equal(koffi.sizeof(koffi.array('int', 16)), 64);
    assert.throws(() => koffi.struct('CfgTooBig', { a: 'int[16]', b: 'int' }), { name: 'Error', message: /Struct 'CfgTooBig' size is too high/ });

    const back = koffi.config({ max_type_size: DEFAULTS.max_type_size, resident_async_pools: DEFAULTS.resident_async_pools });
    assert.deepEqual(back, DEFAULTS);
    assert.equal(koffi.sizeof(koffi.array('int', 17)), 68);
});

test('STAT-01 · stats() reports disposer invocations', () => {
    const stats = koffi.stats();
    assert.equal(typeof stats.disposed, 'number');
    assert.equal(stats.disposed, 0);
    if (upstream)
        assert.deepEqual(Object.keys(stats), ['disposed']);
});

test('ERRNO-01 · errno(value) sets and returns the value', () => {
    assert.equal(koffi.errno(5), 5);
    assert.equal(koffi.errno(0), 0);
    assert.equal(typeof koffi.errno(), 'number');
    assert.throws(() => koffi.errno('x'), { name: 'TypeError', message: /Unexpected String value for errno, expected integer/ });
    assert.throws(() => koffi.errno(5n), { name: 'TypeError', message: /Unexpected BigInt value for errno, expected integer/ });
});

test('ERRNO-02 · os.errno maps the C library constants', () => {
    const e = koffi.os.errno;
    assert.equal(e.EBADF, 9);
    assert.equal(e.ENOENT, 2);
    assert.equal(e.EINVAL, 22);
    assert.equal(e.EAGAIN, 11);
    assert.ok(Object.keys(e).length > 50);
    for (const [name, value] of Object.entries(e)) {
        assert.match(name, /^E[A-Z0-9]+$/);
        assert.equal(typeof value, 'number');
    }
});

test('MOD-02 · deprecated handle() and callback() wrappers warn once', async () => {
    const codes = [];
    const listener = (w) => codes.push(`${w.name}:${w.code}`);
    process.on('warning', listener);
    try {
        const H = koffi.handle('CfgHandle');
        koffi.handle('CfgHandle2');
        assert.equal(koffi.introspect(H).primitive, 'Void');
        assert.equal(koffi.introspect(H).name, 'CfgHandle');
        const C = koffi.callback('int CfgCallback(int)');
        koffi.callback('int CfgCallback2(int)');
        assert.equal(koffi.introspect(C).primitive, 'Prototype');
        await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
        process.off('warning', listener);
    }
    assert.equal(codes.filter((c) => c === 'DeprecationWarning:KOFFI001').length, 1);
    assert.equal(codes.filter((c) => c === 'DeprecationWarning:KOFFI002').length, 1);
});

test('CFG-03 / LIB-07 · configuration is read-only once a library is loaded', () => {
    const lib = koffi.load(testLibPath);
    assert.equal(typeof lib.func, 'function');
    assert.throws(() => koffi.config({ max_type_size: 1024 }),
                  { name: 'Error', message: /Cannot change Koffi configuration once a library has been loaded/ });
    assert.throws(() => koffi.config({}), { name: 'Error', message: /Cannot change Koffi configuration/ });
    assert.deepEqual(koffi.config(), DEFAULTS);
});

test('CALL-11 · errno() returns the value left by the last native call', () => {
    const lib = koffi.load(testLibPath);
    const set_errno = lib.func('int kt_set_errno(int v)');
    assert.equal(set_errno(koffi.os.errno.EACCES), -1);
    assert.equal(koffi.errno(), koffi.os.errno.EACCES);
    assert.equal(set_errno(koffi.os.errno.ERANGE), -1);
    assert.equal(koffi.errno(), koffi.os.errno.ERANGE);
});
