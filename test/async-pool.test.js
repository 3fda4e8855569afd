// The threads that run async calls (src/call/workers.rs) and the thread-safe function that
// brings them back (src/node/calls/asynccall.rs): calls one after another, bursts larger than the
// pool, promise continuations run as after any Node callback, worker threads that go away
// with calls in flight, and an idle process that exits.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const util = require('util');
const path = require('path');
const { koffi, testLibPath, nodeCommand } = require('./helpers.js');

const lib = koffi.load(testLibPath);
const inc = lib.func('int kt_i32_inc(int x)');
const sleepMs = lib.func('int kt_sleep_ms(int ms)');

test('CALL-06 · 2,000 async calls one after another, each after the previous callback', async () => {
    let x = 0;
    for (let i = 0; i < 2000; i++) x = await util.promisify(inc.async)(x);
    assert.equal(x, 2000);
});

test('CALL-10 · a burst far larger than the pool (200, under max_async_calls) completes, each call once', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => util.promisify(inc.async)(i)));
    assert.deepEqual(results, Array.from({ length: 200 }, (_, i) => i + 1));
    // Calls that block their thread still all finish, and in parallel (4 threads at least).
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 8 }, () => util.promisify(sleepMs.async)(50)));
    assert.ok(Date.now() - t0 < 8 * 50, `8 × 50 ms took ${Date.now() - t0} ms`);
});

test('CALL-06 · promise continuations of a callback run before the next macrotask', async () => {
    const order = [];
    await new Promise((resolve) => {
        inc.async(1, () => {
            order.push('callback');
            Promise.resolve().then(() => order.push('microtask'));
            setImmediate(() => {
                order.push('immediate');
                resolve();
            });
        });
    });
    assert.deepEqual(order, ['callback', 'microtask', 'immediate']);
});

test('CALL-06 · a worker thread terminated with async calls in flight', () => {
    const script = `
        const { Worker } = require('worker_threads');
        const w = new Worker(${JSON.stringify(`
            const koffi = require(${JSON.stringify(path.join(__dirname, '..'))});
            const lib = koffi.load(${JSON.stringify(testLibPath)});
            const sleepMs = lib.func('int kt_sleep_ms(int ms)');
            for (let i = 0; i < 6; i++) sleepMs.async(150, () => {});
            require('worker_threads').parentPort.postMessage('started');
        `)}, { eval: true });
        w.on('message', () => w.terminate());
        w.on('exit', () => setTimeout(() => console.log('still alive'), 400));
    `;
    const [cmd, args] = nodeCommand(['-e', script]);
    const child = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /still alive/);
});

test('CALL-06 · the process exits once its last async call is delivered', () => {
    const script = `
        const koffi = require(${JSON.stringify(path.join(__dirname, '..'))});
        const lib = koffi.load(${JSON.stringify(testLibPath)});
        lib.func('int kt_sleep_ms(int ms)').async(20, (err, r) => console.log('delivered', r));
    `;
    const [cmd, args] = nodeCommand(['-e', script]);
    const t0 = Date.now();
    const child = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'delivered 20');
    assert.ok(Date.now() - t0 < 30_000);
});
