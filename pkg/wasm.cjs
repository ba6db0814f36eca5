'use strict';
// `mqtt-status/wasm`: the WebAssembly backend in Node, whatever else is installed.
const wasm = require('./dist/node/mqtt_status_wasm.cjs');
const { ERROR_CODES, isStatusError, freedError, StatusStore } = require('./errors.cjs');
const { installIngest, guardFreed } = require('./report.cjs');

exports.StatusEngine = installIngest(guardFreed(wasm.StatusEngine, freedError));
// No status store in WebAssembly: `StatusStore.open` rejects (code store_unavailable).
exports.StatusStore = StatusStore;
exports.backend = 'wasm';
exports.nativeError = null;
exports.init = async function init() {};
exports.initSync = function initSync() {};
exports.ERROR_CODES = ERROR_CODES;
exports.isStatusError = isStatusError;
