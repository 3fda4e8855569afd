#!/usr/bin/env node
// `npm run soak`: drives every lifetime-bearing path of the addon at scale and checks that the
// process's memory stays flat:
//
//   sync        10,000,000 synchronous calls (ints, doubles, strings, structs by value)
//   callbacks    1,000,000 callbacks: transient, registered, returning strings, and from C
//                threads (relayed to the JS thread while an async call runs)
//   async          100,000 `fn.async` calls, 200 in flight at a time
//   register       100,000 register / call / unregister cycles
//   load            10,000 load / call / unload cycles of build/libexample.so (a library nothing
//                else holds, so each unload really unmaps it)
//
// RSS is read after a full GC at the start and the end of each phase. Each phase runs twice, and only the second pass is measured: the first
// brings JIT code, caches, the async pool, malloc's arenas and V8's old generation to their
// working size (10,000 load/unload cycles take malloc and the dynamic loader's own tables about
// 15 MB up before they level off; 160,000 cycles end where 20,000 did). A leak grows with the
// work, so it shows in the second pass in full. The run fails (exit 1) when a phase
// grows RSS by more than PHASE_LIMIT_MB or the measured passes together by more than
// TOTAL_LIMIT_MB:
// a leak of 1 byte per synchronous call, 10 bytes per callback, 100 bytes per async call or
// register cycle, or 1 KB per load cycle crosses the phase limit (10 MB), while the measured
// passes of a clean run stay within ±3 MB each (malloc and GC noise).
//
//   node scripts/soak.js [scale]     (scale 0.1 runs a tenth of every phase;
//                                     SOAK_PHASES=load,register runs only those)
'use strict';

const path = require('path');

// The measured figures need a full GC (--expose-gc) and a young generation of fixed size: under
// a high allocation rate V8 grows it from 1 to 16 MB per semi-space, 30 MB of RSS that comes
// and goes with timing, not with leaks. Re-run under those flags when started without them.
const FLAGS = ['--expose-gc', '--max-semi-space-size=1'];
if (!process.env.KOFFI_RS_SOAK_CHILD) {
    const { spawnSync } = require('child_process');
    const r = spawnSync(process.execPath, [...FLAGS, ...process.execArgv, __filename, ...process.argv.slice(2)],
        { stdio: 'inherit', env: { ...process.env, KOFFI_RS_SOAK_CHILD: '1' } });
    process.exit(r.status === null ? 1 : r.status);
}

const koffi = require('..');

const PHASE_LIMIT_MB = 10;
const TOTAL_LIMIT_MB = 30;
const scale = Number(process.argv[2] || process.env.SOAK_SCALE || 1);
const build = process.env.KOFFI_RS_BUILD || path.join(__dirname, '..', 'build');
const testLib = path.join(build, 'libkoffitest' + koffi.extension);
const exampleLib = path.join(build, 'libexample' + koffi.extension);

const MB = 1024 * 1024;
const n = (count) => Math.max(1, Math.round(count * scale));

async function settle() {
    // Two GCs around a turn of the event loop: finalizers queued by the first run before the second.
    if (global.gc) global.gc();
    await new Promise((resolve) => setImmediate(resolve));
    if (global.gc) global.gc();
    await new Promise((resolve) => setImmediate(resolve));
}

function check(cond, what) {
    if (!cond) throw new Error(`soak: wrong result in ${what}`);
}

const lib = koffi.load(testLib);
const KtII = koffi.struct('SoakII', { a: 'int', b: 'int' });
const IntCb = koffi.proto('int SoakIntCb(int x)');
const StrCb = koffi.proto('const char *SoakStrCb(int x)');
const ThreadCb = koffi.proto('int SoakThreadCb(int t, int i)');
const inc = lib.func('int kt_i32_inc(int x)');
const sub = lib.func('double kt_double_sub(double a, double b)');
const copyStr = lib.func('const char *kt_copy_str(const char *s)');
const iiMake = lib.func('SoakII kt_ii_make(int a, int b)');
const cbCall = lib.func('int kt_cb_call_int(SoakIntCb *cb, int x)');
const cbSum = lib.func('int kt_cb_sum(SoakIntCb *cb, int n)');
const cbStrOut = lib.func('const char *kt_cb_str_out(SoakStrCb *cb, int x)');
const threadsCall = lib.func('int kt_threads_call(SoakThreadCb *cb, int nthreads, int ncalls)');
check(KtII && IntCb && StrCb && ThreadCb, 'setup');

const phases = [
    {
        name: 'sync',
        count: 10_000_000,
        unit: 'calls',
        run(total) {
            // Four shapes in turn: the int fast path, doubles, a string both ways, a struct result.
            let acc = 0;
            for (let i = 0; i < total; i += 4) {
                acc += inc(i) - i;
                acc += sub(i + 0.5, i);
                acc += copyStr('soak héllo').length;
                const s = iiMake(i & 0xffff, 7);
                acc += s.b;
            }
            check(acc === (total / 4) * (1 + 0.5 + 10 + 7), 'sync');
        },
    },
    {
        name: 'callbacks',
        count: 1_000_000,
        unit: 'callbacks',
        async run(total) {
            const quarter = total / 4;
            // Transient: a JS function per call, one callback each.
            let acc = 0;
            for (let i = 0; i < quarter; i++) acc += cbCall((x) => x + 1, i) - i;
            check(acc === quarter, 'transient callbacks');
            // Registered: one C call invokes it 1,000 times.
            const reg = koffi.register((x) => x * 2, koffi.pointer(IntCb));
            for (let done = 0; done < quarter; done += 1000)
                check(cbSum(reg, 1000) === 999 * 1000, 'registered callbacks');
            koffi.unregister(reg);
            // Returning a string whose memory C reads after the callback returned.
            for (let i = 0; i < quarter; i++)
                check(cbStrOut((x) => 'value ' + x, i) === 'value ' + i, 'string-returning callbacks');
            // From four C threads, relayed to the JS thread while the async call waits on them.
            const threaded = koffi.register((t, i) => t * 100000 + i * 3, koffi.pointer(ThreadCb));
            const per = Math.max(1, Math.floor(quarter / 4 / 10));
            for (let round = 0; round < 10; round++) {
                const ok = await new Promise((resolve, reject) =>
                    threadsCall.async(threaded, 4, per, (err, r) => (err ? reject(err) : resolve(r))));
                check(ok === 4 * per, 'callbacks from C threads');
            }
            koffi.unregister(threaded);
        },
    },
    {
        name: 'async',
        count: 100_000,
        unit: 'async calls',
        async run(total) {
            const inFlight = 200; // under the default max_async_calls (256)
            for (let done = 0; done < total; done += inFlight) {
                const batch = Math.min(inFlight, total - done);
                const results = await Promise.all(Array.from({ length: batch }, (_, i) =>
                    new Promise((resolve, reject) =>
                        inc.async(done + i, (err, r) => (err ? reject(err) : resolve(r - done - i))))));
                check(results.every((r) => r === 1), 'async');
            }
        },
    },
    {
        name: 'register',
        count: 100_000,
        unit: 'register/unregister cycles',
        run(total) {
            const type = koffi.pointer(IntCb);
            for (let i = 0; i < total; i++) {
                const cb = koffi.register((x) => x + i, type);
                check(cbCall(cb, 1) === 1 + i, 'registered callback');
                koffi.unregister(cb);
            }
        },
    },
    {
        name: 'load',
        count: 10_000,
        unit: 'load/unload cycles',
        run(total) {
            for (let i = 0; i < total; i++) {
                const ex = koffi.load(exampleLib);
                const greet = ex.func('int greet(const char *name, char *out, int size)');
                const out = Buffer.alloc(32);
                check(greet('soak', out, out.length) === 12 && out.toString('latin1', 0, 12) === 'Hello, soak!', 'loaded function');
                ex.unload();
            }
        },
    },
];

function rss() {
    return process.memoryUsage().rss;
}

function fmt(bytes) {
    return (bytes / MB).toFixed(1) + ' MB';
}

async function main() {
    const only = process.env.SOAK_PHASES ? process.env.SOAK_PHASES.split(',') : null;
    const t0 = Date.now();
    await settle();
    const initial = rss();
    let first = null;
    let last = null;
    let failed = false;
    let sum = 0;
    console.log(`soak: koffi-rs ${koffi.implementation ? koffi.implementation.version : '?'}, scale ${scale}, ` +
        `limits +${PHASE_LIMIT_MB} MB per phase, +${TOTAL_LIMIT_MB} MB in all`);
    for (const phase of phases) {
        if (only && !only.includes(phase.name)) continue;
        const total = n(phase.count);
        await phase.run(Math.round(total / 4) * 4);
        await settle();
        const before = rss();
        if (first === null) first = before;
        const t = Date.now();
        await phase.run(Math.round(total / 4) * 4);
        const ms = Date.now() - t;
        await settle();
        const after = rss();
        last = after;
        const grew = after - before;
        sum += grew;
        const bad = grew > PHASE_LIMIT_MB * MB;
        failed ||= bad;
        console.log(`${phase.name.padEnd(9)} ${total.toLocaleString('en-US').padStart(10)} ${phase.unit.padEnd(26)} ` +
            `${(ms / 1000).toFixed(1).padStart(6)} s   RSS ${fmt(before)} → ${fmt(after)} ` +
            `(${grew >= 0 ? '+' : ''}${fmt(grew)})${bad ? '   OVER THE LIMIT' : ''}`);
    }
    const bad = sum > TOTAL_LIMIT_MB * MB;
    failed ||= bad;
    console.log(`total: measured passes ${sum >= 0 ? '+' : ''}${fmt(sum)}; RSS ${fmt(initial)} after loading, ` +
        `${fmt(first)} at the first measured pass, ${fmt(last)} at the end; ` +
        `wall time ${((Date.now() - t0) / 1000).toFixed(1)} s${bad ? '   OVER THE LIMIT' : ''}`);
    if (failed) {
        console.log('soak: FAILED (memory grew beyond the limit)');
        process.exitCode = 1;
    } else {
        console.log('soak: ok, flat');
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
