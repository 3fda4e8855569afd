// koffi-rs as an ES module (index.mjs): the default export is the CommonJS module itself, and
// its functions are named exports too, no more and no fewer.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const path = require('path');
const { pathToFileURL } = require('url');

const { upstream } = require('./helpers.js');

const cjs = require('..');
const skip = upstream && 'koffi-rs entry';
const entry = pathToFileURL(path.join(__dirname, '..', 'index.mjs')).href;

test('the default export is the object require() gives', { skip }, async () => {
    const ns = await import(entry);
    assert.strictEqual(ns.default, cjs);
});

test('every function of the API is a named export, and nothing else is', { skip }, async () => {
    const ns = await import(entry);
    const named = Object.keys(ns).filter((k) => k !== 'default').sort();
    assert.deepStrictEqual(named, Object.keys(cjs).sort());
    for (const k of named) assert.strictEqual(ns[k], cjs[k], k);
    assert.strictEqual(typeof ns.in, 'function', "`in`, a reserved word, is exported under its own name");
});

test("import from 'koffi-rs' resolves to the ES module through the package's exports", { skip }, async () => {
    const ns = await import('koffi-rs');
    assert.strictEqual(ns.default, cjs);
    assert.strictEqual(ns.sizeof('int'), 4);
    const { struct, sizeof } = ns;
    assert.strictEqual(sizeof(struct({ a: 'int', b: 'double' })), 16);
});
