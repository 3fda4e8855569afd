'use strict';

// koffi-rs benchmarks: `npm run bench` (or `node bench/run.js`) from the repository root.
//
// Builds bench/build/libbench.so and the static N-API baseline
// bench/build/napi_binding.node with cc, then runs every (benchmark × peer)
// cell in its own node process (bench/cell.js), several times, interleaving
// the peers. A cell's value is the median of its processes' medians. Prints
// a Markdown table with ratios to the N-API baseline (setup rows: to koffi3)
// and writes it to bench/RESULTS.md.
//
// Options:
//   --quick            smoke run: 1 process per cell, 2 rounds × 2 batches of 20 ms
//                      (does not write RESULTS.md unless --write)
//   --only a,b         only these benchmarks (names as in the table's first column)
//   --peers a,b        only these peers (napi, koffi-rs, koffi3, koffi2)
//   --runs N           processes per cell (default 5)
//   --rounds N --batches N --batch-ms N --warmup-ms N   per-process timing
//   --write / --no-write   force writing RESULTS.md or not
//
// Speed is reported as ratios measured in the same run, never asserted.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, execFileSync } = require('child_process');

const BENCH_DIR = __dirname;
const ROOT = path.resolve(BENCH_DIR, '..');
const BUILD = path.join(BENCH_DIR, 'build');
const CELL = path.join(BENCH_DIR, 'cell.js');
const RESULTS = path.join(BENCH_DIR, 'RESULTS.md');
const KOFFI_RS_ADDON = path.join(ROOT, 'build', 'koffi.node');

const PEERS = ['napi', 'koffi-rs', 'koffi3', 'koffi2'];
const SUBJECT = 'koffi-rs';

// Benchmarks in table order. `target`: the issue's goal for koffi-rs, as a
// ratio to napi or as an absolute time for 1,000 setup operations; every row
// must also be strictly faster than koffi3.
const BENCHES = [
    { name: 'noop', label: 'noop', target: { ratio: 1.5 }, desc: 'void noop(void) from libbench: the bare cost of one JS → C call' },
    { name: 'rand', label: 'rand', target: { ratio: 1.2 }, desc: 'int rand(void), libc' },
    { name: 'atoi', label: 'atoi', target: { ratio: 1.1 }, desc: "int atoi(const char *), libc, with the JS string '12345'" },
    { name: 'memset', label: 'memset', target: { ratio: 1.1 }, desc: 'memset(Buffer, 0, 64), libc, on a 64-byte Buffer; declared void so no pointer is wrapped' },
    { name: 'struct16', label: 'struct16', target: { ratio: 1.05 }, desc: 'Pair16 struct16(Pair16, int), Pair16 = {int32 a; float f; double d}: object in, new object out' },
    { name: 'struct24', label: 'struct24', target: { ratio: 1.05 }, desc: 'Trio24 struct24(Trio24, int), Trio24 = {int32 a; double b; float c[2]}: object (c a Float32Array) in, new object out' },
    { name: 'mix8', label: 'mix8', target: { ratio: 1.1 }, desc: 'double mix8(int, double, int, double, int, double, int, double)' },
    { name: 'callback', label: 'callback (per invocation)', target: { ratio: 1.1 }, desc: 'int call_js(int (*)(int), int n) calling the JS function x => x n = 1,000 times, time per invocation; the Koffi peers get the function as a transient callback' },
    { name: 'async', label: 'async ×1', target: { ratio: 1.05 }, desc: 'int busy(int) (64 multiply-adds) as an async call through each peer\'s own mechanism, one call in flight: round-trip time per call' },
    { name: 'async_x16', label: 'async ×16', target: { ratio: 2 }, desc: 'the same with 16 calls kept in flight: time per completed call' },
    { name: 'setup_funcs', label: '1,000 lib.func', setup: true, target: { ms: 8 }, desc: "1,000 lib.func(name, 'int', ['int', 'double', 'const char *', 'void *']) declarations (classic syntax), distinct real symbols decl_000..decl_999" },
    { name: 'setup_protos', label: '1,000 lib.func (prototype strings)', setup: true, extra: true, target: {}, desc: "the same 1,000 declarations as C-like prototype strings: lib.func('int decl_000(int a, double b, const char *s, void *p)'); not in the issue, for information" },
    { name: 'setup_structs', label: '1,000 koffi.struct', setup: true, target: { ms: 4 }, desc: '1,000 koffi.struct(name, {6 members: int32, double, float, uint16, uint8, int64}) definitions, distinct names' },
];

const FULL = { runs: 5, rounds: 5, batches: 3, batchMs: 100, warmupMs: 300 };
const QUICK = { runs: 1, rounds: 2, batches: 2, batchMs: 20, warmupMs: 50 };

// ---------------------------------------------------------------------------
// Options

function parseArgs(argv) {
    const opts = { quick: false, only: null, peers: null, write: null, over: {} };
    const num = (flag, v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) die(`${flag} needs a positive number`);
        return n;
    };
    const list = (flag, v) => {
        if (!v) die(`${flag} needs a comma-separated list`);
        return v.split(',').map((s) => s.trim()).filter(Boolean);
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
        const value = () => (inline !== undefined ? inline : argv[++i]);
        switch (flag) {
            case '--quick': opts.quick = true; break;
            case '--only': opts.only = list(flag, value()); break;
            case '--peers': opts.peers = list(flag, value()); break;
            case '--runs': opts.over.runs = num(flag, value()); break;
            case '--rounds': opts.over.rounds = num(flag, value()); break;
            case '--batches': opts.over.batches = num(flag, value()); break;
            case '--batch-ms': opts.over.batchMs = num(flag, value()); break;
            case '--warmup-ms': opts.over.warmupMs = num(flag, value()); break;
            case '--write': opts.write = true; break;
            case '--no-write': opts.write = false; break;
            case '-h': case '--help': usage(); process.exit(0); break;
            default: die(`unknown option '${a}' (see --help)`);
        }
    }
    const names = BENCHES.map((b) => b.name);
    for (const b of opts.only || []) if (!names.includes(b)) die(`unknown benchmark '${b}'; known: ${names.join(', ')}`);
    for (const p of opts.peers || []) if (!PEERS.includes(p)) die(`unknown peer '${p}'; known: ${PEERS.join(', ')}`);
    return opts;
}

function usage() {
    const lines = fs.readFileSync(__filename, 'utf8').split('\n');
    const start = lines.findIndex((l) => l.startsWith('// Options:'));
    const end = lines.findIndex((l, i) => i > start && !l.startsWith('//'));
    console.log('usage: node bench/run.js [options]\n');
    console.log(lines.slice(start, end).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
}

function die(msg) {
    console.error(`bench: ${msg}`);
    process.exit(2);
}

// ---------------------------------------------------------------------------
// Building the C side

function newer(out, inputs) {
    if (!fs.existsSync(out)) return false;
    const t = fs.statSync(out).mtimeMs;
    return inputs.every((f) => fs.statSync(f).mtimeMs <= t);
}

function cc(args) {
    const compiler = process.env.CC || 'cc';
    execFileSync(compiler, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

// Returns { napi: reason or null } for the peers that could not be built.
function build() {
    fs.mkdirSync(BUILD, { recursive: true });
    const problems = {};
    const benchC = path.join(BENCH_DIR, 'lib', 'bench.c');
    const lib = path.join(BUILD, 'libbench.so');
    if (!newer(lib, [benchC])) {
        console.error('bench: cc bench/lib/bench.c -> bench/build/libbench.so');
        cc(['-O2', '-shared', '-fPIC', '-Wall', '-o', lib, benchC]);
    }

    const binding = path.join(BENCH_DIR, 'napi', 'binding.c');
    const out = path.join(BUILD, 'napi_binding.node');
    const headers = path.join(ROOT, 'node_modules', 'node-api-headers', 'include');
    if (!fs.existsSync(path.join(headers, 'node_api.h'))) {
        problems.napi = 'node-api-headers is not installed (npm install --ignore-scripts)';
    } else if (!newer(out, [binding, benchC])) {
        console.error('bench: cc bench/napi/binding.c bench/lib/bench.c -> bench/build/napi_binding.node');
        try {
            cc(['-O2', '-shared', '-fPIC', '-Wall', '-I', headers, '-o', out, binding, benchC]);
        } catch (err) {
            problems.napi = `the N-API binding did not build: ${err.message.split('\n')[0]}`;
        }
    }
    return problems;
}

function peerVersions() {
    const version = (dir) => {
        try {
            return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
        } catch {
            return null;
        }
    };
    return {
        napi: 'static N-API binding (cc -O2, node-api-headers ' + (version(path.join(ROOT, 'node_modules', 'node-api-headers')) || '?') + ')',
        'koffi-rs': `koffi-rs ${version(ROOT)}`,
        koffi3: `koffi ${version(path.join(ROOT, 'node_modules', 'koffi3')) || 'not installed'} (node_modules/koffi3)`,
        koffi2: `koffi ${version(path.join(ROOT, 'node_modules', 'koffi')) || 'not installed'} (node_modules/koffi)`,
    };
}

// ---------------------------------------------------------------------------
// Running cells

function addonStamp() {
    try {
        const st = fs.statSync(KOFFI_RS_ADDON);
        return `${st.size}@${st.mtime.toISOString()}`;
    } catch {
        return null;
    }
}

// Others rebuild build/koffi.node from time to time: wait for it to be there
// and unchanged for a moment.
function waitForAddon(maxMs) {
    const t0 = Date.now();
    let said = false;
    while (Date.now() - t0 < maxMs) {
        const a = addonStamp();
        spawnSync('sleep', ['1']);
        if (a && a === addonStamp()) return a;
        if (!said) console.error('bench: build/koffi.node is missing or being written, waiting...');
        said = true;
    }
    return null;
}

// Copies the koffi-rs package (index.js, lib/, package.json, build/koffi.node)
// into bench/build/koffi-rs, so that every koffi-rs cell of the run loads the
// same build, whatever happens to the repository's build/ meanwhile (a
// rebuild overwriting a loaded addon kills the process with SIGBUS).
function snapshotKoffiRs() {
    const dir = path.join(BUILD, 'koffi-rs');
    for (let attempt = 0; attempt < 5; attempt++) {
        const stamp = waitForAddon(180e3);
        if (!stamp) return { problem: 'build/koffi.node is missing (not built, or a rebuild did not finish within 3 minutes)' };
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(path.join(dir, 'build'), { recursive: true });
        for (const f of ['index.js', 'package.json']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
        fs.cpSync(path.join(ROOT, 'lib'), path.join(dir, 'lib'), { recursive: true });
        fs.copyFileSync(KOFFI_RS_ADDON, path.join(dir, 'build', 'koffi.node'));
        if (addonStamp() === stamp) return { dir, stamp };
    }
    return { problem: 'build/koffi.node kept changing while it was being copied' };
}

function runCell(peer, bench, settings, env) {
    const cellSettings = { rounds: settings.rounds, batches: settings.batches, batchMs: settings.batchMs, warmupMs: settings.warmupMs };
    const p = spawnSync(process.execPath, ['--expose-gc', CELL, peer, bench, JSON.stringify(cellSettings)], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 240e3,
        killSignal: 'SIGKILL',
        maxBuffer: 16 << 20,
    });
    const line = (p.stdout || '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
    let res = null;
    try {
        res = line ? JSON.parse(line) : null;
    } catch {
        res = null;
    }
    const stderrTail = (p.stderr || '').trim().split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 300);
    if (!res) {
        let how;
        if (p.error && p.error.code === 'ETIMEDOUT') how = 'timed out after 240 s';
        else if (p.signal) how = `crashed (${p.signal})`;
        else how = `exited with code ${p.status} without a result`;
        res = { status: 'crashed', reason: how + (stderrTail ? `: ${stderrTail}` : '') };
    } else if (res.status === 'ok' && p.status !== 0) {
        res = { status: 'crashed', reason: `result printed, then exited with ${p.signal || p.status}` + (stderrTail ? `: ${stderrTail}` : '') };
    }
    return res;
}

// ---------------------------------------------------------------------------
// Statistics and formatting

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmtTime(ns) {
    const sig = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
    if (ns < 1e3) return `${sig(ns)} ns`;
    if (ns < 1e6) return `${sig(ns / 1e3)} µs`;
    if (ns < 1e9) return `${sig(ns / 1e6)} ms`;
    return `${sig(ns / 1e9)} s`;
}

function fmtRatio(r) {
    return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

function fmtPct(x) {
    return `${(x * 100).toFixed(1)}%`;
}

// One cell of the results: the median over processes, and what went wrong.
function summarize(results) {
    const ok = results.filter((r) => r.status === 'ok');
    const bad = results.filter((r) => r.status !== 'ok');
    const cell = { runs: results.length, ok: ok.length, values: ok.map((r) => r.value) };
    if (ok.length) {
        cell.value = median(cell.values);
        cell.spread = ok.length > 1 ? (Math.max(...cell.values) - Math.min(...cell.values)) / cell.value : null;
        const within = ok.map((r) => (r.roundMedians.length > 1 ? (Math.max(...r.roundMedians) - Math.min(...r.roundMedians)) / median(r.roundMedians) : null)).filter((x) => x !== null);
        cell.within = within.length ? median(within) : null;
        const cold = ok.map((r) => r.coldNs).filter((x) => typeof x === 'number');
        if (cold.length) cell.cold = median(cold);
    }
    if (bad.length) {
        // Keep the distinct reasons, most frequent first.
        const counts = new Map();
        for (const r of bad) {
            const key = r.status === 'crashed' ? r.reason : `${r.status}: ${r.reason}`;
            counts.set(key, (counts.get(key) || 0) + 1);
        }
        cell.problems = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => (bad.length > 1 || results.length > 1 ? `${k} (${n} of ${results.length} processes)` : k));
        cell.status = ok.length ? 'partial' : bad[0].status;
    } else {
        cell.status = 'ok';
    }
    return cell;
}

function report(ctx) {
    const { benches, peers, cells, settings } = ctx;
    const notes = [];
    const note = (text) => {
        let i = notes.indexOf(text);
        if (i < 0) i = notes.push(text) - 1;
        return `[^${i + 1}]`;
    };

    const get = (b, p) => cells[b.name] && cells[b.name][p];
    const lines = [];
    const head = ['benchmark', ...peers, `target (${SUBJECT})`, 'met'];
    lines.push(`| ${head.join(' | ')} |`);
    lines.push(`|${head.map((h, i) => (i === 0 ? '---' : i <= peers.length ? '---:' : ':---')).join('|')}|`);

    for (const b of benches) {
        const baselinePeer = b.setup ? 'koffi3' : 'napi';
        const base = get(b, baselinePeer);
        const baseValue = base && base.value;
        const row = [b.label + (b.setup ? ' (per 1,000)' : '')];
        for (const p of peers) {
            if (b.setup && p === 'napi') {
                row.push('–');
                continue;
            }
            const c = get(b, p);
            if (!c) {
                row.push('–');
                continue;
            }
            let text;
            if (c.value === undefined) {
                text = `n/a${note(`${p}, ${b.name}: ${c.problems.join('; ')}`)}`;
            } else {
                text = fmtTime(c.value);
                if (baseValue) text += ` (${fmtRatio(c.value / baseValue)})`;
                if (c.problems) text += note(`${p}, ${b.name}: ${c.problems.join('; ')}`);
            }
            row.push(text);
        }

        // Target and verdict for koffi-rs.
        const t = b.target;
        const parts = [];
        if (t.ratio) parts.push(`≤ ${t.ratio.toFixed(2)}× napi`);
        if (t.ms) parts.push(`≤ ${t.ms} ms`);
        parts.push('< koffi3');
        row.push(parts.join(', ') + (b.extra ? ' (extra row)' : ''));

        const s = get(b, SUBJECT);
        const k3 = get(b, 'koffi3');
        let met = '';
        if (s && peers.includes(SUBJECT)) {
            const checks = [];
            if (s.value === undefined) checks.push(false);
            else {
                if (t.ratio) {
                    const napi = get(b, 'napi');
                    checks.push(napi && napi.value ? s.value / napi.value <= t.ratio : null);
                }
                if (t.ms) checks.push(s.value / 1e6 <= t.ms);
                checks.push(k3 && k3.value ? s.value < k3.value : null);
            }
            if (checks.includes(false)) met = '✗';
            else if (checks.includes(null)) met = '?';
            else met = '✓';
        }
        row.push(met);
        lines.push(`| ${row.join(' | ')} |`);
    }

    // Spread table: across processes, and within a process (rounds).
    const noise = [];
    const nhead = ['benchmark', ...peers];
    noise.push(`| ${nhead.join(' | ')} |`);
    noise.push(`|${nhead.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const b of benches) {
        const row = [b.label];
        for (const p of peers) {
            const c = get(b, p);
            if (!c || c.value === undefined) row.push('–');
            else row.push(`${c.spread === null ? '–' : fmtPct(c.spread)} / ${c.within === null ? '–' : fmtPct(c.within)}`);
        }
        noise.push(`| ${row.join(' | ')} |`);
    }

    // Cold setup: the first 1,000 declarations of a fresh process.
    const cold = [];
    const setupBenches = benches.filter((b) => b.setup);
    const coldPeers = peers.filter((p) => p !== 'napi');
    if (setupBenches.length && coldPeers.length) {
        cold.push(`| first 1,000 in a fresh process | ${coldPeers.join(' | ')} |`);
        cold.push(`|---|${coldPeers.map(() => '---:').join('|')}|`);
        for (const b of setupBenches) {
            const row = [b.label];
            for (const p of coldPeers) {
                const c = get(b, p);
                row.push(c && c.cold !== undefined ? fmtTime(c.cold) : '–');
            }
            cold.push(`| ${row.join(' | ')} |`);
        }
    }

    return { table: lines.join('\n'), noise: noise.join('\n'), cold: cold.join('\n'), notes };
}

// ---------------------------------------------------------------------------
// Context of the run

function machine() {
    let cpu = os.cpus()[0] ? os.cpus()[0].model : 'unknown CPU';
    try {
        const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
        if (m) cpu = m[1].trim();
    } catch {}
    return {
        cpu,
        cores: os.cpus().length,
        memGiB: (os.totalmem() / 2 ** 30).toFixed(0),
        os: `${os.type()} ${os.release()} ${os.arch()}`,
    };
}

function gitCommit() {
    try {
        const hash = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        return dirty ? `${hash} (with uncommitted changes)` : hash;
    } catch {
        return 'unknown';
    }
}

// ---------------------------------------------------------------------------

function main() {
    const opts = parseArgs(process.argv.slice(2));
    const settings = { ...(opts.quick ? QUICK : FULL), ...opts.over };
    const write = opts.write !== null ? opts.write : !opts.quick;
    const benches = BENCHES.filter((b) => !opts.only || opts.only.includes(b.name));
    const peers = PEERS.filter((p) => !opts.peers || opts.peers.includes(p));

    const problems = build();
    let snapshot = null;
    if (peers.includes(SUBJECT)) {
        snapshot = snapshotKoffiRs();
        if (snapshot.problem) problems[SUBJECT] = snapshot.problem;
    }
    const cellEnv = snapshot && snapshot.dir ? { BENCH_KOFFI_RS: snapshot.dir } : {};
    const versions = peerVersions();
    const started = new Date();
    const loadBefore = os.loadavg();

    // Cells: setup benchmarks have no N-API counterpart.
    const plan = [];
    for (const b of benches) for (const p of peers) if (!(b.setup && p === 'napi')) plan.push([b, p]);
    const total = plan.length * settings.runs;
    console.error(
        `bench: ${plan.length} cells × ${settings.runs} process(es); each ${settings.rounds} rounds × ${settings.batches} batches of ~${settings.batchMs} ms after ${settings.warmupMs} ms warm-up`,
    );

    const raw = {};
    let done = 0;
    for (let run = 0; run < settings.runs; run++) {
        for (const b of benches) {
            // Rotate the peers' order from run to run so that no peer always
            // follows the same neighbour.
            const order = peers.filter((p) => !(b.setup && p === 'napi'));
            const rotated = order.slice(run % order.length).concat(order.slice(0, run % order.length));
            for (const p of rotated) {
                let res;
                if (problems[p]) res = { status: 'n/a', reason: problems[p] };
                else res = runCell(p, b.name, settings, cellEnv);
                ((raw[b.name] ??= {})[p] ??= []).push(res);
                done++;
                const shown = res.status === 'ok' ? fmtTime(res.value) + (b.setup ? ' per 1,000' : '') : res.status === 'crashed' ? res.reason : `${res.status}: ${res.reason}`;
                console.error(`bench: [${done}/${total}] run ${run + 1} ${b.name} ${p}: ${shown}`);
            }
        }
    }

    const cells = {};
    for (const [bench, byPeer] of Object.entries(raw)) {
        cells[bench] = {};
        for (const [p, results] of Object.entries(byPeer)) cells[bench][p] = summarize(results);
    }

    const finished = new Date();
    const m = machine();
    const { table, noise, cold, notes } = report({ benches, peers, cells, settings });
    const commit = gitCommit();
    const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
    const addonNote =
        snapshot && snapshot.stamp
            ? `koffi-rs from build/koffi.node of ${snapshot.stamp.replace(/^(\d+)@(.*)$/, '$2 ($1 bytes)')}, copied to bench/build/koffi-rs when the run started`
            : null;
    const out = [];
    out.push('# koffi-rs benchmark results');
    out.push('');
    out.push(`Generated by \`npm run bench\` (bench/run.js) on ${started.toISOString()} (${((finished - started) / 1000).toFixed(0)} s).`);
    out.push('');
    out.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.os}; load average ${la(loadBefore)} before, ${la(os.loadavg())} after`);
    out.push(`- Node ${process.version} (V8 ${process.versions.v8}, Node-API ${process.versions.napi})`);
    out.push(`- Commit ${commit}${addonNote ? `; ${addonNote}` : ''}`);
    out.push(`- Peers: ${peers.map((p) => `${p} = ${versions[p]}`).join('; ')}`);
    out.push(
        `- Settings: each cell in ${settings.runs} separate process(es); in each, ${settings.warmupMs} ms warm-up, then ${settings.rounds} rounds × ${settings.batches} batches of ~${settings.batchMs} ms (setup cells: ~${settings.batchMs / 4} ms), timed with process.hrtime.bigint(); a process reports the median of its batches, a cell the median of its processes.` +
            (opts.quick ? ' **Quick (smoke) settings: not for comparison.**' : ''),
    );
    out.push('');
    out.push('## Results');
    out.push('');
    out.push(table);
    out.push('');
    out.push(
        `Per-call rows: time per call (callback: per invocation) and, in parentheses, the ratio to the static N-API binding in the same run. Setup rows: time for 1,000 operations, ratio to koffi3 (napi has no setup). Lower is faster. "met": ${SUBJECT} meets its target and is strictly faster than koffi3 (✓), misses either (✗), or a reference is missing (?).`,
    );
    out.push('');
    out.push('## Spread');
    out.push('');
    out.push('Across processes ((max − min) / median of the per-process medians) / within a process (median over processes of (max − min) / median of the per-round medians).');
    out.push('');
    out.push(noise);
    if (cold) {
        out.push('');
        out.push('## Setup, cold');
        out.push('');
        out.push('The first 1,000 operations of a fresh process, before any warm-up (median over processes); the table above is the warmed-up steady state.');
        out.push('');
        out.push(cold);
    }
    out.push('');
    out.push('## Benchmarks');
    out.push('');
    for (const b of benches) out.push(`- ${b.label}: ${b.desc}`);
    out.push('');
    out.push(
        'The C functions are in bench/lib/bench.c (built into bench/build/libbench.so for the FFI peers and linked into the binding); the N-API baseline is bench/napi/binding.c: arguments checked through Node-API statuses, strings converted on the stack, struct members read with napi_get_named_property and results built with napi_create_object, callbacks through napi_call_function in a handle scope, async calls through napi_async_work with a (err, result) callback as in Koffi.',
    );
    if (notes.length) {
        out.push('');
        notes.forEach((n, i) => out.push(`[^${i + 1}]: ${n}`));
    }
    const md = out.join('\n') + '\n';

    process.stdout.write(md);
    fs.writeFileSync(path.join(BUILD, 'last-run.json'), JSON.stringify({ started, settings, raw }, null, 1));
    if (write) {
        fs.writeFileSync(RESULTS, md);
        console.error(`bench: wrote ${path.relative(ROOT, RESULTS)} (raw data: bench/build/last-run.json)`);
    } else {
        console.error('bench: RESULTS.md not written (quick run; pass --write to write it)');
    }
}

main();
