// How koffi.struct / pack / union read their member specifications. koffi-rs sends members that
// are all type strings to the native side as one string (lib/api.js, record_flat in
// src/node/api/types.rs) and the rest through the general entry: both must define the same types,
// refuse the same things with the same messages, and read each member once.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, upstream, pointerSize } = require('./helpers.js');

let serial = 0;
const fresh = (base) => `${base}_${++serial}`;

function shape(type) {
    const info = koffi.introspect(type);
    return {
        size: info.size,
        alignment: info.alignment,
        members: Object.values(info.members).map((m) => [m.name, koffi.introspect(m.type).name, m.offset]),
    };
}

test('REC-01 · string members and type-value members define the same layout', () => {
    const strings = koffi.struct(fresh('RS'), { a: 'int8_t', b: 'double', c: 'uint16_t', d: 'char *' });
    const values = koffi.struct(fresh('RV'), {
        a: koffi.types.int8_t,
        b: 'double',
        c: koffi.types.uint16_t,
        d: koffi.pointer('char'),
    });
    assert.deepEqual(shape(strings), shape(values));
    assert.deepEqual(shape(strings).members.map((m) => m[2]), [0, 8, 16, 16 + pointerSize]);
});

test('REC-01 · anonymous, packed and union definitions from type strings', () => {
    const anon = koffi.struct({ x: 'int', y: 'int' });
    assert.equal(koffi.sizeof(anon), 8);
    assert.equal(koffi.sizeof(koffi.pack(fresh('RP'), { a: 'char', b: 'int' })), 5);
    assert.equal(koffi.sizeof(koffi.union(fresh('RU'), { a: 'char', b: 'double' })), 8);
    const self = fresh('RSelf');
    assert.equal(koffi.sizeof(koffi.struct(self, { next: `${self} *`, v: 'int' })), 2 * pointerSize);
});

test('REC-01 · each member is read once, in key order', () => {
    const reads = [];
    const members = {};
    for (const [k, t] of [['b', 'int'], ['a', 'double'], ['z', 'char']]) {
        Object.defineProperty(members, k, { enumerable: true, get: () => (reads.push(k), t) });
    }
    Object.defineProperty(members, 'hidden', { enumerable: false, get: () => (reads.push('hidden'), 'int') });
    const T = koffi.struct(fresh('RG'), members);
    assert.deepEqual(reads, ['b', 'a', 'z']);
    assert.deepEqual(shape(T).members.map((m) => m[0]), ['b', 'a', 'z']);

    // The same when a member is a type value (the general path).
    reads.length = 0;
    Object.defineProperty(members, 'q', { enumerable: true, get: () => (reads.push('q'), koffi.types.int) });
    koffi.struct(fresh('RG'), members);
    assert.deepEqual(reads, ['b', 'a', 'z', 'q']);
});

test('REC-05 · bad member names and types fail the same way on both paths', () => {
    const outcome = (members) => {
        try {
            return `defined, size ${koffi.sizeof(koffi.struct(fresh('RE'), members))}`;
        } catch (e) {
            return `${e.name}: ${e.message.replace(/'RE_\d+'/, "'RE'")}`;
        }
    };
    const cases = [
        [{}, /Empty struct 'RE' is not allowed in C/],
        [{ 'a b': 'int' }, /Invalid member name 'a b'/],
        // Upstream reads the name up to the NUL ('a'), then finds no such member.
        [{ 'a\0b': 'int' }, upstream ? /expected string or type/ : /Invalid member name/],
        [{ a: 'nope_type' }, /Unknown or invalid type name 'nope_type'/],
        [{ a: 'int', b: 'void' }, /Type void cannot be used as a member/],
        [{ ok: 'int\0', more: 'int' }, null],
    ];
    for (const [members, message] of cases) {
        const flat = outcome(members);
        if (message) assert.match(flat, message);
        if (!Object.keys(members).length) continue;
        // A type value among the members sends the definition through the general entry.
        const general = Object.create(null);
        for (const k of Object.keys(members)) general[k] = members[k];
        general.extra = koffi.types.int;
        assert.equal(outcome(general).replace(/, size \d+/, ''), flat.replace(/, size \d+/, ''));
    }
    // A member named __proto__ is a member.
    const proto = koffi.struct(fresh('RProto'), JSON.parse('{"__proto__": "int", "x": "double"}'));
    assert.equal(koffi.sizeof(proto), 16);
    assert.equal(koffi.offsetof(proto, 'x'), 8);
});

test('REC-01 · a failed definition leaves the name free (REC-11)', () => {
    const name = fresh('RFail');
    assert.throws(() => koffi.struct(name, { a: 'int', b: 'missing_type' }));
    assert.equal(koffi.sizeof(koffi.struct(name, { a: 'int' })), 4);
    assert.throws(() => koffi.struct(name, { a: 'int' }), /Duplicate type name/);
});
