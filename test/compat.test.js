// docs/COMPAT.md must list every spec item, with a test for each done or partial one, and be
// current (scripts/compat.js regenerates it).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const path = require('path');
const { nodeCommand } = require('./helpers.js');

test('docs/COMPAT.md is complete and current', () => {
    const [cmd, args] = nodeCommand([path.join(__dirname, '..', 'scripts', 'compat.js'), '--check']);
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
});
