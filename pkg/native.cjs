'use strict';
// `mqtt-status/native`: the native addon (package `mqtt-status-native`); throws if it is not
// installed or not built for this platform.
const native = require('mqtt-status-native');
const { ERROR_CODES, isStatusError } = require('./errors.cjs');
const { installIngest } = require('./report.cjs');
const { installStore } = require('./store.cjs');

exports.StatusEngine = installIngest(native.StatusEngine);
exports.StatusStore = installStore(native.StatusStore, native.StatusEngine._eventTypes());
exports.backend = 'native';
exports.nativeError = null;
exports.init = async function init() {};
exports.initSync = function initSync() {};
exports.ERROR_CODES = ERROR_CODES;
exports.isStatusError = isStatusError;
