// Shared by the JS tests: the module under test and the paths of the test library.
// KOFFI_IMPL=upstream runs the same tests against koffi@2.16.3 (a devDependency), which is how
// expectations are checked against the real thing: `npm run test:upstream`.
'use strict';

const path = require('path');

const upstream = process.env.KOFFI_IMPL === 'upstream';
const koffi = upstream ? require('koffi') : require('..');
const build = path.join(__dirname, '..', 'build');
const ext = koffi.extension;

module.exports = {
    koffi,
    upstream,
    testLibPath: path.join(build, 'libkoffitest' + ext),
    libcPath: process.platform === 'linux' ? 'libc.so.6' : null,
    libmPath: process.platform === 'linux' ? 'libm.so.6' : null,
};
