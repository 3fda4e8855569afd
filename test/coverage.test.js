// Spec items not covered elsewhere: module discovery and contexts, naming and identity rules,
// conversions by kind, argument error context. Each test cites its spec IDs.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { Worker } = require('worker_threads');
const { koffi, upstream, testLibPath, nodeCommand, pointerSize } = require('./helpers.js');

const lib = koffi.load(testLibPath);
const fn = (proto) => lib.func(proto);

test('MOD-06 · a missing native module gives a clear Error', { skip: upstream && 'koffi-rs loader' }, () => {
    const script = `process.env.KOFFI_RS_NATIVE = '/nonexistent/koffi.node';
        const fs = require('fs'); const real = fs.existsSync; fs.existsSync = (p) => p.endsWith('koffi.node') ? false : real(p);
        try { require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'native.js'))}).loadNative(); console.log('loaded'); }
        catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
    const out = require('child_process').execFileSync(...nodeCommand(['-e', script])).toString();
    assert.match(out, /^Error: Cannot find the native Koffi module/);
});

test('MOD-06 · an addon built for another machine is named as such', { skip: upstream && 'koffi-rs loader' }, () => {
    // An ELF header for another architecture (riscv64, or x64 on riscv64): glibc would only say
    // "No such file or directory" for some of these.
    const [machine, name] = process.arch === 'riscv64' ? [62, 'x64'] : [243, 'riscv64'];
    const fake = path.join(require('os').tmpdir(), `koffi-rs-foreign-${process.pid}.node`);
    const head = Buffer.alloc(64);
    head.writeUInt32BE(0x7f454c46, 0);
    head.writeUInt16LE(machine, 18);
    require('fs').writeFileSync(fake, head);
    try {
        const script = `process.env.KOFFI_RS_NATIVE = ${JSON.stringify(fake)};
            const fs = require('fs'); const real = fs.existsSync;
            fs.existsSync = (p) => p.endsWith('koffi.node') ? false : real(p);
            try { require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'native.js'))}).loadNative(); console.log('loaded'); }
            catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
        const out = require('child_process').execFileSync(...nodeCommand(['-e', script])).toString();
        assert.match(out, new RegExp(`could not load .*: built for ${name}, not ${process.arch}`));
    } finally {
        require('fs').unlinkSync(fake);
    }
});

test('MOD-07 · koffi-rs/indirect exposes the same API', { skip: upstream && 'koffi-rs entry' }, () => {
    const indirect = require('../indirect.js');
    assert.equal(typeof indirect.load, 'function');
    assert.equal(indirect.sizeof('int'), 4);
});

test('MOD-09 · each worker has its own registry and settings', { skip: upstream && 'slow on upstream' }, async () => {
    const entry = path.join(__dirname, '..');
    const code = `const k = require(${JSON.stringify(entry)});
        const { parentPort, workerData } = require('worker_threads');
        k.struct('CovWorkerType', { a: workerData === 1 ? 'int' : 'double' });
        k.config({ max_type_size: 1000 + workerData });
        const lib = k.load(${JSON.stringify(testLibPath)});
        parentPort.postMessage([k.sizeof('CovWorkerType'), k.config().max_type_size, lib.func('int kt_i32_inc(int)')(workerData)]);`;
    const run = (n) => new Promise((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: n });
        w.on('message', resolve);
        w.on('error', reject);
    });
    const [a, b] = await Promise.all([run(1), run(2)]);
    assert.deepEqual(a, [4, 1001, 2]);
    assert.deepEqual(b, [8, 1002, 3]);
    assert.equal(koffi.resolve.length >= 0, true);
    assert.throws(() => koffi.sizeof('CovWorkerType'), /Unknown or invalid type name/);
});

test('TS-07 · anonymous types are named <anonymous_N>', () => {
    assert.match(koffi.introspect(koffi.struct({ a: 'int' })).name, /^<anonymous_\d+>$/);
    assert.match(koffi.introspect(koffi.opaque()).name, /^<anonymous_\d+>$/);
    assert.match(koffi.introspect(koffi.proto('int (int)')).name, /^<anonymous_\d+>$/);
});

test('TS-10 / TS-15 · resolve returns a type value usable as a specifier', () => {
    const t = koffi.resolve('unsigned long long *');
    assert.equal(typeof t, 'object');
    assert.equal(koffi.introspect(t).name, 'unsigned long long *');
    assert.equal(koffi.sizeof(koffi.pointer(t)), pointerSize);
    assert.equal(koffi.introspect(koffi.resolve('int')), koffi.introspect('int'));
});

test('PRIM-02 / PTR-06 · alignment is natural, pointers are word-sized', () => {
    for (const [name, align] of [['bool', 1], ['int16_t', 2], ['float', 4], ['double', 8], ['int64_t', 8], ['void *', pointerSize], ['str', pointerSize]])
        assert.equal(koffi.alignof(name), align, name);
    assert.equal(koffi.sizeof(koffi.pointer('double', 3)), pointerSize);
});

test('ARR-02 / ARR-06 · C array syntax in type strings, arrays only as members or pointees', () => {
    const S = koffi.struct('CovArr', { v: 'float[8]', p: 'int *[2]' });
    assert.equal(koffi.sizeof(S), 32 + 2 * pointerSize);
    assert.equal(koffi.introspect('float[8]').length, 8);
    assert.throws(() => lib.func('kt_i32_inc', 'int', ['int[2]']), { name: 'TypeError', message: /cannot be used as a parameter/ });
    assert.throws(() => lib.func('kt_i32_inc', 'int[2]', ['int']), { name: 'TypeError', message: /not allowed to directly return/ });
    const buf = koffi.alloc('int[2]', 3);
    koffi.encode(buf, 'int[2]', [7, 8]);
    assert.deepEqual(Array.from(koffi.decode(buf, 'int[2]')), [7, 8]);
    koffi.free(buf);
});

test('OPQ-04 / PROTO-07 · handle and callback are deprecated aliases', () => {
    const H = koffi.handle('CovHandle');
    assert.equal(koffi.introspect(H).primitive, 'Void');
    const P = koffi.callback('int CovCallbackProto(int)');
    assert.equal(koffi.introspect(P).primitive, 'Prototype');
});

test('PROTO-02 · classic prototype forms', () => {
    assert.equal(koffi.introspect(koffi.proto('int', ['int'])).primitive, 'Prototype');
    assert.equal(koffi.introspect(koffi.proto('CovP2', 'int', ['int', 'double'])).name, 'CovP2');
    assert.equal(koffi.introspect(koffi.proto('__stdcall', 'CovP3', 'void', [])).name, 'CovP3');
    assert.match(koffi.introspect(koffi.proto(null, 'int', [])).name, /^<anonymous_\d+>$/);
    assert.throws(() => koffi.proto(), { name: 'TypeError', message: /Expected 1 to 4 arguments, got 0/ });
    assert.throws(() => koffi.proto(42), TypeError);
});

test('PROTO-03 / PROTO-04 / PROTO-06 · prototypes are pointer-sized, used through pointers', () => {
    const P = koffi.proto('int CovP4(int)');
    assert.equal(koffi.sizeof(P), pointerSize);
    assert.equal(koffi.introspect('CovP4 *').primitive, 'Callback');
    assert.throws(() => lib.func('kt_i32_inc', 'int', [P]), { name: 'TypeError', message: /cannot be used as a parameter/ });
    assert.throws(() => koffi.struct({ f: P }), { name: 'TypeError', message: /cannot be used as a member/ });
    const V = koffi.proto('int CovP5(int n, ...)');
    assert.throws(() => lib.func('kt_i32_inc', 'int', [koffi.pointer(V)]), { name: 'TypeError', message: /cannot be used as a parameter/ });
    assert.throws(() => koffi.struct({ f: koffi.pointer(V) }), { name: 'TypeError', message: /cannot be used as a member/ });
});

test('J2C-01 / C2J-01 / C2J-02 · numbers, bools and void by kind', () => {
    assert.equal(fn('int kt_i32_inc(int x)')(41), 42);
    assert.equal(typeof fn('int kt_i32_inc(int x)')(1), 'number');
    assert.equal(fn('void kt_set_int(_Out_ int *out, int v)')([0], 1), undefined);
    assert.equal(typeof fn('float kt_float_twice(float x)')(1.5), 'number');
});

test('C2J-07 · struct members decode per array hint', () => {
    const S = koffi.struct('CovHints', { t: koffi.array('int16_t', 2), a: koffi.array('int16_t', 2, 'Array'), s: 'char[4]' });
    const buf = Buffer.alloc(koffi.sizeof(S));
    koffi.encode(buf, S, { t: [1, 2], a: [3, 4], s: 'ab' });
    const v = koffi.decode(buf, S);
    assert.ok(v.t instanceof Int16Array);
    assert.deepEqual(v.a, [3, 4]);
    assert.equal(v.s, 'ab');
});

test('CALL-03 · the result is disposed after outputs are copied back', () => {
    const seen = [];
    const len = [0];
    const Owned = koffi.disposable('CovOwnedStr', 'char *', (p) => { seen.push(len[0]); koffi.free(p); });
    const dup = lib.func('kt_dup_and_len', Owned, ['const char *', '_Out_ int *']);
    assert.equal(dup('hello', len), 'hello');
    assert.deepEqual(seen, [5]);
});

test('MEM-09 · encode refuses non-registered callbacks', () => {
    const P = koffi.proto('int CovP6(int)');
    const buf = Buffer.alloc(8);
    assert.throws(() => koffi.encode(buf, koffi.pointer(P), () => 1), { name: 'Error', message: /Cannot encode non-registered callback/ });
});

test('MEM-10 · encode keeps its temporaries alive', () => {
    const S = koffi.struct('CovEncStr', { s: 'const char *' });
    const buf = Buffer.alloc(8);
    koffi.encode(buf, S, { s: 'kept alive' });
    global.gc?.();
    assert.deepEqual(koffi.decode(buf, S), { s: 'kept alive' });
    koffi.encode(buf, S, { s: 'replaced' });
    assert.deepEqual(koffi.decode(buf, S), { s: 'replaced' });
});

test('ERR-03 · argument errors name the argument and the function', { skip: upstream && 'koffi-rs context' }, () => {
    const f = fn('int kt_i32_inc(int x)');
    assert.throws(() => f('5'), { name: 'TypeError', message: "Unexpected String value, expected number (argument 1 of 'kt_i32_inc')" });
    const g = fn('double kt_read_double(const double *p)');
    assert.throws(() => g(true), { name: 'TypeError', message: /^Unexpected Boolean value, expected double \* \(argument 1 of 'kt_read_double'\)$/ });
});

test('MOD-08 · an engine without Node-API 8 gets an Error naming its version', { skip: upstream && 'koffi-rs loader' }, () => {
    const script = `Object.defineProperty(process, 'versions', { value: { node: '12.0.0', napi: '4' } });
        try { require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'native.js'))}).loadNative(); console.log('loaded'); }
        catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
    const out = require('child_process').execFileSync(...nodeCommand(['-e', script])).toString();
    assert.match(out, /^Error: This engine is based on Node 12\.0\.0/);
});

test('LIB-09 · functions keep their library mapped after the library object is collected', () => {
    const script = `const k = require(${JSON.stringify(path.join(__dirname, '..'))});
        let lib = k.load(${JSON.stringify(testLibPath)});
        const f = lib.func('int kt_i32_inc(int x)');
        lib = null;
        for (let i = 0; i < 5; i++) global.gc();
        console.log(f(41));`;
    const out = require('child_process').execFileSync(...nodeCommand(['--expose-gc', '-e', script])).toString();
    assert.equal(out.trim(), '42');
});

test('J2C-10 · callback parameters take NULL and function pointers of their prototype', () => {
    const Inc = koffi.proto('int CovInc(int x)');
    const echo = lib.func('kt_ptr_echo', koffi.pointer(Inc), [koffi.pointer(Inc)]);
    assert.equal(echo(null), null);
    const viaVoid = lib.func('kt_ptr_echo', koffi.pointer(Inc), ['void *'])(lib.symbol('kt_i32_inc', 'void'));
    assert.equal(koffi.call(echo(viaVoid), Inc, 1), 2);
});

test('J2C-13 · temporaries live until the call returns', () => {
    const concat = lib.func('char *kt_concat_alloc(const char *a, const char *b)');
    const long = 'x'.repeat(10000);
    const out = concat(long, 'tail');
    assert.equal(out.length, 10004);
    assert.ok(out.endsWith('xtail'));
});
