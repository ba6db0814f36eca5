'use strict';
// Loads the addon built for this platform (scripts: pkg/scripts/build.mjs). This package holds
// the binaries it was built with (see README.md); anywhere else the require fails and the
// package `mqtt-status` falls back to WebAssembly.
const { platform, arch } = process;
let triple;
if (platform === 'linux') {
  const glibc = process.report && process.report.getReport().header.glibcVersionRuntime;
  triple = `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
} else if (platform === 'win32') {
  triple = `win32-${arch}-msvc`;
} else {
  triple = `${platform}-${arch}`;
}
const file = `./mqtt-status-native.${triple}.node`;
let addon;
try {
  addon = require(file);
} catch (e) {
  const err = new Error(`mqtt-status-native: no addon for ${triple} in this package (${e.message})`);
  err.code = 'MODULE_NOT_FOUND';
  err.cause = e;
  throw err;
}
module.exports = addon;
module.exports.platform = triple;
