// Everything that asks the engine a question. The page never decides who is online itself: it only
// feeds lines to a StatusEngine and reads its answers.

/** A fresh engine with `options`, fed `text` whole, or only its events with time <= `until`. */
export function engineFor(StatusEngine, options, text, until) {
  const engine = new StatusEngine(options);
  if (until === undefined || until === null) engine.ingestMany(text);
  else engine.ingestMany(text, { until });
  return engine;
}

export function dispose(engine) {
  if (engine && typeof engine.free === 'function') engine.free();
}

/**
 * Feeds one log entry to an engine: an observation line with `observe` (a single `ingest` body
 * is a notification), anything else with `ingest`. Returns the transition, if any; throws what
 * the engine throws for a bad line.
 */
export function feed(engine, entry) {
  if (entry.kind === 'observe') {
    const o = JSON.parse(entry.line).observe;
    return engine.observe(o.clientId, o.online, entry.time);
  }
  return engine.ingest(entry.line);
}

const byTime = (entries) => entries.filter((e) => e.time !== null).sort((a, b) => a.time - b.time || a.index - b.index);

/**
 * The online count over time: the log's timed lines, sorted by event time, fed one by one to a
 * scratch engine; after each event time the engine's countOnline() is recorded (it is asked again
 * only when an ingest reported a transition, the only way the count can change). Returns
 * [{time, online, reported}], one point per distinct event time, starting at 0 just before the
 * first. Within the tombstone bound this equals a fresh replay up to each time (the answer
 * depends only on the set of events, semantics.md).
 *
 * With `graceMs` > 0 (SPEC §9), `reported` is what an engine with that `offlineGraceMs` reports
 * as online: the exactly online clients plus the pending offlines, the host's clock advanced to
 * each event time (`advance`). Without, `reported` equals `online`.
 */
export function onlineSeries(StatusEngine, options, entries, graceMs = 0) {
  const timed = byTime(entries);
  const scratch = new StatusEngine(graceMs > 0 ? { ...options, offlineGraceMs: graceMs } : options);
  const points = timed.length ? [{ time: timed[0].time, online: 0, reported: 0 }] : [];
  let online = 0;
  try {
    for (let i = 0; i < timed.length; i++) {
      let flipped = false;
      try { flipped = feed(scratch, timed[i]) != null; } catch { /* rejected: listed elsewhere */ }
      if (flipped || graceMs > 0) online = scratch.countOnline();
      const last = i + 1 === timed.length || timed[i + 1].time !== timed[i].time;
      if (!last) continue;
      if (graceMs > 0) {
        scratch.advance(timed[i].time);
        points.push({ time: timed[i].time, online, reported: online + scratch.stats().pendingOffline });
      } else points.push({ time: timed[i].time, online, reported: online });
    }
  } finally {
    dispose(scratch);
  }
  return points;
}

/**
 * One client's pending offlines with a grace (SPEC §9): its timed lines fed in time order to a
 * scratch engine with `offlineGraceMs`, the clock advanced to each event time, and
 * `client(id).pendingOfflineSince` read after each. Returns [{since, until, confirmed}]: the
 * client was exactly offline but still reported online from `since` to `until` (the grace ran
 * out and the offline was `confirmed`, or the client came back: a flap, never reported).
 */
export function pendingOfflines(StatusEngine, options, id, entries, graceMs) {
  if (!(graceMs > 0)) return [];
  const scratch = new StatusEngine({ ...options, offlineGraceMs: graceMs });
  const out = [];
  let open = null;
  try {
    const timed = byTime(entries);
    for (let i = 0; i < timed.length; i++) {
      try { feed(scratch, timed[i]); } catch { /* rejected: listed elsewhere */ }
      if (i + 1 < timed.length && timed[i + 1].time === timed[i].time) continue;
      const confirmed = scratch.advance(timed[i].time).length > 0;
      const since = scratch.client(id)?.pendingOfflineSince ?? null;
      if (open && open.since !== since) {
        const due = open.since + graceMs; // confirmed then (by the clock or a later event), unless back before
        out.push({ ...open, until: Math.min(due, timed[i].time), confirmed: confirmed || timed[i].time >= due });
        open = null;
      }
      if (since !== null && !open) open = { since };
    }
    if (open) out.push({ ...open, until: open.since + graceMs, confirmed: false });
  } finally {
    dispose(scratch);
  }
  return out;
}

/**
 * The engine's verdict on each of one client's lines, fed in log (arrival) order to a scratch
 * engine: 'applied', 'duplicate', 'late' or 'rejected', from its stats() before and after, plus
 * the transition the line caused, if any. Lines of other clients cannot change these verdicts:
 * the engine keeps each client's state separately.
 */
export function judgeLines(StatusEngine, options, entries) {
  const scratch = new StatusEngine(options);
  try {
    return entries.map((e) => {
      const before = scratch.stats();
      try {
        const transition = feed(scratch, e);
        const after = scratch.stats();
        const verdict = after.late > before.late ? 'late'
          : after.duplicates > before.duplicates ? 'duplicate'
            : after.applied > before.applied ? 'applied' : 'ignored';
        return { ...e, verdict, transition };
      } catch (err) {
        return { ...e, verdict: 'rejected', error: err };
      }
    });
  } finally {
    dispose(scratch);
  }
}
