#!/usr/bin/env node
// The package's install script. With a prebuilt addon for this machine in the package
// (build/<platform>_<arch>/koffi.node, made by `npm run prebuild`) there is nothing to do;
// otherwise the addon is built from source with cargo (scripts/build.js). A git checkout always
// builds from source, as does KOFFI_RS_BUILD_FROM_SOURCE=1.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { prebuiltName } = require('../lib/native.js');

const root = path.join(__dirname, '..');

/** Whether `cmd --version` runs. */
function found(cmd) {
    try {
        execFileSync(cmd, ['--version'], { stdio: 'ignore' });
        return true;
    } catch {
        return false;
    }
}

/** The prebuilt addon for this machine if the package has one that loads here; else why not. */
function prebuilt() {
    const file = path.join(root, 'build', prebuiltName(), 'koffi.node');
    if (!fs.existsSync(file))
        return { why: `the package has no prebuilt addon for ${prebuiltName()}` };
    try {
        process.dlopen({ exports: {} }, file);
        return { file };
    } catch (err) {
        return { why: `its prebuilt addon for ${prebuiltName()} does not load here (${err.message.split('\n')[0]})` };
    }
}

function main() {
    const checkout = fs.existsSync(path.join(root, '.git'));
    const forced = process.env.KOFFI_RS_BUILD_FROM_SOURCE === '1';
    let why = checkout ? 'a git checkout builds from source' : 'KOFFI_RS_BUILD_FROM_SOURCE=1';
    if (!checkout && !forced) {
        const found = prebuilt();
        if (found.file) {
            console.log(`koffi-rs: using the prebuilt addon ${path.relative(root, found.file)}`);
            return;
        }
        why = found.why;
    }
    const cc = process.env.CC || 'cc';
    const missing = [];
    if (!found('cargo'))
        missing.push("Rust's cargo (https://rustup.rs)");
    if (!found(cc))
        missing.push(`a C compiler (${cc}: gcc or clang)`);
    if (missing.length) {
        console.error(`koffi-rs: ${why}, so it must be built from source, which needs ${missing.join(' and ')} on PATH. ` +
            'Install them and run npm install again.');
        process.exit(1);
    }
    console.log(`koffi-rs: building from source (${why})`);
    execFileSync(process.execPath, [path.join(__dirname, 'build.js')], { stdio: 'inherit', cwd: root });
}

main();
