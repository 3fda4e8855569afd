// docs/COMPAT.md must list every spec item, with a test for each done or partial one, and be
// current (scripts/compat.js regenerates it).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const path = require('path');

test('docs/COMPAT.md is complete and current', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'compat.js'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
});
