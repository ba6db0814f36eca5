// The replay console: loads a log, replays it with the mqtt-status WebAssembly engine and shows
// the engine's answers. Every judgment on this page is the engine's; see replay.js.
import { indexLog, floorIndex, fmtTime, iso, parseTime } from './log.js';
import { engineFor, dispose, onlineSeries, judgeLines, pendingOfflines } from './replay.js';
import { drawPlot, drawLanes } from './plot.js';
import { renderStats, renderErrors, renderGroups, renderOnline, renderClient, byFirstTime } from './views.js';

let StatusEngine; // set once /pkg/web.js has loaded
const $ = (id) => document.getElementById(id);
const ONLINE_LISTED = 48;

const state = {
  text: '', name: '', log: null, engine: null, at: null, t: 0, report: null, opts: null,
  moveCursor: () => {}, client: null, judged: new Map(), replays: 0, points: [], pointTimes: [], slowAt: false,
};

/** The grace of the slider, ms (0: off). It changes what is drawn, not the exact answers. */
const graceMs = () => Number($('grace').value) || 0;

/** Draws the online plot of the open log, with the reported line under the slider's grace. */
function plot() {
  const grace = graceMs();
  $('grace-label').textContent = grace > 0 ? `${grace / 1000} s` : 'off';
  const points = onlineSeries(StatusEngine, state.opts, state.log.entries, grace);
  state.points = points;
  state.pointTimes = points.map((p) => p.time);
  state.moveCursor = drawPlot($('plot'), points, (t) => showAt(t), grace);
  document.body.dataset.grace = String(grace);
}

/** The engine configuration chosen in the policy fieldset (the open log keeps its own: state.opts). */
function options() {
  const n = (id, dflt) => (Number.isInteger(Number($(id).value)) && $(id).value !== '' ? Number($(id).value) : dflt);
  return {
    takeover: $('takeover').checked,
    closeOnDisconnect: $('close-on-disconnect').checked,
    tombstonesPerClient: n('tombstones', 8),
    maxIdLen: n('max-id-len', 256),
    source: $('format').value,
  };
}

function setStatus(text, kind = '') {
  $('engine-status').textContent = text;
  $('engine-status').title = text;
  $('engine-status').className = kind;
  $('load-error').textContent = kind === 'error' ? text : '';
}

const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** Replays `text` into a fresh engine and redraws everything. */
async function replay(text, name = 'log') {
  setStatus(`replaying ${name}…`, 'busy');
  document.body.dataset.ready = 'false';
  await frame();
  const started = performance.now();
  try {
    const opts = options();
    const log = indexLog(text, opts.source);
    const engine = new StatusEngine(opts);
    const report = engine.ingestMany(text);
    dispose(state.engine);
    if (text !== state.text) { // a new log: close the inspector (a policy change keeps it open)
      state.client = null;
      $('client-view').textContent = '';
    }
    Object.assign(state, { text, name, log, engine, report, opts, judged: new Map() });
    Object.assign(window.mqttStatus, { engine, log, report, text });
    const stats = engine.stats();
    $('source').textContent = `${name}: ${log.entries.length.toLocaleString('en')} lines, ` +
      `${report.transitions.length.toLocaleString('en')} transitions`;
    renderStats(stats);
    renderErrors(report.errors, log.lines);
    plot();
    const ids = $('client-ids');
    ids.textContent = '';
    for (const id of log.clientIds.slice(0, 5000)) ids.append(new Option(id));
    $('slider').min = String(log.min);
    $('slider').max = String(log.max);
    for (const s of ['summary', 'timeline', 'inspect']) $(s).hidden = false;
    showAt(log.times.length ? log.max : 0);
    state.replays += 1;
    document.body.dataset.replays = String(state.replays);
    document.body.dataset.ready = 'true';
    const ms = Math.round(performance.now() - started);
    setStatus(`replayed ${name} in ${ms} ms: ${stats.online} of ${stats.clients} clients online at the end`, 'ok');
  } catch (err) {
    console.error(err);
    setStatus(`could not replay ${name}: ${err.message ?? err}`, 'error');
  }
}

/** Shows the state as of instant `t`: a fresh engine fed only the events with time <= t. */
function showAt(t) {
  if (!state.log) return;
  const started = performance.now();
  let at;
  try {
    at = engineFor(StatusEngine, state.opts, state.text, t);
  } catch (err) { // an instant the engine refuses (negative, beyond 2^53 - 1)
    $('goto-error').textContent = `${err.message ?? err}`;
    return;
  }
  state.slowAt = performance.now() - started > 60;
  $('goto-error').textContent = '';
  state.t = t;
  dispose(state.at);
  state.at = at;
  window.mqttStatus.at = at;
  window.mqttStatus.t = t;
  const stats = at.stats();
  const online = at.countOnline();
  $('at-label').textContent = fmtTime(t);
  $('at-label').dataset.time = String(t);
  $('at-online').textContent = String(online);
  $('at-channels').textContent = String(stats.openChannels);
  $('at-clients').textContent = String(stats.clients);
  $('slider').value = String(t);
  $('slider').setAttribute('aria-valuetext', `${iso(t)}, ${online} online`);
  renderGroups(at.groups());
  renderOnline(at.onlineClients({ limit: ONLINE_LISTED }), online, inspect);
  state.moveCursor(t, online);
  if (state.client) inspect(state.client, { scroll: false });
}

/** While dragging over a big log: moves the label and cursor; the counts wait for the engine. */
function preview(t) {
  $('at-label').textContent = `${fmtTime(t)} …`;
  $('at-online').textContent = '…';
  const i = floorIndex(state.pointTimes, t);
  state.moveCursor(t, i >= 0 ? state.points[i].online : 0);
}

/** Opens the inspector on client `id` as of the current instant. */
function inspect(id, { scroll = true } = {}) {
  if (!state.log || !id) return;
  state.client = id;
  $('client-id').value = id;
  if (!state.judged.has(id)) {
    const mine = state.log.entries.filter((e) => e.clientId === id);
    state.judged.set(id, judgeLines(StatusEngine, state.opts, mine));
  }
  // The lanes show the client's whole history (the engine fed the whole log), over the span of
  // its own events and the selected instant, so short sessions stay visible.
  const judged = state.judged.get(id);
  const full = state.engine.client(id);
  let lo = state.t, hi = state.t;
  for (const e of judged) if (e.time !== null) { lo = Math.min(lo, e.time); hi = Math.max(hi, e.time); }
  const pad = Math.max(1000, (hi - lo) * 0.03);
  const observations = judged.filter((e) => e.kind === 'observe' && e.time !== null && e.online !== null);
  const pending = pendingOfflines(StatusEngine, state.opts, id, judged, graceMs());
  renderClient(id, state.at.client(id), judged, state.t, (host) => drawLanes(host,
    full ? byFirstTime(full.channels) : [], Math.max(lo - pad, state.log.min), Math.min(hi + pad, state.log.max), state.t, (t) => showAt(t),
    { observations, pending }));
  if (scroll) $('inspect').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function loadFile(file) {
  if (file) await replay(await file.text(), file.name);
}

/** The previous (delta -1) or next (+1) distinct event time from the current instant. */
function step(delta) {
  const { times } = state.log;
  const i = floorIndex(times, state.t);
  const j = delta < 0 ? (times[i] === state.t ? i - 1 : i) : i + 1;
  if (j >= 0 && j < times.length) showAt(times[j]);
}

function wire() {
  $('file').addEventListener('change', (e) => loadFile(e.target.files[0]));
  // Drop a file anywhere on the page (a drop the page ignored would navigate away from it).
  const drop = $('drop');
  for (const ev of ['dragenter', 'dragover']) {
    document.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) drop.classList.remove('over'); });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    loadFile(e.dataTransfer.files[0]);
  });
  $('load-sample').addEventListener('click', async () => {
    const res = await fetch(new URL('../data/sample.jsonl', import.meta.url));
    if (res.ok) await replay(await res.text(), 'examples/data/sample.jsonl');
    else setStatus(`could not fetch the sample log: HTTP ${res.status}`, 'error');
  });
  $('replay-paste').addEventListener('click', () => replay($('paste').value, 'pasted lines'));
  $('paste').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) replay($('paste').value, 'pasted lines');
  });
  $('policy').addEventListener('change', () => { if (state.log) replay(state.text, state.name); });
  // The grace changes the drawing only: the plot's reported line and the inspector's pending lane.
  $('grace').addEventListener('change', () => {
    if (!state.log) return;
    plot();
    showAt(state.t);
  });
  $('grace').addEventListener('input', () => {
    $('grace-label').textContent = graceMs() > 0 ? `${graceMs() / 1000} s` : 'off';
  });
  // The slider is linear in time (its value is epoch ms, aligned with the plot). Its keys step
  // through the log: arrows to the previous / next event time, Page keys by 1/20 of the span.
  $('slider').addEventListener('keydown', (e) => {
    const page = (state.log.max - state.log.min) / 20;
    const keys = {
      ArrowLeft: () => step(-1), ArrowDown: () => step(-1), ArrowRight: () => step(1), ArrowUp: () => step(1),
      PageDown: () => showAt(Math.max(state.log.min, Math.round(state.t - page))),
      PageUp: () => showAt(Math.min(state.log.max, Math.round(state.t + page))),
      Home: () => showAt(state.log.min), End: () => showAt(state.log.max),
    };
    if (state.log && keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });
  // Small logs follow a drag live. When replaying up to T takes long (a big log), the label and
  // the cursor follow the drag and the engine answers once the slider rests for 150 ms.
  let pending = false;
  let timer = 0;
  const sliderTime = () => Number($('slider').value);
  $('slider').addEventListener('input', () => {
    if (state.slowAt) {
      preview(sliderTime());
      clearTimeout(timer);
      timer = setTimeout(() => showAt(sliderTime()), 150);
      return;
    }
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      showAt(sliderTime());
    });
  });
  $('prev').addEventListener('click', () => step(-1));
  $('next').addEventListener('click', () => step(1));
  $('goto').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = parseTime($('at-input').value);
    $('goto-error').textContent = t === null ? 'not a time: use epoch ms or ISO-8601 (UTC unless a zone is given)' : '';
    if (t !== null) showAt(t);
  });
  $('search').addEventListener('submit', (e) => {
    e.preventDefault();
    inspect($('client-id').value.trim());
  });
}

try {
  // The wasm package's contract: an ES module with `default init()` and `StatusEngine`.
  const wasm = await import('/pkg/web.js');
  await wasm.default();
  StatusEngine = wasm.StatusEngine;
  window.mqttStatus = {
    ...wasm, engine: null, at: null, t: null, log: null, report: null, text: '',
    /** Replays JSONL text into the page, as if it had been opened. */
    replay,
    /** Shows the state as of an instant (epoch ms). */
    showAt,
    /** Opens the inspector on a client. */
    inspect,
    /** A fresh engine with the page's policy fed `text` (default: the open log), up to `until`. */
    engineFor: (text = state.text, until) => engineFor(StatusEngine, state.opts ?? options(), text, until),
  };
  wire();
  setStatus('engine ready: open a log', 'ok');
  document.body.dataset.engine = 'ready';
} catch (err) {
  console.error(err);
  setStatus(`could not load the WebAssembly engine (/pkg/web.js): ${err.message ?? err}`, 'error');
  document.body.dataset.engine = 'failed';
}
