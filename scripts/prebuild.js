#!/usr/bin/env node
// `npm run prebuild`: builds the addon for every target that ships prebuilt, into
// build/<platform>_<arch>/koffi.node, where lib/native.js looks for it and `npm pack` takes it.
//
// Linux addons are linked against glibc 2.28 (the oldest glibc that Node 18 and later run on),
// with cargo-zigbuild and Zig from the package registries (crates.io, PyPI): the build machine's
// own glibc may be newer than the users'. Each addon's versioned glibc symbols are then read
// back (objdump -T) and the build fails if any is newer than that.
//
//   node scripts/prebuild.js             every target
//   node scripts/prebuild.js linux_x64   only these
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');

/** What ships prebuilt: folder under build/, Rust target, and the glibc it is linked against. */
const TARGETS = [
    { dir: 'linux_x64', rust: 'x86_64-unknown-linux-gnu', glibc: '2.28' },
    { dir: 'linux_arm64', rust: 'aarch64-unknown-linux-gnu', glibc: '2.28' },
    { dir: 'linux_arm', rust: 'armv7-unknown-linux-gnueabihf', glibc: '2.28' },
    { dir: 'linux_riscv64', rust: 'riscv64gc-unknown-linux-gnu', glibc: '2.28' },
];

function run(cmd, args, opts = {}) {
    console.log(`> ${cmd} ${args.join(' ')}`);
    execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
}

function works(cmd, args) {
    try {
        execFileSync(cmd, args, { stdio: 'ignore' });
        return true;
    } catch {
        return false;
    }
}

/** Zig (PyPI's `ziglang`, which cargo-zigbuild finds by itself) and cargo-zigbuild (crates.io). */
function ensureTools(targets) {
    if (!works('python3', ['-m', 'ziglang', 'version']))
        run('python3', ['-m', 'pip', 'install', '--quiet', 'ziglang==0.17.1']);
    if (!works('cargo-zigbuild', ['--version']))
        run('cargo', ['install', '--quiet', '--locked', 'cargo-zigbuild@0.24.1']);
    const installed = execFileSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' }).split('\n');
    for (const t of targets) {
        if (!installed.includes(t.rust))
            run('rustup', ['target', 'add', t.rust]);
    }
}

/** A glibc version (`2.28`, or a symbol version `GLIBC_2.28`) as one comparable number. */
function glibcOrder(version) {
    const [major, minor = 0, patch = 0] = version.replace(/^GLIBC_/, '').split('.').map(Number);
    return (major * 1000 + minor) * 1000 + patch;
}

/** The glibc symbol versions an ELF file needs (`GLIBC_2.17`, …), newest last. */
function glibcNeeds(file) {
    const text = execFileSync('objdump', ['-T', file], { encoding: 'utf8' });
    return [...new Set(text.match(/GLIBC_[0-9.]+/g) || [])].sort((a, b) => glibcOrder(a) - glibcOrder(b));
}

function main() {
    const only = process.argv.slice(2);
    const targets = TARGETS.filter((t) => !only.length || only.includes(t.dir));
    if (!targets.length)
        throw new Error(`No such target: ${only.join(', ')} (known: ${TARGETS.map((t) => t.dir).join(', ')})`);
    ensureTools(targets);
    // A target folder of its own: the native and cross builds of ci/ keep theirs.
    const targetDir = path.join(root, 'target', 'prebuild');
    for (const t of targets) {
        run('cargo', ['zigbuild', '--release', '--lib', '--target', `${t.rust}.${t.glibc}`], {
            // Without symbols the addon is half the size; panics still name their place.
            env: { ...process.env, CARGO_TARGET_DIR: targetDir, CARGO_PROFILE_RELEASE_STRIP: 'symbols' },
        });
        const built = path.join(targetDir, t.rust, 'release', 'libkoffi_rs.so');
        const out = path.join(root, 'build', t.dir);
        fs.mkdirSync(out, { recursive: true });
        fs.copyFileSync(built, path.join(out, 'koffi.node'));
        const needs = glibcNeeds(path.join(out, 'koffi.node'));
        const newer = needs.filter((v) => glibcOrder(v) > glibcOrder(t.glibc));
        if (newer.length)
            throw new Error(`build/${t.dir}/koffi.node needs ${newer.join(', ')}, newer than glibc ${t.glibc}`);
        const size = fs.statSync(path.join(out, 'koffi.node')).size;
        console.log(`prebuild: build/${t.dir}/koffi.node, ${(size / 1024).toFixed(0)} KiB, glibc needs up to ${needs[needs.length - 1] || 'none'}`);
    }
}

try {
    main();
} catch (err) {
    console.error(`prebuild: ${err.message}`);
    process.exit(1);
}
