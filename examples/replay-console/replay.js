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
 * The online count over time: the log's timed lines, sorted by event time, fed one by one to a
 * scratch engine; after each event time the engine's countOnline() is recorded (it is asked again
 * only when an ingest reported a transition, the only way the count can change). Returns
 * [{time, online}], one point per distinct event time, starting at 0 just before the first.
 * Within the tombstone bound this equals a fresh replay up to each time (the answer depends only
 * on the set of events, semantics.md).
 */
export function onlineSeries(StatusEngine, options, entries) {
  const timed = entries.filter((e) => e.time !== null).sort((a, b) => a.time - b.time || a.index - b.index);
  const scratch = new StatusEngine(options);
  const points = timed.length ? [{ time: timed[0].time, online: 0 }] : [];
  let online = 0;
  try {
    for (let i = 0; i < timed.length; i++) {
      let flipped = false;
      try { flipped = scratch.ingest(timed[i].line) != null; } catch { /* rejected: listed elsewhere */ }
      if (flipped) online = scratch.countOnline();
      const last = i + 1 === timed.length || timed[i + 1].time !== timed[i].time;
      if (last) points.push({ time: timed[i].time, online });
    }
  } finally {
    dispose(scratch);
  }
  return points;
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
        const transition = scratch.ingest(e.line);
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
