// Indexes a log for display: line text, event time and client of each line. This reads fields
// only to draw the timeline; every judgment (valid? online?) comes from the engine.

function body(obj) {
  if (obj && typeof obj === 'object' && 'body' in obj) {
    const b = obj.body;
    if (typeof b === 'string') {
      try { return JSON.parse(b); } catch { return null; }
    }
    return b;
  }
  return obj;
}

function timeOf(b) {
  const t = b && b.time;
  if (typeof t === 'number' && Number.isSafeInteger(t) && t >= 0) return t;
  if (typeof t === 'string' && /^[0-9]{1,16}$/.test(t)) return Number(t);
  return null;
}

/** Splits text into lines (keeping 0-based positions) with each line's time and client, if readable. */
export function indexLog(text) {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const entries = [];
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    let parsed = null;
    try { parsed = JSON.parse(line); } catch { /* the engine reports it */ }
    const b = body(parsed);
    const kind = (b && typeof b.eventType === 'string' && b.eventType) || (parsed && parsed.tag) || '?';
    entries.push({
      index, line, time: timeOf(b), kind,
      clientId: b && typeof b.clientId === 'string' ? b.clientId : null,
      channelId: b && typeof b.channelId === 'string' ? b.channelId : null,
    });
  });
  const times = entries.map((e) => e.time).filter((t) => t !== null);
  const min = times.length ? Math.min(...times) : 0;
  const max = times.length ? Math.max(...times) : 0;
  return { lines, entries, min, max };
}

/** Epoch ms → "1714521600000 (2024-05-01T00:00:00.000Z)". */
export function fmtTime(t) {
  if (t === null || t === undefined) return '—';
  return `${t} (${new Date(t).toISOString()})`;
}
