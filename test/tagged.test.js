// The lean path reads numbers, booleans and ASCII strings straight from V8's tagged values and
// hands small integer results back the same way (src/node/js/tagged.rs), after a probe when the
// environment is set up. These tests pin that the probe succeeds on Node.js's own builds, and
// that every value converts exactly as it does through Node-API alone (KOFFI_RS_TAGGED=0, in
// a child process).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const path = require('path');
const { koffi, upstream, nodeCommand } = require('./helpers.js');
const cases = require('./tagged-cases.js');

const skip = upstream && 'koffi-rs internals';
// ci/node-majors.sh runs the whole suite with the reads off too; the probe is then not run here
// (the children below get the variable removed).
const off = process.env.KOFFI_RS_TAGGED === '0';
const probeSkip = skip || (off && 'KOFFI_RS_TAGGED=0 turns the probe off');
const { KOFFI_RS_TAGGED: _, ...envOn } = process.env;

test('J2C-01 · the tagged-value probe succeeds on Node.js x64 and arm64 builds', { skip: probeSkip }, () => {
    if (['x64', 'arm64'].includes(process.arch)) assert.equal(koffi.implementation.taggedValues(), true);
    // 32-bit V8 tags differently (31-bit Smis): the probe is not even tried there.
    else if (['arm', 'ia32'].includes(process.arch)) assert.equal(koffi.implementation.taggedValues(), false);
    else assert.equal(typeof koffi.implementation.taggedValues(), 'boolean');
});

test('J2C-01 · the probe succeeds when its literals were first internalized as two-byte strings', { skip }, () => {
    // V8 keeps one internalized string per text, made by whoever internalized it first. On
    // Node 18, JSON.parse of a two-byte text internalizes its keys as two-byte strings, as
    // Node itself does with the package name; the probe's literals (lib/api.js) then read back
    // as something other than one-byte strings, which must not turn the fast reads off.
    if (!['x64', 'arm64'].includes(process.arch)) return;
    const script = `
        JSON.parse('{"koffi-rs":1,"koffi-rs probe":1,"12345 probe":2,' +
            '"a koffi-rs literal longer than sixteen bytes":3,"\\u0100":4}');
        process.stdout.write(String(require(".").implementation.taggedValues()));`;
    const [cmd, args] = nodeCommand(['-e', script]);
    const child = spawnSync(cmd, args, { cwd: path.join(__dirname, '..'), env: envOn, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, 'true');
});

test('J2C-01 · numbers, booleans and strings convert as through Node-API alone', { skip }, () => {
    const direct = cases.run();
    const [cmd, args] = nodeCommand([path.join(__dirname, 'tagged-cases.js')]);
    const child = spawnSync(cmd, args, {
        env: { ...process.env, KOFFI_RS_TAGGED: '0' },
        encoding: 'utf8',
        maxBuffer: 64 << 20,
    });
    assert.equal(child.status, 0, child.stderr);
    const viaNapi = JSON.parse(child.stdout);
    assert.ok(direct.length > 400, `${direct.length} cases`);
    assert.deepEqual(direct, viaNapi);
});

test('J2C-01 · KOFFI_RS_TAGGED=0 turns the direct reads off', { skip }, () => {
    const [cmd, args] = nodeCommand(['-e', 'process.stdout.write(String(require(".").implementation.taggedValues()))']);
    const child = spawnSync(cmd, args, {
        cwd: path.join(__dirname, '..'),
        env: { ...process.env, KOFFI_RS_TAGGED: '0' },
        encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, 'false');
});

test('J2C-01 · results handed back as tagged values are plain numbers', { skip }, () => {
    const { testLibPath } = require('./helpers.js');
    const lib = koffi.load(testLibPath);
    const inc = lib.func('int kt_i32_inc(int x)');
    const sub = lib.func('double kt_double_sub(double a, double b)');
    const values = [];
    for (let i = 0; i < 10_000; i++) values.push(inc(i));
    assert.ok(values.every((v, i) => v === i + 1));
    assert.equal(values.reduce((a, b) => a + b, 0), (10_000 * 10_001) / 2);
    assert.ok(Object.is(sub(-0, 0), -0));
    assert.equal(sub(7, 2), 5);
    assert.equal(sub(0.75, 0.25), 0.5);
    const m = new Map([[inc(1), 'two']]);
    assert.equal(m.get(2), 'two');
});
