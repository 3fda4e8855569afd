// The values of test/tagged.test.js: every kind of JS value through lean-path functions of
// every number, boolean and string kind. Run in the test's process (V8 values read directly,
// src/node/js/tagged.rs) and in a child with KOFFI_RS_TAGGED=0 (Node-API only); the outcomes must
// be identical. `node test/tagged-cases.js` prints them as JSON.
'use strict';

const { koffi, testLibPath } = require('./helpers.js');

// Numbers V8 keeps as Smis, as HeapNumbers, and made by arithmetic (a double that happens to
// be an integer may stay a HeapNumber), plus every non-number kind.
const half = [0.5][0];
const NUMBERS = [
    0, -0, 1, -1, 42, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 5, 2 ** 53, -(2 ** 53) - 2,
    3.7, -3.7, half * 4, half * 2 ** 33, 1e300, -1e-300, Number.MIN_VALUE, NaN, Infinity, -Infinity,
    Number('12'), parseFloat('2.5'), Math.sqrt(2), 0.1 + 0.2,
];
const OTHERS = ['5', '', true, false, null, undefined, {}, [], [1], 5n, -(2n ** 70n), Symbol('s'), () => 1, new Number(3)];
const BOOLEANS = [true, false, !0, !1, 1 === 1, 0, 1, 'true', null, undefined, {}];
const STRINGS = [
    '', 'a', '12345', 'koffi-rs', 'x'.repeat(100), 'y'.repeat(100_000), String(12345), `${42}-${'z'}`,
    'ab'.repeat(20) + 'cd'.repeat(20), // a cons string
    'x'.repeat(100).slice(3, 50), // possibly a sliced string
    'caf\u00e9', '\u00ff\u00fe', '\u2713 check', 'emoji \u{1F600}', 'a\0b', '\x7f', JSON.parse('"json"'),
    Object.keys({ propertyKey: 1 })[0], null, undefined, {}, Buffer.from('buf\0'), true, [1, 2],
];

function outcome(fn, args) {
    try {
        const r = fn(...args);
        if (typeof r === 'number') return Object.is(r, -0) ? 'number:-0' : `number:${r}`;
        if (typeof r === 'bigint') return `bigint:${r}`;
        return `${typeof r}:${String(r)}`;
    } catch (e) {
        return `throws ${e.name}: ${e.message}`;
    }
}

function describe(v) {
    if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + `...(${v.length})` : v);
    if (typeof v === 'symbol' || typeof v === 'function') return typeof v;
    if (typeof v === 'bigint') return `${v}n`;
    if (Buffer.isBuffer(v)) return 'Buffer';
    if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
    try {
        return JSON.stringify(v) ?? String(v);
    } catch {
        return String(v);
    }
}

/** Every case as [description, outcome]. */
function run() {
    const lib = koffi.load(testLibPath);
    const numeric = {
        'int8_t kt_i8_echo(int8_t x)': NUMBERS,
        'uint8_t kt_u8_echo(uint8_t x)': NUMBERS,
        'int16_t kt_i16_echo(int16_t x)': NUMBERS,
        'uint16_t kt_u16_echo(uint16_t x)': NUMBERS,
        'int32_t kt_i32_echo(int32_t x)': NUMBERS.concat(OTHERS),
        'uint32_t kt_u32_echo(uint32_t x)': NUMBERS.concat(OTHERS),
        'int64_t kt_i64_echo(int64_t x)': NUMBERS.concat(OTHERS),
        'uint64_t kt_u64_echo(uint64_t x)': NUMBERS,
        'float kt_float_twice(float x)': NUMBERS.concat(OTHERS),
        'double kt_double_twice(double x)': NUMBERS.concat(OTHERS),
        'double kt_float_to_double(float x)': NUMBERS,
        'bool kt_bool_not(bool b)': BOOLEANS,
        'int kt_bool_to_int(bool b)': BOOLEANS,
        'int64_t kt_strlen(const char *s)': STRINGS,
    };
    const cases = [];
    for (const [proto, values] of Object.entries(numeric)) {
        const fn = lib.func(proto);
        for (const v of values) cases.push([`${proto} <- ${describe(v)}`, outcome(fn, [v])]);
    }
    // Every byte of the strings C received, and the strings compared whole.
    const byteAt = lib.func('int kt_str_byte(const char *s, int i)');
    const strEq = lib.func('int kt_str_eq(const char *a, const char *b)');
    for (const s of STRINGS.filter((s) => typeof s === 'string' && s.length < 1000)) {
        const bytes = [];
        for (let i = 0; i <= Buffer.byteLength(s); i++) bytes.push(byteAt(s, i));
        cases.push([`bytes of ${describe(s)}`, bytes.join(',')]);
        cases.push([`kt_str_eq(${describe(s)}, same)`, outcome(strEq, [s, s.slice(0)])]);
    }
    // Results: integers that fit a Smi and doubles that do or do not.
    const sub = lib.func('double kt_double_sub(double a, double b)');
    const fdid = lib.func('double kt_fdid(float a, double b, int c, double d)');
    for (const [a, b] of [[5, 2], [0.5, 0.5], [0, 0], [-0, 0], [0, -0], [1e10, 1], [2 ** 31, 0], [-(2 ** 31), 0], [Infinity, Infinity], [0.1, 0.2]])
        cases.push([`kt_double_sub(${describe(a)}, ${describe(b)})`, outcome(sub, [a, b])]);
    cases.push(['kt_fdid(1.5, 2, 3, 0.25)', outcome(fdid, [1.5, 2, 3, 0.25])]);
    // Several results alive at once: each is its own value.
    const inc = lib.func('int kt_i32_inc(int x)');
    const u32 = lib.func('uint32_t kt_u32_inc(uint32_t x)');
    const third = lib.func('double kt_double_third(void)');
    const many = [inc(1), inc(2), u32(2 ** 31 - 2), u32(2 ** 31 - 1), u32(2 ** 32 - 2), inc(-5), third(), inc(2 ** 31 - 1)];
    cases.push(['results kept together', many.map(describe).join(',')]);

    // Callbacks: what JS receives (small integers as Smis made without Node-API) and what C
    // gets back from every kind of returned value.
    const seen = (...args) => args.map(describe).join(',');
    // 'R name(CB cb(args), more)': the callback type as a prototype, the rest as written.
    let protos = 0;
    const withCallback = (decl) => {
        const m = /^(.*?) (\w+)\((\w+) cb\((.*?)\)(.*)\)$/.exec(decl);
        const proto = koffi.proto(`${m[3]} TaggedCb${++protos}(${m[4]})`);
        const more = m[5].split(',').map((t) => t.trim()).filter(Boolean).map((t) => t.replace(/ \w+$/, ''));
        return lib.func(m[2], m[1], [koffi.pointer(proto), ...more]);
    };
    const narrow = withCallback('int kt_cb_narrow(int cb(int8_t, uint8_t, int16_t, uint16_t, bool, bool))');
    const many20 = withCallback('int64_t kt_cb_many20(int64_t cb(int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int))');
    koffi.struct('KtDI', { d: 'double', i: 'int' });
    const i64 = withCallback('int64_t kt_cb_i64(int64_t cb(int64_t, uint64_t, int64_t, int64_t))');
    const mix = withCallback('double kt_cb_mix(double cb(int, double, int, double, int, double, int, double, int, double, int, double, int, double, int, double, double, double, float, int64_t, KtDI, int8_t))');
    for (const [name, fn, cb] of [
        ['narrow', narrow, (...a) => (cases.push(['narrow args', seen(...a)]), a.length)],
        ['many20', many20, (...a) => (cases.push(['many20 args', seen(...a)]), a.reduce((x, y) => x + y, 0))],
        ['i64', i64, (...a) => (cases.push(['i64 args', seen(...a)]), -5)],
        ['mix', mix, (...a) => (cases.push(['mix args', seen(...a.filter((v) => typeof v !== 'object'))]), 0.5)],
    ])
        cases.push([`${name} result`, outcome(fn, [cb])]);
    const callInt = withCallback('int kt_cb_call_int(int cb(int), int x)');
    const callDouble = withCallback('double kt_cb_double(double cb(double, double), double a, double b)');
    const callFloat = withCallback('float kt_cb_float(float cb(float, float), float a, float b)');
    const callBool = withCallback('int kt_cb_ret_bool(bool cb(int), int x)');
    const retI8 = withCallback('int kt_cb_ret_i8(int8_t cb(void))');
    const retU16 = withCallback('int kt_cb_ret_u16(uint16_t cb(void))');
    for (const v of NUMBERS.concat(OTHERS)) {
        cases.push([`int callback -> ${describe(v)}`, outcome(callInt, [(x) => (x === 7 ? v : 0), 7])]);
        cases.push([`int8 callback -> ${describe(v)}`, outcome(retI8, [() => v])]);
        cases.push([`uint16 callback -> ${describe(v)}`, outcome(retU16, [() => v])]);
        cases.push([`double callback -> ${describe(v)}`, outcome(callDouble, [() => v, 1, 2])]);
        cases.push([`float callback -> ${describe(v)}`, outcome(callFloat, [() => v, 1, 2])]);
    }
    for (const v of BOOLEANS)
        cases.push([`bool callback -> ${describe(v)}`, outcome(callBool, [() => v, 1])]);
    for (const [a, b] of [[1, 2], [0.5, 2], [-0, 0], [2 ** 31, 1], [-(2 ** 31), -1], [NaN, 1], [1e300, 1]]) {
        cases.push([`double callback args ${describe(a)}, ${describe(b)}`, outcome(callDouble, [(x, y) => (cases.push(['  got', seen(x, y)]), x), a, b])]);
        cases.push([`float callback args ${describe(a)}, ${describe(b)}`, outcome(callFloat, [(x, y) => (cases.push(['  got', seen(x, y)]), y), a, b])]);
    }
    // Struct members of every number kind, through the general record conversion.
    const CSI = koffi.struct('TaggedCSI', { c: 'int8_t', s: 'int16_t', i: 'int' });
    const FF = koffi.struct('TaggedFF', { x: 'float', y: 'float' });
    const L3 = koffi.struct('TaggedL3', { a: 'int64_t', b: 'int64_t', c: 'int64_t' });
    const csi = lib.func('kt_csi_bump', CSI, [CSI]);
    const ff = lib.func('kt_ff_swap', FF, [FF]);
    const l3 = lib.func('kt_l3_rotate', L3, [L3]);
    const show = (fn) => (...args) => JSON.stringify(fn(...args), (k, v) => (typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? '-0' : v));
    for (const v of NUMBERS.concat(OTHERS)) {
        cases.push([`struct CSI <- ${describe(v)}`, outcome(show(csi), [{ c: v, s: v, i: v }])]);
        cases.push([`struct FF <- ${describe(v)}`, outcome(show(ff), [{ x: v, y: 1.5 }])]);
        cases.push([`struct L3 <- ${describe(v)}`, outcome(show(l3), [{ a: v, b: 2, c: v }])]);
    }
    for (const x of [0, -1, 7, 2 ** 31 - 1, -(2 ** 31)])
        cases.push([`int callback arg ${x}`, outcome(callInt, [(y) => (cases.push(['  got', seen(y, typeof y)]), y), x])]);
    return cases;
}

module.exports = { run };

if (require.main === module) process.stdout.write(JSON.stringify(run()));
