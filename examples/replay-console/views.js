// DOM rendering of the engine's answers. No judgment here: these functions only display the
// objects returned by stats(), ingestMany(), groups(), onlineClients() and client().
import { fmtTime, iso, kindClass } from './log.js';

const $ = (id) => document.getElementById(id);

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** A table cell showing a time as epoch ms with its ISO-8601 UTC form under it. */
function timeCell(tr, t) {
  const td = tr.insertCell();
  if (t === null || t === undefined) { td.textContent = '—'; td.className = 'muted'; return; }
  td.append(h('span', { class: 'mono' }, String(t)), h('br'), h('span', { class: 'iso' }, iso(t)));
}

function textCell(tr, text, cls) {
  const td = tr.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function table(cls, caption, headers) {
  const t = h('table', { class: cls }, h('caption', {}, caption));
  const tr = t.createTHead().insertRow();
  for (const name of headers) tr.append(h('th', { scope: 'col' }, name));
  t.createTBody();
  return t;
}

const STAT_LABELS = {
  events: 'events', applied: 'applied', duplicates: 'duplicates', late: 'late', rejected: 'rejected',
  clients: 'clients', online: 'online', openChannels: 'open channels', tombstones: 'tombstones',
  wentOnline: 'went online', wentOffline: 'went offline', maxTime: 'latest event',
};

/** engine.stats() as tiles; each value has id `stat-<key>`. */
export function renderStats(stats) {
  const dl = $('stats');
  dl.textContent = '';
  for (const [key, value] of Object.entries(stats)) {
    const dd = h('dd', { id: `stat-${key}` });
    if (key === 'maxTime') dd.append(h('span', { class: 'mono' }, String(value ?? '—')), ' ', h('span', { class: 'iso' }, iso(value)));
    else dd.textContent = String(value);
    dl.append(h('div', { class: `tile tile-${key}` }, h('dt', {}, STAT_LABELS[key] ?? key), dd));
  }
}

/** The batch report's errors: line number (index + 1), code, field, message and the line. */
export function renderErrors(errors, lines) {
  $('bad-count').textContent = String(errors.length);
  const body = $('bad-table').tBodies[0];
  body.textContent = '';
  for (const e of errors.slice(0, 1000)) {
    const tr = body.insertRow();
    textCell(tr, String(e.index + 1), 'num');
    textCell(tr, e.code, 'code');
    textCell(tr, e.field ?? '—', e.field ? 'mono' : 'muted');
    textCell(tr, e.message);
    const line = lines[e.index] ?? '';
    textCell(tr, line.length > 90 ? `${line.slice(0, 90)}…` : line, 'mono raw').title = line;
  }
  $('bad-more').hidden = errors.length <= 1000;
  $('bad').open = errors.length > 0 && errors.length <= 20;
}

/** engine.groups() as table rows. */
export function renderGroups(groups) {
  const body = $('groups').tBodies[0];
  body.textContent = '';
  for (const g of groups) {
    const tr = body.insertRow();
    textCell(tr, g.groupId === '' ? '""' : g.groupId, 'mono');
    textCell(tr, String(g.online), 'num');
    textCell(tr, String(g.known), 'num');
    const bar = h('span', { class: 'bar' });
    bar.style.setProperty('--share', `${g.known ? (100 * g.online) / g.known : 0}%`);
    tr.insertCell().append(bar);
  }
}

/** The first online clients as buttons that open the inspector. */
export function renderOnline(ids, total, onPick) {
  const list = $('online-list');
  list.textContent = '';
  for (const id of ids) {
    const b = h('button', { type: 'button', class: 'chip', dataset: { client: id } }, id);
    b.addEventListener('click', () => onPick(id));
    list.append(h('li', {}, b));
  }
  $('online-more').textContent = total > ids.length ? `and ${total - ids.length} more` : '';
}

const firstTime = (c) => c.connectTime ?? Math.min(c.disconnectTime ?? Infinity, c.closeTime ?? Infinity);

/** Channels oldest first (the engine lists them by channelId); ties keep the engine's order. */
export function byFirstTime(channels) {
  return [...channels].sort((a, b) => firstTime(a) - firstTime(b));
}

const VERDICT_HELP = {
  applied: 'changed the state',
  duplicate: 'a redelivery: changed nothing',
  late: 'a forgotten channel at or before the horizon: ignored',
  rejected: 'invalid: changed nothing',
  ignored: 'changed nothing',
};

/**
 * The inspector: `status` is client(id) as of `at` (null if unknown then), `judged` the client's
 * lines with the engine's verdicts (see judgeLines), `lanes` a function drawing its channels.
 */
export function renderClient(id, status, judged, at, drawLanesInto) {
  const view = $('client-view');
  view.textContent = '';
  const badge = status
    ? h('span', { class: `badge ${status.online ? 'on' : 'off'}` }, status.online ? 'online' : 'offline')
    : h('span', { class: 'badge unknown' }, 'never seen');
  view.append(h('p', { class: 'client-head' }, h('strong', { class: 'mono' }, id), ' ', badge,
    h('span', { class: 'muted' }, ` as of ${fmtTime(at)}`)));
  if (status) {
    const facts = h('dl', { class: 'facts' });
    const fact = (k, v) => facts.append(h('div', {}, h('dt', {}, k), h('dd', {}, v)));
    const when = (t) => (t == null ? '—' : h('span', {}, String(t), h('span', { class: 'iso' }, iso(t))));
    fact('group', status.groupId ?? '(none)');
    fact('device', status.deviceId ?? '—');
    fact('last event', when(status.lastEventTime));
    fact('last ip', status.lastIp ?? '—');
    fact('connects', String(status.connects));
    fact('horizon', when(status.horizon));
    view.append(facts);
  }
  const lanes = h('div', { class: 'lanes-host' });
  view.append(lanes);
  drawLanesInto(lanes);
  if (status) {
    // A close reason column only when some close carried one (AWS, EMQX, Azure logs).
    const reasons = status.channels.some((c) => c.reason != null);
    const t = table('channels', 'Channels as of the selected time, oldest first (engine.client(id).channels)',
      ['channel', 'state', 'connect', 'disconnect', 'close', 'client ip', ...(reasons ? ['close reason'] : [])]);
    for (const c of byFirstTime(status.channels)) {
      const tr = t.tBodies[0].insertRow();
      textCell(tr, c.channelId, 'mono');
      textCell(tr, c.state, `state state-${c.state}`);
      for (const v of [c.connectTime, c.disconnectTime, c.closeTime]) timeCell(tr, v);
      textCell(tr, c.clientIp ?? '—', 'mono ip');
      if (reasons) textCell(tr, c.reason ?? '—', 'mono reason');
    }
    view.append(h('div', { class: 'scroll' }, t));
  }
  const tl = table('events', 'Event timeline: this client\'s lines by event time; verdicts from the engine, fed in log order',
    ['line', 'time', 'event', 'channel', 'verdict']);
  const sorted = [...judged].sort((a, b) => (a.time ?? -1) - (b.time ?? -1) || a.index - b.index);
  for (const e of sorted) {
    const tr = tl.tBodies[0].insertRow();
    if (e.time !== null && e.time > at) tr.className = 'future';
    textCell(tr, String(e.index + 1), 'num');
    timeCell(tr, e.time);
    textCell(tr, e.kind, `event ${kindClass(e.kind)}`);
    textCell(tr, e.channelId ?? '—', 'mono');
    const td = tr.insertCell();
    td.append(h('span', { class: `verdict verdict-${e.verdict}`, title: VERDICT_HELP[e.verdict] ?? '' },
      e.verdict === 'rejected' ? `rejected: ${e.error?.code ?? 'error'}` : e.verdict));
    if (e.transition) td.append(' ', h('span', { class: `flip ${e.transition.online ? 'on' : 'off'}` },
      e.transition.online ? '→ online' : '→ offline'));
  }
  if (!sorted.length) tl.tBodies[0].insertRow().insertCell().textContent = 'no lines for this client in the log';
  view.append(h('div', { class: 'scroll' }, tl));
  view.append(h('p', { class: 'small' }, 'Dimmed lines are later than the selected time. ',
    'applied = changed the state · duplicate = redelivery · late = at or before the horizon of a forgotten channel.'));
}
