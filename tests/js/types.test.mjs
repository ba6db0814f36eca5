// The TypeScript declarations (index.d.ts of the installed package) against the real objects of
// both backends, so that a declaration cannot drift: every declared class member exists and
// every real one is declared; the wrapper's classes (pkg/api.cjs) and the raw classes of the two
// Rust crates agree method for method; every declared answer type has exactly the keys of a real
// answer; scripts/types-check.ts (compiled with `tsc` by `npm test` in pkg/) uses every member.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';

const require = createRequire(import.meta.url);
const BACKENDS = { wasm: require('mqtt-status/wasm'), native: require('mqtt-status/native') };
const WASM_GLUE = require.resolve('mqtt-status/wasm').replace(/wasm\.cjs$/, 'dist/node/mqtt_status_wasm.cjs');
const RAW = { wasm: require(WASM_GLUE), native: require('mqtt-status-native') };
const DTS = require.resolve('mqtt-status/package.json').replace(/package\.json$/, 'index.d.ts');
const USES = new URL('../../pkg/scripts/types-check.ts', import.meta.url);

/**
 * `{classes: {Name: {instance, static}}, interfaces: {Name: [keys]}, optional: {Name: [keys]}}`
 * declared in `file` (`optional`: the keys declared `key?:`, which an answer may leave out).
 */
function declared(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const classes = {};
  const interfaces = {};
  const optional = {};
  for (const node of source.statements) {
    if (ts.isClassDeclaration(node)) {
      const members = { instance: [], static: [] };
      for (const m of node.members) {
        if (!ts.isMethodDeclaration(m)) continue;
        const isStatic = m.modifiers?.some((k) => k.kind === ts.SyntaxKind.StaticKeyword);
        members[isStatic ? 'static' : 'instance'].push(m.name.text);
      }
      classes[node.name.text] = members;
    } else if (ts.isInterfaceDeclaration(node)) {
      const props = node.members.filter(ts.isPropertySignature);
      interfaces[node.name.text] = props.map((m) => m.name.text);
      optional[node.name.text] = props.filter((m) => m.questionToken).map((m) => m.name.text);
    }
  }
  return { classes, interfaces, optional };
}

const sorted = (names) => [...names].sort();
/** A class's own method names: on its prototype (`instance`) and on itself (`static`). */
function real(Class) {
  const own = (o) => Object.getOwnPropertyNames(o).filter((n) => typeof Object.getOwnPropertyDescriptor(o, n).value === 'function');
  return {
    instance: sorted(own(Class.prototype).filter((n) => n !== 'constructor')),
    static: sorted(own(Class)),
  };
}
/** The raw method a wrapper method delegates to (ingest and ingestMany unpack a packed answer). */
const rawName = (name) => ({ ingest: 'ingestPacked', ingestMany: 'ingestManyPacked' })[name] ?? name;
/** A raw class's methods, without wasm-bindgen's internals (`__destroy_into_raw`, `__wrap`). */
function rawMethods(Class) {
  const r = real(Class);
  const ours = (n) => !n.startsWith('__');
  return { instance: r.instance.filter(ours), static: r.static.filter(ours) };
}

const { classes, interfaces, optional } = declared(DTS);

test('index.d.ts declares the two classes', () => {
  assert.ok(classes.StatusEngine.instance.includes('ingest'));
  assert.ok(classes.StatusStore.static.includes('open'));
});

for (const [name, backend] of Object.entries(BACKENDS)) {
  test(`${name}: every declared member exists and every real one is declared`, () => {
    for (const cls of ['StatusEngine', 'StatusStore']) {
      const d = classes[cls];
      assert.deepEqual(real(backend[cls]), { instance: sorted(d.instance), static: sorted(d.static) }, `${cls} (${name})`);
    }
  });
}

test('the raw classes of both Rust crates are the wrapper\'s, method for method', () => {
  const engine = classes.StatusEngine;
  const wanted = { instance: sorted(engine.instance.map(rawName)), static: sorted(engine.static.map(rawName)) };
  for (const [name, raw] of Object.entries(RAW)) {
    assert.deepEqual(rawMethods(raw.StatusEngine), wanted, `raw StatusEngine (${name})`);
    assert.equal(typeof raw.eventTypes, 'function', `eventTypes (${name})`);
  }
  const store = classes.StatusStore;
  assert.deepEqual(
    rawMethods(RAW.native.StatusStore),
    { instance: sorted(store.instance.map(rawName)), static: sorted(store.static.map(rawName)) },
    'raw StatusStore (native)',
  );
  assert.equal(RAW.wasm.StatusStore, undefined, 'the WebAssembly build has no store');
});

test('scripts/types-check.ts (compiled by tsc) uses every declared member', () => {
  const uses = readFileSync(USES, 'utf8');
  for (const [cls, d] of Object.entries(classes)) {
    for (const m of [...d.instance, ...d.static]) {
      assert.match(uses, new RegExp(`\\.${m}\\(`), `types-check.ts never calls ${cls}.${m}`);
    }
  }
});

const A = 'GID_a@@@d1';
const ev = (channelId, eventType, time) => ({ clientId: A, channelId, eventType, time, clientIp: '10.0.0.1:1' });

for (const [name, { StatusEngine }] of Object.entries(BACKENDS)) {
  test(`${name}: every declared answer type has exactly the keys of real answers`, () => {
    const e = new StatusEngine();
    const t = e.ingest(ev('c1', 'connect', 1));
    const report = e.ingestMany([ev('c1', 'tcpclean', 2), 'x']);
    const c = e.client(A);
    // With a grace (SPEC §9) the optional keys appear: a pending offline, then a reconnect after
    // the grace that ends an offline period nobody reported.
    const g = new StatusEngine({ offlineGraceMs: 1000 });
    g.ingest(ev('c1', 'connect', 1));
    g.ingest(ev('c1', 'tcpclean', 2));
    const [pending, pendingStats] = [g.client(A), g.stats()];
    const back = g.ingest(ev('c2', 'connect', 5000));
    const stale = g.staleOnline(0, 6000, 5);
    // A close that carried a reason (issue 18: other brokers' formats) shows it.
    const r = new StatusEngine({ source: 'aws' });
    r.ingest({ clientId: A, sessionIdentifier: 's1', eventType: 'disconnected', timestamp: 3, disconnectReason: 'CONNECTION_LOST' });
    const closed = r.client(A).channels[0];
    assert.equal(closed.reason, 'CONNECTION_LOST', `reason (${name})`);
    assert.deepEqual(stale, [{ clientId: A, lastSeen: 5000 }], `staleOnline (${name})`);
    const answers = [
      ['Transition', t],
      ['Transition', back],
      ['Transition', (g.observe(A, false, 6000), g.advance(7000)[0])],
      ['BatchReport', report],
      ['BatchError', report.errors[0]],
      ['ClientStatus', c],
      ['ClientStatus', pending],
      ['ChannelStatus', c.channels[0]],
      ['ChannelStatus', closed],
      ['GroupCount', e.groups()[0]],
      ['Stats', e.stats()],
      ['Stats', pendingStats],
      ['StaleClient', stale[0]],
    ];
    assert.equal(back.offlineSince, 2, `offlineSince (${name})`);
    assert.equal(answers[2][1].eventType, 'observe', `an observation's transition, confirmed (${name})`);
    const seen = {};
    for (const [type, value] of answers) {
      const keys = Object.keys(value);
      const required = interfaces[type].filter((k) => !optional[type].includes(k));
      assert.deepEqual(sorted(keys.filter((k) => required.includes(k))), sorted(required), `${type} (${name}): required keys`);
      assert.deepEqual(keys.filter((k) => !interfaces[type].includes(k)), [], `${type} (${name}): undeclared keys`);
      seen[type] ??= new Set();
      for (const k of keys) seen[type].add(k);
    }
    // Every declared key, optional ones included, is the key of some real answer.
    for (const [type, keys] of Object.entries(seen)) assert.deepEqual(sorted(keys), sorted(interfaces[type]), `${type} (${name})`);
  });

  test(`${name}: every declared option is accepted`, () => {
    for (const key of interfaces.StatusEngineOptions) assert.ok(new StatusEngine({ [key]: null }), key);
    const q = interfaces.OnlineClientsQuery;
    assert.deepEqual(new StatusEngine().onlineClients(Object.fromEntries(q.map((k) => [k, null]))), []);
    const o = interfaces.IngestManyOptions;
    assert.equal(new StatusEngine().ingestMany('', Object.fromEntries(o.map((k) => [k, null]))).applied, 0);
  });
}

test('native store: the feed page types have exactly the keys of a real page', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-status-types-'));
  try {
    const store = await BACKENDS.native.StatusStore.open(`file:${join(dir, 'store')}`);
    await store.ingest(ev('c1', 'connect', 1));
    const page = await store.transitions();
    assert.deepEqual(sorted(Object.keys(page)), sorted(interfaces.FeedPage));
    assert.deepEqual(sorted(Object.keys(page.entries[0])), sorted(interfaces.FeedEntry));
    const required = interfaces.Transition.filter((k) => !optional.Transition.includes(k));
    assert.deepEqual(sorted(Object.keys(page.entries[0].transition)), sorted(required));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
