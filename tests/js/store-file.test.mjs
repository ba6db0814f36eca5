// A store handle's life on the file backend (no server needed, so the js stage runs it; the
// Redis suites are tests/js/store.test.mjs, run by the store stage): close() releases the
// directory's lock, later calls reject with store_closed, a close waits for running calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { StatusStore, StatusEngine } = require('mqtt-status/native');
const ev = (i, eventType = 'connect') => ({ clientId: `GID_t@@@d${i}`, channelId: `c${i}`, eventType, time: 1000 + i });

function tempStore(t) {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-status-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return `file:${join(dir, 'store')}`;
}

test('close() releases the file lock; every later call rejects with store_closed', async (t) => {
  const url = tempStore(t);
  const store = await StatusStore.open(url);
  await store.ingestMany([ev(1), ev(2), ev(1, 'tcpclean')]);
  await assert.rejects(StatusStore.open(url), { code: 'store_locked' });
  const snap = await store.snapshot();
  await store.close();
  await store.close(); // closing again does nothing
  const calls = [
    () => store.ingest(ev(3)),
    () => store.ingestMany([ev(3)]),
    () => store.isOnline('GID_t@@@d2'),
    () => store.client('GID_t@@@d2'),
    () => store.onlineClients(),
    () => store.countOnline(),
    () => store.groups(),
    () => store.stats(),
    () => store.snapshot(),
    () => store.loadSnapshot(snap),
    () => store.transitions(),
  ];
  for (const call of calls) {
    await assert.rejects(call(), (e) => e instanceof Error && e.code === 'store_closed' && e.field === null);
  }
  const again = await StatusStore.open(url); // the lock went with close()
  assert.deepEqual(await again.onlineClients(), ['GID_t@@@d2']);
  await again.close();
});

test('a close waits for the calls running on the handle', async (t) => {
  const url = tempStore(t);
  const store = await StatusStore.open(url);
  const n = 20_000;
  const batch = store.ingestMany(Array.from({ length: n }, (_, i) => ev(i)));
  const closed = store.close();
  // The batch started first (calls run in order of their start on the thread pool or wait for
  // the lock): it runs to its end, or it never started; it is never cut short.
  const outcome = await batch.then((r) => r.applied, (e) => e.code);
  await closed;
  assert.ok(outcome === n || outcome === 'store_closed', String(outcome));
  const again = await StatusStore.open(url);
  assert.equal(await again.countOnline(), outcome === n ? n : 0);
  const engine = StatusEngine.restore(await again.snapshot());
  assert.equal(engine.countOnline(), await again.countOnline());
  await again.close();
});
