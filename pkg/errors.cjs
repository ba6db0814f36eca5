'use strict';
// Shared helpers of every entry point (conversion-free: the engines throw the errors themselves).
// Also the source of dist/web/errors.js (see scripts/build.mjs): it imports nothing and ends with
// its `module.exports` line.

/** The stable error codes, identical in every language. */
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

module.exports = { ERROR_CODES, isStatusError };
