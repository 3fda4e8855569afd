'use strict';

// One benchmark cell: one peer, one benchmark, in this process only.
//
//   node --expose-gc bench/cell.js <peer> <benchmark> [settings-json]
//
// Spawned by bench/run.js. It validates the operation once, warms it up, sizes
// a batch to last about batchMs, then times rounds × batches with
// process.hrtime.bigint() and prints one JSON line on stdout:
//   { status: 'ok', value, unit, batches, rounds, ... }   value = median of all batches
//   { status: 'n/a', reason }                              the peer cannot run this cell
//   { status: 'failed', reason }                           the peer ran it and got it wrong
// A crash shows up in run.js as a signal or exit code without that line.

const path = require('path');
const assert = require('assert');

const BENCH_DIR = __dirname;
const ROOT = path.resolve(BENCH_DIR, '..');
const BUILD = path.join(BENCH_DIR, 'build');
const LIBBENCH = path.join(BUILD, 'libbench.so');
const LIBC = 'libc.so.6';

const DEFAULTS = { rounds: 5, batches: 3, batchMs: 100, warmupMs: 300 };

class NotAvailable extends Error {}

// ---------------------------------------------------------------------------
// What every benchmark calls, and with which values

const CALLBACK_N = 1000; // callback invocations per call_js() call
const SETUP_N = 1000; // declarations per setup step
const ASYNC_ARG = 7;

const P16_IN = { a: 1, f: 2.5, d: 3.25 };
const P16_OUT = { a: 4, f: 5, d: 3.75 };
// c as a Float32Array: the form all four peers return it in, so a struct
// round-trips unchanged.
const T24_IN = { a: 1, b: 2.5, c: new Float32Array([3.5, 4.5]) };
const T24_OUT = { a: 4, b: 5, c: [4.5, 3.5] };
const MIX8_ARGS = [1, 2.5, 3, 4.5, 5, 6.5, 7, 8.5];
const MIX8_OUT = 1 + 3 + 5 + 7 + 2.5 + 4.5 + 6.5 + 8.5;

const DECL_NAMES = Array.from({ length: SETUP_N }, (_, i) => 'decl_' + String(i).padStart(3, '0'));
const DECL_PROTOS = DECL_NAMES.map((name) => `int ${name}(int a, double b, const char *s, void *p)`);
const DECL_ARGS = ['int', 'double', 'const char *', 'void *'];
const STRUCT_MEMBERS = {
    id: 'int32',
    weight: 'double',
    ratio: 'float',
    flags: 'uint16',
    tag: 'uint8',
    total: 'int64',
};
const STRUCT_SIZE = 32; // 4 + (4) + 8 + 4 + 2 + 1 + (1) + 8

const BENCHMARKS = [
    'noop', 'rand', 'atoi', 'memset', 'struct16', 'struct24', 'mix8',
    'callback', 'async', 'async_x16', 'setup_funcs', 'setup_protos', 'setup_structs',
];

// ---------------------------------------------------------------------------
// Peers

const KOFFI_PEERS = {
    // bench/run.js points BENCH_KOFFI_RS at a snapshot of the package taken
    // when the run started (the repository's build/ may be rebuilt meanwhile);
    // run by hand, a cell uses the repository itself.
    'koffi-rs': () => require(process.env.BENCH_KOFFI_RS || ROOT),
    koffi3: () => require('koffi3'),
    koffi2: () => require('koffi'),
};

function describePeer(peer, mod) {
    if (peer === 'napi') return 'static N-API binding';
    const impl = mod.implementation ? `${mod.implementation.name} ${mod.implementation.version}, ` : '';
    return `${impl}koffi API ${mod.version}`;
}

// Each builder returns { kind: 'sync' | 'async' | 'setup', step, per, check }:
// step() is one timed operation, `per` the number of units it counts for
// (the reported value is time / per), check() validates a result once.

function napiCells(b) {
    return {
        noop: () => ({ step: () => b.noop(), check: () => assert.strictEqual(b.noop(), undefined) }),
        rand: () => ({ step: () => b.rand(), check: () => assert.strictEqual(typeof b.rand(), 'number') }),
        atoi: () => ({ step: () => b.atoi('12345'), check: () => assert.strictEqual(b.atoi('12345'), 12345) }),
        memset: () => {
            const buf = Buffer.alloc(64);
            return {
                step: () => b.memset(buf, 0, 64),
                check: () => checkMemset((p, c, n) => b.memset(p, c, n), buf),
            };
        },
        struct16: () => ({ step: () => b.struct16(P16_IN, 3), check: () => checkP16(b.struct16(P16_IN, 3)) }),
        struct24: () => ({ step: () => b.struct24(T24_IN, 3), check: () => checkT24(b.struct24(T24_IN, 3)) }),
        mix8: () => ({ step: () => b.mix8(1, 2.5, 3, 4.5, 5, 6.5, 7, 8.5), check: () => assert.strictEqual(b.mix8(...MIX8_ARGS), MIX8_OUT) }),
        callback: () => callbackCell((fn, n) => b.call_js(fn, n)),
        async: () => asyncCell(b.busy, b.busy_async, 1),
        async_x16: () => asyncCell(b.busy, b.busy_async, 16),
    };
}

function koffiCells(koffi, peer) {
    let libc_, lib_;
    const libc = () => (libc_ ??= koffi.load(LIBC));
    const lib = () => (lib_ ??= koffi.load(LIBBENCH));
    let structGen = 0;

    return {
        noop: () => {
            const noop = lib().func('void noop(void)');
            return { step: () => noop(), check: () => assert.strictEqual(noop(), undefined) };
        },
        rand: () => {
            const rand = libc().func('int rand(void)');
            return { step: () => rand(), check: () => assert.strictEqual(typeof rand(), 'number') };
        },
        atoi: () => {
            const atoi = libc().func('int atoi(const char *s)');
            return { step: () => atoi('12345'), check: () => assert.strictEqual(atoi('12345'), 12345) };
        },
        memset: () => {
            // Result declared void: the cell measures passing a Buffer, not
            // wrapping a returned pointer.
            const memset = libc().func('void memset(void *p, int c, size_t n)');
            const buf = Buffer.alloc(64);
            return { step: () => memset(buf, 0, 64), check: () => checkMemset(memset, buf) };
        },
        struct16: () => {
            koffi.struct('Pair16', { a: 'int32', f: 'float', d: 'double' });
            const struct16 = lib().func('Pair16 struct16(Pair16 p, int k)');
            return { step: () => struct16(P16_IN, 3), check: () => checkP16(struct16(P16_IN, 3)) };
        },
        struct24: () => {
            koffi.struct('Trio24', { a: 'int32', b: 'double', c: koffi.array('float', 2) });
            const struct24 = lib().func('Trio24 struct24(Trio24 s, int k)');
            return { step: () => struct24(T24_IN, 3), check: () => checkT24(struct24(T24_IN, 3)) };
        },
        mix8: () => {
            const mix8 = lib().func('double mix8(int a, double b, int c, double d, int e, double f, int g, double h)');
            return { step: () => mix8(1, 2.5, 3, 4.5, 5, 6.5, 7, 8.5), check: () => assert.strictEqual(mix8(...MIX8_ARGS), MIX8_OUT) };
        },
        callback: () => {
            // A transient callback: the JS function is passed straight to the call.
            koffi.proto('int BenchCallback(int x)');
            const callJs = lib().func('int call_js(BenchCallback *cb, int n)');
            return callbackCell(callJs);
        },
        async: () => {
            const busy = lib().func('int busy(int x)');
            return asyncCell(busy, busy.async, 1);
        },
        async_x16: () => {
            const busy = lib().func('int busy(int x)');
            return asyncCell(busy, busy.async, 16);
        },
        setup_funcs: () => {
            // The classic syntax: name, result type, argument types.
            const l = lib();
            return {
                kind: 'setup',
                per: 1,
                step: () => {
                    for (let i = 0; i < SETUP_N; i++) l.func(DECL_NAMES[i], 'int', DECL_ARGS);
                },
                check: () => {
                    const f = l.func(DECL_NAMES[5], 'int', DECL_ARGS);
                    assert.strictEqual(f(1, 2, 'x', null), 1 + 2 + 1 + 0 + 1005);
                },
            };
        },
        setup_protos: () => {
            // The C-like prototype strings: the same declarations, parsed.
            const l = lib();
            return {
                kind: 'setup',
                per: 1,
                step: () => {
                    for (let i = 0; i < SETUP_N; i++) l.func(DECL_PROTOS[i]);
                },
                check: () => {
                    const f = l.func(DECL_PROTOS[7]);
                    assert.strictEqual(f(1, 2, null, null), 1 + 2 + 0 + 0 + 1007);
                },
            };
        },
        setup_structs: () => ({
            // Distinct names every time: a name can only be defined once.
            kind: 'setup',
            per: 1,
            step: () => {
                const g = structGen++;
                for (let i = 0; i < SETUP_N; i++) koffi.struct(`BenchS${g}_${i}`, STRUCT_MEMBERS);
            },
            check: () => {
                const t = koffi.struct('BenchCheck', STRUCT_MEMBERS);
                assert.strictEqual(koffi.sizeof(t), STRUCT_SIZE);
            },
        }),
    };
}

function checkMemset(memset, buf) {
    buf.fill(0xaa);
    memset(buf, 0x11, 64);
    assert.ok(buf.every((x) => x === 0x11), 'memset did not fill the Buffer');
    buf.fill(0);
}

function checkP16(r) {
    assert.deepStrictEqual({ a: r.a, f: r.f, d: r.d }, P16_OUT);
}

function checkT24(r) {
    assert.deepStrictEqual({ a: r.a, b: r.b, c: Array.from(r.c) }, T24_OUT);
}

function callbackCell(callJs) {
    const identity = (x) => x;
    return {
        per: CALLBACK_N,
        step: () => callJs(identity, CALLBACK_N),
        check: () => assert.strictEqual(callJs(identity, CALLBACK_N), (CALLBACK_N * (CALLBACK_N - 1)) / 2),
    };
}

// n calls of start(ASYNC_ARG, cb), `inflight` of them outstanding at any time.
function asyncCell(sync, start, inflight) {
    const expected = sync(ASYNC_ARG);
    const run = (n) =>
        new Promise((resolve, reject) => {
            let started = 0;
            let done = 0;
            const cb = (err, res) => {
                if (err) return reject(err);
                if (res !== expected) return reject(new Error(`async result ${res}, expected ${expected}`));
                done++;
                if (started < n) {
                    started++;
                    start(ASYNC_ARG, cb);
                } else if (done === n) {
                    resolve();
                }
            };
            const first = Math.min(inflight, n);
            while (started < first) {
                started++;
                start(ASYNC_ARG, cb);
            }
        });
    return { kind: 'async', run, check: () => run(inflight * 2) };
}

// ---------------------------------------------------------------------------
// Timing

const now = () => process.hrtime.bigint();
const nsSince = (t0) => Number(now() - t0);

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Returns a function timing `n` operations, in ns.
function timer(cell) {
    if (cell.kind === 'async') {
        return async (n) => {
            const t0 = now();
            await cell.run(n);
            return nsSince(t0);
        };
    }
    const step = cell.step;
    return async (n) => {
        const t0 = now();
        for (let i = 0; i < n; i++) step();
        return nsSince(t0);
    };
}

async function measure(cell, settings) {
    const time = timer(cell);
    const isSetup = cell.kind === 'setup';
    const per = cell.per || 1;
    const result = {};

    // A setup step is 1,000 declarations: time the first one cold, in a fresh
    // process, before anything is warm.
    if (isSetup) result.coldNs = (await time(1)) / per;

    // Warm up for warmupMs, growing n, which also sizes the batches.
    const warmupNs = settings.warmupMs * 1e6;
    let n = 1;
    let spent = 0;
    let nsPerOp = Infinity;
    const warm0 = now();
    while (true) {
        const t = await time(n);
        spent = nsSince(warm0);
        nsPerOp = t / n;
        if (spent >= warmupNs) break;
        if (t < 10e6) n *= 2;
    }
    // Setup steps accumulate types and functions: shorter batches keep the
    // process from defining hundreds of thousands of them.
    const batchNs = settings.batchMs * 1e6 * (isSetup ? 0.25 : 1);
    const iterations = Math.max(1, Math.round(batchNs / nsPerOp));

    const batches = [];
    const roundMedians = [];
    for (let r = 0; r < settings.rounds; r++) {
        if (global.gc) global.gc();
        const round = [];
        for (let b = 0; b < settings.batches; b++) {
            const t = await time(iterations);
            round.push(t / iterations / per);
        }
        batches.push(...round);
        roundMedians.push(median(round));
    }

    return {
        ...result,
        value: median(batches),
        iterations,
        batches,
        roundMedians,
    };
}

// ---------------------------------------------------------------------------

async function main() {
    const [peer, bench, json] = process.argv.slice(2);
    const settings = { ...DEFAULTS, ...(json ? JSON.parse(json) : {}) };
    const out = { peer, bench };

    const emit = (obj) => process.stdout.write(JSON.stringify({ ...out, ...obj }) + '\n');

    if (!BENCHMARKS.includes(bench)) return emit({ status: 'failed', reason: `unknown benchmark '${bench}'` });

    let cells;
    try {
        if (peer === 'napi') {
            const b = require(path.join(BUILD, 'napi_binding.node'));
            out.impl = describePeer(peer, b);
            cells = napiCells(b);
        } else if (KOFFI_PEERS[peer]) {
            const koffi = KOFFI_PEERS[peer]();
            out.impl = describePeer(peer, koffi);
            cells = koffiCells(koffi, peer);
        } else {
            return emit({ status: 'failed', reason: `unknown peer '${peer}'` });
        }
    } catch (err) {
        return emit({ status: 'load-error', reason: oneLine(err) });
    }

    if (!cells[bench]) return emit({ status: 'n/a', reason: `${peer} has no ${bench} cell` });

    let cell;
    try {
        cell = cells[bench]();
    } catch (err) {
        return emit({ status: 'failed', reason: `declaration threw: ${oneLine(err)}` });
    }
    cell.kind ??= 'sync';
    out.unit = cell.kind === 'setup' ? 'per1000' : 'call';

    try {
        await cell.check();
    } catch (err) {
        return emit({ status: 'failed', reason: `validation: ${oneLine(err)}` });
    }

    // bench/profile.sh: a fixed number of operations, untimed, for an instruction count.
    const count = Number(process.env.BENCH_PROFILE_COUNT);
    if (count > 0 && cell.kind === 'sync') {
        for (let i = 0; i < count; i++) cell.step();
        return emit({ status: 'ok', profiled: count });
    }

    let res;
    try {
        res = await measure(cell, settings);
    } catch (err) {
        return emit({ status: 'failed', reason: `while timing: ${oneLine(err)}` });
    }
    emit({ status: 'ok', settings, ...res });
}

function oneLine(err) {
    const msg = err && err.message ? `${err.constructor.name}: ${err.message}` : String(err);
    return msg.replace(/\s+/g, ' ').slice(0, 300);
}

main().catch((err) => {
    process.stdout.write(JSON.stringify({ status: 'failed', reason: oneLine(err) }) + '\n');
    process.exitCode = 1;
});
