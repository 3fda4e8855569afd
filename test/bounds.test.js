// Sizes from the outside are checked: TypedArray element sizes, lengths
// given to view/decode/encode/alloc/array, counts read from C memory, nesting depth, and inputs
// long enough to expose quadratic work. Cases that abort or overflow the stack in Koffi 2.16.3
// (and did in koffi-rs before) run in a child process, so that a crash fails one test instead
// of ending the run.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawnSync } = require('child_process');
const { koffi, upstream, nodeCommand, pointerSize } = require('./helpers.js');

// The module path a child process must require (the implementation under test).
const modulePath = upstream ? require.resolve('koffi') : path.join(__dirname, '..');

// Runs `body` in a child Node process with `koffi` defined and `show(fn)` printing the class
// of what `fn` throws (or 'ok'); returns { status, signal, lines }.
function runChild(body) {
    const script = `'use strict';
        const koffi = require(${JSON.stringify(modulePath)});
        const show = (fn) => { try { fn(); console.log('ok'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); } };
        ${body}`;
    const [cmd, args] = nodeCommand(['-e', script]);
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000 });
    return { status: r.status, signal: r.signal, lines: r.stdout.split('\n').filter(Boolean), stderr: r.stderr };
}

function assertAllRangeErrors(r, count) {
    assert.equal(r.signal, null, `child crashed: ${r.stderr.slice(-400)}`);
    assert.equal(r.status, 0, r.stderr.slice(-400));
    assert.equal(r.lines.length, count, r.lines.join('\n'));
    for (const line of r.lines)
        assert.match(line, /^RangeError: /, r.lines.join('\n'));
}

// ---------------------------------------------------------------------------
// TypedArray element sizes
// ---------------------------------------------------------------------------

const typedKinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array];
// Node 20 has no Float16Array global; newer releases do (Node-API type 11).
if (typeof globalThis.Float16Array === 'function')
    typedKinds.push(globalThis.Float16Array);

test('MEM-02 · every TypedArray kind counts its true byte length', () => {
    for (const Kind of typedKinds) {
        const bytes = 4 * Kind.BYTES_PER_ELEMENT;
        const t = new Kind(4);
        koffi.encode(t, koffi.array('uint8_t', bytes), new Array(bytes).fill(7));
        assert.deepEqual([...koffi.decode(t, 'uint8_t', bytes)], new Array(bytes).fill(7), Kind.name);
        assert.throws(() => koffi.encode(t, koffi.array('uint8_t', bytes + 1), []),
                      { name: 'Error', message: new RegExp(`superior or equal to type uint8_t\\[${bytes + 1}\\]`) }, Kind.name);
    }
});

// ---------------------------------------------------------------------------
// view / decode / encode / alloc / array lengths
// ---------------------------------------------------------------------------

test('MEM-12 · view() with ordinary lengths behaves as Koffi 2.16.3', () => {
    const p = koffi.alloc('uint8_t', 16);
    try {
        assert.equal(koffi.view(p, 16).byteLength, 16);
        assert.equal(koffi.view(p, 3.5).byteLength, 3, 'fractions are dropped, as upstream does');
        assert.equal(koffi.view(p, 0).byteLength, 0);
        assert.throws(() => koffi.view(p, -1), { name: 'TypeError', message: /Array length must be positive and non-zero/ });
    } finally {
        koffi.free(p);
    }
});

test('MEM-12 · view() lengths past Node\'s limit are RangeErrors, never an abort in V8', { skip: upstream && 'upstream aborts' }, () => {
    const r = runChild(`const p = koffi.alloc('uint8_t', 16);
        for (const len of [2 ** 53, 2 ** 64, Infinity])
            show(() => koffi.view(p, len));`);
    assertAllRangeErrors(r, 3);
    // Node 22 makes ArrayBuffers up to 2^53 - 1 bytes (a view of raw memory is the caller's to
    // size); before, 2^32 bytes was the most, and V8's check past it was fatal.
    const big = runChild(`const p = koffi.alloc('uint8_t', 16);
        for (const len of [2 ** 40, 2 ** 32 + 1])
            show(() => koffi.view(p, len).byteLength);`);
    assert.equal(big.signal, null, big.stderr.slice(-400));
    const major = Number(process.versions.node.split('.')[0]);
    for (const line of big.lines)
        assert.match(line, major >= 22 ? /^ok$/ : /^RangeError: /, big.lines.join('\n'));
    assert.equal(big.lines.length, 2);
});

test('MEM-03 · decode() lengths past V8\'s limits are RangeErrors, never an abort in V8', { skip: upstream && 'upstream wraps lengths to 32 bits' }, () => {
    const r = runChild(`const p = koffi.alloc('uint8_t', 16);
        show(() => koffi.decode(p, 'uint8_t', Infinity));
        show(() => koffi.decode(p, 'uint8_t', NaN));
        show(() => koffi.decode(p, 'uint8_t', 2 ** 40));
        show(() => koffi.decode(p, 'int', 2 ** 33));
        show(() => koffi.decode(p, 'void *', 2 ** 33));
        show(() => koffi.decode(p, 'double', 2 ** 53));
        show(() => koffi.decode(Buffer.alloc(16), 'int', 2 ** 62));
        show(() => koffi.decode(Buffer.alloc(16), 'int', Infinity));`);
    assertAllRangeErrors(r, 8);
});

test('MEM-03 · decode() with ordinary lengths behaves as Koffi 2.16.3', () => {
    const buf = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual([...koffi.decode(buf, 'uint8_t', 3.5)], [1, 2, 3]);
    assert.deepEqual([...koffi.decode(buf, 'uint8_t', 0)], []);
    assert.deepEqual([...koffi.decode(buf, 2, 'uint8_t', -1)], [3, 4, 5, 6, 7, 8]);
});

test('MEM-08 · encode() lengths that are no count are RangeErrors', { skip: upstream && 'upstream reads them as 0' }, () => {
    const buf = Buffer.alloc(16);
    for (const len of [NaN, Infinity, 2 ** 53])
        assert.throws(() => koffi.encode(buf, 'uint8_t', [1, 2], len), { name: 'RangeError', message: /Invalid length/ }, String(len));
    // Finite lengths past max_type_size keep Koffi's array error (ARR-01); on a 32-bit target
    // 2^40 is past the address space first.
    if (pointerSize === 8)
        assert.throws(() => koffi.encode(buf, 'int', [1, 2], 2 ** 40), { name: 'TypeError', message: /Array length is too high/ });
    else
        assert.throws(() => koffi.encode(buf, 'int', [1, 2], 2 ** 40), { name: 'RangeError', message: /above the address space/ });
    koffi.encode(buf, 'uint8_t', [1, 2], 2.5);
    assert.deepEqual([...buf.subarray(0, 3)], [1, 2, 0]);
});

test('MEM-13 / ARR-01 · alloc() and array() refuse huge counts', { skip: upstream && 'upstream reads counts as Int32 (2^32 and Infinity wrap to 0)' }, () => {
    for (const n of [2 ** 31, 2 ** 53, 2 ** 64, Infinity])
        assert.throws(() => koffi.alloc('int', n), { name: 'Error', message: /Cannot allocate more than \d+ objects of type int/ }, String(n));
    const Big = koffi.struct({ a: koffi.array('uint8_t', 1 << 20) });
    assert.throws(() => koffi.alloc(Big, 4096), { name: 'Error', message: /Cannot allocate more than/ });
    for (const n of [2 ** 40, 2 ** 62, 2 ** 64, Infinity]) {
        assert.throws(() => koffi.array('int', n), { name: 'TypeError', message: /Array length is too high/ }, String(n));
        assert.throws(() => koffi.array(Big, n), { name: 'TypeError', message: /Array length is too high/ }, String(n));
    }
    assert.throws(() => koffi.array('int', 'n', 2 ** 62), { name: 'TypeError', message: /Array length is too high/ });
});

// ---------------------------------------------------------------------------
// Counts read from C memory
// ---------------------------------------------------------------------------

test('FLEX-04 · a negative or huge counter is clamped to maxLen, as Koffi 2.16.3 does', () => {
    const Flex = koffi.struct('BoundsFlex', { n: 'int32_t', items: koffi.array('uint8_t', 'n', 4) });
    const buf = Buffer.alloc(koffi.sizeof(Flex));
    buf.set([1, 2, 3, 4], 4);
    for (const [n, expected] of [[2, [1, 2]], [-1, [1, 2, 3, 4]], [0x7fffffff, [1, 2, 3, 4]], [-0x80000000, [1, 2, 3, 4]]]) {
        buf.writeInt32LE(n, 0);
        assert.deepEqual([...koffi.decode(buf, Flex).items], expected, String(n));
    }
});

test('PTR-04 · a negative or huge counter of a counted pointer is a RangeError', { skip: upstream && 'upstream reads past the end of the array' }, () => {
    const r = runChild(`const items = koffi.alloc('int', 4);
        const I32 = koffi.struct({ n: 'int32_t', items: koffi.pointer(null, 'int', 'n') });
        const U64 = koffi.struct({ n: 'uint64_t', items: koffi.pointer(null, 'int', 'n') });
        const S64 = koffi.struct({ n: 'int64_t', items: koffi.pointer(null, koffi.struct({ a: 'int', b: 'int' }), 'n') });
        for (const [T, n] of [[I32, -1], [I32, 0x7fffffff], [U64, 2n ** 64n - 1n], [U64, 2n ** 40n], [S64, -(2n ** 40n)], [S64, 2n ** 40n]]) {
            const buf = Buffer.alloc(koffi.sizeof(T));
            koffi.encode(buf, T, { n: 0, items: [] });
            if (typeof n === 'bigint') buf.writeBigUInt64LE(BigInt.asUintN(64, n), 0); else buf.writeInt32LE(n, 0);
            koffi.encode(buf, koffi.offsetof(T, 'items'), 'void *', items);
            show(() => koffi.decode(buf, T));
        }`);
    assertAllRangeErrors(r, 6);
});

test('PTR-04 · a counted pointer from a huge sparse JS Array is refused before allocating', { skip: upstream && 'upstream allocates it' }, () => {
    const r = runChild(`const T = koffi.struct({ n: 'uint32_t', items: koffi.pointer(null, 'int', 'n') });
        const n = 2 ** 32 - 1;
        show(() => koffi.encode(Buffer.alloc(koffi.sizeof(T)), T, { n, items: new Array(n) }));`);
    assert.equal(r.signal, null, r.stderr.slice(-400));
    assert.match(r.lines[0], /^Error: Array length is too high/);
});

test('PTR-04 · a counted pointer within bounds still decodes', () => {
    const items = koffi.alloc('int', 3);
    try {
        koffi.encode(items, 'int', [4, 5, 6], 3);
        const T = koffi.struct({ n: 'int32_t', items: koffi.pointer(null, 'int', 'n') });
        const buf = Buffer.alloc(koffi.sizeof(T));
        buf.writeInt32LE(3, 0);
        koffi.encode(buf, koffi.offsetof(T, 'items'), 'void *', items);
        assert.deepEqual([...koffi.decode(buf, T).items], [4, 5, 6]);
    } finally {
        koffi.free(items);
    }
});

// ---------------------------------------------------------------------------
// Nesting depth
// ---------------------------------------------------------------------------

test('REC-09 · structs nested by value deeper than 64 levels are refused with a clear Error', { skip: upstream && 'upstream has no limit (and overflows its stack on use)' }, () => {
    let T = koffi.struct({ x: 'int' });
    let depth = 1;
    const start = Date.now();
    assert.throws(() => {
        for (let i = 0; i < 10000; i++) {
            T = koffi.struct({ a: T });
            depth++;
        }
    }, { name: 'Error', message: /nests structs, unions or arrays by value too deeply \(more than 64 levels\)/ });
    assert.equal(depth, 64);
    assert.ok(Date.now() - start < 1000);
    // The deepest allowed type converts both ways.
    const buf = Buffer.alloc(koffi.sizeof(T));
    buf.writeInt32LE(42, 0);
    let v = koffi.decode(buf, T);
    koffi.encode(buf, T, v);
    for (let i = 1; i < 64; i++) v = v.a;
    assert.equal(v.x, 42);
    // Arrays and unions count as levels too.
    assert.throws(() => koffi.array(T, 2), { name: 'Error', message: /Array of .* too deeply/ });
    assert.throws(() => koffi.union({ u: T, v: 'int' }) && koffi.struct({ w: koffi.union({ u: T }) }), { message: /too deeply/ });
    let A = 'int';
    assert.throws(() => { for (let i = 0; i < 1000; i++) A = koffi.array(A, 1); }, { message: /too deeply/ });
});

test('REC-09 · a deep by-value chain cannot overflow the stack (child process)', { skip: upstream && 'upstream overflows its stack' }, () => {
    const r = runChild(`let T = koffi.struct({ x: 'int' });
        show(() => { for (let i = 0; i < 100000; i++) T = koffi.struct({ a: T }); });
        const b = Buffer.alloc(koffi.sizeof(T));
        show(() => { koffi.encode(b, T, koffi.decode(b, T)); throw new RangeError('converted'); });`);
    assert.equal(r.signal, null, r.stderr.slice(-400));
    assert.equal(r.status, 0, r.stderr.slice(-400));
    assert.match(r.lines[0], /^Error: .*too deeply/);
});

test('PTR-04 · counted pointers nesting through cyclic data give an Error, not a stack overflow', { skip: upstream && 'upstream overflows its stack' }, () => {
    const r = runChild(`const N = koffi.opaque('BoundsNode');
        koffi.struct(N, { n: 'int', kids: koffi.pointer(null, N, 'n') });
        // A JS object graph with a cycle.
        const o = { n: 1 }; o.kids = [o];
        show(() => koffi.encode(Buffer.alloc(koffi.sizeof(N)), N, o));
        // C memory whose element points back at itself.
        const p = koffi.alloc(N, 1);
        koffi.encode(p, 'int', 1);
        koffi.encode(p, koffi.offsetof(N, 'kids'), 'void *', p);
        show(() => koffi.decode(p, N));
        // A finite tree converts.
        show(() => { const t = koffi.decode(Buffer.alloc(koffi.sizeof(N)), N); if (t.n !== 0) throw new Error('bad'); });`);
    assert.equal(r.signal, null, r.stderr.slice(-400));
    assert.equal(r.status, 0, r.stderr.slice(-400));
    assert.match(r.lines[0], /^Error: Data nests too deeply to convert/);
    assert.match(r.lines[1], /^Error: Data nests too deeply to convert/);
    assert.equal(r.lines[2], 'ok');
});

// ---------------------------------------------------------------------------
// Long inputs stay linear
// ---------------------------------------------------------------------------

function timed(fn) {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e6;
}

test('REC-02 · a struct with 100,000 members is defined in well under a second', () => {
    const members = {};
    for (let i = 0; i < 100000; i++)
        members['m' + i] = 'int8_t';
    let T;
    const ms = timed(() => { T = koffi.struct(members); });
    assert.equal(koffi.sizeof(T), 100000);
    assert.ok(ms < 1000, `${ms} ms`);
});

test('FN-06 · a type of 100,000 words is refused in linear time', { skip: upstream && 'upstream takes 45 s (quadratic)' }, () => {
    const ms = timed(() => assert.throws(() => koffi.proto('void f(' + 'unsigned '.repeat(100000) + 'x)'),
                                         { message: /Unknown or invalid type name|Unexpected/ }));
    assert.ok(ms < 1000, `${ms} ms`);
});

test('FN-06 · long prototypes and type strings are parsed or refused in linear time', () => {
    const cases = [
        ['void f(' + new Array(100000).fill('int').join(', ') + ')', /Functions cannot have more than 64 parameters/],
        ['void ' + 'f'.repeat(100000) + '(' + 'const '.repeat(100000) + 'int)', null],
    ];
    // Koffi 2.16.3 aborts on this one (a fatal error while throwing "Too many type indirections").
    if (!upstream)
        cases.push(['void f(int' + '*'.repeat(100000) + ')', /Too many type indirections/]);
    for (const [proto, message] of cases) {
        const ms = timed(() => {
            if (message)
                assert.throws(() => koffi.proto(proto), { message });
            else
                koffi.proto(proto);
        });
        assert.ok(ms < 1000, `${proto.slice(0, 30)}…: ${ms} ms`);
    }
    for (const type of ['int' + '*'.repeat(100000), 'int' + '[1]'.repeat(100000), 'unsigned '.repeat(100000) + 'int']) {
        const ms = timed(() => assert.throws(() => koffi.sizeof(type), Error));
        assert.ok(ms < 1000, `${type.slice(0, 30)}…: ${ms} ms`);
    }
});
