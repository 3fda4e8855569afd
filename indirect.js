// Entry point for bundlers (spec MOD-07): never requires the .node file statically.
'use strict';

const { loadNative } = require('./lib/native.js');

module.exports = require('./lib/api.js').build(loadNative());
