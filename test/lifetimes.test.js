// Lifetimes: what C can still reach after reset(), a worker's end or exit fails safe.
// The risky cases run in a child process, so that a crash shows up as a failed test with the
// child's output rather than taking the runner down.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawnSync } = require('child_process');
const { koffi, upstream, nodeCommand } = require('./helpers.js');

const build = process.env.KOFFI_RS_BUILD || path.join(__dirname, '..', 'build');
const lifePath = path.join(build, 'libkoffilife' + koffi.extension);
const testLibPath = path.join(build, 'libkoffitest' + koffi.extension);
const self = path.join(__dirname, '..');
const skip = (process.platform === 'win32' && 'POSIX threads') || (upstream && 'koffi-rs internals');

// Runs `code` in a new Node process with `koffi`, `life` (libkoffilife) and `done(obj)` (prints
// the result as JSON); returns { status, signal, result, output }.
function child(code, { timeout = 60000, env = {} } = {}) {
    const prelude = `'use strict';
        const koffi = require(${JSON.stringify(self)});
        const life = koffi.load(${JSON.stringify(lifePath)});
        const done = (obj) => { process.stdout.write('RESULT ' + JSON.stringify(obj) + '\\n'); };
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        const mapped = () => require('fs').readFileSync('/proc/self/maps', 'utf8').includes('libkoffilife');`;
    const [cmd, args] = nodeCommand(['-e', prelude + code]);
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, env: { ...process.env, ...env } });
    const line = (r.stdout || '').split('\n').find((l) => l.startsWith('RESULT '));
    return {
        status: r.status,
        signal: r.signal,
        result: line ? JSON.parse(line.slice(7)) : null,
        output: `status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`,
    };
}

// The child ran to its end (`done({ ok: true })`) and exited with status 0.
function assertCleanExit(r) {
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(r.result, { ok: true }, r.output);
}

test('CB-11 · C threads calling a registered callback across reset() keep getting answers', { skip }, () => {
    const r = child(`
        const IntCb = koffi.proto('int LtIntCb(int)');
        const start = life.func('int lt_hammer_start(LtIntCb *cb, int n)');
        const stop = life.func('void lt_hammer_stop(_Out_ long *right, _Out_ long *zero, _Out_ long *wrong)');
        let calls = 0;
        const cb = koffi.register((x) => { calls++; return x + 1; }, koffi.pointer(IntCb));
        (async () => {
            start(cb, 4);
            for (let i = 0; i < 40; i++) {
                await sleep(5);
                koffi.reset();
                koffi.struct('AfterReset' + i, { a: 'int' });
            }
            // Registered callbacks are untouched by reset(): they keep answering.
            const after = calls;
            const t0 = Date.now();
            while (calls < after + 100 && Date.now() - t0 < 10000)
                await sleep(5);
            const right = [0], zero = [0], wrong = [0];
            await new Promise((res, rej) => stop.async(right, zero, wrong, (e) => e ? rej(e) : res()));
            koffi.unregister(cb);
            done({ after: calls - after, right: right[0], zero: zero[0], wrong: wrong[0] });
        })();`);
    assert.ok(r.result, r.output);
    assert.equal(r.status, 0, r.output);
    assert.equal(r.result.wrong, 0, r.output);
    assert.ok(r.result.after >= 100, r.output);
});

test('MOD-09 · C threads calling a worker\'s callback after worker.terminate() get zeros', { skip }, () => {
    const r = child(`
        const { Worker } = require('worker_threads');
        const workerCode = \`
            const koffi = require(${JSON.stringify((self))});
            const { parentPort } = require('worker_threads');
            const life = koffi.load(${JSON.stringify((lifePath))});
            const IntCb = koffi.proto('int LtIntCb(int)');
            const start = life.func('int lt_hammer_start(LtIntCb *cb, int n)');
            let calls = 0;
            const cb = koffi.register((x) => { if (++calls === 50) parentPort.postMessage('busy'); return x + 1; },
                                      koffi.pointer(IntCb));
            start(cb, 4);
            setInterval(() => {}, 1000);\`;
        const stop = life.func('void lt_hammer_stop(_Out_ long *right, _Out_ long *zero, _Out_ long *wrong)');
        (async () => {
            const w = new Worker(workerCode, { eval: true });
            await new Promise((res) => w.on('message', res));
            await w.terminate();
            // The threads go on calling the dead environment's callback for a while.
            await sleep(300);
            // More workers come and go meanwhile (a new one may reuse the old thread's id).
            for (let i = 0; i < 3; i++) {
                const w2 = new Worker('require("worker_threads").parentPort.postMessage(1)', { eval: true });
                await new Promise((res) => w2.on('message', res));
                await w2.terminate();
            }
            const right = [0], zero = [0], wrong = [0];
            stop(right, zero, wrong);
            done({ right: right[0], zero: zero[0], wrong: wrong[0] });
        })();`);
    assert.ok(r.result, r.output);
    assert.equal(r.status, 0, r.output);
    assert.equal(r.result.wrong, 0, r.output);
    assert.ok(r.result.right >= 50, r.output);
    assert.ok(r.result.zero > 0, r.output);
});

test('MOD-09 · an async call whose callback outlives its worker gets zeros, no crash', { skip }, () => {
    const r = child(`
        const { Worker } = require('worker_threads');
        const workerCode = \`
            const koffi = require(${JSON.stringify((self))});
            const { parentPort } = require('worker_threads');
            const life = koffi.load(${JSON.stringify((lifePath))});
            const Cb = koffi.proto('int LtLateCb(int)');
            const f = life.func('int lt_sleep_call(LtLateCb *cb, int x, int ms)');
            for (let i = 0; i < 8; i++)
                f.async((x) => x * 2, i, 150, () => {});
            parentPort.postMessage('started');\`;
        (async () => {
            for (let round = 0; round < 3; round++) {
                const w = new Worker(workerCode, { eval: true });
                await new Promise((res) => w.on('message', res));
                await w.terminate();
            }
            await sleep(600);
            done({ ok: true });
        })();`);
    assertCleanExit(r);
});

test('MOD-09 · a callback of a terminated worker, called on a new worker\'s JS thread, gets zero', { skip }, () => {
    // Worker threads' ids are recycled: the new worker may run on the very pthread_t the old one
    // had. Neither that nor a live-looking transient may make the handler touch the dead worker.
    const r = child(`
        const { Worker } = require('worker_threads');
        const prelude = \`
            const koffi = require(${JSON.stringify(self)});
            const { parentPort } = require('worker_threads');
            const life = koffi.load(${JSON.stringify(lifePath)});\`;
        const first = prelude + \`
            koffi.proto('int LtStashCb(int)');
            const wait = life.func('int lt_stash_wait(LtStashCb *cb, int ms)');
            wait.async((x) => x + 1, 5000, () => {});
            setTimeout(() => parentPort.postMessage('stashed'), 50);\`;
        const second = prelude + \`
            const call = life.func('int lt_call_stashed(int x)');
            parentPort.postMessage(call(41));\`;
        (async () => {
            const results = [];
            for (let round = 0; round < 3; round++) {
                const a = new Worker(first, { eval: true });
                await new Promise((res) => a.on('message', res));
                await a.terminate();
                const b = new Worker(second, { eval: true });
                results.push(await new Promise((res) => b.on('message', res)));
                await b.terminate();
            }
            done({ results });
            process.exit(0);
        })();`);
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(r.result, { results: [0, 0, 0] }, r.output);
});

test('CB-05 · 10,000 register/unregister cycles inside a callback that never returns to its loop', { skip }, () => {
    const lib = koffi.load(lifePath);
    const StrCb = koffi.proto('const char *LtStrCbA(int)');
    const IntCb = koffi.proto('int LtIntCbA(int)');
    const loop = lib.func('long lt_strings_loop(LtStrCbA *cb, int n)');
    const before = koffi.stats().callbacks;
    let retired = -1;
    const total = loop((i) => {
        koffi.unregister(koffi.register((x) => x + i, koffi.pointer(IntCb)));
        if (i === 9999)
            retired = koffi.implementation.retiredCallbacks();
        return 'x';
    }, 10000);
    assert.equal(total, 10000);
    assert.equal(koffi.stats().callbacks, before);
    // Replaced handlers are freed as soon as no relay runs them, not when every relay is done.
    assert.ok(retired >= 0 && retired < 16, `retired handlers kept during the loop: ${retired}`);
});

test('CB-07 · a struct returned by a callback keeps its string until the C function returns', { skip: upstream && 'koffi-rs memory rule' }, () => {
    const lib = koffi.load(lifePath);
    koffi.struct('LtRecord', { a: 'int', b: 'double', d: 'const char *' });
    const RecCb = koffi.proto('LtRecord LtRecordCb(int)');
    const Churn = koffi.proto('int LtChurnCb(const char *)');
    const check = lib.func('int lt_records_check(LtRecordCb *rec, LtChurnCb *churn, int n)');
    const strlen = koffi.load(testLibPath).func('int64_t kt_strlen(const char *s)');
    const bad = check((i) => ({ a: i, b: i * 0.5, d: 'rec-' + i }),
                      (s) => Number(strlen(s + s)) + koffi.sizeof('int'), 500);
    assert.equal(bad, 0);
});

test('CB-07 · strings a C loop gets from a callback do not pile up', { skip: upstream && 'koffi-rs memory rule' }, () => {
    const lib = koffi.load(lifePath);
    const StrCb = koffi.proto('const char *LtStrCbB(int)');
    const loop = lib.func('long lt_strings_loop(LtStrCbB *cb, int n)');
    const pad = 'p'.repeat(1000);
    loop(() => pad, 10);
    const before = koffi.implementation.heapBytes();
    // Each result lives until the loop returns: 20,000 × 1 kB at most, then all freed.
    assert.equal(loop(() => pad, 20000), 20000 * 1000);
    assert.ok(koffi.implementation.heapBytes() - before < 64 << 10,
              `kept after the call: ${koffi.implementation.heapBytes() - before} bytes`);
});

test('CB-09 · a C thread reads each string result until its next call, while JS makes other calls', { skip }, () => {
    const r = child(`
        const StrCb = koffi.proto('const char *LtStrCb(int)');
        const start = life.func('int lt_strings_start(LtStrCb *cb, int n)');
        const isDone = life.func('int lt_strings_done(void)');
        const result = life.func('int lt_strings_result(void)');
        const lib = koffi.load(${JSON.stringify(testLibPath)});
        const concat = lib.func('void *kt_concat_alloc(const char *a, const char *b)');
        const free = koffi.load(null).func('void free(void *p)');
        const cb = koffi.register((i) => 'value-' + i, koffi.pointer(StrCb));
        const n = 100000;
        (async () => {
            const heap0 = koffi.implementation.heapBytes();
            let peak = 0;
            start(cb, n);
            let other = 0;
            while (!isDone()) {
                // Unrelated calls with string temporaries of the same size.
                for (let k = 0; k < 20; k++) {
                    free(concat('value-', String(k * 7919)));
                    other++;
                }
                peak = Math.max(peak, koffi.implementation.heapBytes() - heap0);
                await new Promise((r) => setImmediate(r));
            }
            done({ bad: result(), other, peak });
            koffi.unregister(cb);
        })();`);
    assert.ok(r.result, r.output);
    assert.equal(r.status, 0, r.output);
    assert.equal(r.result.bad, 0, r.output);
    assert.ok(r.result.other > 0, r.output);
    // One result per thread is kept, not one per call.
    assert.ok(r.result.peak < 1 << 20, r.output);
});

test('LIB-10 · a library whose libuv handle outlives it: Node exits 0', { skip }, () => {
    const r = child(`
        if (life.func('int lt_uv_hold(void)')() !== 0) throw new Error('uv_async_init failed');
        done({ ok: true });`);
    assertCleanExit(r);
});

test('LIB-10 · unload() from a callback defers the close until the call into the library returns', { skip }, () => {
    const r = child(`
        const Cb = koffi.proto('int LtVoidCb(void)');
        const f = life.func('int lt_call_then_work(LtVoidCb *cb)');
        const sleepMs = life.func('int lt_sleep_ms(int ms)');
        const r1 = f(() => { life.unload(); return 41; });
        let err = null;
        try { sleepMs(1); } catch (e) { err = e.message; }
        done({ r1, err, mapped: mapped() });`);
    assert.equal(r.status, 0, r.output);
    assert.equal(r.result.r1, 42, r.output);
    assert.match(r.result.err, /unloaded/, r.output);
    assert.equal(r.result.mapped, false, 'the library is closed once the call returned');
});

test('LIB-10 · unload() while async calls run closes the library after the last one', { skip }, () => {
    const r = child(`
        const sleepMs = life.func('int lt_sleep_ms(int ms)');
        (async () => {
            const p = [];
            for (let i = 0; i < 4; i++)
                p.push(new Promise((res, rej) => sleepMs.async(100, (e, v) => e ? rej(e) : res(v))));
            life.unload();
            const mappedWhileRunning = mapped();
            const values = await Promise.all(p);
            let err = null;
            try { sleepMs(1); } catch (e) { err = e.message; }
            done({ values, err, mappedWhileRunning, mapped: mapped() });
        })();`);
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(r.result.values, [100, 100, 100, 100], r.output);
    assert.match(r.result.err, /unloaded/, r.output);
    assert.equal(r.result.mappedWhileRunning, true, r.output);
    assert.equal(r.result.mapped, false, 'the last call closed the library');
});

test('NODE-03 · a worker that leaves a PollHandle open exits cleanly, also when terminated', { skip }, () => {
    const r = child(`
        const { Worker } = require('worker_threads');
        const workerCode = (how) => \`
            const koffi = require(${JSON.stringify((self))});
            const { parentPort } = require('worker_threads');
            const life = koffi.load(${JSON.stringify((lifePath))});
            const fds = [[0, 0], [0, 0]];
            const pipe = life.func('int lt_pipe(_Out_ int *fds)');
            const fdsA = new Int32Array(2), fdsB = new Int32Array(2);
            pipe(fdsA); pipe(fdsB);
            const a = koffi.node.poll(fdsA[0], () => {});
            const b = koffi.node.poll(fdsB[1], { writable: true }, () => {});
            const c = koffi.node.poll(fdsB[0], () => {});
            c.close();
            parentPort.postMessage('open');
            if ('\${how}' === 'unref') { a.unref(); b.unref(); }
            else if ('\${how}' === 'exit') setTimeout(() => process.exit(0), 10);\`;
        (async () => {
            for (const how of ['unref', 'terminate', 'exit', 'terminate', 'unref']) {
                const w = new Worker(workerCode(how), { eval: true });
                const exited = new Promise((res) => w.on('exit', res));
                await new Promise((res) => w.on('message', res));
                if (how === 'terminate') await w.terminate();
                await exited;
            }
            done({ ok: true });
        })();`);
    assertCleanExit(r);
});

test('CALL-06 · a blocking read.async on a pipe, then write.async to it, completes with the default pool', { skip }, () => {
    const r = child(`
        const libc = koffi.load('libc.so.6');
        const read = libc.func('long read(int fd, _Out_ uint8_t *buf, size_t n)');
        const write = libc.func('long write(int fd, const char *buf, size_t n)');
        const pipe = life.func('int lt_pipe(_Out_ int *fds)');
        const call = (f, ...args) => new Promise((res, rej) => f.async(...args, (e, v) => e ? rej(e) : res(v)));
        (async () => {
            const results = [];
            // Each round after the pool went to sleep; more blocked readers than threads awake.
            for (const readers of [1, 2, 3]) {
                await call(read, -1, Buffer.alloc(1), 0);
                await sleep(20);
                const fds = new Int32Array(2);
                pipe(fds);
                const reads = [];
                for (let i = 0; i < readers; i++)
                    reads.push(call(read, fds[0], Buffer.alloc(1), 1));
                await call(write, fds[1], 'x'.repeat(readers), readers);
                results.push((await Promise.all(reads)).reduce((a, b) => a + b, 0));
            }
            done({ results });
        })();`, { timeout: 20000, env: { UV_THREADPOOL_SIZE: '' } });
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(r.result, { results: [1, 2, 3] }, r.output);
});

test('MOD-09 · Node exits cleanly while C threads call callbacks and async calls are in flight', { skip }, () => {
    for (const how of ['process.exit(0)', 'natural end']) {
        for (let i = 0; i < 3; i++) {
            const r = child(`
                const IntCb = koffi.proto('int LtIntCb(int)');
                const start = life.func('int lt_hammer_start(LtIntCb *cb, int n)');
                const later = life.func('int lt_sleep_call(LtIntCb *cb, int x, int ms)');
                start(koffi.register((x) => x + 1, koffi.pointer(IntCb)), 4);
                for (let i = 0; i < 8; i++)
                    later.async((x) => x, i, 30, () => {});
                setTimeout(() => { done({ ok: true }); ${how === 'natural end' ? '' : how}; }, 15);`);
            assert.equal(r.status, 0, `${how}: ${r.output}`);
            assert.deepEqual(r.result, { ok: true }, r.output);
        }
    }
});
