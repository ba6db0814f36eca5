// API tests of the installed package `mqtt-status`, run against both backends.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const BACKENDS = { wasm: require('mqtt-status/wasm'), native: require('mqtt-status/native') };
const ROOT = new URL('../../', import.meta.url).pathname;

const ev = (clientId, channelId, eventType, time, extra = {}) => ({ clientId, channelId, eventType, time, ...extra });
const jsonl = (events) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

/** Deterministic traffic: `n` events over `clients` clients, shuffled, with redeliveries. */
function traffic(n, clients) {
  let seed = 0x2545f491;
  const rand = (k) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % k;
  };
  const events = [];
  for (let i = 0; events.length < n; i++) {
    const c = `GID_g${i % 7}@@@dev${i % clients}`;
    const ch = `ch${i}`;
    const t = 1_700_000_000_000 + i * 1000;
    events.push(ev(c, ch, 'connect', t, { clientIp: `10.0.${i % 250}.1:${1000 + (i % 5000)}` }));
    if (rand(10) < 7) events.push(ev(c, ch, 'tcpclean', t + 500 + rand(5000)));
    if (rand(20) === 0) events.push(events[events.length - 1 - rand(Math.min(events.length, 50))]);
  }
  events.length = n;
  for (let i = events.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    if (i - j < 30) [events[i], events[j]] = [events[j], events[i]]; // local reordering only
  }
  return events;
}

function throwsCode(fn, code, field) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error, `expected an Error, got ${err}`);
  assert.equal(err.code, code, err.message);
  if (field !== undefined) assert.equal(err.field, field, err.message);
  return err;
}

for (const [name, m] of Object.entries(BACKENDS)) {
  const { StatusEngine } = m;
  describe(`${name} backend`, () => {
    test('every input form gives the same judgment', () => {
      const body = ev('GID_a@@@d1', 'c1', 'connect', 1000, { clientIp: '1.2.3.4:5' });
      const text = JSON.stringify(body);
      const forms = [
        text,
        new TextEncoder().encode(text),
        Buffer.from(text),
        new TextEncoder().encode(text).buffer,
        body,
        { tag: 'connect', body },
        { tag: 'connect', body: text },
      ];
      const want = { clientId: 'GID_a@@@d1', online: true, time: 1000, channelId: 'c1', eventType: 'connect' };
      for (const form of forms) {
        const e = new StatusEngine();
        assert.deepEqual(e.ingest(form), want);
        assert.equal(e.ingest(form), null); // duplicate
        assert.equal(Object.getPrototypeOf(e.client('GID_a@@@d1')), Object.prototype);
      }
      const e = new StatusEngine();
      const { eventType, ...noType } = body;
      assert.deepEqual(e.ingest(noType, 'connect'), want);
      assert.equal(e.ingest(noType, 'connect'), null);
      throwsCode(() => e.ingest(noType, null), 'missing_field', 'eventType');
      assert.deepEqual(e.ingest({ ...noType, time: '1001' }, 'tcpclean'), { ...want, online: false, time: 1001, eventType: 'tcpclean' });
    });

    test('outputs are plain objects with null, never undefined', () => {
      const e = new StatusEngine({ takeover: true });
      e.ingest(ev('nogroup', 'c1', 'connect', 5));
      const c = e.client('nogroup');
      assert.deepEqual(c, {
        clientId: 'nogroup', groupId: null, deviceId: 'nogroup', online: true, lastEventTime: 5, lastIp: null,
        connects: 1, horizon: null,
        channels: [{ channelId: 'c1', state: 'open', connectTime: 5, disconnectTime: null, closeTime: null, clientIp: null }],
      });
      assert.equal(e.client('unknown'), null);
      assert.deepEqual(e.groups(), []);
      assert.equal(e.stats().maxTime, 5);
      assert.equal(new StatusEngine().stats().maxTime, null);
      assert.ok(e.snapshot() instanceof Uint8Array);
    });

    test('ingestMany: JSONL text and bytes, arrays, until, errors by index', () => {
      const events = [ev('a', '1', 'connect', 10), ev('b', '2', 'connect', 20), ev('a', '1', 'tcpclean', 30)];
      const text = jsonl(events);
      const a = new StatusEngine().ingestMany(text);
      const b = new StatusEngine().ingestMany(new TextEncoder().encode(text));
      const c = new StatusEngine().ingestMany(events);
      const d = new StatusEngine().ingestMany(events.map((x) => JSON.stringify(x)));
      for (const r of [b, c, d]) assert.deepEqual(r, a);
      assert.equal(a.applied, 3);
      assert.equal(a.transitions.length, 3);
      const u = new StatusEngine().ingestMany(text, { until: 20 });
      assert.equal(u.applied, 2);
      const bad = new StatusEngine().ingestMany(['{', events[0], { clientId: 'x' }, 5, null]);
      assert.deepEqual(
        bad.errors.map(({ index, code, field }) => [index, code, field]),
        [[0, 'invalid_json', null], [2, 'missing_field', 'channelId'], [3, 'invalid_json', null], [4, 'invalid_json', null]],
      );
      assert.equal(bad.applied, 1);
      assert.ok(bad.errors.every((x) => typeof x.message === 'string' && x.message.length > 0));
      throwsCode(() => new StatusEngine().ingestMany(text, { until: -1 }), 'invalid_field', 'until');
      throwsCode(() => new StatusEngine().ingestMany(text, { untill: 5 }), 'invalid_field', 'options');
      throwsCode(() => new StatusEngine().ingestMany(42), 'invalid_field', 'input');
    });

    test('errors are Error objects with code and field', () => {
      const e = new StatusEngine();
      throwsCode(() => e.ingest('not json'), 'invalid_json', null);
      throwsCode(() => e.ingest({ channelId: 'c', eventType: 'connect', time: 1 }), 'missing_field', 'clientId');
      throwsCode(() => e.ingest(ev('a', 'c', 'connect', -1)), 'invalid_field', 'time');
      throwsCode(() => e.ingest(ev('a', 'c', 'connect', 1.5)), 'invalid_field', 'time');
      throwsCode(() => e.ingest(ev('a', 'c', 'reboot', 1)), 'unknown_event_type', 'eventType');
      throwsCode(() => e.ingest(ev('a', 'c', 'connect', 1), 'tcpclean'), 'tag_mismatch', 'tag');
      throwsCode(() => e.ingest(ev('a', 'c', 'connect', 1), 7), 'invalid_field', 'tag');
      const circular = {};
      circular.self = circular;
      const err = throwsCode(() => e.ingest(circular), 'invalid_json', null);
      assert.match(err.message, /cannot be serialized to JSON: Converting circular structure/);
      throwsCode(() => e.ingest({ clientId: 'a', channelId: 'c', eventType: 'connect', time: 1n }), 'invalid_json', null);
      const s = e.stats();
      assert.equal(s.rejected, 8); // the non-string tag is refused before the engine sees the input
      assert.equal(s.events, 8);
      assert.equal(s.clients, 0);
      throwsCode(() => StatusEngine.restore(new Uint8Array([1, 2, 3])), 'invalid_snapshot', null);
      throwsCode(() => StatusEngine.restore('abc'), 'invalid_snapshot', null);
      throwsCode(() => new StatusEngine().merge(new StatusEngine({ takeover: true })), 'config_mismatch', null);
      throwsCode(() => e.isOnline(5), 'invalid_field', 'clientId');
      throwsCode(() => e.countOnline(5), 'invalid_field', 'group');
    });

    test('bad options throw invalid_field', () => {
      const cases = [
        [{ takeover: 'yes' }, 'takeover'],
        [{ closeOnDisconnect: 1 }, 'closeOnDisconnect'],
        [{ maxIdLen: 0 }, 'maxIdLen'],
        [{ maxIdLen: 70000 }, 'maxIdLen'],
        [{ maxIdLen: 1.5 }, 'maxIdLen'],
        [{ tombstonesPerClient: -1 }, 'tombstonesPerClient'],
        [{ tombstonesPerClient: 5000 }, 'tombstonesPerClient'],
        [{ closeOnDisconect: true }, 'options'],
        ['takeover', 'options'],
      ];
      for (const [opts, field] of cases) throwsCode(() => new StatusEngine(opts), 'invalid_field', field);
      for (const opts of [undefined, null, {}, { takeover: null }, { maxIdLen: 65535, tombstonesPerClient: 0 }]) {
        assert.ok(new StatusEngine(opts));
      }
    });

    test('onlineClients paginates with a cursor, filters by group', () => {
      const e = new StatusEngine();
      const ids = [];
      for (let i = 0; i < 25; i++) {
        const id = `GID_${i % 2 ? 'odd' : 'even'}@@@d${String(i).padStart(2, '0')}`;
        ids.push(id);
        e.ingest(ev(id, 'c', 'connect', i));
      }
      e.ingest(ev(ids[3], 'c', 'tcpclean', 100));
      const online = ids.filter((_, i) => i !== 3).sort();
      assert.deepEqual(e.onlineClients(), online);
      const pages = [];
      let after = null;
      for (;;) {
        const page = e.onlineClients({ after, limit: 10 });
        if (page.length === 0) break;
        pages.push(page);
        after = page[page.length - 1];
      }
      assert.deepEqual(pages.map((p) => p.length), [10, 10, 4]);
      assert.deepEqual(pages.flat(), online);
      assert.deepEqual(e.onlineClients({ group: 'GID_odd' }), online.filter((id) => id.startsWith('GID_odd@@@')));
      assert.deepEqual(e.onlineClients({ group: 'nope' }), []);
      assert.deepEqual(e.onlineClients({ limit: 0 }), []);
      assert.equal(e.countOnline(), 24);
      assert.equal(e.countOnline('GID_odd'), 11);
      assert.deepEqual(e.groups(), [
        { groupId: 'GID_even', online: 13, known: 13 },
        { groupId: 'GID_odd', online: 11, known: 12 },
      ]);
      throwsCode(() => e.onlineClients({ limit: -1 }), 'invalid_field', 'limit');
      throwsCode(() => e.onlineClients({ group: 5 }), 'invalid_field', 'group');
      throwsCode(() => e.onlineClients({ page: 2 }), 'invalid_field', 'query');
    });

    test('merge with itself changes nothing; free() releases', () => {
      const e = new StatusEngine();
      e.ingestMany(jsonl(traffic(200, 40)));
      const before = e.snapshot();
      e.merge(e);
      assert.deepEqual(e.snapshot(), before);
      const copy = StatusEngine.restore(before);
      copy.free();
    });
  });
}

test('100k-event ingestMany: both backends agree byte for byte', () => {
  const text = jsonl(traffic(100_000, 5_000));
  const results = {};
  for (const [name, { StatusEngine }] of Object.entries(BACKENDS)) {
    const e = new StatusEngine();
    const t = performance.now();
    const report = e.ingestMany(text);
    const ms = performance.now() - t;
    console.log(`# ingestMany 100k events (${(text.length / 1e6).toFixed(1)} MB) on ${name}: ${ms.toFixed(0)} ms`);
    assert.equal(report.errors.length, 0);
    assert.equal(report.applied + report.duplicates + report.late, 100_000);
    results[name] = { report, stats: e.stats(), online: e.onlineClients(), snapshot: Buffer.from(e.snapshot()) };
  }
  assert.ok(results.wasm.report.duplicates > 0);
  assert.deepEqual(results.wasm, results.native);
});

test('a snapshot restores in the other backend and in Rust', (t) => {
  const events = traffic(5_000, 300);
  const wasm = new BACKENDS.wasm.StatusEngine({ takeover: true });
  wasm.ingestMany(events);
  const native = BACKENDS.native.StatusEngine.restore(wasm.snapshot());
  assert.deepEqual(Buffer.from(native.snapshot()), Buffer.from(wasm.snapshot()));
  assert.deepEqual(native.stats(), wasm.stats());
  assert.deepEqual(native.onlineClients(), wasm.onlineClients());
  const back = BACKENDS.wasm.StatusEngine.restore(native.snapshot());
  assert.deepEqual(back.client(events[0].clientId), wasm.client(events[0].clientId));
  // Both continue identically.
  const more = traffic(6_000, 300).slice(5_000);
  assert.deepEqual(native.ingestMany(more), back.ingestMany(more));

  const cli = process.env.MQTT_STATUS_CLI || join(ROOT, 'target/release/mqtt-status');
  if (!existsSync(cli)) {
    t.skip(`Rust CLI not built (${cli})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-status-js-'));
  writeFileSync(join(dir, 'js.bin'), wasm.snapshot());
  const out = execFileSync(cli, ['replay', '--format', 'json', '--restore', join(dir, 'js.bin'), '--save', join(dir, 'rust.bin')]);
  assert.deepEqual(readFileSync(join(dir, 'rust.bin')), Buffer.from(wasm.snapshot()), 'Rust restore+snapshot');
  assert.equal(JSON.parse(out).online.count, wasm.countOnline());
  // And the other way: Rust replays a log, JS restores its snapshot = JS replaying the same log.
  writeFileSync(join(dir, 'log.jsonl'), jsonl(events));
  execFileSync(cli, ['replay', '--format', 'json', '--takeover', '--save', join(dir, 'rust2.bin'), join(dir, 'log.jsonl')]);
  const fromRust = BACKENDS.native.StatusEngine.restore(readFileSync(join(dir, 'rust2.bin')));
  const own = new BACKENDS.native.StatusEngine({ takeover: true });
  own.ingestMany(jsonl(events));
  assert.deepEqual(Buffer.from(fromRust.snapshot()), Buffer.from(own.snapshot()));
});

test('works in worker threads, on each backend', async () => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { StatusEngine, backend } = require('mqtt-status');
    const e = new StatusEngine();
    const report = e.ingestMany(workerData);
    parentPort.postMessage({ backend, online: e.onlineClients(), snapshot: e.snapshot(), applied: report.applied });`;
  const text = jsonl(traffic(2_000, 100));
  const expected = new BACKENDS.wasm.StatusEngine();
  expected.ingestMany(text);
  for (const backend of ['wasm', 'native', 'wasm']) {
    const w = new Worker(code, {
      eval: true,
      workerData: text,
      env: { ...process.env, MQTT_STATUS_BACKEND: backend },
    });
    // eval'd workers resolve modules from the current directory (tests/js).
    const msg = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    assert.equal(msg.backend, backend);
    assert.deepEqual(msg.online, expected.onlineClients());
    assert.deepEqual(Buffer.from(msg.snapshot), Buffer.from(expected.snapshot()));
  }
});

test('the package picks native when installed; MQTT_STATUS_BACKEND forces one', async () => {
  const probe = (env, code) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: new URL('.', import.meta.url).pathname,
      env: { ...process.env, MQTT_STATUS_BACKEND: env },
      encoding: 'utf8',
    });
  const esm = `import init, { backend, StatusEngine, nativeError } from 'mqtt-status';
    await init();
    const e = new StatusEngine();
    e.ingest({ clientId: 'a', channelId: 'c', eventType: 'connect', time: 1 });
    console.log(JSON.stringify({ backend, online: e.isOnline('a'), nativeError: nativeError && nativeError.message }));`;
  for (const [env, want] of [['', 'native'], ['auto', 'native'], ['native', 'native'], ['wasm', 'wasm']]) {
    const r = probe(env, esm);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { backend: want, online: true, nativeError: null });
  }
  const cjs = probe('wasm', `import { createRequire } from 'node:module';
    const m = createRequire(process.cwd() + '/x.js')('mqtt-status');
    console.log(m.backend, typeof m.StatusEngine);`);
  assert.equal(cjs.stdout.trim(), 'wasm function');
  const bad = probe('fast', esm);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /MQTT_STATUS_BACKEND must be/);
  const { backend } = await import('mqtt-status');
  assert.equal(backend, process.env.MQTT_STATUS_BACKEND === 'wasm' ? 'wasm' : 'native');
});
