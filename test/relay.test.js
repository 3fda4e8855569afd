// Callbacks relayed during one synchronous call share handle scopes (src/node/calls/relay.rs,
// RelayScope): these tests pin that many callbacks in one call, nested calls from callbacks and
// exceptions in the middle of a run all behave, and that handles do not pile up.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { koffi, testLibPath } = require('./helpers.js');

const lib = koffi.load(testLibPath);
koffi.proto('int RelayCb(int x)');
const sum = lib.func('int kt_cb_sum(RelayCb *cb, int n)');

const expectedSum = (n, f) => {
    let total = 0;
    for (let i = 0; i < n; i++) total = (total + f(i)) | 0;
    return total;
};

test('CB-01 · a long run of callbacks in one call returns every result', () => {
    const f = (x) => (x * 7) % 1000;
    for (const n of [1, 63, 64, 65, 129, 10_000]) {
        assert.equal(sum(f, n), expectedSum(n, f), `n = ${n}`);
    }
});

test('CB-01 · handles made by callbacks do not pile up during one call', () => {
    // Each callback makes JS values (the argument, an object, the result). If they all stayed
    // alive until the call returned, 3 million callbacks would hold tens of megabytes of handles.
    const n = 3_000_000;
    let early = 0;
    let late = 0;
    const total = sum((x) => {
        if (x === 10_000) early = process.memoryUsage().rss;
        if (x === n - 1) late = process.memoryUsage().rss;
        return { v: x & 1 }.v;
    }, n);
    assert.equal(total, n / 2);
    assert.ok(late - early < 48 * 1024 * 1024, `RSS grew by ${((late - early) / 1048576).toFixed(1)} MiB`);
});

test('CB-09 · callbacks that call C that calls back keep their scopes nested', () => {
    const inner = (x) => x + 1;
    const outer = (x) => sum(inner, (x % 70) + 1) - x;
    const n = 300;
    const expectInner = (m) => expectedSum(m, inner);
    assert.equal(sum(outer, n), expectedSum(n, (x) => expectInner((x % 70) + 1) - x));
    // And the instance is in a clean state afterwards.
    assert.equal(sum(inner, 100), expectedSum(100, inner));
});

test('CB-08 · an exception in the middle of a run is rethrown, and later calls work', () => {
    let calls = 0;
    assert.throws(
        () =>
            sum((x) => {
                calls++;
                if (x === 100) throw new RangeError('stop at 100');
                return 1;
            }, 1000),
        { name: 'RangeError', message: 'stop at 100' },
    );
    // The callbacks after the exception do not run JS (spec CB-08).
    assert.equal(calls, 101);
    assert.equal(sum((x) => x, 200), expectedSum(200, (x) => x));
});

test('CB-03 · callbacks sharing a scope each keep their own function and this', () => {
    // The outer callback alternates between two registered callbacks with different `this`
    // objects, all within one outer call: each relay must call its own function.
    const callInt = lib.func('int kt_cb_call_int(RelayCb *cb, int x)');
    const a = { k: 3 };
    const b = { k: 5 };
    const pa = koffi.register(a, function (x) { return this.k * x; }, koffi.pointer(koffi.resolve('RelayCb')));
    const pb = koffi.register(b, function (x) { return this.k * x + 1; }, koffi.pointer(koffi.resolve('RelayCb')));
    try {
        const total = sum((i) => callInt(i % 2 ? pa : pb, i) + callInt(pa, 1), 200);
        assert.equal(total, expectedSum(200, (i) => (i % 2 ? 3 * i : 5 * i + 1) + 3));
        // Two callbacks relayed in turn by the same C call, with transient ones too.
        const alternate = lib.func('int kt_cb_alternate(RelayCb *a, RelayCb *b, int n)');
        assert.equal(alternate(pa, pb, 300), expectedSum(300, (i) => (i % 2 ? 5 * i + 1 : 3 * i)));
        assert.equal(alternate((x) => x, (x) => -2 * x, 301), expectedSum(301, (i) => (i % 2 ? -2 * i : i)));
        // And straight from C, the same two handlers one after the other, many times.
        for (let i = 0; i < 300; i++) assert.equal(callInt(i % 3 ? pa : pb, i), i % 3 ? 3 * i : 5 * i + 1);
    } finally {
        koffi.unregister(pa);
        koffi.unregister(pb);
    }
});
