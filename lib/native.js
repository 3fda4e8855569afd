// Finds and loads the native addon (spec MOD-06, MOD-08).
'use strict';

const fs = require('fs');
const path = require('path');

function checkEngine() {
    const [major, minor] = process.versions.node.split('.').map(Number);
    const napi = Number(process.versions.napi || 0);
    if (napi < 8 && !(major >= 16 || (major === 15 && minor >= 12) || (major === 14 && minor >= 17) || (major === 12 && minor >= 22)))
        throw new Error(`This engine is based on Node ${process.versions.node}, but koffi-rs requires Node-API version 8 (Node >= 16)`);
}

/** The C library of this Linux process: 'musl' when its loader is mapped, else 'glibc'. Read
 * from /proc (a fraction of a millisecond); a diagnostic report, the fallback, takes several. */
function linuxLibc() {
    try {
        return /\/ld-musl-|\/libc\.musl-/.test(fs.readFileSync('/proc/self/maps', 'utf8')) ? 'musl' : 'glibc';
    } catch {
        return process.report?.getReport?.().header?.glibcVersionRuntime ? 'glibc' : 'musl';
    }
}

/** The folder name of this machine's prebuilt addon: `<platform>_<arch>`, `musl_<arch>` on
 * musl Linux (prebuilt Linux addons are for glibc). */
function prebuiltName() {
    if (process.platform === 'linux' && linuxLibc() === 'musl')
        return `musl_${process.arch}`;
    return `${process.platform}_${process.arch}`;
}

/** ELF machine numbers (`e_machine`) of the architectures Node runs on. */
const ELF_MACHINES = { 3: 'ia32', 40: 'arm', 62: 'x64', 183: 'arm64', 243: 'riscv64', 258: 'loong64' };

/** The architecture an ELF file was built for, when it is not this process's (else null). A
 * foreign one fails to load with a misleading message on some systems (glibc says "No such file
 * or directory" for a 64-bit file of another machine). */
function foreignArch(file) {
    try {
        const head = Buffer.alloc(20);
        const fd = fs.openSync(file, 'r');
        try {
            fs.readSync(fd, head, 0, 20, 0);
        } finally {
            fs.closeSync(fd);
        }
        if (head.readUInt32BE(0) !== 0x7f454c46)
            return null;
        const arch = ELF_MACHINES[head.readUInt16LE(18)];
        return arch && arch !== process.arch ? arch : null;
    } catch {
        return null;
    }
}

function candidates() {
    const root = path.join(__dirname, '..');
    const name = prebuiltName();
    const list = [
        process.env.KOFFI_RS_NATIVE,
        // Built from source (a checkout, or an install with no prebuilt addon for this machine).
        path.join(root, 'build', 'koffi.node'),
        path.join(root, 'build', name, 'koffi.node'),
    ];
    if (process.resourcesPath)
        list.push(path.join(process.resourcesPath, 'koffi-rs', name, 'koffi.node'));
    return list.filter(Boolean);
}

function loadNative() {
    checkEngine();
    const failures = [];
    for (const file of candidates()) {
        if (!fs.existsSync(file))
            continue;
        const native = { exports: {} };
        try {
            process.dlopen(native, file);
        } catch (err) {
            // A prebuilt addon this system cannot load (an older C library, say): say so below.
            const other = foreignArch(file);
            failures.push(`${file}: ${other ? `built for ${other}, not ${process.arch}` : err.message.split('\n')[0]}`);
            continue;
        }
        if (native.exports.implementation?.version !== require('../package.json').version)
            throw new Error('Mismatched native Koffi modules');
        return native.exports;
    }
    const looked = candidates().join(', ');
    const why = failures.length ? `; could not load ${failures.join('; ')}` : '';
    throw new Error(`Cannot find the native Koffi module for ${prebuiltName()} (looked in ${looked})${why}. ` +
        `No prebuilt addon fits this machine: reinstall with Rust's cargo and a C compiler on PATH to build it from source`);
}

module.exports = { loadNative, prebuiltName };
