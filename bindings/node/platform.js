'use strict';
// The platform part of the addon's file name, `mqtt-status-native.<platform>.node` (napi-rs
// style: linux-x64-gnu, linux-x64-musl, darwin-arm64, win32-x64-msvc, …). The one definition:
// index.js loads the file of this name and pkg/scripts/build.mjs writes it.
function platformTriple() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = process.report && process.report.getReport().header.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** The addon's file name on this platform. */
function addonFile() {
  return `mqtt-status-native.${platformTriple()}.node`;
}

module.exports = { platformTriple, addonFile };
