'use strict';
// Loads the addon built for this platform (scripts: pkg/scripts/build.mjs; the file name:
// platform.js). This package holds the binaries it was built with (see README.md); anywhere else
// the require fails and the package `mqtt-status` falls back to WebAssembly.
const { platformTriple, addonFile } = require('./platform.js');

const triple = platformTriple();
let addon;
try {
  addon = require(`./${addonFile()}`);
} catch (e) {
  const err = new Error(`mqtt-status-native: no addon for ${triple} in this package (${e.message})`);
  err.code = 'MODULE_NOT_FOUND';
  err.cause = e;
  throw err;
}
module.exports = addon;
module.exports.platform = triple;
