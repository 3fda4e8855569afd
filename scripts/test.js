#!/usr/bin/env node
// `npm test`: the engine's Rust tests (without Node), then the addon build (incremental), then
// the JS suite with node:test.
'use strict';

const { execFileSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');
function run(cmd, args) {
    console.log(`> ${cmd} ${args.join(' ')}`);
    execFileSync(cmd, args, { stdio: 'inherit', cwd: root });
}

try {
    // The engine and the generated ABI tests (abi-tests/), without Node.
    run('cargo', ['test', '--no-default-features', '--workspace', '--', '--show-output']);
    run(process.execPath, [path.join(__dirname, 'build.js')]);
    run(process.execPath, ['--test', '--test-reporter=spec', 'test/']);
} catch (err) {
    process.exit(err.status || 1);
}
