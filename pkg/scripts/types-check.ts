// Compiled (not run) by `npm run typecheck`: the declarations accept the documented uses.
import init, { StatusEngine, StatusStore, backend, type FeedPage, type GroupCount, isStatusError, type BatchReport, type ClientStatus, type Stats, type StaleClient, type Transition } from '../index.js';
import webInit, { StatusEngine as WebEngine, StatusStore as WebStore, initSync } from '../web.js';

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
  const record: Uint8Array | null = engine.clientRecord('a');
  if (record) engine.loadRecord('a', record);
  const gs: GroupCount[] = engine.groups();
  const graced = new StatusEngine({ offlineGraceMs: 30000 });
  const confirmed: Transition[] = graced.advance(60000);
  const seen: Transition | null = graced.observe('a', false, 1);
  const since: number | undefined = seen?.offlineSince ?? c?.pendingOfflineSince ?? s.pendingOffline;
  const stale: StaleClient[] = graced.staleOnline(60000, 120000, 10);
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
  void t, r, online, c, ids, n, s, b, gs, confirmed, since, stale;
}
async function store(): Promise<void> {
  const st = await StatusStore.open('redis://127.0.0.1:6379?prefix=x', { takeover: true });
  const t: Transition | null = await st.ingest({ clientId: 'a', channelId: 'c', eventType: 'connect', time: 1 }, 'connect');
  const r: BatchReport = await st.ingestMany('{}\n{}');
  const online: boolean = await st.isOnline('a');
  const c: ClientStatus | null = await st.client('a');
  const ids: string[] = await st.onlineClients({ group: 'GID_a', limit: 10 });
  const n: number = await st.countOnline('GID_a');
  const s: Stats = await st.stats();
  const gs: GroupCount[] = await st.groups();
  const page: FeedPage = await st.transitions(null, 100);
  const next: string = (await st.transitions(page.next)).next;
  await st.loadSnapshot(await st.snapshot());
  const commits: number = await st.groupCommits();
  await st.close();
  await WebStore.open('redis://127.0.0.1:6379').catch(() => null);
  // @ts-expect-error the store is opened with StatusStore.open
  new StatusStore();
  void t, r, online, c, ids, n, s, next, gs, commits;
}

void main;
void store;
