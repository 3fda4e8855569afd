// The trampoline pool (spec CB-05, EXT-08) and callbacks in worker threads (MOD-09).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { Worker } = require('worker_threads');
const { koffi, upstream, libcPath } = require('./helpers.js');

test('CB-05 · 8192 trampolines, then a clear Error; unregister frees them', () => {
    const Proto = koffi.proto('int PoolCb(int)');
    const before = upstream ? 0 : koffi.stats().callbacks;
    const list = [];
    let error = null;
    try {
        for (let i = 0; i < 9000; i++)
            list.push(koffi.register((x) => x + i, koffi.pointer(Proto)));
    } catch (e) {
        error = e;
    }
    assert.ok(error, 'the pool must run out');
    assert.equal(error.constructor, Error);
    assert.match(error.message, /Too many callbacks are in use \(max = 8192\)/);
    assert.equal(list.length, 8192 - before);
    if (!upstream)
        assert.equal(koffi.stats().callbacks, 8192);
    for (const ptr of list)
        koffi.unregister(ptr);
    if (!upstream)
        assert.equal(koffi.stats().callbacks, before);
    // and the pool is usable again
    koffi.unregister(koffi.register((x) => x, koffi.pointer(Proto)));
});

test('MOD-09 · callbacks work inside worker threads, each with its own registry', { skip: (!libcPath && 'Linux only') || (upstream && 'the worker loads koffi-rs by path') }, async () => {
    const code = `const koffi = require(${JSON.stringify(path.join(__dirname, '..'))});
        const { parentPort, workerData } = require('worker_threads');
        const libc = koffi.load(${JSON.stringify(libcPath)});
        const Cmp = koffi.proto('int WorkerCmp(const void *a, const void *b)');
        const qsort = libc.func('void qsort(_Inout_ void *base, size_t n, size_t size, WorkerCmp *cmp)');
        const arr = new Int32Array(workerData);
        qsort(arr, arr.length, 4, (a, b) => koffi.decode(a, 'int') - koffi.decode(b, 'int'));
        const reg = koffi.register((a, b) => koffi.decode(b, 'int') - koffi.decode(a, 'int'), koffi.pointer(Cmp));
        const desc = new Int32Array(workerData);
        qsort(desc, desc.length, 4, reg);
        koffi.unregister(reg);
        parentPort.postMessage([Array.from(arr), Array.from(desc)]);`;
    const run = (data) => new Promise((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: data });
        w.on('message', resolve);
        w.on('error', reject);
    });
    const results = await Promise.all([run([3, 1, 2]), run([9, 7, 8, 6])]);
    assert.deepEqual(results, [[[1, 2, 3], [3, 2, 1]], [[6, 7, 8, 9], [9, 8, 7, 6]]]);
});
