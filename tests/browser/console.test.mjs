// End to end: the replay console in headless Chromium agrees with the CLI on the sample log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sample = path.join(root, 'examples/data/sample.jsonl');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
let server, context, page, profile, base;

function cli(...args) {
  const out = execFileSync('cargo', ['run', '--release', '-q', '-p', 'mqtt-status-cli', '--', 'replay', sample,
    '--format', 'json', ...args], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  return JSON.parse(out);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitForServer(url) {
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(url)).ok) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} did not start`);
}

before(async () => {
  const port = await freePort();
  server = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', String(port)], { cwd: root, stdio: 'ignore' });
  base = `http://127.0.0.1:${port}`;
  await waitForServer(`${base}/examples/replay-console/index.html`);
  profile = mkdtempSync(path.join(tmpdir(), 'mqtt-status-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 1500 },
  });
  page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${base}/examples/replay-console/`);
  await page.waitForSelector('body[data-engine="ready"]').catch((e) => {
    throw new Error(`engine did not load: ${errors.join('; ') || e.message}`);
  });
});

after(async () => {
  await context?.close();
  server?.kill();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('loading the sample through the file input gives the CLI answer', async () => {
  const want = cli();
  await page.setInputFiles('#file', sample);
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(Number(await page.textContent('#stat-online')), want.online.count);
  assert.equal(Number(await page.textContent('#at-online')), want.online.count);
  assert.equal(Number(await page.textContent('#stat-rejected')), want.stats.rejected);
  assert.equal(Number(await page.textContent('#bad-count')), want.rejected.total);
});

test('the slider answers as of an instant, like replay --at', async () => {
  const end = await page.getAttribute('#at-label', 'data-time');
  await page.locator('#slider').fill('400');
  await page.waitForFunction((prev) => document.getElementById('at-label').dataset.time !== prev, end);
  const t = Number(await page.getAttribute('#at-label', 'data-time'));
  const want = cli('--at', String(t));
  assert.equal(Number(await page.textContent('#at-online')), want.online.count);
  const rows = await page.$$eval('#groups tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows, want.groups.map((g) => [g.groupId, String(g.online), String(g.known)]));
});

test('a client search shows its channels and timeline', async () => {
  const id = (cli().online.clients)[0];
  await page.fill('#client-id', id);
  await page.click('#search button');
  await page.waitForSelector('#client-view table');
  const text = await page.textContent('#client-view');
  assert.match(text, /Channels/);
  assert.match(text, /applied/);
  mkdirSync(path.join(root, 'target'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'target/console.png'), fullPage: true });
});

test('window.mqttStatus replays by hand', async () => {
  const result = await page.evaluate(() => {
    const e = new window.mqttStatus.StatusEngine({ takeover: true });
    const t = e.ingest('{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":1}');
    let code = null;
    try { e.ingest('{"clientId":"GID_a@@@d1"}'); } catch (err) { code = `${err instanceof Error}:${err.code}:${err.field}`; }
    return { t, online: e.isOnline('GID_a@@@d1'), code, total: window.mqttStatus.engine.stats().events };
  });
  assert.equal(result.t.online, true);
  assert.equal(result.online, true);
  assert.equal(result.code, 'true:missing_field:channelId');
  assert.equal(result.total, cli().stats.events);
});
