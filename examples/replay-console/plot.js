// Online-count-over-time plot as inline SVG (no chart library).

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

/**
 * Draws `points` ([{time, online}], sorted by time) into `host`; returns a function that moves
 * the cursor line to a time.
 */
export function drawPlot(host, points) {
  host.textContent = '';
  const W = 900, H = 220, L = 48, R = 12, T = 12, B = 28;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'plot' }, host);
  const t0 = points.length ? points[0].time : 0;
  const t1 = points.length ? points[points.length - 1].time : 1;
  const top = Math.max(1, ...points.map((p) => p.online));
  const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
  const y = (v) => H - B - (v / top) * (H - T - B);
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(top * frac);
    el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }, svg);
    el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, svg).textContent = v;
  }
  for (const frac of [0, 0.5, 1]) {
    const t = t0 + (t1 - t0) * frac;
    const label = new Date(t).toISOString().slice(0, 19).replace('T', ' ');
    el('text', { x: x(t), y: H - 8, 'text-anchor': frac === 0 ? 'start' : frac === 1 ? 'end' : 'middle', class: 'axis' }, svg)
      .textContent = label;
  }
  // A step line: the count holds until the next event time.
  let d = '';
  points.forEach((p, i) => {
    d += i === 0 ? `M${x(p.time)},${y(p.online)}` : `H${x(p.time)}V${y(p.online)}`;
  });
  el('path', { d, class: 'series' }, svg);
  const cursor = el('line', { y1: T, y2: H - B, class: 'cursor' }, svg);
  return (t) => {
    cursor.setAttribute('x1', x(t));
    cursor.setAttribute('x2', x(t));
  };
}
