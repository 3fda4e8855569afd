// The values of test/tagged.test.js: every kind of JS value through lean-path functions of
// every number, boolean and string kind. Run in the test's process (V8 values read directly,
// src/node/tagged.rs) and in a child with KOFFI_RS_TAGGED=0 (Node-API only); the outcomes must
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
    return cases;
}

module.exports = { run };

if (require.main === module) process.stdout.write(JSON.stringify(run()));
