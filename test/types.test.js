// Type system: primitive names, sizes and alignments, records, unions, arrays, pointers, opaque
// types, aliases, prototypes, disposables, introspection and the sizeof/alignof/offsetof helpers.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, upstream, pointerSize, longSize } = require('./helpers.js');

// [names, kind, size, alignment] for LP64 Linux x86_64 (spec §6)
const PRIMITIVES = [
    [['void'], 'Void', 0, 0],
    [['bool'], 'Bool', 1, 1],
    [['char'], 'Int8', 1, 1],
    [['int8_t', 'int8'], 'Int8', 1, 1],
    [['uint8_t', 'uint8', 'unsigned char', 'uchar'], 'UInt8', 1, 1],
    [['short', 'int16_t', 'int16'], 'Int16', 2, 2],
    [['unsigned short', 'ushort', 'uint16_t', 'uint16'], 'UInt16', 2, 2],
    [['char16_t', 'char16'], 'Int16', 2, 2],
    [['int', 'int32_t', 'int32'], 'Int32', 4, 4],
    [['unsigned int', 'uint', 'uint32_t', 'uint32'], 'UInt32', 4, 4],
    [['char32_t', 'char32'], 'Int32', 4, 4],
    [['wchar_t', 'wchar'], 'Int32', 4, 4],
    [['int64_t', 'int64', 'long long', 'longlong'], 'Int64', 8, 8],
    [['uint64_t', 'uint64', 'unsigned long long', 'ulonglong'], 'UInt64', 8, 8],
    [['long'], `Int${8 * longSize}`, longSize, longSize],
    [['unsigned long', 'ulong'], `UInt${8 * longSize}`, longSize, longSize],
    [['intptr_t', 'intptr'], `Int${8 * pointerSize}`, pointerSize, pointerSize],
    [['uintptr_t', 'uintptr', 'size_t'], `UInt${8 * pointerSize}`, pointerSize, pointerSize],
    [['float', 'float32'], 'Float32', 4, 4],
    [['double', 'float64'], 'Float64', 8, 8],
    [['char *', 'str', 'string'], 'String', pointerSize, pointerSize],
    [['char16_t *', 'char16 *', 'str16', 'string16'], 'String16', pointerSize, pointerSize],
    [['char32_t *', 'char32 *', 'str32', 'string32'], 'String32', pointerSize, pointerSize],
    [['wchar_t *', 'wchar *'], 'String32', pointerSize, pointerSize],
    [['int16_le_t', 'int16_le'], 'Int16', 2, 2],
    [['int16_be_t', 'int16_be'], 'Int16S', 2, 2],
    [['uint16_le_t', 'uint16_le'], 'UInt16', 2, 2],
    [['uint16_be_t', 'uint16_be'], 'UInt16S', 2, 2],
    [['int32_le_t', 'int32_le'], 'Int32', 4, 4],
    [['int32_be_t', 'int32_be'], 'Int32S', 4, 4],
    [['uint32_le_t', 'uint32_le'], 'UInt32', 4, 4],
    [['uint32_be_t', 'uint32_be'], 'UInt32S', 4, 4],
    [['int64_le_t', 'int64_le'], 'Int64', 8, 8],
    [['int64_be_t', 'int64_be'], 'Int64S', 8, 8],
    [['uint64_le_t', 'uint64_le'], 'UInt64', 8, 8],
    [['uint64_be_t', 'uint64_be'], 'UInt64S', 8, 8],
];

test('PRIM-01 · every built-in name resolves with the right kind, size and alignment', () => {
    let count = 0;
    for (const [names, kind, size, align] of PRIMITIVES) {
        for (const name of names) {
            const info = koffi.introspect(name);
            assert.equal(info.primitive, kind, name);
            assert.equal(info.size, size, name);
            assert.equal(info.alignment, align, name);
            assert.equal(koffi.sizeof(name), size, name);
            assert.equal(koffi.alignof(name), align, name);
            assert.equal(info.disposable, false, name);
            count++;
        }
    }
    assert.equal(count, 86);
    // the table covers every entry of koffi.types
    const listed = new Set(PRIMITIVES.flatMap(p => p[0]));
    for (const name of Object.keys(koffi.types))
        assert.ok(listed.has(name), name);
});

test('PRIM-01 · synonyms share the canonical introspection name', () => {
    const canonical = {
        int8: 'int8_t', uchar: 'unsigned char', uint8: 'uint8_t', int16: 'int16_t', ushort: 'unsigned short',
        char16: 'char16_t', int32: 'int32_t', uint: 'unsigned int', char32: 'char32_t', wchar: 'wchar_t',
        int64: 'int64_t', longlong: 'long long', ulonglong: 'unsigned long long', ulong: 'unsigned long',
        intptr: 'intptr_t', uintptr: 'uintptr_t', float32: 'float', float64: 'double',
        str: 'char *', string: 'char *', str16: 'char16_t *', string16: 'char16_t *',
        str32: 'char32_t *', string32: 'char32_t *', 'char16 *': 'char16_t *', 'wchar *': 'wchar_t *',
        int16_be: 'int16_be_t', uint64_le: 'uint64_le_t', int: 'int', size_t: 'size_t', long: 'long',
    };
    for (const [name, expected] of Object.entries(canonical))
        assert.equal(koffi.introspect(name).name, expected, name);
});

test('TS-09 · koffi.types holds the 79 built-in names without a star', () => {
    const names = Object.keys(koffi.types);
    assert.equal(names.length, 79);
    for (const name of ['void', 'bool', 'str', 'string', 'str16', 'string16', 'str32', 'string32', 'wchar_t', 'wchar',
                        'unsigned long long', 'uint64_be_t', 'int16_le', 'size_t', 'float64', 'char'])
        assert.ok(names.includes(name), name);
    for (const name of names)
        assert.ok(!name.includes('*'), name);
    assert.ok(!names.includes('char *'));
    assert.ok(!names.includes('wchar_t *'));
    assert.equal(koffi.introspect(koffi.types.uint16).name, 'uint16_t');
    assert.equal(koffi.introspect(koffi.types.str).primitive, 'String');
    assert.equal(koffi.sizeof(koffi.types.double), 8);
});

test('PRIM-12 / ARR-04 · default array hints follow the element kind', () => {
    const expected = {
        char: 'String', char16_t: 'String', char32_t: 'String', wchar_t: 'String', char16: 'String',
        int8_t: 'Typed', uint8_t: 'Typed', int16_t: 'Typed', int: 'Typed', uint32_t: 'Typed',
        int64_t: 'Typed', uint64_t: 'Typed', int32_be_t: 'Typed', float: 'Typed', double: 'Typed',
        bool: 'Array', 'int *': 'Array', str: 'Array', 'int[2]': 'Array',
    };
    for (const [type, hint] of Object.entries(expected))
        assert.equal(koffi.introspect(koffi.array(type, 2)).hint, hint, type);
});

test('TS-02 · type string grammar: const prefix, whitespace, pointer stars', () => {
    assert.equal(koffi.introspect('const int').name, 'int');
    assert.equal(koffi.introspect('unsigned   long').name, 'unsigned long');
    assert.equal(koffi.introspect('const char *').primitive, 'String');
    assert.equal(koffi.introspect('int*').name, 'int *');
    assert.equal(koffi.introspect('int **').name, 'int **');
    assert.equal(koffi.introspect('int ********').name, 'int ********');
    assert.equal(koffi.introspect('void *').primitive, 'Pointer');
    assert.equal(koffi.introspect(koffi.introspect('void *').ref).name, 'void');
    assert.equal(koffi.introspect('int[2] *').name, 'int[2] *');
});

test('TS-03 / Q8 · array suffixes apply left to right', () => {
    const info = koffi.introspect('int[2][3]');
    assert.equal(info.name, 'int[2][3]');
    assert.equal(info.primitive, 'Array');
    assert.equal(info.length, 3);
    assert.equal(info.size, 24);
    assert.equal(koffi.introspect(info.ref).name, 'int[2]');
    assert.equal(koffi.introspect(info.ref).length, 2);
    assert.equal(info.hint, 'Array');

    koffi.struct('TsNode', { v: 'int' });
    const ptrs = koffi.introspect('TsNode *[4]');
    assert.equal(ptrs.name, 'TsNode *[4]');
    assert.equal(ptrs.length, 4);
    assert.equal(ptrs.size, 4 * pointerSize);
    assert.equal(koffi.introspect(ptrs.ref).name, 'TsNode *');
});

test('TS-04 · malformed type strings', () => {
    assert.throws(() => koffi.resolve('int @'), { name: 'Error', message: /Unexpected character '@' in type specifier/ });
    assert.throws(() => koffi.resolve('int *********'), { name: 'Error', message: /Too many type indirections/ });
    assert.throws(() => koffi.resolve('int[x]'), { name: 'Error', message: /Invalid array length/ });
    assert.throws(() => koffi.resolve('int[3'), { name: 'Error', message: /Expected '\]' after array length/ });
    assert.throws(() => koffi.resolve('int!'), { name: 'Error', message: /Cannot create disposable type for non-pointer/ });
    assert.throws(() => koffi.resolve('NoSuchType'), { name: 'TypeError', message: /Unknown or invalid type name 'NoSuchType'/ });
});

test('TS-01 · non-string non-type specifiers are refused', () => {
    for (const [value, label] of [[5, 'Number'], [null, 'Null'], [undefined, 'Undefined'], [{}, 'Object'], [true, 'Boolean']]) {
        assert.throws(() => koffi.resolve(value), {
            name: 'TypeError',
            message: new RegExp(`Unexpected ${label} value as type specifier, expected string or type`),
        });
        assert.throws(() => koffi.sizeof(value), TypeError);
    }
});

test('Q9 · trailing const after a pointer star is accepted in type strings', { skip: upstream && 'upstream quirk Q9 (throws)' }, () => {
    assert.equal(koffi.introspect('char * const').primitive, 'String');
    assert.equal(koffi.introspect('int * const').name, 'int *');
    assert.equal(koffi.introspect('const int * const *').name, 'int **');
});

test('Q9 · upstream refuses a trailing const in type strings with an Error', { skip: !upstream && 'documents upstream only' }, () => {
    assert.throws(() => koffi.resolve('char * const'), { name: 'Error', message: /Unexpected character/ });
});

test('TS-11 · introspect returns the same frozen object for a type', () => {
    const a = koffi.introspect('int');
    const b = koffi.introspect('int');
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    assert.deepEqual({ ...a }, { name: 'int', primitive: 'Int32', size: 4, alignment: 4, disposable: false });
    assert.equal(koffi.introspect(koffi.types.int), a);

    const S = koffi.struct('TsSame', { x: 'int' });
    assert.equal(koffi.introspect(S), koffi.introspect('TsSame'));
});

test('TS-12 · sizeof/alignof of derived types', () => {
    assert.equal(koffi.sizeof('void'), 0);
    assert.equal(koffi.alignof('void'), 0);
    assert.equal(koffi.sizeof('int *'), pointerSize);
    assert.equal(koffi.alignof('char **'), pointerSize);
    assert.equal(koffi.sizeof('double[5]'), 40);
    assert.equal(koffi.alignof('double[5]'), 8);
    assert.equal(koffi.sizeof('char[3]'), 3);
    assert.equal(koffi.alignof('char[3]'), 1);
});

test('REC-04 · struct layout follows natural alignment', () => {
    const Pixel = koffi.struct('TsPixel', { r: 'uint8_t', g: 'uint8_t', b: 'uint8_t', alpha: 'float' });
    assert.equal(koffi.sizeof(Pixel), 8);
    assert.equal(koffi.alignof(Pixel), 4);
    assert.equal(koffi.offsetof(Pixel, 'alpha'), 4);
    assert.equal(koffi.offsetof('TsPixel', 'b'), 2);

    const Mixed = koffi.struct({ c: 'char', d: 'double', s: 'short', i: 'int', c2: 'char' });
    assert.equal(koffi.offsetof(Mixed, 'd'), 8);
    assert.equal(koffi.offsetof(Mixed, 's'), 16);
    assert.equal(koffi.offsetof(Mixed, 'i'), 20);
    assert.equal(koffi.offsetof(Mixed, 'c2'), 24);
    assert.equal(koffi.sizeof(Mixed), 32);
    assert.equal(koffi.alignof(Mixed), 8);

    const WithArray = koffi.struct({ name: 'char[16]', vals: 'int[4]' });
    assert.equal(koffi.sizeof(WithArray), 32);
    assert.equal(koffi.offsetof(WithArray, 'vals'), 16);

    const Nested = koffi.struct({ a: koffi.struct({ x: 'int', y: 'int' }), w: 'double', b: 'char' });
    assert.equal(koffi.sizeof(Nested), 24);
    assert.equal(koffi.offsetof(Nested, 'w'), 8);
    assert.equal(koffi.offsetof(Nested, 'b'), 16);
});

test('REC-05 · pack layout has no padding', () => {
    const Wire = koffi.pack({ tag: 'uint8_t', len: 'uint32_be_t' });
    assert.equal(koffi.sizeof(Wire), 5);
    assert.equal(koffi.alignof(Wire), 1);
    assert.equal(koffi.offsetof(Wire, 'len'), 1);

    const Named = koffi.pack('TsPacked', { tag: 'uint8_t', len: 'uint32_t', crc: 'uint16_t' });
    assert.equal(koffi.sizeof(Named), 7);
    assert.equal(koffi.offsetof(Named, 'crc'), 5);
    assert.equal(koffi.introspect(Named).primitive, 'Record');
});

test('REC-06 · explicit member alignment (struct gives size 16, pack gives 8)', () => {
    const S = koffi.struct({ a: 'int8_t', b: [8, 'int16_t'] });
    assert.equal(koffi.offsetof(S, 'b'), 8);
    assert.equal(koffi.alignof(S), 8);
    assert.equal(koffi.sizeof(S), 16);

    const P = koffi.pack({ a: 'int8_t', b: [4, 'int16_t'] });
    assert.equal(koffi.offsetof(P, 'b'), 4);
    assert.equal(koffi.alignof(P), 4);
    assert.equal(koffi.sizeof(P), 8);

    const Lower = koffi.struct({ a: 'int8_t', b: [1, 'int32_t'] });
    assert.equal(koffi.offsetof(Lower, 'b'), 1);
    assert.equal(koffi.sizeof(Lower), 5);
});

test('REC-02 · members follow own enumerable property order', () => {
    const proto = { inherited: 'int' };
    const members = Object.create(proto);
    members.z = 'int';
    members.a = 'double';
    Object.defineProperty(members, 'hidden', { value: 'int', enumerable: false });
    const S = koffi.struct(members);
    const info = koffi.introspect(S);
    assert.deepEqual(Object.keys(info.members), ['z', 'a']);
    assert.equal(info.members.a.offset, 8);
    assert.equal(info.size, 16);
});

test('TS-11 · introspection of records lists members with name, type and offset', () => {
    const S = koffi.struct('TsIntro', { a: 'int8_t', b: 'double', c: 'char[5]' });
    const info = koffi.introspect(S);
    assert.equal(info.name, 'TsIntro');
    assert.equal(info.primitive, 'Record');
    assert.equal(info.size, 24);
    assert.equal(info.alignment, 8);
    assert.equal(info.disposable, false);
    assert.deepEqual(Object.keys(info.members), ['a', 'b', 'c']);
    assert.equal(info.members.a.name, 'a');
    assert.equal(info.members.b.offset, 8);
    assert.equal(info.members.c.offset, 16);
    assert.equal(koffi.introspect(info.members.b.type).name, 'double');
    assert.equal(koffi.introspect(info.members.c.type).name, 'char[5]');
    assert.equal(koffi.introspect(info.members.c.type).hint, 'String');
});

test('REC-07 · placeholder members named _ take space but are hidden', () => {
    const S = koffi.struct({ a: 'int8_t', _: 'int32_t', b: 'int8_t' });
    const info = koffi.introspect(S);
    assert.equal(info.size, 12);
    assert.deepEqual(Object.keys(info.members), ['a', 'b']);
    assert.equal(info.members.b.offset, 8);
});

test('REC-07 · a placeholder keeps its bytes zero when encoding', () => {
    const S = koffi.struct({ a: 'uint8_t', _: 'uint8_t', b: 'uint8_t' });
    const buf = Buffer.alloc(3, 0xff);
    koffi.encode(buf, S, { a: 1, _: 99, b: 3 });
    assert.deepEqual([...buf], [1, 0, 3]);
    assert.deepEqual(koffi.decode(Buffer.from([4, 5, 6]), S), { a: 4, b: 6 });
});

test('REC-12 · self-referencing struct through a pointer', () => {
    const Node = koffi.struct('TsSelf', { next: 'TsSelf *', v: 'int' });
    assert.equal(koffi.sizeof(Node), 2 * pointerSize);
    const next = koffi.introspect(koffi.introspect(Node).members.next.type);
    assert.equal(next.name, 'TsSelf *');
    assert.equal(koffi.introspect(next.ref).name, 'TsSelf');
});

test('TS-05 · incomplete types inside their own definition', () => {
    assert.throws(() => koffi.struct('TsInc1', { a: 'TsInc1' }), { name: 'TypeError', message: /Cannot directly use incomplete type/ });
    assert.throws(() => koffi.struct('TsInc2', { a: 'TsInc2[2]' }), { name: 'TypeError', message: /Cannot make array of incomplete type/ });
});

test('REC-11 · a failed definition registers nothing', () => {
    assert.throws(() => koffi.struct('TsFail', { a: 'int', b: 'NoSuchType' }), TypeError);
    assert.throws(() => koffi.resolve('TsFail'), { name: 'TypeError', message: /Unknown or invalid type name 'TsFail'/ });
    assert.throws(() => koffi.struct('TsFail2', {}), { name: 'Error', message: /Empty struct 'TsFail2' is not allowed in C/ });
    const S = koffi.struct('TsFail2', { a: 'int' });
    assert.equal(koffi.sizeof(S), 4);
});

test('REC-01 / REC-03 / REC-08 / REC-09 · struct definition errors', () => {
    assert.throws(() => koffi.struct(), { name: 'TypeError', message: /Expected 1 or 2 arguments, got 0/ });
    assert.throws(() => koffi.struct('TsE1', ['int']), { name: 'TypeError', message: /Unexpected Array value for members, expected object/ });
    assert.throws(() => koffi.struct('TsE2', 5), { name: 'TypeError', message: /expected object/ });
    assert.throws(() => koffi.struct(5, { a: 'int' }), TypeError);
    assert.throws(() => koffi.struct('int', { a: 'int' }), { name: 'Error', message: /Duplicate type name 'int'/ });
    assert.throws(() => koffi.struct('TsE3', { a: [3, 'int'] }), { name: 'Error', message: /Alignment of member 'a' must be 1, 2, 4 or 8/ });
    assert.throws(() => koffi.struct('TsE4', { a: ['int'] }), { name: 'Error', message: /Member specifier array must contain/ });
    assert.throws(() => koffi.struct('TsE5', { '1a': 'int' }), { name: 'Error', message: /Invalid member name '1a'/ });
    assert.throws(() => koffi.struct('TsE6', { a: 'void' }), { name: 'TypeError', message: /Type void cannot be used as a member \(maybe try void \*\)/ });
    assert.throws(() => koffi.struct('TsE7', { a: 'int[100000000]' }), { name: 'TypeError', message: /Array length is too high/ });
    koffi.struct('TsE8', { a: 'int' });
    assert.throws(() => koffi.struct('TsE8', { a: 'int' }), { name: 'Error', message: /Duplicate type name 'TsE8'/ });
});

test('TS-13 · offsetof errors', () => {
    const S = koffi.struct('TsOff', { a: 'int', b: 'double' });
    assert.equal(koffi.offsetof(S, 'b'), 8);
    assert.throws(() => koffi.offsetof(S, 'zz'), { name: 'Error', message: /Record type TsOff does not have member 'zz'/ });
    assert.throws(() => koffi.offsetof(S, 5), { name: 'TypeError', message: /expected string/ });
    assert.throws(() => koffi.offsetof('int', 'a'), { name: 'TypeError', message: /The offsetof\(\) function can only be used with record types/ });
    const U = koffi.union({ a: 'int', b: 'double' });
    assert.throws(() => koffi.offsetof(U, 'b'), { name: 'TypeError', message: /only be used with record types/ });
});

test('UNI-02 · union layout', () => {
    const U = koffi.union('TsUnion', { a: 'int8', b: [8, 'int16'], c: 'char[9]' });
    const info = koffi.introspect(U);
    assert.equal(info.name, 'TsUnion');
    assert.equal(info.primitive, 'Union');
    assert.equal(info.size, 16);
    assert.equal(info.alignment, 8);
    for (const m of Object.values(info.members))
        assert.equal(m.offset, 0);
    assert.deepEqual(Object.keys(info.members), ['a', 'b', 'c']);

    const U2 = koffi.union({ i: 'int', f: 'float' });
    assert.equal(koffi.sizeof(U2), 4);
    const U3 = koffi.union({ d: 'double', bytes: 'uint8_t[12]' });
    assert.equal(koffi.sizeof(U3), 16);
    assert.equal(koffi.alignof(U3), 8);
});

test('UNI-02 / UNI-03 · union definition errors', () => {
    assert.throws(() => koffi.union('TsU0', {}), { name: 'Error', message: /Empty union 'TsU0' is not allowed in C/ });
    assert.throws(() => koffi.union('TsU1', { n: 'int', a: koffi.array('int', 'n', 4) }),
                  { name: 'TypeError', message: /Cannot use dynamic-length array or pointer inside of union/ });
    assert.throws(() => koffi.union(), TypeError);
});

test('UNI-04 / UNI-05 / UNI-06 · Union instances', () => {
    koffi.union('TsUni', { i: 'int', f: 'float', d: 'double' });
    const u = new koffi.Union('TsUni');
    assert.deepEqual(Object.keys(u), []);
    assert.equal(u.constructor.name, 'TsUni');
    assert.deepEqual(Object.keys(Object.getPrototypeOf(u)), ['i', 'f', 'd']);
    assert.throws(() => u.i, { name: 'Error', message: /union value/ });
    u.f = 1.5;
    assert.equal(u.f, 1.5);
    assert.throws(() => u.i, { name: 'Error', message: /union value/ });
    u.i = 7;
    assert.equal(u.i, 7);

    assert.throws(() => koffi.Union('TsUni'), { name: 'TypeError', message: /This function is a constructor and must be called with new/ });
    assert.throws(() => new koffi.Union(), TypeError);
    koffi.struct('TsNotUnion', { a: 'int' });
    assert.throws(() => new koffi.Union('TsNotUnion'), { name: 'TypeError', message: /Expected union type, got Record/ });
});

test('ARR-01 / ARR-03 · koffi.array construction and hints', () => {
    const A = koffi.array('int', 4);
    assert.deepEqual({ ...koffi.introspect(A), ref: undefined },
                     { name: 'int[4]', primitive: 'Array', size: 16, alignment: 4, disposable: false, length: 4, hint: 'Typed', ref: undefined });
    assert.equal(koffi.introspect(koffi.introspect(A).ref).name, 'int');
    assert.equal(koffi.introspect(koffi.array('int', 4, 'Array')).hint, 'Array');
    assert.equal(koffi.introspect(koffi.array('int', 4, 'array')).hint, 'Array');
    assert.equal(koffi.introspect(koffi.array('int', 4, 'typed')).hint, 'Typed');
    assert.equal(koffi.introspect(koffi.array('char', 4, null)).hint, 'String');
    assert.equal(koffi.introspect(koffi.array('char', 4, 'Array')).hint, 'Array');
    assert.equal(koffi.introspect(koffi.array('int8_t', 4, 'String')).hint, 'String');
    assert.equal(koffi.introspect(koffi.array('int16_t', 4, 'String')).hint, 'String');
    assert.equal(koffi.introspect(koffi.array('double', 3)).size, 24);
});

test('ARR-01 / ARR-03 / ARR-05 · koffi.array errors', () => {
    assert.throws(() => koffi.array('int'), { name: 'TypeError', message: /Expected 2 to 4 arguments, got 1/ });
    assert.throws(() => koffi.array('int', 0), { name: 'TypeError', message: /Array length must be positive and non-zero/ });
    assert.throws(() => koffi.array('int', -1), { name: 'TypeError', message: /Array length must be positive and non-zero/ });
    assert.throws(() => koffi.array('int', 1e9), { name: 'TypeError', message: /Array length is too high \(max = 16777216\)/ });
    assert.throws(() => koffi.array('int', 4, 'Foo'), { name: 'Error', message: /Array conversion hint must be 'Typed', 'Array' or 'String'/ });
    assert.throws(() => koffi.array('int', 4, 5), { name: 'TypeError', message: /expected string/ });
    assert.throws(() => koffi.array('bool', 4, 'Typed'), { name: 'Error', message: /Array hint 'Typed' cannot be used with type bool/ });
    assert.throws(() => koffi.array('int', 4, 'String'), { name: 'Error', message: /can only be used with 8 and 16-bit signed integer types/ });
    assert.throws(() => koffi.array('int', 'n'), { name: 'TypeError', message: /Missing maxLen argument/ });
});

test('Q6 / EXT-10 · explicit String hint on char32_t arrays', { skip: upstream && 'upstream quirk Q6 (refused)' }, () => {
    const T = koffi.array('char32_t', 4, 'String');
    assert.equal(koffi.introspect(T).hint, 'String');
    const buf = new Uint32Array([0x48, 0x1F600, 0x69, 0]);
    assert.equal(koffi.decode(buf, T), 'H\u{1F600}i');
    const out = new Uint32Array(4);
    koffi.encode(out, T, 'ok');
    assert.deepEqual([...out], [0x6F, 0x6B, 0, 0]);
});

test('FLEX-01 / FLEX-02 / FLEX-05 · flexible arrays', () => {
    const Bag = koffi.struct('TsBag', { n: 'uint32_t', items: koffi.array('int', 'n', 8, 'Array') });
    const info = koffi.introspect(Bag);
    assert.equal(info.size, 36);
    assert.equal(info.members.items.countedBy, 'n');
    assert.equal(info.members.items.offset, 4);
    assert.equal(info.members.n.countedBy, undefined);

    assert.throws(() => koffi.struct('TsBag2', { n: 'uint32_t', items: koffi.array('int', 'n', 8), z: 'int' }),
                  { name: 'Error', message: /Flexible array 'items' is not the last member of struct/ });
    assert.throws(() => koffi.struct('TsBag3', { n: 'uint32_t', items: koffi.array('int', 'm', 8) }),
                  { name: 'Error', message: /Record type TsBag3 does not have member 'm'/ });
    assert.throws(() => koffi.struct('TsBag4', { n: 'double', items: koffi.array('int', 'n', 8) }),
                  { name: 'Error', message: /Dynamic length member n is not an integer/ });
});

test('PTR-01 / PTR-02 / TS-08 · pointer types', () => {
    const P = koffi.pointer('int');
    assert.equal(koffi.introspect(P).name, 'int *');
    assert.equal(koffi.introspect(P).primitive, 'Pointer');
    assert.equal(koffi.sizeof(P), pointerSize);
    assert.equal(koffi.alignof(P), pointerSize);
    assert.equal(koffi.introspect(koffi.pointer('int', 3)).name, 'int ***');
    assert.equal(koffi.introspect(koffi.pointer(koffi.pointer('int'))).name, 'int **');
    assert.equal(koffi.introspect(koffi.introspect(koffi.pointer('int', 2)).ref).name, 'int *');
    assert.throws(() => koffi.pointer('int', 5), { name: 'TypeError', message: /Value of count must be between 1 and 4/ });
    assert.throws(() => koffi.pointer('int', 0), { name: 'TypeError', message: /Value of count must be between 1 and 4/ });
    assert.throws(() => koffi.pointer(), TypeError);
});

test('PTR-03 / PTR-07 · named pointer types', () => {
    const HANDLE = koffi.pointer('TsHANDLE', koffi.opaque());
    const info = koffi.introspect(HANDLE);
    assert.equal(info.name, 'TsHANDLE');
    assert.equal(info.primitive, 'Pointer');
    assert.equal(koffi.introspect('TsHANDLE').name, 'TsHANDLE');

    // (upstream 2.16.3 crashes at exit when a named pointer copies a pointer type that was
    // already introspected, so the base type here is a fresh one)
    koffi.struct('TsPPBase', { x: 'int' });
    const PP = koffi.pointer('TsPP', 'TsPPBase', 2);
    assert.equal(koffi.introspect(PP).name, 'TsPP');
    assert.equal(koffi.introspect(koffi.introspect(PP).ref).name, 'TsPPBase *');

    assert.throws(() => koffi.pointer('TsPP2', 'int', {}), { name: 'TypeError', message: /Unexpected Object value for count, expected number/ });
    assert.throws(() => koffi.pointer(5, 'int', 1), TypeError);
});

test('OPQ-01 / OPQ-02 · opaque types', () => {
    const O = koffi.opaque('TsOpaque');
    assert.deepEqual({ ...koffi.introspect(O) }, { name: 'TsOpaque', primitive: 'Void', size: 0, alignment: 0, disposable: false });
    assert.equal(koffi.sizeof(O), 0);
    assert.equal(koffi.alignof(O), 0);
    assert.equal(koffi.introspect('TsOpaque *').primitive, 'Pointer');
    assert.equal(koffi.introspect(koffi.opaque()).primitive, 'Void');
    assert.match(koffi.introspect(koffi.opaque()).name, /^<anonymous_\d+>$/);
    assert.throws(() => koffi.struct({ a: 'TsOpaque' }), { name: 'TypeError', message: /Type TsOpaque cannot be used as a member \(maybe try TsOpaque \*\)/ });
    assert.throws(() => koffi.opaque(5), TypeError);
    assert.throws(() => koffi.opaque('1abc'), { name: 'Error', message: /Invalid type name '1abc'/ });
    assert.throws(() => koffi.opaque('TsOpaque'), { name: 'Error', message: /Duplicate type name 'TsOpaque'/ });
    assert.throws(() => koffi.opaque('double'), { name: 'Error', message: /Duplicate type name 'double'/ });
});

test('REC-10 / OPQ-03 · opaque redefinition resolves earlier pointers (circular types)', () => {
    const Parent = koffi.opaque('TsParent');
    const ParentPtr = koffi.pointer(Parent);
    const Child = koffi.struct('TsChild', { id: 'int', parent: 'TsParent *' });
    assert.throws(() => koffi.struct('TsParent', { id: 'int' }), { name: 'Error', message: /Duplicate type name 'TsParent'/ });
    const Redefined = koffi.struct(Parent, { id: 'int', child: 'TsChild *' });

    assert.equal(koffi.introspect(Redefined).name, 'TsParent');
    assert.equal(koffi.introspect('TsParent').primitive, 'Record');
    assert.equal(koffi.sizeof('TsParent'), 2 * pointerSize);
    assert.equal(koffi.introspect(koffi.introspect(ParentPtr).ref).primitive, 'Record');
    const viaChild = koffi.introspect(koffi.introspect(Child).members.parent.type);
    assert.equal(koffi.introspect(viaChild.ref).size, 2 * pointerSize);

    assert.throws(() => koffi.struct(koffi.types.int, { a: 'int' }), { name: 'TypeError', message: /Cannot redefine non-opaque type int/ });
    assert.throws(() => koffi.struct(Child, { a: 'int' }), { name: 'TypeError', message: /Cannot redefine non-opaque type TsChild/ });
});

test('UNI-01 · an opaque type can become a union', () => {
    const O = koffi.opaque('TsOpaqueUnion');
    koffi.union(O, { i: 'int', d: 'double' });
    assert.equal(koffi.introspect('TsOpaqueUnion').primitive, 'Union');
    assert.equal(koffi.sizeof('TsOpaqueUnion'), 8);
});

test('TS-14 · alias', () => {
    const A = koffi.alias('TsMyInt', 'int');
    assert.equal(koffi.introspect(A).name, 'int');
    assert.equal(koffi.introspect('TsMyInt').name, 'int');
    assert.equal(koffi.introspect('TsMyInt *').name, 'int *');
    assert.equal(koffi.sizeof('TsMyInt[3]'), 12);

    const S = koffi.struct('TsAliased', { x: 'int' });
    koffi.alias('TsAliasOfStruct', S);
    assert.equal(koffi.introspect('TsAliasOfStruct').name, 'TsAliased');
    assert.equal(koffi.introspect('TsAliasOfStruct'), koffi.introspect('TsAliased'));

    assert.throws(() => koffi.alias(5, 'int'), TypeError);
    assert.throws(() => koffi.alias('TsMyInt', 'int'), { name: 'Error', message: /Duplicate type name 'TsMyInt'/ });
    assert.throws(() => koffi.alias('Ts My', 'int'), { name: 'Error', message: /Invalid type name 'Ts My'/ });
    assert.throws(() => koffi.alias('TsNope', 'NoSuchType'), TypeError);
});

test('TS-06 · type names must be ASCII identifiers', () => {
    koffi.opaque('_Ts_ident9');
    assert.equal(koffi.introspect('_Ts_ident9 *').name, '_Ts_ident9 *');
    assert.throws(() => koffi.struct('Ts-dash', { a: 'int' }), { name: 'Error', message: /Invalid type name 'Ts-dash'/ });
    assert.throws(() => koffi.opaque('9Ts'), { name: 'Error', message: /Invalid type name '9Ts'/ });
    assert.throws(() => koffi.opaque('Ts$'), { name: 'Error', message: /Invalid type name 'Ts\$'/ });
    // Upstream 2.16.3 only accepts ASCII letters, digits and '_' (the spec's XID rule is wider)
    assert.throws(() => koffi.opaque('TsÉtoile'), { name: 'Error', message: /Invalid type name 'TsÉtoile'/ });
});

test('PROTO-01..03 / PTR-05 · prototypes as types', () => {
    const P = koffi.proto('int TsCb1(int a, double b)');
    const info = koffi.introspect(P);
    assert.equal(info.name, 'TsCb1');
    assert.equal(info.primitive, 'Prototype');
    assert.equal(info.size, pointerSize);
    assert.equal(info.alignment, pointerSize);

    const ptr = koffi.introspect(koffi.pointer(P));
    assert.equal(ptr.primitive, 'Callback');
    assert.equal(ptr.name, 'TsCb1 *');
    assert.equal(koffi.introspect('TsCb1 *').primitive, 'Callback');
    // TS-11: callback types carry no extra fields (no `ref`, unlike data pointers).
    assert.deepEqual(Object.keys(ptr), ['name', 'primitive', 'size', 'alignment', 'disposable']);

    assert.equal(koffi.introspect(koffi.proto('TsCb2', 'int', ['int'])).name, 'TsCb2');
    assert.match(koffi.introspect(koffi.proto('int (int)')).name, /^<anonymous_\d+>$/);
    assert.equal(koffi.introspect(koffi.proto('void', ['int', 'int'])).primitive, 'Prototype');
    assert.equal(koffi.introspect(koffi.proto('__stdcall', 'TsCb3', 'int', ['int'])).name, 'TsCb3');

    assert.throws(() => koffi.proto(), { name: 'TypeError', message: /Expected 1 to 4 arguments, got 0/ });
    assert.throws(() => koffi.proto(5), TypeError);
    assert.throws(() => koffi.struct({ cb: 'TsCb1' }), { name: 'TypeError', message: /cannot be used as a member/ });
    assert.equal(koffi.sizeof(koffi.struct({ cb: 'TsCb1 *' })), pointerSize);
});

test('OUT-01 · direction markers need pointer or string types', () => {
    assert.equal(typeof koffi.out('int *'), 'object');
    assert.equal(typeof koffi.inout('double *'), 'object');
    assert.equal(typeof koffi.in('char *'), 'object');
    assert.equal(typeof koffi.out('str'), 'object');
    assert.throws(() => koffi.out('int'), { name: 'TypeError', message: /Unexpected int type, expected pointer or string type/ });
    assert.throws(() => koffi.inout('double'), { name: 'TypeError', message: /expected pointer or string type/ });
});

test('J2C-12 · koffi.as needs a pointer or string type', () => {
    assert.throws(() => koffi.as({}, 'int'), { name: 'TypeError', message: /Only pointer or string types can be used for casting/ });
    assert.doesNotThrow(() => koffi.as({}, 'int *'));
    assert.doesNotThrow(() => koffi.as([1, 2], 'int *'));
    assert.doesNotThrow(() => koffi.as(new Uint8Array(4), 'char *'));
    // Upstream wraps the value in a JS object, which fails for primitives ("Invalid argument")
    assert.throws(() => koffi.as(null, 'int *'), Error);
    assert.throws(() => koffi.as(5, 'int *'), Error);
});

test('TS-16 · type values are not pointer values', () => {
    assert.throws(() => koffi.address(koffi.types.int), { name: 'TypeError', message: /Unexpected Type value for ptr, expected external pointer/ });
});
