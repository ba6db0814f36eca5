// Indexes a log for display: each line's text, event time, type, client and channel. These fields
// are read only to sort and draw; every judgment (valid? duplicate? online?) comes from the engine.

function bodyOf(obj) {
  if (obj && typeof obj === 'object' && 'body' in obj) {
    const b = obj.body;
    if (typeof b === 'string') {
      try { return JSON.parse(b); } catch { return null; }
    }
    return b && typeof b === 'object' ? b : null;
  }
  return obj && typeof obj === 'object' ? obj : null;
}

function timeOf(b) {
  const t = b && b.time;
  if (typeof t === 'number' && Number.isSafeInteger(t) && t >= 0) return t;
  if (typeof t === 'string' && /^[0-9]{1,16}$/.test(t) && Number.isSafeInteger(Number(t))) return Number(t);
  return null;
}

const str = (v) => (typeof v === 'string' ? v : null);

/**
 * Splits JSONL text into lines (0-based `index` = the engine's batch index) and reads what the
 * page needs to draw each one. Returns {lines, entries, times, min, max, clientIds}: `times` are
 * the distinct event times, sorted; `clientIds` the distinct client ids, sorted.
 */
export function indexLog(text) {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const entries = [];
  const times = new Set();
  const ids = new Set();
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    let parsed = null;
    try { parsed = JSON.parse(line); } catch { /* the engine reports it */ }
    // An observation line (SPEC §9): `{"observe": {clientId, online, time}}`, what the broker's
    // query API answered; drawn on its client's lane, fed to engines with `observe`.
    const obs = parsed && typeof parsed === 'object' && parsed.observe && typeof parsed.observe === 'object'
      ? parsed.observe : null;
    const b = obs ?? bodyOf(parsed);
    const entry = {
      index,
      line,
      time: timeOf(b),
      kind: obs ? 'observe' : str(b && b.eventType) ?? str(parsed && parsed.tag) ?? '?',
      online: obs && typeof obs.online === 'boolean' ? obs.online : null,
      clientId: str(b && b.clientId),
      channelId: str(b && b.channelId),
      clientIp: str(b && b.clientIp),
    };
    entries.push(entry);
    if (entry.time !== null) times.add(entry.time);
    if (entry.clientId) ids.add(entry.clientId);
  });
  const sorted = Float64Array.from(times).sort();
  return {
    lines,
    entries,
    times: Array.from(sorted),
    min: sorted.length ? sorted[0] : 0,
    max: sorted.length ? sorted[sorted.length - 1] : 0,
    clientIds: [...ids].sort(),
  };
}

/** Index of the largest time <= t in a sorted array, or -1 when every time is later. */
export function floorIndex(times, t) {
  let lo = 0, hi = times.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

/** Epoch ms → ISO-8601 UTC, or '—' when absent. */
export function iso(t) {
  if (t === null || t === undefined) return '—';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString();
}

/** Epoch ms → "1714521600000 · 2024-05-01T00:00:00.000Z", or '—' when absent. */
export function fmtTime(t) {
  if (t === null || t === undefined) return '—';
  return `${t} · ${iso(t)}`;
}

/**
 * Reads a time typed by a person: epoch milliseconds, or ISO-8601 (a date, a date and time; a
 * time without a zone is taken as UTC, like the CLI's --at). Returns epoch ms or null.
 */
export function parseTime(text) {
  const s = text.trim();
  if (/^[0-9]{1,16}$/.test(s)) return Number(s);
  let v = s.replace(' ', 'T');
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)) v += 'Z';
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}
