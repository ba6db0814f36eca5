'use strict';
// Transitions and batch reports, rebuilt in JavaScript from the packed form both backends return
// (see bindings/js-common): creating the objects here costs a fraction of creating them from
// native code or WebAssembly, one boundary crossing per property or string. Nothing here judges
// anything.
//
// This file is the source of dist/web/report.js as well (an ES module written by
// scripts/build.mjs), so it imports nothing and ends with its `module.exports` line.

/** One transition; property order as in every other backend and language. */
function transition(text, start, clientEnd, channelEnd, time, flags, eventTypes) {
  return {
    clientId: text.slice(start, clientEnd),
    online: (flags & 1) === 1,
    time,
    channelId: text.slice(clientEnd, channelEnd),
    eventType: eventTypes[flags >>> 1],
  };
}

/**
 * The report `{applied, duplicates, late, rejected, errors, transitions}` from `[head, text, cols]`: `head`
 * the report without transitions as JSON; transition i is
 * `cols[4i..4i+4] = [clientIdEnd, channelIdEnd, time, flags]` with both ids back to back in
 * `text` (UTF-16 offsets) and `flags = online | eventTypeCode << 1`.
 */
function unpackReport(packed, eventTypes) {
  const [head, text, cols] = packed;
  const report = JSON.parse(head);
  const n = cols.length >>> 2;
  const transitions = new Array(n);
  let start = 0;
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const channelEnd = cols[j + 1];
    transitions[i] = transition(text, start, cols[j], channelEnd, cols[j + 2], cols[j + 3], eventTypes);
    start = channelEnd;
  }
  report.transitions = transitions;
  return report;
}

/** The transition (or null) from `null` or `[text, clientIdEnd, time, flags]`. */
function unpackTransition(packed, eventTypes) {
  if (packed === null) return null;
  const [text, clientEnd, time, flags] = packed;
  return transition(text, 0, clientEnd, text.length, time, flags, eventTypes);
}

function define(proto, name, value) {
  Object.defineProperty(proto, name, { value, writable: true, configurable: true });
}

/**
 * WebAssembly only: makes every method of a freed engine (or `merge` with a freed one) throw
 * `freedError()` instead of wasm-bindgen's "null pointer passed to rust" (the native addon
 * checks this itself). wasm-bindgen zeroes `__wbg_ptr` when an object is freed.
 */
function guardFreed(Engine, freedError) {
  const proto = Engine.prototype;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (name === 'constructor' || name === 'free' || typeof d.value !== 'function') continue;
    const method = d.value;
    define(proto, name, {
      // Two parameters: no method takes more, and a fixed arity keeps the hot path cheap.
      [name](a, b) {
        if (this.__wbg_ptr === 0 || (a instanceof Engine && a.__wbg_ptr === 0)) throw freedError();
        return method.call(this, a, b);
      },
    }[name]);
  }
  return Engine;
}

/** Gives a backend's engine class `ingest` and `ingestMany`, built on its packed variants. */
function installIngest(Engine) {
  // Asked on first use: in browsers the module is not instantiated until `init()`.
  let eventTypes = null;
  define(Engine.prototype, 'ingest', function ingest(input, tag) {
    const packed = this._ingestPacked(input, tag);
    return unpackTransition(packed, (eventTypes ??= Engine._eventTypes()));
  });
  define(Engine.prototype, 'ingestMany', function ingestMany(input, options) {
    const packed = this._ingestManyPacked(input, options);
    return unpackReport(packed, (eventTypes ??= Engine._eventTypes()));
  });
  return Engine;
}

module.exports = { unpackReport, unpackTransition, installIngest, guardFreed };
