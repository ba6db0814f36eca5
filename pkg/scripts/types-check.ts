// Compiled (not run) by `npm run typecheck`: the declarations accept the documented uses.
import init, { StatusEngine, backend, isStatusError, type BatchReport, type ClientStatus, type Stats, type Transition } from '../index.js';
import webInit, { StatusEngine as WebEngine, initSync } from '../web.js';

async function main(): Promise<void> {
  await init();
  await webInit();
  await webInit(new URL('https://example.invalid/x.wasm'));
  initSync(new Uint8Array(0));
  const engine = new StatusEngine({ takeover: true, tombstonesPerClient: 8 });
  const t: Transition | null = engine.ingest({ clientId: 'GID_a@@@d', channelId: 'c', eventType: 'connect', time: 1 });
  engine.ingest('{"clientId":"a","channelId":"c","time":1}', 'connect');
  engine.ingest(new TextEncoder().encode('{}'));
  engine.ingest({ tag: 'tcpclean', body: '{"clientId":"a","channelId":"c","time":2}' });
  const r: BatchReport = engine.ingestMany('{}\n{}', { until: 10 });
  engine.ingestMany([{ clientId: 'a', channelId: 'c', eventType: 'connect', time: 1 }, '{}']);
  const online: boolean = engine.isOnline('a');
  const c: ClientStatus | null = engine.client('a');
  const ids: string[] = engine.onlineClients({ group: 'GID_a', after: null, limit: 10 });
  const n: number = engine.countOnline() + engine.countOnline('GID_a');
  const s: Stats = engine.stats();
  const copy = StatusEngine.restore(engine.snapshot());
  copy.merge(engine);
  copy.free();
  const w = new WebEngine();
  w.free();
  try {
    engine.ingest('nope');
  } catch (e) {
    if (isStatusError(e)) {
      const code: 'invalid_json' | string = e.code;
      const field: string | null = e.field;
      void code, field;
    }
  }
  const b: 'native' | 'wasm' = backend;
  // @ts-expect-error unknown option
  new StatusEngine({ closeOnDisconect: true });
  void t, r, online, c, ids, n, s, b;
}
void main;
