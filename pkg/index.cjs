'use strict';
// Node entry of `mqtt-status`: the native addon (optional dependency `mqtt-status-native`) when it
// is installed and loads, otherwise the WebAssembly build. Both give identical answers.
// MQTT_STATUS_BACKEND=native|wasm forces one (and fails loudly if it cannot load).
const choice = process.env.MQTT_STATUS_BACKEND || '';
let impl;
let nativeError = null;

if (choice === 'native') {
  impl = require('./native.cjs');
} else if (choice === 'wasm') {
  impl = require('./wasm.cjs');
} else if (choice === '' || choice === 'auto') {
  try {
    impl = require('./native.cjs');
  } catch (e) {
    nativeError = e;
    impl = require('./wasm.cjs');
  }
} else {
  throw new Error(`MQTT_STATUS_BACKEND must be "native", "wasm" or "auto", not ${JSON.stringify(choice)}`);
}

/** The engine class of the loaded backend. */
exports.StatusEngine = impl.StatusEngine;
/**
 * The status store class of the loaded backend (`await StatusStore.open(url, options)`); the
 * WebAssembly backend has none: its `open` rejects with code store_unavailable.
 */
exports.StatusStore = impl.StatusStore;
/** Which backend loaded: "native" or "wasm". */
exports.backend = impl.backend;
/** Why the native addon did not load when the WebAssembly fallback was taken (else null). */
exports.nativeError = nativeError;
/** Nothing to do in Node (both backends load synchronously); kept so code runs unchanged in browsers. */
exports.init = impl.init;
exports.initSync = impl.initSync;
exports.ERROR_CODES = impl.ERROR_CODES;
exports.isStatusError = impl.isStatusError;
