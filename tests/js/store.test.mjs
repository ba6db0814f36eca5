// StatusStore of the installed package against real Redis servers (standalone and a 3-master
// cluster): MQTT_STATUS_REDIS_URL and MQTT_STATUS_REDIS_CLUSTER_URL, exported by
// scripts/ci/store.sh after starting them. Without them every test here FAILS (never skipped):
// run `bash scripts/ci/store.sh`. The WebAssembly backend has no store: its `open` rejects.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('mqtt-status/native');
const wasm = require('mqtt-status/wasm');
const ROOT = new URL('../../', import.meta.url).pathname;

const SERVERS = ['MQTT_STATUS_REDIS_URL', 'MQTT_STATUS_REDIS_CLUSTER_URL'];
const OPTS = { tombstonesPerClient: 64 }; // above any generated client's channels
let counter = 0;

function server(name) {
  const url = process.env[name];
  if (!url) throw new Error(`${name} is not set: run the store tests with \`bash scripts/ci/store.sh\` (it starts Redis)`);
  return url;
}

const fresh = (base, name) => `${base}?prefix=js-${name}-${process.pid}-${Date.now()}-${counter++}`;

/** A generated fleet (duplicates, late redeliveries, flash reconnects) from the CLI. */
function stream() {
  const cli = process.env.MQTT_STATUS_CLI;
  const args = ['generate', '--clients', '150', '--seed', '16', '--duplicates', '0.1'];
  const out = cli
    ? execFileSync(cli, args, { encoding: 'utf8', maxBuffer: 1 << 28 })
    : execFileSync('cargo', ['run', '-q', '--release', '-p', 'mqtt-status-cli', '--', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
  return out.split('\n').filter((l) => l);
}

function engineOn(lines, options = {}) {
  const e = new native.StatusEngine({ ...OPTS, ...options });
  assert.deepEqual(e.ingestMany(lines.join('\n')).errors, []);
  return e;
}

/** Every answer of the store equals the engine's (per-instance counters aside). */
async function assertSame(store, e, at, options = OPTS) {
  const strip = ({ events, applied, duplicates, late, rejected, wentOnline, wentOffline, ...rest }) => rest;
  assert.deepEqual(strip(await store.stats()), strip(e.stats()), `${at}: stats`);
  assert.deepEqual(await store.groups(), e.groups(), at);
  assert.equal(await store.countOnline(), e.countOnline(), at);
  for (const g of e.groups()) {
    assert.equal(await store.countOnline(g.groupId), e.countOnline(g.groupId), at);
    assert.deepEqual(await store.onlineClients({ group: g.groupId }), e.onlineClients({ group: g.groupId }), at);
  }
  let after = null;
  for (;;) {
    const page = await store.onlineClients({ after, limit: 7 });
    assert.deepEqual(page, e.onlineClients({ after, limit: 7 }), `${at}: page after ${after}`);
    if (page.length === 0) break;
    after = page[page.length - 1];
  }
  // The exported state is the engine's, client by client (merged into fresh engines: the same bytes).
  const mine = new native.StatusEngine(options);
  const theirs = new native.StatusEngine(options);
  mine.merge(native.StatusEngine.restore(await store.snapshot()));
  theirs.merge(e);
  assert.deepEqual(mine.snapshot(), theirs.snapshot(), `${at}: snapshot`);
  for (const id of e.onlineClients()) {
    assert.deepEqual(await store.client(id), e.client(id), `${at}: ${id}`);
    assert.equal(await store.isOnline(id), true, `${at}: ${id}`);
  }
  assert.equal(await store.client('nobody'), null);
}

async function wholeFeed(store) {
  const out = [];
  let after = null;
  for (;;) {
    const page = await store.transitions(after, 500);
    if (page.entries.length === 0) {
      assert.equal(page.next, after ?? '', 'an empty page keeps the cursor');
      return out;
    }
    assert.equal(page.next, page.entries[page.entries.length - 1].cursor);
    out.push(...page.entries.map((x) => x.transition));
    after = page.next;
  }
}

function assertFeedTracks(feed, e, at) {
  const last = new Map();
  for (const t of feed) {
    assert.notEqual(last.get(t.clientId) ?? false, t.online, `${at}: ${t.clientId} flipped twice to ${t.online}`);
    last.set(t.clientId, t.online);
  }
  for (const [id, online] of last) assert.equal(e.isOnline(id), online, `${at}: feed ends wrong for ${id}`);
  assert.equal([...last.values()].filter(Boolean).length, e.countOnline(), at);
}

const key = (t) => `${t.clientId}\u0000${t.time}\u0000${t.online}\u0000${t.channelId}`;
const sorted = (ts) => [...ts].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

const lines = stream();

describe('StatusStore (native backend)', () => {
  for (const name of SERVERS) {
    test(`${name}: batches, singles and arrays answer like one engine; feed = returned transitions`, async () => {
      const store = await native.StatusStore.open(fresh(server(name), 'api'), OPTS);
      const one = new native.StatusEngine(OPTS);
      const returned = [];
      for (let k = 0; k < lines.length; k += 211) {
        let chunk = lines.slice(k, k + 211);
        if (k % 3 === 0) {
          for (const l of chunk.slice(0, 5)) {
            const t = await store.ingest(l);
            assert.deepEqual(t, one.ingest(l));
            if (t) returned.push(t);
          }
          chunk = chunk.slice(5);
        }
        const text = chunk.join('\n');
        const got = await store.ingestMany(k === 422 ? chunk.map((l) => JSON.parse(l)) : text);
        assert.deepEqual(got, one.ingestMany(k === 422 ? chunk.map((l) => JSON.parse(l)) : text), `batch at ${k}`);
        returned.push(...got.transitions);
      }
      await assertSame(store, one, name);
      const feed = await wholeFeed(store);
      assert.deepEqual(sorted(feed), sorted(returned), `${name}: feed = returned transitions`);
      assertFeedTracks(feed, one, name);
      await assert.rejects(store.ingest('{}'), { code: 'missing_field' });
      await assert.rejects(store.transitions('x'), { code: 'invalid_field', field: 'after' });
      await assert.rejects(store.onlineClients({ limit: -1 }), { code: 'invalid_field', field: 'limit' });
      await assert.rejects(store.isOnline(5), { code: 'invalid_field', field: 'clientId' });
    });

    test(`${name}: bad lines are reported as by the engine`, async () => {
      const store = await native.StatusStore.open(fresh(server(name), 'bad'), OPTS);
      const one = new native.StatusEngine(OPTS);
      const good = '{"clientId":"a","channelId":"c","eventType":"connect","time":1}';
      const text = `${good}\n{"bad":1}\n\nnope\n`;
      assert.deepEqual(await store.ingestMany(text), one.ingestMany(text));
      assert.deepEqual(await store.ingestMany(['{}', good, { x: 1n }]), one.ingestMany(['{}', good, { x: 1n }]));
      assert.equal((await store.stats()).rejected, one.stats().rejected);
    });

    test(`${name}: concurrent calls on one handle and on several, interleaved on the event loop`, async () => {
      const url = fresh(server(name), 'conc');
      const opts = { ...OPTS, takeover: true };
      const handles = [await native.StatusStore.open(url, opts), await native.StatusStore.open(url, opts)];
      const returned = [];
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0); // the event loop keeps turning during the I/O
      // 200 singles in flight at once on handle 0, batches on handle 1.
      const singles = lines.filter((_, i) => i % 2 === 0);
      const batched = lines.filter((_, i) => i % 2 === 1);
      const work = [];
      for (const l of singles) work.push(handles[0].ingest(l).then((t) => t && returned.push(t)));
      for (let i = 0; i < batched.length; i += 37) {
        work.push(handles[1].ingestMany(batched.slice(i, i + 37).join('\n')).then((r) => returned.push(...r.transitions)));
      }
      await Promise.all(work);
      clearInterval(timer);
      assert.ok(ticks > 0, 'the event loop ran while the store worked');
      const one = engineOn(lines, { takeover: true });
      await assertSame(handles[0], one, name, opts);
      const feed = await wholeFeed(handles[1]);
      assert.deepEqual(sorted(feed), sorted(returned), `${name}: feed = returned transitions`);
      assertFeedTracks(feed, one, name);
    });

    test(`${name}: concurrent ingestMany calls share commits, each resolving to its own report`, async () => {
      // 6 async workers, each with its own clients and bad lines among good ones, awaiting its
      // own calls in turn while the others' are in flight (the addon runs them on libuv's thread
      // pool, so they overlap in the store): each report is exactly what the call gives on an
      // engine fed that worker's calls alone.
      const store = await native.StatusStore.open(fresh(server(name), 'many'), { ...OPTS, takeover: true });
      const workers = 6;
      let seed = 7;
      const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
      const work = [];
      for (let k = 0; k < workers; k++) {
        const mine = lines.filter((_, i) => i % workers === k).map((l) => l.replace('"clientId":"', `"clientId":"w${k}-`).replace('\\"clientId\\":\\"', `\\"clientId\\":\\"w${k}-`));
        const calls = [];
        for (let i = 0; i < mine.length; ) {
          const n = 1 + rand(60);
          const chunk = mine.slice(i, i + n);
          if (rand(5) === 0) chunk.splice(rand(chunk.length + 1), 0, 'not json');
          calls.push(chunk.join('\n'));
          i += n;
        }
        work.push(calls);
      }
      const got = await Promise.all(
        work.map(async (calls) => {
          const out = [];
          for (const c of calls) out.push(await store.ingestMany(c));
          return out;
        }),
      );
      const calls = work.reduce((n, c) => n + c.length, 0);
      const commits = await store.groupCommits();
      assert.ok(commits < calls, `${name}: ${commits} commits for ${calls} concurrent calls: nothing was grouped`);
      const returned = [];
      for (let k = 0; k < workers; k++) {
        const alone = new native.StatusEngine({ ...OPTS, takeover: true });
        work[k].forEach((c, i) => assert.deepEqual(got[k][i], alone.ingestMany(c), `${name}: worker ${k}, call ${i}`));
        for (const r of got[k]) returned.push(...r.transitions);
      }
      assert.deepEqual(sorted(await wholeFeed(store)), sorted(returned), `${name}: each flip returned exactly once`);
      await store.close();
    });

    test(`${name}: config_mismatch, snapshot in and out`, async () => {
      const url = fresh(server(name), 'cfg');
      const a = await native.StatusStore.open(url, OPTS);
      const half = lines.length >> 1;
      await a.ingestMany(lines.slice(0, half).join('\n'));
      await a.loadSnapshot(engineOn(lines.slice(half)).snapshot());
      await assertSame(a, engineOn(lines), `${name}: half ingested + half loaded`);
      await assert.rejects(native.StatusStore.open(url, { ...OPTS, takeover: true }), { code: 'config_mismatch' });
      await assert.rejects(a.loadSnapshot(new native.StatusEngine({ ...OPTS, takeover: true }).snapshot()), {
        code: 'config_mismatch',
      });
      await assert.rejects(a.loadSnapshot('text'), { code: 'invalid_snapshot' });
    });
  }

  test('the file backend through the same open: like one engine, store_locked for a second opener', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-status-store-'));
    try {
      const url = `file:${join(dir, 'store')}`;
      const store = await native.StatusStore.open(url, OPTS);
      for (const l of lines.slice(0, 20)) await store.ingest(l);
      await store.ingestMany(lines.slice(20).join('\n'));
      const one = engineOn(lines);
      await assertSame(store, one, 'file');
      await assert.rejects(native.StatusStore.open(url, OPTS), { code: 'store_locked' });
      const redis = await native.StatusStore.open(fresh(server(SERVERS[0]), 'from-file'), OPTS);
      await redis.loadSnapshot(await store.snapshot());
      await assertSame(redis, one, 'file -> redis');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('store_unavailable on a closed port; bad URL and options', async () => {
    server(SERVERS[0]);
    const port = await new Promise((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p)); // closed: connecting is refused
      });
    });
    for (const url of [`redis://127.0.0.1:${port}`, `redis+cluster://127.0.0.1:${port}`]) {
      await assert.rejects(native.StatusStore.open(`${url}?connect_timeout_ms=500`), (e) => {
        assert.equal(e.code, 'store_unavailable', url);
        assert.ok(native.isStatusError(e));
        return true;
      });
    }
    await assert.rejects(native.StatusStore.open('http://x'), { code: 'invalid_field', field: 'url' });
    await assert.rejects(native.StatusStore.open(server(SERVERS[0]), { tombstonesPerClient: -1 }), {
      code: 'invalid_field',
      field: 'tombstonesPerClient',
    });
    await assert.rejects(native.StatusStore.open(server(SERVERS[0]), { nope: 1 }), { code: 'invalid_field', field: 'options' });
  });
});

describe('StatusStore grace, observe, advance, staleOnline (SPEC §9)', () => {
  const ev = (cid, ch, kind, t) => JSON.stringify({ clientId: cid, channelId: ch, eventType: kind, time: t });
  for (const backend of ['file', ...SERVERS]) {
    test(`${backend}: the same calls as one engine give the same answers`, async () => {
      const dir = backend === 'file' ? mkdtempSync(join(tmpdir(), 'mqs-grace-')) : null;
      const url = dir ? `file:${join(dir, 'store')}` : fresh(server(backend), 'grace');
      const store = await native.StatusStore.open(url, { offlineGraceMs: 1000 });
      const one = new native.StatusEngine({ offlineGraceMs: 1000 });
      const calls = [
        ['ingest', ev('GID_a@@@d1', 'c1', 'connect', 1000)],
        ['ingest', ev('GID_a@@@d2', 'c1', 'connect', 1100)],
        ['ingest', ev('GID_a@@@d1', 'c1', 'tcpclean', 2000)],
        ['advance', 2500],
        ['many', `${ev('GID_a@@@d3', 'k', 'connect', 2600)}\n{"observe":{"clientId":"GID_a@@@d2","online":true,"time":2700}}`],
        ['advance', 3000],
        ['observe', ['GID_a@@@d3', false, 2800]],
        ['ingest', ev('GID_a@@@d3', 'k2', 'connect', 5000)],
      ];
      const got = [];
      const want = [];
      for (const [kind, arg] of calls) {
        if (kind === 'ingest') {
          got.push([await store.ingest(arg)].filter(Boolean));
          want.push([one.ingest(arg)].filter(Boolean));
        } else if (kind === 'advance') {
          got.push(await store.advance(arg));
          want.push(one.advance(arg));
        } else if (kind === 'many') {
          got.push((await store.ingestMany(arg)).transitions);
          want.push(one.ingestMany(arg).transitions);
        } else {
          got.push([await store.observe(...arg)].filter(Boolean));
          want.push([one.observe(...arg)].filter(Boolean));
        }
      }
      const plain = (x) => JSON.parse(JSON.stringify(x));
      assert.deepEqual(plain(got), plain(want));
      assert.deepEqual(got[5].map((t) => t.clientId), ['GID_a@@@d1']);
      assert.equal(got[7][0].offlineSince, 2800);
      for (const cid of ['GID_a@@@d1', 'GID_a@@@d2', 'GID_a@@@d3']) {
        assert.deepEqual(await store.client(cid), one.client(cid), cid);
      }
      assert.deepEqual(await store.staleOnline(1000, 6000, 10), one.staleOnline(1000, 6000, 10));
      assert.deepEqual((await store.staleOnline(1000, 6000, 10)).map((s) => s.clientId), ['GID_a@@@d2']);
      assert.equal((await store.stats()).pendingOffline, 0);
      // Per client, in order (shards' entries interleave by their clocks, not by call order).
      const byClient = (ts) => [...ts].sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
      const feed = (await store.transitions()).entries.map((e) => e.transition);
      assert.deepEqual(plain(byClient(feed)), plain(byClient(want.flat())));
      await assert.rejects(store.observe('GID_a@@@d1', 'yes', 1), { code: 'invalid_field', field: 'online' });
      await assert.rejects(store.advance(-1), { code: 'invalid_field' });
      assert.equal((await store.stats()).rejected, 1);
      await store.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
  }
});

describe('StatusStore (WebAssembly backend)', () => {
  test('open rejects: no status store in WebAssembly', async () => {
    await assert.rejects(wasm.StatusStore.open(server(SERVERS[0])), (e) => {
      assert.ok(e instanceof Error);
      assert.equal(e.code, 'store_unavailable');
      assert.equal(e.field, null);
      assert.match(e.message, /^no status store in WebAssembly: /);
      assert.ok(wasm.isStatusError(e));
      return true;
    });
    assert.throws(() => new wasm.StatusStore(), { code: 'store_unavailable' });
  });
});
