// End to end: the replay console in headless Chromium gives the CLI's answers on the sample log.
// Needs pkg/ built (pkg/web.js), /usr/bin/chromium (or $CHROMIUM) and cargo. Run from anywhere:
//   node --test tests/browser/console.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sample = path.join(root, 'examples/data/sample.jsonl');
const screenshot = path.join(root, 'target/console.png');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT = 30_000;
let server, context, page, profile, base;
const pageErrors = [];

/** The CLI's JSON answer for the sample log (docs/cli.md#json-output), memoized per arguments. */
const answers = new Map();
function cliOn(log, ...args) {
  const key = [log, ...args].join(' ');
  if (!answers.has(key)) {
    const out = execFileSync('cargo', ['run', '--release', '-q', '-p', 'mqtt-status-cli', '--',
      'replay', log, '--format', 'json', ...args], { cwd: root, encoding: 'utf8', timeout: 900_000 });
    answers.set(key, JSON.parse(out));
  }
  return answers.get(key);
}
const cli = (...args) => cliOn(sample, ...args);

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitForServer(url) {
  for (let i = 0; i < 150; i++) {
    try { if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the http server at ${url} did not start within 15 s`);
}

const text = async (sel) => (await page.textContent(sel, { timeout: WAIT })).trim();
const num = async (sel) => Number((await text(sel)).match(/^\d+/)?.[0] ?? NaN);
const shownTime = async () => Number(await page.getAttribute('#at-label', 'data-time', { timeout: WAIT }));

/** Waits until the page shows a time other than `prev`, and returns it. */
async function nextShownTime(prev) {
  await page.waitForFunction((p) => document.getElementById('at-label').dataset.time !== p, String(prev), { timeout: WAIT });
  return shownTime();
}

async function groupRows() {
  return page.$$eval('#groups tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(0, 3).map((c) => c.textContent)));
}
const cliGroups = (answer) => answer.groups.map((g) => [g.groupId, String(g.online), String(g.known)]);

/** The page's state as of the time it shows equals `mqtt-status replay --at T`. */
async function assertShowsCliAt(t) {
  const want = cli('--at', String(t));
  assert.equal(want.at, t);
  assert.equal(await num('#at-online'), want.online.count, `online count as of ${t}`);
  assert.deepEqual(await groupRows(), cliGroups(want), `groups as of ${t}`);
  return want;
}

before(async () => {
  assert.ok(existsSync(path.join(root, 'pkg/web.js')), 'pkg/web.js is missing: build pkg/ first (npm run build in pkg/)');
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing (apt-get install chromium)`);
  cli(); // builds the CLI if needed, before the browser's clock starts
  const port = await freePort();
  server = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', String(port)], { cwd: root, stdio: 'ignore' });
  process.on('exit', () => server?.kill());
  base = `http://127.0.0.1:${port}`;
  await waitForServer(`${base}/examples/replay-console/index.html`);
  profile = mkdtempSync(path.join(tmpdir(), 'mqtt-status-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 1000 },
  });
  page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.setDefaultNavigationTimeout(WAIT);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/examples/replay-console/`);
  await page.waitForSelector('body[data-engine]', { timeout: WAIT });
  assert.equal(await page.getAttribute('body', 'data-engine'), 'ready',
    `the engine did not load: ${await text('#engine-status')} ${pageErrors.join('; ')}`);
}, { timeout: 960_000 });

after(async () => {
  await Promise.race([context?.close(), new Promise((r) => setTimeout(r, 10_000))]);
  server?.kill();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('the sample, opened with the file input, gives the CLI answer', { timeout: 120_000 }, async () => {
  const want = cli();
  await page.setInputFiles('#file', sample, { timeout: WAIT });
  await page.waitForSelector('body[data-ready="true"]', { timeout: WAIT });
  assert.equal(await num('#stat-online'), want.online.count);
  assert.equal(await num('#at-online'), want.online.count);
  assert.equal(await shownTime(), want.stats.maxTime);
  for (const [key, value] of Object.entries(want.stats)) {
    assert.equal(await num(`#stat-${key}`), value, `stats().${key}`);
  }
  assert.deepEqual(await groupRows(), cliGroups(want));
  // Rejected lines: the engine's batch report, listed with the CLI's line numbers, codes and fields.
  assert.equal(await num('#bad-count'), want.rejected.total);
  const rows = await page.$$eval('#bad-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(0, 3).map((c) => c.textContent)));
  assert.deepEqual(rows, want.rejected.lines.map((l) => [String(l.line), l.code, l.field ?? '—']));
});

test('the slider shows the state as of an instant, like replay --at', { timeout: 180_000 }, async () => {
  const end = await shownTime();
  const [min, max] = [Number(await page.getAttribute('#slider', 'min')), Number(await page.getAttribute('#slider', 'max'))];
  assert.equal(max, end, 'the slider spans the log, in epoch ms');
  await page.locator('#slider').fill(String(Math.round(min + (max - min) * 0.4)), { timeout: WAIT });
  const t = await nextShownTime(end);
  assert.equal(t, Math.round(min + (max - min) * 0.4));
  await assertShowsCliAt(t);
  // Keyboard: one arrow press steps to the next event time (the page reads event times only to
  // offer them as stops; the CLI answers for the time it lands on).
  await page.focus('#slider');
  await page.keyboard.press('ArrowRight');
  const t2 = await nextShownTime(t);
  assert.ok(t2 > t);
  const atT2 = await assertShowsCliAt(t2);
  // t2 is the next event time: no event in (t, t2), some at t2.
  assert.equal(cli('--at', String(t2 - 1)).stats.events, cli('--at', String(t)).stats.events);
  assert.ok(atT2.stats.events > cli('--at', String(t)).stats.events);
  assert.match(await page.getAttribute('#slider', 'aria-valuetext'), /^\d{4}-\d\d-\d\dT.*Z, \d+ online$/);
});

test('typing a time shows the state as of that time', { timeout: 120_000 }, async () => {
  const before = await shownTime();
  await page.fill('#at-input', '2024-05-01T03:12:00Z');
  await page.press('#at-input', 'Enter');
  const t = await nextShownTime(before);
  assert.equal(t, Date.parse('2024-05-01T03:12:00Z'));
  assert.match(await text('#at-label'), /^1714533120000 · 2024-05-01T03:12:00\.000Z$/);
  await assertShowsCliAt(t);
});

test('a client search shows its channels and event timeline', { timeout: 120_000 }, async () => {
  const t = await shownTime();
  const id = cli('--at', String(t)).online.clients[0];
  const want = cli('--at', String(t), '--client', id).clients[id];
  await page.fill('#client-id', id);
  await page.click('#search button[type=submit]');
  await page.waitForSelector('#client-view table', { timeout: WAIT });
  assert.match(await text('#client-view .badge'), want.online ? /^online$/ : /^offline$/);
  const channels = await page.$$eval('#client-view table.channels tbody tr',
    (trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]));
  assert.deepEqual(channels.sort(), want.channels.map((c) => [c.channelId, c.state]).sort());
  const verdicts = await page.$$eval('#client-view .verdict', (els) => els.map((e) => e.textContent));
  assert.ok(verdicts.includes('applied'), `verdicts: ${verdicts}`);
  assert.ok(verdicts.every((v) => /^(applied|duplicate|late|rejected: \w+)$/.test(v)), `verdicts: ${verdicts}`);
  mkdirSync(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true, timeout: WAIT });
});

test('window.mqttStatus replays by hand', { timeout: 120_000 }, async () => {
  const t = await shownTime();
  const result = await page.evaluate((at) => {
    const { StatusEngine, engine, engineFor } = window.mqttStatus;
    const e = new StatusEngine({ takeover: true });
    const flip = e.ingest('{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":1}');
    let error = null;
    try { e.ingest('{"clientId":"GID_a@@@d1"}'); } catch (err) { error = [err instanceof Error, err.code, err.field]; }
    return {
      flip, error, online: e.isOnline('GID_a@@@d1'),
      events: engine.stats().events, countAt: engineFor(undefined, at).countOnline(),
    };
  }, t);
  assert.equal(result.flip.online, true);
  assert.equal(result.flip.clientId, 'GID_a@@@d1');
  assert.equal(result.online, true);
  assert.deepEqual(result.error, [true, 'missing_field', 'channelId']);
  assert.equal(result.events, cli().stats.events);
  assert.equal(result.countAt, cli('--at', String(t)).online.count);
});

test('pasted lines are replayed and bad lines listed by line number', { timeout: 120_000 }, async () => {
  const replays = await page.getAttribute('body', 'data-replays');
  await page.click('#paste-box summary');
  await page.fill('#paste', [
    '{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":1714521600000}',
    '{"tag":"connect","body":"{\\"clientId\\":\\"GID_a@@@d2\\",\\"channelId\\":\\"c2\\",\\"time\\":1714521601000}"}',
    '{"clientId":"GID_a@@@d3","eventType":"connect","time":1}',
    '',
    '{"tag":"tcpclean","body":{"clientId":"GID_a@@@d1","channelId":"c1","time":"1714521602000"}}',
  ].join('\n'));
  await page.click('#replay-paste');
  await page.waitForFunction((r) => document.body.dataset.replays !== r && document.body.dataset.ready === 'true',
    replays, { timeout: WAIT });
  assert.equal(await num('#stat-online'), 1);
  assert.equal(await num('#bad-count'), 1);
  const row = await page.$$eval('#bad-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(0, 3).map((c) => c.textContent)));
  assert.deepEqual(row, [['3', 'missing_field', 'channelId']]);
  assert.deepEqual(pageErrors, []);
});

test('a dropped file is replayed with the chosen policy; late lines are marked', { timeout: 120_000 }, async () => {
  const replayed = (r) => page.waitForFunction((p) => document.body.dataset.replays !== p && document.body.dataset.ready === 'true',
    r, { timeout: WAIT });
  let replays = await page.getAttribute('body', 'data-replays');
  await page.fill('#tombstones', '1');
  await page.press('#tombstones', 'Tab'); // a policy change replays the open log
  await replayed(replays);
  // Three sessions of one client, then a redelivery of the first connect: with one tombstone per
  // client the first channel is forgotten and the redelivery is late (docs/semantics.md).
  const line = (ch, ev, t) => JSON.stringify({ clientId: 'GID_x@@@late', channelId: ch, eventType: ev, time: t });
  const log = [line('c1', 'connect', 1000), line('c1', 'tcpclean', 2000), line('c2', 'connect', 3000),
    line('c2', 'tcpclean', 4000), line('c3', 'connect', 5000), line('c3', 'tcpclean', 6000), line('c1', 'connect', 1000)].join('\n');
  replays = await page.getAttribute('body', 'data-replays');
  const dt = await page.evaluateHandle((text) => {
    const d = new DataTransfer();
    d.items.add(new File([text], 'dropped.jsonl', { type: 'application/json' }));
    return d;
  }, log);
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
  await replayed(replays);
  assert.match(await text('#source'), /^dropped\.jsonl: 7 lines/);
  assert.equal(await num('#stat-late'), 1);
  assert.equal(await num('#stat-online'), 0);
  await page.fill('#client-id', 'GID_x@@@late');
  await page.press('#client-id', 'Enter');
  await page.waitForSelector('#client-view table.events', { timeout: WAIT });
  const verdicts = await page.$$eval('#client-view table.events tbody tr', (trs) => trs.map((tr) =>
    [tr.cells[0].textContent, tr.cells[4].querySelector('.verdict').textContent]));
  assert.deepEqual(verdicts, [['1', 'applied'], ['7', 'late'], ['2', 'applied'], ['3', 'applied'],
    ['4', 'applied'], ['5', 'applied'], ['6', 'applied']]);
  assert.match(await text('#client-view'), /horizon/);
  assert.deepEqual(pageErrors, []);
});

test('a log in another broker format replays with the source picker, like replay --source', { timeout: 180_000 }, async () => {
  const replayed = (r) => page.waitForFunction((p) => document.body.dataset.replays !== p && document.body.dataset.ready === 'true',
    r, { timeout: WAIT });
  let replays = await page.getAttribute('body', 'data-replays');
  await page.fill('#tombstones', '8'); // back to the default (the test before set 1)
  await page.press('#tombstones', 'Tab');
  await replayed(replays);
  // tests/sources/: generated traffic (redeliveries, reordering, malformed lines); auto.jsonl mixes
  // every format, one per client.
  let sawReason = false;
  for (const format of ['emqx', 'azure-mqtt', 'auto']) {
    const log = path.join(root, 'tests/sources', `${format}.jsonl`);
    replays = await page.getAttribute('body', 'data-replays');
    await page.selectOption('#format', format); // a policy change: replays the open log
    await replayed(replays);
    replays = await page.getAttribute('body', 'data-replays');
    await page.setInputFiles('#file', log, { timeout: WAIT });
    await replayed(replays);
    const want = cliOn(log, '--source', format);
    for (const [key, value] of Object.entries(want.stats)) {
      assert.equal(await num(`#stat-${key}`), value, `${format}: stats().${key}`);
    }
    assert.ok(want.stats.duplicates > 0 && want.stats.online > 0, format);
    assert.equal(await num('#at-online'), want.online.count, format);
    assert.equal(await shownTime(), want.stats.maxTime, `${format}: the slider's end is the last event time`);
    assert.deepEqual(await groupRows(), cliGroups(want), format);
    const rows = await page.$$eval('#bad-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(0, 3).map((c) => c.textContent)));
    assert.deepEqual(rows, want.rejected.lines.map((l) => [String(l.line), l.code, l.field ?? '—']), format);
    // A client's channels are the vendor's connections, named as the engine names them.
    const id = want.online.clients[0];
    const client = cliOn(log, '--source', format, '--client', id).clients[id];
    await page.fill('#client-id', id);
    await page.press('#client-id', 'Enter');
    await page.waitForSelector('#client-view table.channels', { timeout: WAIT });
    // ... with each close's reason in a last column when some close carried one (issue 18).
    const channels = await page.$$eval('#client-view table.channels tbody tr',
      (trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[6]?.textContent ?? null]));
    const reasons = client.channels.some((c) => c.reason != null);
    const wantChannels = client.channels.map((c) => [c.channelId, c.state, reasons ? (c.reason ?? '—') : null]);
    assert.deepEqual(channels.sort(), wantChannels.sort(), `${format}: ${id}`);
    if (['aws', 'emqx', 'azure-mqtt'].includes(format)) sawReason ||= reasons;
    const verdicts = await page.$$eval('#client-view .verdict', (els) => els.map((e) => e.textContent));
    assert.ok(verdicts.includes('applied') && !verdicts.some((v) => v.startsWith('rejected')), `${format}: ${verdicts}`);
  }
  assert.ok(sawReason, 'a client of a vendor log shows a close reason');
  assert.deepEqual(pageErrors, []);
});

test('the grace slider draws the reported count; a lane shows pending offlines and observations', { timeout: 120_000 }, async () => {
  const replays = await page.getAttribute('body', 'data-replays');
  const T0 = 1714521600000;
  const line = (ch, ev, t) => JSON.stringify({ clientId: 'GID_f@@@flappy', channelId: ch, eventType: ev, time: T0 + t });
  const observe = (online, t) => JSON.stringify({ observe: { clientId: 'GID_f@@@flappy', online, time: T0 + t } });
  // A 10 s flap (c1 closed at 60 s, c2 at 70 s); the query API says offline at 200 s (closes c2)
  // and online again at 300 s, after the grace: a pending offline that is confirmed.
  await page.fill('#paste', [line('c1', 'connect', 0), line('c1', 'tcpclean', 60_000), line('c2', 'connect', 70_000),
    observe(false, 200_000), observe(true, 300_000)].join('\n'));
  await page.click('#replay-paste');
  await page.waitForFunction((r) => document.body.dataset.replays !== r && document.body.dataset.ready === 'true',
    replays, { timeout: WAIT });
  assert.equal(await num('#stat-applied'), 5, 'observation lines are applied by ingestMany');
  assert.equal(await page.$$eval('#plot path.reported', (p) => p.length), 0, 'no reported line without a grace');
  await page.locator('#grace').fill('30000', { timeout: WAIT });
  await page.dispatchEvent('#grace', 'change');
  await page.waitForSelector('body[data-grace="30000"]', { timeout: WAIT });
  assert.equal(await text('#grace-label'), '30 s');
  const [exact, reported] = await page.$$eval('#plot path.series', (ps) => ps.map((p) => p.getAttribute('d')));
  assert.ok(reported && reported !== exact, 'the reported line differs from the exact one (the flap is hidden)');
  await page.fill('#client-id', 'GID_f@@@flappy');
  await page.press('#client-id', 'Enter');
  await page.waitForSelector('#client-view svg.lanes', { timeout: WAIT });
  const lanes = await page.$eval('#client-view svg.lanes', (svg) => ({
    flaps: svg.querySelectorAll('rect.pending-flap').length,
    confirmed: svg.querySelectorAll('rect.pending-confirmed').length,
    off: svg.querySelectorAll('polygon.observation-offline').length,
    on: svg.querySelectorAll('polygon.observation-online').length,
  }));
  assert.deepEqual(lanes, { flaps: 1, confirmed: 1, off: 1, on: 1 });
  assert.deepEqual(pageErrors, []);
});
