#!/usr/bin/env node
// Builds the native addon with cargo (release) and the C libraries used by the demo and the
// tests, all into build/. Run by `npm install` and `npm run build`.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const out = path.join(root, 'build');
fs.mkdirSync(out, { recursive: true });

function run(cmd, args, opts = {}) {
    console.log(`> ${cmd} ${args.join(' ')}`);
    execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
}

const profile = process.env.KOFFI_RS_PROFILE === 'debug' ? 'debug' : 'release';
run('cargo', ['build', '--lib', ...(profile === 'release' ? ['--release'] : [])]);

const target = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const lib = { linux: 'libkoffi_rs.so', darwin: 'libkoffi_rs.dylib', win32: 'koffi_rs.dll' }[process.platform]
    || 'libkoffi_rs.so';
fs.copyFileSync(path.join(target, profile, lib), path.join(out, 'koffi.node'));

// Small C libraries built from source in the repository: the demo's and the test suite's.
const cc = process.env.CC || 'cc';
const ext = process.platform === 'darwin' ? '.dylib' : (process.platform === 'win32' ? '.dll' : '.so');
const threaded = new Set(['libkoffitest', 'libkoffilife']);
for (const [src, name] of [['example/example.c', 'libexample'], ['test/native/koffitest.c', 'libkoffitest'],
                           ['test/native/lifetimes.c', 'libkoffilife']]) {
    if (fs.existsSync(path.join(root, src)) && !(name === 'libkoffilife' && process.platform === 'win32'))
        run(cc, ['-O2', '-shared', '-fPIC', ...(threaded.has(name) && process.platform !== 'win32' ? ['-pthread'] : []),
                 '-o', path.join(out, name + ext), src]);
}
