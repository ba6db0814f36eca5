'use strict';
// `mqtt-status/wasm`: the API (api.cjs) over the WebAssembly build in Node, whatever else is
// installed. It has no status store: `StatusStore.open` rejects (code store_unavailable).
const { bind } = require('./api.cjs');
const { ERROR_CODES, isStatusError } = require('./errors.cjs');

const { StatusEngine, StatusStore } = bind(require('./dist/node/mqtt_status_wasm.cjs'));
exports.StatusEngine = StatusEngine;
exports.StatusStore = StatusStore;
exports.backend = 'wasm';
exports.nativeError = null;
exports.init = async function init() {};
exports.initSync = function initSync() {};
exports.ERROR_CODES = ERROR_CODES;
exports.isStatusError = isStatusError;
