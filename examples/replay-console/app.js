// The replay console: every answer on this page comes from the mqtt-status WebAssembly engine.
import init, { StatusEngine } from '/pkg/web.js';
import { indexLog, fmtTime } from './log.js';
import { drawPlot } from './plot.js';

const $ = (id) => document.getElementById(id);
const state = { text: '', log: null, engine: null, at: null, moveCursor: () => {} };

function options() {
  return {
    takeover: $('takeover').checked,
    closeOnDisconnect: $('close-on-disconnect').checked,
    tombstonesPerClient: Number($('tombstones').value) || 0,
  };
}

/** A fresh engine fed the whole log, or only events with time <= until. */
function engineFor(text, until) {
  const e = new StatusEngine(options());
  e.ingestMany(text, until === undefined ? undefined : { until });
  return e;
}

function showStats(stats) {
  const dl = $('stats');
  dl.textContent = '';
  for (const [k, v] of Object.entries(stats)) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = k === 'maxTime' ? fmtTime(v) : String(v);
    dd.id = `stat-${k}`;
    dl.append(dt, dd);
  }
}

function showErrors(errors) {
  $('bad-count').textContent = String(errors.length);
  const ol = $('bad-list');
  ol.textContent = '';
  for (const e of errors.slice(0, 500)) {
    const li = document.createElement('li');
    li.textContent = `line ${e.index + 1}: ${e.code}${e.field ? ` (${e.field})` : ''} — ${e.message}`;
    ol.append(li);
  }
  $('bad').open = errors.length > 0 && errors.length <= 20;
}

/** Online count after each step of time: events sorted by time, fed in ~300 steps. */
function series(log) {
  const timed = log.entries.filter((e) => e.time !== null).sort((a, b) => a.time - b.time);
  const scratch = new StatusEngine(options());
  const points = [];
  const steps = Math.min(300, timed.length);
  let from = 0;
  for (let s = 1; s <= steps; s++) {
    let to = Math.floor((s * timed.length) / steps);
    while (to < timed.length && timed[to].time === timed[to - 1].time) to++;
    if (to <= from) continue;
    scratch.ingestMany(timed.slice(from, to).map((e) => e.line).join('\n'));
    points.push({ time: timed[to - 1].time, online: scratch.countOnline() });
    from = to;
  }
  scratch.free();
  if (points.length) points.unshift({ time: timed[0].time, online: 0 });
  return points;
}

function sliderTime() {
  const { min, max } = state.log;
  return Math.round(min + ((max - min) * Number($('slider').value)) / 1000);
}

function showAt(t) {
  if (state.at) state.at.free();
  state.at = engineFor(state.text, t);
  window.mqttStatus.at = state.at;
  $('at-label').textContent = fmtTime(t);
  $('at-label').dataset.time = String(t);
  $('at-online').textContent = String(state.at.countOnline());
  const tbody = $('groups').tBodies[0];
  tbody.textContent = '';
  for (const g of state.at.groups()) {
    const tr = tbody.insertRow();
    for (const v of [g.groupId, g.online, g.known]) tr.insertCell().textContent = String(v);
  }
  state.moveCursor(t);
  if ($('client-id').value) showClient($('client-id').value);
}

/** How the engine judged each of one client's lines, fed in log (arrival) order. */
function judgeLines(entries) {
  const scratch = new StatusEngine(options());
  const out = entries.map((e) => {
    const before = scratch.stats();
    let verdict;
    try {
      const t = scratch.ingest(e.line);
      const after = scratch.stats();
      verdict = after.late > before.late ? 'late' : after.duplicates > before.duplicates ? 'duplicate' : 'applied';
      if (t) verdict += t.online ? ' → online' : ' → offline';
    } catch (err) {
      verdict = `rejected: ${err.code}`;
    }
    return { ...e, verdict };
  });
  scratch.free();
  return out;
}

function cell(tr, text, cls) {
  const td = tr.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
}

function showClient(id) {
  const view = $('client-view');
  view.textContent = '';
  const status = state.at.client(id);
  const head = document.createElement('p');
  const t = Number($('at-label').dataset.time);
  head.innerHTML = status
    ? `<strong></strong> is <span class="badge ${status.online ? 'on' : 'off'}">${status.online ? 'online' : 'offline'}</span> as of the slider`
    : '<strong></strong> has no events up to the slider time';
  head.querySelector('strong').textContent = id;
  view.append(head);
  if (status) {
    const info = document.createElement('p');
    info.className = 'small';
    info.textContent = `last event ${fmtTime(status.lastEventTime)} · last ip ${status.lastIp ?? '—'} · ` +
      `connects ${status.connects} · horizon ${fmtTime(status.horizon)}`;
    view.append(info);
    const table = document.createElement('table');
    table.innerHTML = '<caption>Channels</caption><thead><tr><th>channel</th><th>state</th><th>connect</th><th>disconnect</th><th>close</th><th>ip</th></tr></thead><tbody></tbody>';
    for (const c of status.channels) {
      const tr = table.tBodies[0].insertRow();
      cell(tr, c.channelId, 'mono');
      cell(tr, c.state, `state-${c.state}`);
      for (const v of [c.connectTime, c.disconnectTime, c.closeTime]) cell(tr, fmtTime(v));
      cell(tr, c.clientIp ?? '—');
    }
    view.append(table);
  }
  const mine = state.log.entries.filter((e) => e.clientId === id);
  const judged = judgeLines(mine).sort((a, b) => (a.time ?? 0) - (b.time ?? 0) || a.index - b.index);
  const tl = document.createElement('table');
  tl.innerHTML = '<caption>Event timeline (by event time; verdict in arrival order)</caption><thead><tr><th>line</th><th>time</th><th>event</th><th>channel</th><th>verdict</th></tr></thead><tbody></tbody>';
  for (const e of judged) {
    const tr = tl.tBodies[0].insertRow();
    if (e.time !== null && e.time > t) tr.className = 'future';
    cell(tr, String(e.index + 1));
    cell(tr, fmtTime(e.time));
    cell(tr, e.kind);
    cell(tr, e.channelId ?? '—', 'mono');
    cell(tr, e.verdict);
  }
  view.append(tl);
}

function replay(text, name) {
  state.text = text;
  state.log = indexLog(text);
  if (state.engine) state.engine.free();
  state.engine = new StatusEngine(options());
  const report = state.engine.ingestMany(text);
  Object.assign(window.mqttStatus, { engine: state.engine, log: state.log, report });
  $('source').textContent = `${name}: ${state.log.entries.length} lines, ${report.transitions.length} transitions`;
  showStats(state.engine.stats());
  showErrors(report.errors);
  state.moveCursor = drawPlot($('plot'), series(state.log));
  const ids = $('client-ids');
  ids.textContent = '';
  for (const id of state.engine.onlineClients({ limit: 200 })) ids.append(new Option(id));
  for (const s of ['summary', 'timeline', 'inspect']) $(s).hidden = false;
  $('slider').value = '1000';
  showAt(sliderTime());
  document.body.dataset.ready = 'true';
}

async function readFile(file) {
  replay(await file.text(), file.name);
}

function wire() {
  $('file').addEventListener('change', (e) => e.target.files[0] && readFile(e.target.files[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files[0]) readFile(e.dataTransfer.files[0]);
  });
  $('replay-paste').addEventListener('click', () => replay($('paste').value, 'pasted text'));
  let pending = false;
  $('slider').addEventListener('input', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; showAt(sliderTime()); });
  });
  $('search').addEventListener('submit', (e) => { e.preventDefault(); showClient($('client-id').value.trim()); });
}

await init();
window.mqttStatus = { StatusEngine, engine: null, at: null, log: null, report: null, replay, engineFor };
wire();
$('engine-status').textContent = 'engine ready — open a log';
document.body.dataset.engine = 'ready';
