'use strict';
// Shared helpers of every entry point (conversion-free: the engines throw the errors themselves).
// Also the source of dist/web/errors.js (see scripts/build.mjs): it requires nothing and ends
// with its `module.exports` line.

/**
 * The stable error codes, identical in every language: the core's `ErrorCode::ALL`, which both
 * backends export as `errorCodes()` (tests/js/hardening.test.mjs checks this list, and the
 * `ErrorCode` union of index.d.ts, against them).
 */
const ERROR_CODES = Object.freeze([
  'invalid_json',
  'missing_field',
  'invalid_field',
  'unknown_event_type',
  'tag_mismatch',
  'invalid_snapshot',
  'config_mismatch',
  'store_unavailable',
  'store_locked',
]);

/** Whether `e` is an error thrown by the engine (an `Error` with a known `.code` and `.field`). */
function isStatusError(e) {
  return e instanceof Error && ERROR_CODES.includes(e.code) && 'field' in e;
}

/**
 * The error of a call on a freed engine, as the native addon throws it (`engine_freed`, see
 * bindings/js-common `FREED`; api.cjs throws it for both backends): a usage error of the
 * JavaScript object, not an input error.
 */
function freedError() {
  const e = new Error('StatusEngine was freed');
  e.code = 'engine_freed';
  e.field = null;
  return e;
}

/**
 * The error of `StatusStore.open` in the WebAssembly backend: it has no status store (no Redis
 * connection, no file system in a browser). Code `store_unavailable`, the code a consumer already
 * handles for a store it cannot reach; the message says why and what to use instead.
 */
function noStoreError() {
  const e = new Error(
    'no status store in WebAssembly: the WebAssembly backend has no network connection or file ' +
      'system for a store (Redis, file); use the native backend in Node (package mqtt-status-native)',
  );
  e.code = 'store_unavailable';
  e.field = null;
  return e;
}

module.exports = { ERROR_CODES, isStatusError, freedError, noStoreError };
