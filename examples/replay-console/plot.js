// Inline-SVG charts (no chart library): the online count over time, and one client's channels.

const NS = 'http://www.w3.org/2000/svg';
const W = 960;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

function hhmm(t, withDate) {
  const s = new Date(t).toISOString();
  return withDate ? `${s.slice(0, 10)} ${s.slice(11, 16)}` : s.slice(11, 16);
}

const MIN = 60e3, HOUR = 3600e3, DAY = 24 * HOUR;
const STEPS = [MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR,
  6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY, 365 * DAY];

/**
 * Time axis labels at round UTC instants (HH:MM; with the date when the span is long or at a
 * midnight), and the date of the first instant at `dateX`, right-aligned, when given.
 */
function timeAxis(svg, x, t0, t1, y, dateX) {
  const step = STEPS.find((s) => (t1 - t0) / s <= 7) ?? STEPS[STEPS.length - 1];
  const long = t1 - t0 > 36 * HOUR;
  const [left, right] = [x(t0), x(t1)];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const anchor = x(t) - left < 40 ? 'start' : right - x(t) < 40 ? 'end' : 'middle';
    const s = new Date(t).toISOString();
    el('text', { x: x(t), y, 'text-anchor': anchor, class: 'axis' }, svg).textContent =
      long ? `${s.slice(5, 10)} ${s.slice(11, 16)}` : t % DAY === 0 ? s.slice(5, 10) : s.slice(11, 16);
  }
  if (dateX !== undefined) {
    el('text', { x: dateX, y, 'text-anchor': 'end', class: 'axis date' }, svg).textContent =
      new Date(t0).toISOString().slice(0, 10);
  }
}

/** Turns a pointer position over `svg` into a time and hands it to `onSeek` (click and drag). */
function seekable(svg, xToTime, onSeek) {
  const at = (ev) => {
    const box = svg.getBoundingClientRect();
    onSeek(xToTime(((ev.clientX - box.left) / box.width) * W));
  };
  svg.addEventListener('pointerdown', (ev) => {
    svg.setPointerCapture(ev.pointerId);
    at(ev);
  });
  svg.addEventListener('pointermove', (ev) => { if (svg.hasPointerCapture(ev.pointerId)) at(ev); });
}

/** The step path of `key` over `points`, one vertical stroke per half-unit column. */
function stepPath(points, key, x, y) {
  let d = '';
  let col = null;
  for (const p of points) {
    const c = Math.round(x(p.time) * 2) / 2;
    if (d === '') d = `M${c},${y(p[key])}`;
    else if (c !== col) d += `H${c}V${y(p[key])}`;
    else d += `V${y(p[key])}`;
    col = c;
  }
  return d;
}

/**
 * Draws the step line of `points` ([{time, online, reported}], sorted) into `host`; with
 * `graceMs` > 0 the online count an engine with that grace reports (pending offlines included)
 * is drawn over it as a dashed line. Clicking or dragging on it calls `onSeek(time)`. Returns a
 * function that moves the cursor to a time.
 */
export function drawPlot(host, points, onSeek, graceMs = 0) {
  host.textContent = '';
  const H = 240, L = 44, R = 14, T = 14, B = 30;
  const t0 = points.length ? points[0].time : 0;
  const t1 = points.length ? Math.max(points[points.length - 1].time, t0 + 1) : 1;
  const top = points.reduce((m, p) => Math.max(m, p.online, p.reported ?? 0), 1);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => H - B - (v / top) * (H - T - B);
  const svg = el('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'plot', role: 'img',
    'aria-label': `Online clients from ${hhmm(t0, true)} to ${hhmm(t1, true)} UTC, peak ${top}. Use the time slider below to move through it.`,
  }, host);
  for (const frac of [0, 0.25, 0.5, 0.75, 1]) {
    const v = Math.round(top * frac);
    el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: frac ? 'grid' : 'baseline' }, svg);
    el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, svg).textContent = v;
  }
  timeAxis(svg, x, t0, t1, H - 8);
  el('text', { x: W - R - 4, y: T + 10, 'text-anchor': 'end', class: 'axis legend' }, svg).textContent =
    `online clients${graceMs > 0 ? ` · dashed: reported with a ${graceMs / 1000} s grace` : ''} · ` +
    `${new Date(t0).toISOString().slice(0, 10)} · times in UTC · click to seek`;
  // A step line: the count holds until the next event time. Points that land in the same
  // half-unit column are drawn as one vertical stroke through their range, so a log of millions
  // of events still draws a path of a few thousand segments and keeps every spike visible.
  const d = stepPath(points, 'online', x, y);
  if (d) {
    el('path', { d: `${d}V${y(0)}H${x(t0)}Z`, class: 'area' }, svg);
    el('path', { d, class: 'series' }, svg);
  }
  if (d && graceMs > 0) el('path', { d: stepPath(points, 'reported', x, y), class: 'series reported' }, svg);
  const cursor = el('line', { y1: T - 6, y2: H - B, class: 'cursor' }, svg);
  const knob = el('circle', { r: 4, class: 'knob' }, svg);
  seekable(svg, (px) => Math.round(t0 + ((px - L) / (W - L - R)) * (t1 - t0)), onSeek);
  return (t, online) => {
    const cx = Math.min(Math.max(x(t), L), W - R);
    for (const a of ['x1', 'x2']) cursor.setAttribute(a, cx);
    knob.setAttribute('cx', cx);
    knob.setAttribute('cy', y(online ?? 0));
  };
}

/**
 * One client's channels as lanes from connect to close over [t0, t1] (an open or superseded
 * channel runs to the end), with a tick at its disconnect and the cursor at `at`. The channels
 * and their states are the engine's (`client(id).channels`). Below them, when there are any, a
 * lane of the client's observations (`observations`: [{time, online}], ▲ online, ▼ offline) and
 * a lane of its pending offlines under a grace (`pending`: [{since, until, confirmed}], see
 * replay.js pendingOfflines).
 */
export function drawLanes(host, channels, t0, t1, at, onSeek, { observations = [], pending = [] } = {}) {
  host.textContent = '';
  if (!channels.length && !observations.length) return;
  const row = 20, L = 96, R = 14, T = 6, B = 24;
  const extra = (observations.length ? 1 : 0) + (pending.length ? 1 : 0);
  const H = T + (channels.length + extra) * row + B;
  const span = Math.max(1, t1 - t0);
  const x = (t) => L + ((Math.min(Math.max(t, t0), t1) - t0) / span) * (W - L - R);
  const svg = el('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'lanes', role: 'img',
    'aria-label': `${channels.length} channels of this client over time; the table below lists them.`,
  }, host);
  channels.forEach((c, i) => {
    const y = T + i * row;
    el('text', { x: L - 8, y: y + 14, 'text-anchor': 'end', class: 'axis mono' }, svg).textContent =
      c.channelId.length > 12 ? `${c.channelId.slice(0, 10)}…` : c.channelId;
    const start = c.connectTime ?? c.disconnectTime ?? c.closeTime ?? t0;
    const end = c.closeTime ?? (c.state === 'closed' ? start : t1);
    const bar = el('rect', {
      x: x(start), y: y + 4, height: row - 8, rx: 3,
      width: Math.max(2, x(end) - x(start)), class: `lane lane-${c.state}`,
    }, svg);
    el('title', {}, bar).textContent =
      `${c.channelId} (${c.state})\nconnect ${c.connectTime ?? '—'}\nclose ${c.closeTime ?? '—'}`;
    if (c.disconnectTime != null) {
      el('line', { x1: x(c.disconnectTime), x2: x(c.disconnectTime), y1: y + 2, y2: y + row - 2, class: 'tick' }, svg);
    }
  });
  let lane = channels.length;
  if (observations.length) {
    const y = T + lane++ * row;
    el('text', { x: L - 8, y: y + 14, 'text-anchor': 'end', class: 'axis' }, svg).textContent = 'observed';
    for (const o of observations) {
      const cx = x(o.time);
      const pts = o.online ? `${cx - 5},${y + 15} ${cx + 5},${y + 15} ${cx},${y + 5}` : `${cx - 5},${y + 5} ${cx + 5},${y + 5} ${cx},${y + 15}`;
      const mark = el('polygon', { points: pts, class: `observation observation-${o.online ? 'online' : 'offline'}` }, svg);
      el('title', {}, mark).textContent = `observed ${o.online ? 'online' : 'offline'} at ${o.time} (query API answer)`;
    }
  }
  if (pending.length) {
    const y = T + lane++ * row;
    el('text', { x: L - 8, y: y + 14, 'text-anchor': 'end', class: 'axis' }, svg).textContent = 'pending';
    for (const p of pending) {
      const bar = el('rect', {
        x: x(p.since), y: y + 4, height: row - 8, rx: 3, width: Math.max(2, x(p.until) - x(p.since)),
        class: `lane pending ${p.confirmed ? 'pending-confirmed' : 'pending-flap'}`,
      }, svg);
      el('title', {}, bar).textContent = p.confirmed
        ? `offline since ${p.since}, pending until ${p.until}: then reported offline`
        : `offline since ${p.since}, back at ${p.until}: a flap, never reported`;
    }
  }
  timeAxis(svg, (t) => x(t), t0, t1, H - 8, L - 8);
  const cx = x(at);
  el('line', { x1: cx, x2: cx, y1: 0, y2: H - B, class: 'cursor' }, svg);
  seekable(svg, (px) => Math.round(t0 + ((px - L) / (W - L - R)) * span), onSeek);
}
