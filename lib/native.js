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

function candidates() {
    const root = path.join(__dirname, '..');
    const triplet = `${process.platform}_${process.arch}`;
    const list = [
        process.env.KOFFI_RS_NATIVE,
        path.join(root, 'build', 'koffi.node'),
        path.join(root, 'build', triplet, 'koffi.node'),
        path.join(root, 'build', 'musl_' + process.arch, 'koffi.node'),
    ];
    if (process.resourcesPath)
        list.push(path.join(process.resourcesPath, 'koffi-rs', triplet, 'koffi.node'));
    return list.filter(Boolean);
}

function loadNative() {
    checkEngine();
    for (const file of candidates()) {
        if (!fs.existsSync(file))
            continue;
        const native = { exports: {} };
        process.dlopen(native, file);
        if (native.exports.implementation?.version !== require('../package.json').version)
            throw new Error('Mismatched native Koffi modules');
        return native.exports;
    }
    throw new Error(`Cannot find the native Koffi module; did you run 'npm install' (looked in ${candidates().join(', ')})?`);
}

module.exports = { loadNative };
