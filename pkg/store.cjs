'use strict';
// `StatusStore` of the native backend (the addon's class, see bindings/node/src/store.rs): every
// method returns a Promise. The addon runs each call on libuv's thread pool and resolves packed
// transitions and reports, unpacked here as the engine's are (report.cjs). Nothing here judges.
const { unpackReport, unpackTransition } = require('./report.cjs');

function define(target, name, value) {
  Object.defineProperty(target, name, { value, writable: true, configurable: true });
}

/**
 * Gives the addon's `StatusStore` `ingest` and `ingestMany` (unpacking what the packed variants
 * resolve) and makes every method a Promise-returning one even when the argument conversion
 * throws (a getter or `toJSON` that throws rejects, it does not throw).
 */
function installStore(Store, eventTypes) {
  const proto = Store.prototype;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (name === 'constructor' || typeof d.value !== 'function') continue;
    const method = d.value;
    define(proto, name, { async [name](a, b) { return method.call(this, a, b); } }[name]);
  }
  define(proto, 'ingest', async function ingest(input, tag) {
    return unpackTransition(await this._ingestPacked(input, tag), eventTypes);
  });
  define(proto, 'ingestMany', async function ingestMany(input) {
    return unpackReport(await this._ingestManyPacked(input), eventTypes);
  });
  // The addon's static `open` cannot be redefined: the exported class is a facade sharing the
  // addon's prototype (so `instanceof` holds) whose `open` always returns a Promise.
  function StatusStore() {
    throw new TypeError('use `await StatusStore.open(url, options)`');
  }
  StatusStore.prototype = proto;
  define(StatusStore, 'open', async function open(url, options) {
    return Store.open(url, options);
  });
  return StatusStore;
}

module.exports = { installStore };
