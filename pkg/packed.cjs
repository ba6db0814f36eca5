'use strict';
// Decoding the packed format in which both backends return transitions and batch reports. The
// format is described once, in bindings/js-common/src/lib.rs ("The packed format"), next to its
// encoder. Building the objects here costs a fraction of building them from native code or
// WebAssembly (one boundary crossing per property or string). Nothing here judges anything.
//
// This file is the source of dist/web/packed.js as well (an ES module written by
// scripts/build.mjs): it requires nothing and ends with its `module.exports` line.

/** Flag of a transition that carries `offlineSince` (grace, SPEC §9). */
const HAS_OFFLINE_SINCE = 8;

/** One transition; property order as in every other backend and language. */
function transition(text, start, clientEnd, channelEnd, time, flags, eventTypes) {
  return {
    clientId: text.slice(start, clientEnd),
    online: (flags & 1) === 1,
    time,
    channelId: text.slice(clientEnd, channelEnd),
    eventType: eventTypes[(flags >>> 1) & 3],
  };
}

/**
 * The transition (or null) from a packed transition
 * `null | [text, clientIdEnd, time, flags, offlineSince?]`.
 */
function unpackTransition(packed, eventTypes) {
  if (packed === null) return null;
  const [text, clientEnd, time, flags] = packed;
  const t = transition(text, 0, clientEnd, text.length, time, flags, eventTypes);
  if (flags & HAS_OFFLINE_SINCE) t.offlineSince = packed[4];
  return t;
}

/**
 * The report `{applied, duplicates, late, rejected, errors, transitions}` from a packed report
 * `[head, text, cols, since]`, four numbers per transition in `cols`, the `offlineSince` of the
 * flagged ones in `since`.
 */
function unpackReport(packed, eventTypes) {
  const [head, text, cols, since] = packed;
  const report = JSON.parse(head);
  const n = cols.length >>> 2;
  const transitions = new Array(n);
  let start = 0;
  let k = 0;
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const channelEnd = cols[j + 1];
    const flags = cols[j + 3];
    const t = transition(text, start, cols[j], channelEnd, cols[j + 2], flags, eventTypes);
    if (flags & HAS_OFFLINE_SINCE) t.offlineSince = since[k++];
    transitions[i] = t;
    start = channelEnd;
  }
  report.transitions = transitions;
  return report;
}

module.exports = { unpackTransition, unpackReport };
