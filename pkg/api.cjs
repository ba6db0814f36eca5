'use strict';
// The JavaScript API of `mqtt-status`: the classes `StatusEngine` and `StatusStore`, written
// once for every backend. `bind(raw)` defines them over one backend's raw module — the native
// addon `mqtt-status-native` (bindings/node) or the WebAssembly build (bindings/wasm) — and each
// instance delegates every call to its raw object. The work done here: unpacking transitions
// and reports (packed.cjs), refusing calls on a freed engine, and making every store call a
// Promise. Nothing here judges anything; index.d.ts documents every member.
//
// Adding a method: the raw method in bindings/node/src/lib.rs and bindings/wasm/src/lib.rs (a
// store method: bindings/node/src/store.rs), one delegating method below, its declaration in
// index.d.ts. tests/js/types.test.mjs fails until the four agree.
//
// This file is also the source of dist/web/api.js (an ES module written by scripts/build.mjs):
// it loads only sibling .cjs files, one destructuring `require` line each, and ends with its
// `module.exports` line.
const { freedError, noStoreError } = require('./errors.cjs');
const { unpackTransition, unpackReport } = require('./packed.cjs');

/** The first constructor argument that hands a class a raw object (unreachable from outside). */
const ADOPT = Symbol('adopt');

/** What a freed engine delegates to: every method throws `engine_freed`. */
const FREED = new Proxy(
  {},
  {
    get() {
      throw freedError();
    },
  },
);

/**
 * `{StatusEngine, StatusStore}` over a backend's raw module: `raw.StatusEngine`,
 * `raw.eventTypes()` (the names of the event type codes in packed transitions) and
 * `raw.StatusStore` (absent in WebAssembly: `StatusStore.open` then rejects, `store_unavailable`).
 */
function bind(raw) {
  const RawEngine = raw.StatusEngine;
  const RawStore = raw.StatusStore;
  // Asked on first use: in browsers the module is not instantiated until `init()`.
  let types = null;
  const eventTypes = () => (types ??= raw.eventTypes());

  /** The status engine: feed it notifications, ask who is online. */
  class StatusEngine {
    #raw;

    constructor(options, adopted) {
      this.#raw = options === ADOPT ? adopted : new RawEngine(options);
    }

    static restore(bytes) {
      return new StatusEngine(ADOPT, RawEngine.restore(bytes));
    }

    ingest(body, tag) {
      return unpackTransition(this.#raw.ingestPacked(body, tag), eventTypes());
    }

    ingestMany(input, options) {
      return unpackReport(this.#raw.ingestManyPacked(input, options), eventTypes());
    }

    isOnline(clientId) {
      return this.#raw.isOnline(clientId);
    }

    client(clientId) {
      return this.#raw.client(clientId);
    }

    onlineClients(query) {
      return this.#raw.onlineClients(query);
    }

    countOnline(group) {
      return this.#raw.countOnline(group);
    }

    groups() {
      return this.#raw.groups();
    }

    stats() {
      return this.#raw.stats();
    }

    advance(nowMs) {
      return this.#raw.advance(nowMs);
    }

    observe(clientId, online, timeMs) {
      return this.#raw.observe(clientId, online, timeMs);
    }

    staleOnline(olderThanMs, nowMs, limit) {
      return this.#raw.staleOnline(olderThanMs, nowMs, limit);
    }

    snapshot() {
      return this.#raw.snapshot();
    }

    clientRecord(clientId) {
      return this.#raw.clientRecord(clientId);
    }

    loadRecord(clientId, bytes) {
      this.#raw.loadRecord(clientId, bytes);
    }

    merge(other) {
      if (!(other instanceof StatusEngine)) {
        throw new TypeError('merge() takes a StatusEngine of the same backend');
      }
      if (other.#raw === FREED) throw freedError();
      this.#raw.merge(other.#raw);
    }

    free() {
      if (this.#raw === FREED) return; // freeing twice is harmless
      this.#raw.free();
      this.#raw = FREED;
    }
  }

  /** The status store: the engine's API over durable, shared state; every method a Promise. */
  class StatusStore {
    #raw;

    constructor(token, opened) {
      if (token !== ADOPT) {
        throw RawStore ? new TypeError('use `await StatusStore.open(url, options)`') : noStoreError();
      }
      this.#raw = opened;
    }

    static async open(url, options) {
      if (!RawStore) throw noStoreError();
      return new StatusStore(ADOPT, await RawStore.open(url, options));
    }

    async ingest(body, tag) {
      return unpackTransition(await this.#raw.ingestPacked(body, tag), eventTypes());
    }

    async ingestMany(input) {
      return unpackReport(await this.#raw.ingestManyPacked(input), eventTypes());
    }

    async isOnline(clientId) {
      return this.#raw.isOnline(clientId);
    }

    async client(clientId) {
      return this.#raw.client(clientId);
    }

    async onlineClients(query) {
      return this.#raw.onlineClients(query);
    }

    async countOnline(group) {
      return this.#raw.countOnline(group);
    }

    async groups() {
      return this.#raw.groups();
    }

    async stats() {
      return this.#raw.stats();
    }

    async snapshot() {
      return this.#raw.snapshot();
    }

    async loadSnapshot(bytes) {
      return this.#raw.loadSnapshot(bytes);
    }

    async transitions(after, limit) {
      return this.#raw.transitions(after, limit);
    }

    async advance(nowMs) {
      return this.#raw.advance(nowMs);
    }

    async observe(clientId, online, timeMs) {
      return this.#raw.observe(clientId, online, timeMs);
    }

    async staleOnline(olderThanMs, nowMs, limit) {
      return this.#raw.staleOnline(olderThanMs, nowMs, limit);
    }

    async groupCommits() {
      return this.#raw.groupCommits();
    }

    async close() {
      return this.#raw.close();
    }
  }

  return { StatusEngine, StatusStore };
}

module.exports = { bind };
