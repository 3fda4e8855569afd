// Shared by the JS tests: the module under test and the paths of the test library.
// KOFFI_IMPL=upstream runs the same tests against koffi@2.16.3 (a devDependency), which is how
// expectations are checked against the real thing: `npm run test:upstream`.
// For a foreign architecture (ci/cross.sh), KOFFI_RS_BUILD is the directory holding the test
// library (default build/) and KOFFI_RS_NODE_RUNNER the emulator command that runs Node
// (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu"); the addon itself comes from KOFFI_RS_NATIVE
// (lib/native.js).
'use strict';

const path = require('path');

const upstream = process.env.KOFFI_IMPL === 'upstream';
const koffi = upstream ? require('koffi') : require('..');
const build = process.env.KOFFI_RS_BUILD || path.join(__dirname, '..', 'build');
const runner = (process.env.KOFFI_RS_NODE_RUNNER || '').split(' ').filter(Boolean);

// The command and arguments that run this Node with `args`: [process.execPath, args], behind the
// emulator when there is one (the host cannot execute a foreign process.execPath by itself).
function nodeCommand(args) {
    return runner.length ? [runner[0], [...runner.slice(1), process.execPath, ...args]] : [process.execPath, args];
}

const ext = koffi.extension;

// The data model of this process, for tests whose sizes depend on it: pointers (and size_t) are 4
// bytes on 32-bit targets; `long` is 4 bytes there and on Windows, 8 elsewhere.
const pointerSize = ['arm', 'ia32'].includes(process.arch) ? 4 : 8;
const longSize = pointerSize === 4 || process.platform === 'win32' ? 4 : 8;

module.exports = {
    koffi,
    pointerSize,
    longSize,
    upstream,
    testLibPath: path.join(build, 'libkoffitest' + ext),
    libcPath: process.platform === 'linux' ? 'libc.so.6' : null,
    libmPath: process.platform === 'linux' ? 'libm.so.6' : null,
    nodeRunner: runner.length ? runner.join(' ') : null,
    // Set by ci/sanitize.sh when the addon runs under AddressSanitizer: the few things the
    // sanitizer runtime refuses (dlopen with RTLD_DEEPBIND aborts the process) are left out.
    sanitizer: process.env.KOFFI_RS_SANITIZER || null,
    nodeCommand,
};
