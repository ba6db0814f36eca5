'use strict';
// `mqtt-status/native`: the API (api.cjs) over the native addon (package `mqtt-status-native`);
// throws if it is not installed or not built for this platform.
const { bind } = require('./api.cjs');
const { ERROR_CODES, isStatusError } = require('./errors.cjs');

const { StatusEngine, StatusStore } = bind(require('mqtt-status-native'));
exports.StatusEngine = StatusEngine;
exports.StatusStore = StatusStore;
exports.backend = 'native';
exports.nativeError = null;
exports.init = async function init() {};
exports.initSync = function initSync() {};
exports.ERROR_CODES = ERROR_CODES;
exports.isStatusError = isStatusError;
