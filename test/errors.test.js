// Bad input never crashes: every case throws synchronously with the upstream exception class and
// a distinctive message fragment (spec §14, ERR-01..03). Inputs that crash upstream are only run
// against koffi-rs.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, upstream, testLibPath } = require('./helpers.js');

const lib = koffi.load(testLibPath);
const fn = (proto) => lib.func(proto);

const ErrII = koffi.struct('ErrII', { a: 'int', b: 'int' });
koffi.struct('ErrArr', { name: 'char[16]', vals: 'int[4]' });
koffi.union('ErrUIF', { i: 'int', f: 'float' });
koffi.union('ErrOther', { i: 'int' });
koffi.opaque('ErrOpaque');

test('CALL-02 · too few arguments throws TypeError', () => {
    assert.throws(() => fn('int kt_i32_echo(int x)')(), { name: 'TypeError', message: /Expected 1 arguments, got 0/ });
    assert.throws(() => fn('int64_t kt_concat10(int a, int b, int c, int d, int e, int f, int g, int h, int i, int j)')(1, 2, 3),
                  { name: 'TypeError', message: /Expected 10 arguments, got 3/ });
    assert.throws(() => fn('int kt_ii_diff(ErrII s)')(), { name: 'TypeError', message: /Expected 1 arguments, got 0/ });
});

test('CALL-02 · extra arguments are ignored', () => {
    assert.equal(fn('int kt_i32_echo(int x)')(1, 2, 3), 1);
    assert.equal(fn('int kt_get_static_int(void)')('ignored', {}), 1234);
});

test('CALL-04 · variadic argument errors', () => {
    const sum = fn('int kt_va_sum_ints(int n, ...)');
    assert.throws(() => sum(), { name: 'TypeError', message: /Expected 1 arguments or more, got 0/ });
    assert.throws(() => fn('double kt_va_scaled(double s, int n, ...)')(1), { name: 'TypeError', message: /Expected 2 arguments or more, got 1/ });
    assert.throws(() => sum(1, 'int'), { name: 'Error', message: /Missing value argument for variadic call/ });
    assert.throws(() => sum(2, 'int', 1, 'int'), { name: 'Error', message: /Missing value argument for variadic call/ });
    assert.throws(() => sum(1, 'nope', 1), { name: 'TypeError', message: /Unknown or invalid type name 'nope'/ });
    assert.throws(() => sum(1, 5, 1), { name: 'TypeError', message: /Unexpected Number value as type specifier, expected string or type/ });
    assert.throws(() => sum(1, 'void', 1), { name: 'TypeError', message: /Type void cannot be used as a parameter/ });
    assert.throws(() => sum(1, 'int', 'x'), { name: 'TypeError', message: /Unexpected String value, expected number/ });
    const extras = [];
    for (let i = 0; i < 64; i++)
        extras.push('int', 1);
    assert.throws(() => sum(64, ...extras), { name: 'TypeError', message: /Functions cannot have more than 64 parameters/ });
});

test('PRIM-06 · non-numeric values for numeric parameters', () => {
    const i32 = fn('int kt_i32_echo(int x)');
    const cases = [['5', 'String'], [null, 'Null'], [undefined, 'Undefined'], [true, 'Boolean'], [{}, 'Object'],
                   [[1], 'Array'], [Symbol('s'), 'Symbol'], [() => 1, 'Function']];
    for (const [value, label] of cases)
        assert.throws(() => i32(value), { name: 'TypeError', message: new RegExp(`Unexpected ${label} value, expected number`) }, label);
    assert.throws(() => fn('double kt_double_twice(double x)')('1'), { name: 'TypeError', message: /Unexpected String value, expected number/ });
    assert.throws(() => fn('float kt_float_twice(float x)')(null), { name: 'TypeError', message: /Unexpected Null value, expected number/ });
    assert.throws(() => fn('int64_t kt_i64_echo(int64_t x)')('1'), { name: 'TypeError', message: /Unexpected String value, expected number/ });
    assert.throws(() => fn('uint8_t kt_u8_echo(uint8_t x)')(false), { name: 'TypeError', message: /expected number/ });
    const p = fn('int *kt_static_int_ptr(void)')();
    assert.throws(() => i32(p), { name: 'TypeError', message: /expected number/ });
});

test('PRIM-08 · bool parameters only take booleans', () => {
    const not = fn('bool kt_bool_not(bool b)');
    for (const value of [0, 1, 1n, 'true', null, undefined, {}])
        assert.throws(() => not(value), { name: 'TypeError', message: /expected boolean/ }, String(value));
    assert.throws(() => not(1), { name: 'TypeError', message: /Unexpected Number value/ });
});

test('CALL-01 · a failing conversion stops the call before the native function runs', () => {
    const setInt = fn('void kt_set_int(_Out_ int *out, int v)');
    const out = [5];
    assert.throws(() => setInt(out, 'x'), { name: 'TypeError', message: /Unexpected String value, expected number/ });
    assert.deepEqual(out, [5]);

    const setGlobal = lib.symbol('kt_global_int', 'int');
    const before = koffi.decode(setGlobal, 'int');
    const scale = fn('void kt_scale_ints(_Inout_ int *arr, int n, int k)');
    const arr = [1, 2];
    assert.throws(() => scale(arr, 2, {}), TypeError);
    assert.deepEqual(arr, [1, 2]);
    assert.equal(koffi.decode(setGlobal, 'int'), before);
});

test('J2C-03 · invalid values for string parameters', () => {
    const strlen = fn('int64_t kt_strlen(const char *s)');
    assert.throws(() => strlen(true), { name: 'TypeError', message: /Unexpected Boolean value, expected char \*/ });
    assert.throws(() => strlen({}), { name: 'TypeError', message: /Unexpected Object value, expected char \*/ });
    assert.throws(() => strlen(Symbol('x')), { name: 'TypeError', message: /Unexpected Symbol value, expected char \*/ });
    assert.throws(() => strlen(() => 1), { name: 'TypeError', message: /Cannot pass function to type char \*/ });
    const p = fn('int *kt_static_int_ptr(void)')();
    // (upstream names an unrelated type as the value's tag in this message, so only the end is checked)
    assert.throws(() => strlen(p), { name: 'TypeError', message: /Unexpected .+ value, expected char \*/ });
});

test('J2C-09 · DataView, booleans and symbols for pointers', () => {
    const readInt = fn('int kt_read_int(const int *p)');
    assert.throws(() => readInt(new DataView(new ArrayBuffer(4))), { name: 'TypeError', message: /expected int \*/ });
    assert.throws(() => readInt(true), { name: 'TypeError', message: /Unexpected Boolean value, expected int \*/ });
    assert.throws(() => readInt(Symbol('x')), { name: 'TypeError', message: /Unexpected Symbol value, expected int \*/ });
    assert.throws(() => fn('int64_t kt_strlen(const char *s)')(new DataView(new ArrayBuffer(4))), { name: 'TypeError', message: /expected char \*/ });
});

test('J2C-05 · values that do not fit a typed pointer', () => {
    const readInt = fn('int kt_read_int(const int *p)');
    const readDouble = fn('double kt_read_double(const double *p)');
    assert.throws(() => readInt({}), { name: 'TypeError', message: /Unexpected Object value, expected int \*/ });
    assert.throws(() => readInt(() => 1), { name: 'TypeError', message: /Cannot pass function to type int \*/ });
    assert.throws(() => readDouble('abc'), { name: 'TypeError', message: /Unexpected String value, expected double \*/ });
    assert.throws(() => fn('int kt_sum_bytes(const uint8_t *p, int n)')('AB', 2), { name: 'TypeError', message: /expected uint8_t \*/ });
    assert.throws(() => readDouble(['x']), { name: 'TypeError', message: /Unexpected String value, expected number/ });
    assert.throws(() => fn('int kt_upper_inplace(_Inout_ uint8_t *s)')(['abc']), { name: 'TypeError', message: /Unexpected String value, expected number/ });
    assert.throws(() => fn('int kt_upper_inplace(_Out_ void *s)')('abc'), { name: 'TypeError', message: /Unexpected String value, expected void \*/ });
    assert.throws(() => readDouble([{}]), { name: 'TypeError', message: /Unexpected Object value, expected number/ });
    assert.throws(() => fn('int kt_ii_ptr_diff(const ErrII *s)')('ab'), { name: 'TypeError', message: /Unexpected String value, expected ErrII \*/ });
    assert.throws(() => fn('int kt_ii_ptr_diff(const ErrII *s)')([5]), { name: 'TypeError', message: /Unexpected Number value, expected object/ });
});

test('J2C-06 · pointer tag mismatch', () => {
    const p = fn('int *kt_static_int_ptr(void)')();
    // Upstream names the first type it knows that refers to the pointee (here 'int[4]').
    const tag = upstream ? '.+' : 'int \\*';
    assert.throws(() => fn('double kt_read_double(const double *p)')(p), { name: 'TypeError', message: new RegExp(`Unexpected ${tag} value, expected double \\*`) });
    assert.throws(() => fn('int kt_ii_ptr_diff(const ErrII *s)')(p), { name: 'TypeError', message: new RegExp(`Unexpected ${tag} value, expected ErrII \\*`) });
    // The message names the tag as upstream does: a function pointer by its prototype, a
    // type value as Type.
    const Cb = koffi.proto('int ErrTagCb(int)');
    const cb = koffi.register((x) => x, koffi.pointer(Cb));
    try {
        assert.throws(() => fn('double kt_read_double(const double *p)')(cb), { name: 'TypeError', message: /Unexpected ErrTagCb value, expected double \*/ });
    } finally {
        koffi.unregister(cb);
    }
    assert.throws(() => fn('double kt_read_double(const double *p)')(koffi.types.int), { name: 'TypeError', message: /Unexpected Type value, expected double \*/ });
});

test('J2C-07 · ambiguous and opaque pointees', () => {
    const addr = fn('uint64_t kt_ptr_addr(const void *p)');
    assert.throws(() => addr([1, 2]), { name: 'TypeError', message: /Cannot pass ambiguous value to void \*, use koffi.as\(\)/ });
    assert.throws(() => addr({ a: 1 }), { name: 'TypeError', message: /Unexpected Object value, expected void \*/ });
    assert.throws(() => addr(() => 1), { name: 'TypeError', message: /Cannot pass function to type void \*/ });
    assert.throws(() => addr(false), { name: 'TypeError', message: /Unexpected Boolean value, expected void \*/ });
    const value = fn('int kt_handle_value(const ErrOpaque *h)');
    assert.throws(() => value([1]), { name: 'TypeError', message: /Cannot pass opaque value to ErrOpaque \*, use koffi.as\(\)/ });
    assert.throws(() => value({}), { name: 'TypeError', message: /Unexpected Object value, expected ErrOpaque \*/ });
});

test('J2C-04 · plain strings for output string parameters', () => {
    assert.throws(() => fn('int kt_fill_buf(_Out_ char *buf, int size, const char *p, int v)')('abc', 3, 'x', 1),
                  { name: 'TypeError', message: /Unexpected String value, expected \[string\]/ });
    assert.throws(() => fn('void kt_fill_buf16(_Out_ char16_t *buf, int size)')('abc', 3),
                  { name: 'TypeError', message: /Unexpected String value, expected \[string\]/ });
    assert.throws(() => fn('int kt_upper_inplace(_Inout_ char *s)')('abc'),
                  { name: 'TypeError', message: /Unexpected String value, expected \[string\]/ });
    assert.throws(() => fn('void kt_set_int(_Out_ int *out, int v)')('abc', 3), { name: 'TypeError', message: /expected int \*/ });
});

test('J2C-11 · non-object values for structs', () => {
    const diff = fn('int kt_ii_diff(ErrII s)');
    const cases = [[5, 'Number'], [null, 'Null'], [undefined, 'Undefined'], [[1, 2], 'Array'], ['ab', 'String'], [true, 'Boolean']];
    for (const [value, label] of cases)
        assert.throws(() => diff(value), { name: 'TypeError', message: new RegExp(`Unexpected ${label} value, expected object`) }, label);
    assert.throws(() => diff({ a: 'x', b: 1 }), { name: 'TypeError', message: /Unexpected String value, expected number/ });
    assert.throws(() => diff({ a: null, b: 1 }), { name: 'TypeError', message: /Unexpected Null value, expected number/ });
});

test('J2C-11 · a struct object missing members is not an error (they stay zero)', () => {
    const diff = fn('int kt_ii_diff(ErrII s)');
    assert.equal(diff({ b: 4 }), -4);
    assert.equal(diff({}), 0);
});

test('ARR-10 / ARR-11 · invalid values for array members', () => {
    const sum = fn('int kt_arr_sum(ErrArr a)');
    assert.throws(() => sum({ name: 'x', vals: 'abcd' }), { name: 'TypeError', message: /Strings cannot be converted to int array/ });
    assert.throws(() => sum({ name: 'x', vals: 5 }), { name: 'TypeError', message: /Unexpected Number value, expected array/ });
    assert.throws(() => sum({ name: 'x', vals: {} }), { name: 'TypeError', message: /Unexpected Object value, expected array/ });
    assert.throws(() => sum({ name: 'x', vals: ['a'] }), { name: 'TypeError', message: /Unexpected String value, expected number/ });
    assert.throws(() => sum({ name: 5 }), { name: 'TypeError', message: /Unexpected Number value, expected array/ });
});

test('UNI-07 · invalid union values', () => {
    const bits = fn('int kt_uif_bits(ErrUIF u)');
    assert.throws(() => bits(new koffi.Union('ErrUIF')), { name: 'Error', message: /Cannot use ambiguous empty union/ });
    assert.throws(() => bits({ i: 1, f: 2 }), { name: 'Error', message: /Expected object with single property name for union/ });
    assert.throws(() => bits({}), { name: 'Error', message: /Expected object with single property name for union/ });
    assert.throws(() => bits({ zz: 1 }), { name: 'Error', message: /Unknown member zz in union type ErrUIF/ });
    assert.throws(() => bits(new koffi.Union('ErrOther')), { name: 'TypeError', message: /Expected union type ErrUIF, got ErrOther/ });
    assert.throws(() => bits(5), { name: 'TypeError', message: /Unexpected Number value, expected object/ });
    assert.throws(() => bits({ i: 'x' }), { name: 'TypeError', message: /Unexpected String value, expected number/ });
});

test('UNI-06 · reading union members without data', () => {
    const u = new koffi.Union('ErrUIF');
    assert.throws(() => u.i, { name: 'Error', message: /union value/ });
});

test('FLEX-03 · flexible array length checks', () => {
    const Bag = koffi.struct('ErrBag', { n: 'uint32_t', items: koffi.array('int', 'n', 8, 'Array') });
    const buf = Buffer.alloc(koffi.sizeof(Bag));
    koffi.encode(buf, Bag, { n: 2, items: [1, 2] });
    assert.deepEqual(koffi.decode(buf, Bag), { n: 2, items: [1, 2] });
    koffi.encode(buf, Bag, { n: 3, items: new Int32Array([4, 5, 6]) });
    assert.deepEqual(koffi.decode(buf, Bag), { n: 3, items: [4, 5, 6] });
    assert.throws(() => koffi.encode(buf, Bag, { n: 2, items: [1] }),
                  { name: 'Error', message: /Mismatched dynamic length between 'n' and actual array/ });
    assert.throws(() => koffi.encode(buf, Bag, { n: 0, items: [1] }), { name: 'Error', message: /Mismatched dynamic length/ });
    // upstream reports a non-numeric counter as a plain number conversion error
    assert.throws(() => koffi.encode(buf, Bag, { n: '2', items: [1, 2] }), { name: 'TypeError', message: /Unexpected String value/ });
    // FLEX-04: decoding truncates to maxLen
    buf.writeUInt32LE(20, 0);
    assert.equal(koffi.decode(buf, Bag).items.length, 8);
});

test('TS-04 / FN-06 · unknown type names and malformed prototypes', () => {
    assert.throws(() => fn('NoSuchType kt_i32_echo(int x)'), { name: 'Error', message: /Unknown or invalid type name 'NoSuchType'/ });
    assert.throws(() => lib.func('kt_i32_echo', 'NoSuchType', ['int']), { name: 'TypeError', message: /Unknown or invalid type name 'NoSuchType'/ });
    assert.throws(() => fn('int kt_i32_echo(int x,)'), Error);
    assert.throws(() => fn('int kt_i32_echo(int x'), { name: 'Error', message: /Unexpected end of prototype/ });
    assert.throws(() => fn('int kt_i32_echo int x)'), Error);
    assert.throws(() => fn('int kt_i32_echo(int x) extra'), { name: 'Error', message: /Unexpected token 'extra' after prototype/ });
    assert.throws(() => fn('int kt_i32_echo(int @)'), Error);
    assert.throws(() => koffi.proto('int (int'), Error);
    assert.throws(() => koffi.resolve('int @'), { name: 'Error', message: /Unexpected character '@'/ });
});

test('OUT-01 · direction prefixes are not recognised in struct members', () => {
    assert.throws(() => koffi.struct({ p: '_Out_ int *' }), { name: 'TypeError', message: /Unknown or invalid type name/ });
});

test('MEM-15 / ERR-02 · koffi.call() with a null pointer throws', { skip: upstream && 'upstream crashes (ERR-02)' }, () => {
    assert.throws(() => koffi.call(null, koffi.proto('int (int)'), 1), TypeError);
});

test('ERR-02 · free() of a Buffer throws instead of freeing Node memory', { skip: upstream && 'upstream frees the backing store (ERR-02)' }, () => {
    assert.throws(() => koffi.free(Buffer.alloc(16)), TypeError);
});

test('ERR-02 · unknown type values in every API refuse cleanly', () => {
    assert.throws(() => koffi.sizeof({}), { name: 'TypeError', message: /as type specifier/ });
    assert.throws(() => koffi.alignof(42), { name: 'TypeError', message: /as type specifier/ });
    assert.throws(() => koffi.introspect([]), TypeError);
    assert.throws(() => koffi.pointer({}), TypeError);
    assert.throws(() => koffi.array({}, 2), TypeError);
    assert.throws(() => koffi.alloc({}, 2), TypeError);
    assert.throws(() => koffi.decode(Buffer.alloc(8), {}), TypeError);
    assert.throws(() => koffi.encode(Buffer.alloc(8), {}, 1), TypeError);
    assert.throws(() => koffi.out({}), TypeError);
    assert.throws(() => koffi.as({}, {}), TypeError);
    assert.throws(() => lib.func('kt_i32_echo', {}, ['int']), TypeError);
    assert.throws(() => lib.func('kt_i32_echo', 'int', [{}]), TypeError);
    assert.throws(() => koffi.struct({ a: {} }), TypeError);
    const p = fn('int *kt_static_int_ptr(void)')();
    assert.throws(() => koffi.sizeof(p), TypeError);
});
