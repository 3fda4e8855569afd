// koffi-rs: the npm entry point. Loads the native addon and adds the parts of the Koffi 2.x API
// that are plain JavaScript: union instances, deprecated aliases and their warnings.
'use strict';

const { loadNative } = require('./lib/native.js');

module.exports = require('./lib/api.js').build(loadNative());
