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
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const uint = (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);
const idOf = (v) => (uint(v) === null ? null : String(v));

/** RFC 3339 (Azure writes seven fraction digits) → epoch ms, cut to the millisecond, or null. */
function rfc3339(v) {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(t) || t < 0 ? null : t;
}

/**
 * The format of one parsed line under option `source` (docs/sources.md): `auto` recognises it
 * from its keys, in the engine's order (statusType, then AWS, EMQX, Azure; else ApsaraMQ).
 */
export function formatOf(o, source) {
  if (source !== 'auto') return source;
  if (!isObj(o)) return 'aliyun';
  const has = (k) => o[k] !== undefined && o[k] !== null;
  if (has('statusType')) return 'aliyun-sdk';
  if (has('sessionIdentifier') || (has('timestamp') && (o.eventType === 'connected' || o.eventType === 'disconnected'))) return 'aws';
  if (has('clientid') || (typeof o.event === 'string' && o.event.startsWith('client.'))) return 'emqx';
  const azureType = (t) => typeof t === 'string' && t.startsWith('Microsoft.EventGrid.');
  if ((isObj(o.data) && o.data.clientSessionName != null) || azureType(o.type) || azureType(o.eventType)) return 'azure-mqtt';
  return 'aliyun';
}

/**
 * What the page draws of one parsed line in `format`: {time, kind, clientId, channelId, clientIp},
 * read as the engine reads it (the channel is the vendor's connection: AWS `sessionIdentifier`,
 * EMQX `connected_at`, Azure `data.sequenceNumber`, the SDK's `channelId`); `kind` is the
 * vendor's own event name. Only for drawing: the engine judges the line.
 */
export function fieldsOf(parsed, tag, format) {
  const o = isObj(parsed) ? parsed : {};
  switch (format) {
    case 'aws':
      return { time: uint(o.timestamp), kind: str(o.eventType) ?? '?', clientId: str(o.clientId),
        channelId: str(o.sessionIdentifier), clientIp: str(o.ipAddress) };
    case 'emqx': {
      const closed = typeof o.event === 'string' ? o.event === 'client.disconnected'
        : o.disconnected_at != null || o.reason != null;
      const close = [o.disconnected_at, o.timestamp, o.ts].find((v) => v !== undefined && v !== null);
      return { time: uint(closed ? close : o.connected_at), kind: str(o.event) ?? (closed ? 'disconnected' : 'connected'),
        clientId: str(o.clientid), channelId: idOf(o.connected_at), clientIp: str(o.peername) ?? str(o.ipaddress) };
    }
    case 'azure-mqtt': {
      const d = isObj(o.data) ? o.data : {};
      const type = str(o.type) ?? str(o.eventType);
      return { time: rfc3339(o.time ?? o.eventTime), kind: type ? type.replace(/^Microsoft\.EventGrid\.MQTTClient/, '') : '?',
        clientId: str(d.clientSessionName), channelId: idOf(d.sequenceNumber), clientIp: null };
    }
    case 'aliyun-sdk':
      return { time: timeOf(o), kind: str(o.statusType) ?? '?', clientId: str(o.clientId),
        channelId: str(o.channelId), clientIp: str(o.clientIp) };
    default: {
      const b = bodyOf(parsed);
      return { time: timeOf(b), kind: str(b && b.eventType) ?? tag ?? '?', clientId: str(b && b.clientId),
        channelId: str(b && b.channelId), clientIp: str(b && b.clientIp) };
    }
  }
}

/** The CSS class of a kind: opens green, closes red, ApsaraMQ's goodbye amber. */
export function kindClass(kind) {
  if (/^(connect|connected|client\.connected|SessionConnected|ONLINE)$/.test(kind)) return 'event-connect';
  if (kind === 'disconnect') return 'event-disconnect';
  return /^(tcpclean|disconnected|client\.disconnected|SessionDisconnected|OFFLINE)$/.test(kind) ? 'event-tcpclean' : '';
}

/**
 * Splits JSONL text into lines (0-based `index` = the engine's batch index) and reads what the
 * page needs to draw each one, in the format of option `source` (default `aliyun`). Returns
 * {lines, entries, times, min, max, clientIds}: `times` are the distinct event times, sorted;
 * `clientIds` the distinct client ids, sorted.
 */
export function indexLog(text, source = 'aliyun') {
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
    const entry = obs
      ? { index, line, time: timeOf(obs), kind: 'observe', online: typeof obs.online === 'boolean' ? obs.online : null,
        clientId: str(obs.clientId), channelId: null, clientIp: null }
      : { index, line, online: null, ...fieldsOf(parsed, str(parsed && parsed.tag), formatOf(parsed, source)) };
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
