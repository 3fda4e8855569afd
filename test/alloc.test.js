// No heap allocation on the synchronous call path for fixed-shape signatures (issue 5): the
// addon counts its own heap allocations (koffi.implementation.heapAllocations(), a counting
// global allocator), and a batch of calls must not move the count.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, upstream, testLibPath, libcPath } = require('./helpers.js');

const skip = upstream && 'koffi-rs allocation counter';

function allocationsDuring(fn, n = 1000) {
    fn();   // the first call may set things up (call memory, caches)
    const before = koffi.implementation.heapAllocations();
    for (let i = 0; i < n; i++)
        fn();
    return koffi.implementation.heapAllocations() - before;
}

test('the counter counts', { skip }, () => {
    const before = koffi.implementation.heapAllocations();
    koffi.struct({ a: 'int', b: 'double' });
    assert.ok(koffi.implementation.heapAllocations() > before);
});

test('no heap allocation per call: numbers, strings, buffers, pointers, structs by value', { skip: skip || (!libcPath && 'Linux only') }, () => {
    const libc = koffi.load(libcPath);
    const lib = koffi.load(testLibPath);
    const atoi = libc.func('int atoi(const char *s)');
    const memset = libc.func('void *memset(void *p, int c, size_t n)');
    const abs = libc.func('int abs(int x)');
    const ldexp = libc.func('double ldexp(double x, int e)');
    const buf = Buffer.alloc(64);
    const II = koffi.struct('AllocII', { a: 'int', b: 'int' });
    const echo = lib.func('kt_ii_swap', II, [II]);
    const frexp = libc.func('double frexp(double x, _Out_ int *e)');
    // A struct returned through caller memory (24 bytes: class MEMORY on x86_64).
    const L3 = koffi.struct('AllocL3', { a: 'int64_t', b: 'int64_t', c: 'int64_t' });
    const rotate = lib.func('kt_l3_rotate', L3, [L3]);
    const fdid = lib.func('double kt_fdid(float a, double b, int c, double d)');
    const exp = [0];
    const cases = {
        abs: () => abs(-5),
        ldexp: () => ldexp(1.5, 3),
        atoi: () => atoi('12345'),
        memset: () => memset(buf, 1, 64),
        struct: () => echo({ a: 1, b: 2 }),
        out: () => frexp(48, exp),
        sret: () => rotate({ a: 1, b: 2, c: 3 }),
        mixed: () => fdid(1.5, 2.5, 3, 0.25),
    };
    for (const [name, fn] of Object.entries(cases))
        assert.equal(allocationsDuring(fn), 0, name);
});
