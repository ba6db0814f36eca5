// Replays every language-neutral case of tests/vectors/*.json (format: tests/vectors/README.md)
// against both backends of the installed package `mqtt-status`: WebAssembly and the native addon
// (through its public entry points `mqtt-status/wasm` and `mqtt-status/native`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const BACKENDS = { wasm: require('mqtt-status/wasm'), native: require('mqtt-status/native') };
const DIR = process.env.MQTT_STATUS_VECTORS || new URL('../vectors/', import.meta.url).pathname;
const CASES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const hex = (s) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b) => Buffer.from(b).toString('hex');
const noMessages = (r) => ({ ...r, errors: r.errors.map(({ message, ...e }) => e) });

function query(engine, name, args) {
  switch (name) {
    case 'isOnline': return engine.isOnline(args.clientId);
    case 'client': return engine.client(args.clientId);
    case 'onlineClients': return engine.onlineClients({ group: args.group, after: args.after, limit: args.limit });
    case 'countOnline': return engine.countOnline(args.group);
    case 'groups': return engine.groups();
    case 'stats': return engine.stats();
    case 'staleOnline': return engine.staleOnline(args.olderThanMs, args.nowMs, args.limit);
    default: throw new Error(`unknown query ${name}`);
  }
}

/** Runs `steps` on a new engine; `config` is null once a restore made it unknown. */
function run(StatusEngine, config, steps) {
  let engine = new StatusEngine(config);
  // The state without the per-instance counters: a fresh engine's snapshot after a merge.
  const state = () => { const f = new StatusEngine(config); f.merge(engine); return toHex(f.snapshot()); };
  steps.forEach((step, i) => {
    const where = `step ${i}: ${JSON.stringify(step).slice(0, 200)}`;
    // An observation is an input like an ingest: a rejected one is counted too.
    const isIngest = 'ingest' in step || 'ingestHex' in step || 'observe' in step;
    const [before, statsBefore] = [engine.snapshot(), engine.stats()];
    const stateBefore = step.expectError && isIngest && config ? state() : null;
    let got = null;
    try {
      // Objects go in as objects: the engine serializes them with JSON.stringify, as a user's would.
      if ('observe' in step) got = engine.observe(step.observe.clientId, step.observe.online, step.observe.time);
      else if ('advance' in step) got = engine.advance(step.advance);
      else if (isIngest) got = engine.ingest('ingestHex' in step ? hex(step.ingestHex) : step.ingest, step.tag);
      else if ('ingestMany' in step) got = noMessages(engine.ingestMany(step.ingestMany));
      else if ('query' in step) got = query(engine, step.query, step.args ?? {});
      else if ('snapshotRestore' in step) {
        engine = StatusEngine.restore(before);
        assert.deepEqual(engine.snapshot(), before, `${where}: restore(snapshot()) gives other bytes`);
      } else if ('snapshot' in step) assert.equal(toHex(before), step.snapshot.toLowerCase(), `${where}: snapshot bytes`);
      else if ('restore' in step) [engine, config] = [StatusEngine.restore(hex(step.restore)), null];
      else if ('record' in step) {
        const record = engine.clientRecord(step.record.clientId);
        assert.equal(record === null ? null : toHex(record), step.record.hex, `${where}: record bytes`);
      } else if ('loadRecord' in step) engine.loadRecord(step.loadRecord.clientId, hex(step.loadRecord.hex));
      else if ('merge' in step) engine.merge(run(StatusEngine, step.merge.config ?? {}, step.merge.steps ?? []));
      else throw new Error(`unknown operation in ${where}`);
    } catch (e) {
      if (!step.expectError || !(e instanceof Error) || typeof e.code !== 'string') throw e;
      assert.deepEqual({ code: e.code, field: e.field }, step.expectError, `${where}: ${e.message}`);
      if (isIngest) {
        const expect = { ...statsBefore, events: statsBefore.events + 1, rejected: statsBefore.rejected + 1 };
        assert.deepEqual(engine.stats(), expect, `${where}: stats after a rejection`);
        if (stateBefore) assert.equal(state(), stateBefore, `${where}: state changed by a rejection`);
      } else assert.deepEqual(engine.snapshot(), before, `${where}: a failed step changed the engine`);
      return;
    }
    assert.ok(!step.expectError, `${where}: expected error ${JSON.stringify(step.expectError)}, got ${JSON.stringify(got)}`);
    if ('expect' in step) assert.deepEqual(got, 'ingestMany' in step ? noMessages(step.expect) : step.expect, where);
  });
  return engine;
}

test('there are conformance vectors', () => assert.ok(CASES.length > 0, `no vectors in ${DIR}`));

for (const [name, backend] of Object.entries(BACKENDS)) {
  test(`conformance (${name})`, async (t) => {
    assert.equal(backend.backend, name);
    for (const file of CASES) {
      const vector = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
      await t.test(vector.name ?? file, () => run(backend.StatusEngine, vector.config ?? {}, vector.steps));
    }
  });
}
