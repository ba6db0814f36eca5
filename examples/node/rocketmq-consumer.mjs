#!/usr/bin/env node
// A RocketMQ consumer of ApsaraMQ for MQTT status notifications, on ali-ons (the RocketMQ 4.x
// remoting protocol, through the name server: what ApsaraMQ for RocketMQ 4.x instances speak),
// feeding the shared status store (Redis): run as many instances in one consumer group as you
// like, restart them at will; they all answer from one state.
//
// Each message (tag = event type, body = the notification JSON) goes to the store; it is
// acknowledged only after the store committed it (the handler returns), a store outage sends it
// back for redelivery (the handler throws), a malformed notification is acknowledged and logged,
// and every online/offline transition of the shared status is printed by the instance that
// caused it.
//
//   node rocketmq-consumer.mjs [--store redis://127.0.0.1:6379] [--namesrv 127.0.0.1:9876]
//        [--topic GID_meter_MQTT] [--group GID_mqtt_status_node]
//        [--tags 'connect||disconnect||tcpclean'] [--in-flight 4] [--batch 128] [--calls 1] [--quiet]
//
// --in-flight N: consume loops. ali-ons consumes one batch (up to --batch messages of one queue)
// at a time per consumer, for all its queues in turn, and acknowledges it when every handler
// returned; so this process runs N ali-ons consumers of the group (distinct instance names: the
// broker gives each its share of the queues), each with its own loop, all on ONE store handle.
// Use about the number of queues this instance gets (the topic's queues / the instances of the
// group); 1 is ali-ons alone.
//
// --batch N: most messages per batch (ali-ons' pullBatchSize and parallelConsumeLimit). The
// broker sends at most 32 messages per pull, but ali-ons keeps pulling while the consumer works,
// so with a backlog a queue holds more and a batch takes up to N of them.
//
// --calls N: `ingestMany` calls in flight (1). The batches the loops hand out while a call is in
// flight wait and then go together in the next call. A call costs per event and per call (a
// thread of the pool, a round of Redis script calls per shard touched), so fewer, bigger calls
// cost less CPU per message, which is what limits a consumer sharing its cores with the broker
// (bench/rocketmq, docs/BENCHMARKS.md). Each batch is still acknowledged only after the call
// holding it returned.
//
// Test options (scripts/ci/e2e.sh): --fail-rate 0.01 fails that share of first deliveries
// (chosen by a hash of the message id, so the same messages fail in every run) to make the broker
// redeliver them; --bare acknowledges without tracking status (the throughput baseline);
// --expect N --report FILE exits after N distinct messages with a JSON report (without --expect,
// SIGTERM writes it); --acked FILE appends each acknowledged message's id.
import { openSync, writeSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import ons from 'ali-ons';
import { StatusStore, backend } from 'mqtt-status';

const { values: opt } = parseArgs({
  options: {
    store: { type: 'string', default: 'redis://127.0.0.1:6379' },
    namesrv: { type: 'string', default: '127.0.0.1:9876' },
    topic: { type: 'string', default: 'GID_meter_MQTT' },
    group: { type: 'string', default: 'GID_mqtt_status_node' },
    tags: { type: 'string', default: 'connect||disconnect||tcpclean' },
    'client-ip': { type: 'string', default: '127.0.0.1' },
    'fail-rate': { type: 'string', default: '0' },
    bare: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    expect: { type: 'string', default: '0' },
    report: { type: 'string' },
    acked: { type: 'string' },
    timeout: { type: 'string', default: '0' },
    'in-flight': { type: 'string', default: '4' },
    batch: { type: 'string', default: '128' },
    calls: { type: 'string', default: '1' },
  },
});
const inFlight = Math.max(1, Number(opt['in-flight']) || 1);
const maxCalls = Math.max(1, Number(opt.calls) || 1);
const failRate = Number(opt['fail-rate']);
const expected = Number(opt.expect);
// ali-ons hands the handler every message of a batch (up to this many of a queue's pulled
// messages) at once and acknowledges the batch when all handlers returned.
const BATCH = Math.max(1, Number(opt.batch) || 32);

// The shared status state: one handle per process (it holds the connection and a record cache).
// A store that is unavailable at start (Redis restarting, paused, failing over) is waited for,
// as a commit's store_unavailable is: subscribing without it would only fail every message.
// Any other error (a bad URL, another configuration: config_mismatch) is final.
async function openStore(url) {
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await StatusStore.open(url);
    } catch (e) {
      if (e.code !== 'store_unavailable') throw e;
      console.error(`store unavailable at start (${e.message}); retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
const store = opt.bare ? null : await openStore(opt.store);

// A message's identity across redeliveries: the producer's unique key (ali-ons' msgId is the
// broker's offset id, which a redelivered copy in the retry topic does not share).
const identity = (msg) => msg.properties?.UNIQ_KEY || msg.originMessageId || msg.msgId;

// Transitions go out in one write per event-loop turn: console.log to a file or pipe is a
// synchronous write per line, which costs more than the rest of the consumer (about 30 µs a line).
let pending = '';
function print(line) {
  if (!pending) setImmediate(flush);
  pending += `${line}\n`;
}
function flush() {
  if (pending) process.stdout.write(pending);
  pending = '';
}

// A transition's time as ISO 8601 (what `new Date(ms).toISOString()` gives), the date and time up
// to the minute made once per minute: the events of a batch are close in time, and a line
// formatted with a Date of its own took 1.2-1.7 µs here, 0.1-0.25 µs this way.
let isoMinute = NaN;
let isoHead = '';
function iso(ms) {
  if (ms > 8.64e15) return String(ms); // beyond the Date range (the engine takes up to 2^53 - 1)
  const minute = Math.floor(ms / 60000);
  if (minute !== isoMinute) {
    isoMinute = minute;
    isoHead = new Date(minute * 60000).toISOString().slice(0, -7); // without "ss.mmmZ"
  }
  const r = ms - minute * 60000; // ss * 1000 + mmm
  const sec = Math.floor(r / 1000);
  const milli = r - sec * 1000;
  return `${isoHead}${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

// One call for the batches at hand. ali-ons calls the handlers of a batch one after another in
// the same turn of the event loop, so the messages queued here until the turn's microtasks run
// are that batch (with those of other consume loops handed out in the same turn): one
// `ingestMany` (a round of script calls to Redis) commits them all, instead of a round trip per
// message. While --calls calls are in flight, the batch waits and the next batches join it; it
// goes when a call returns. The batch has one promise, which every handler of its messages
// awaits: it settles once its call did (no promise or closure per message).
let open = null; // the batch being collected, or waiting for a call: {msgs, promise, resolve, reject}
let calls = 0; // ingestMany calls in flight (at most --calls)
const microtask = Promise.resolve();
function ingest(msg) {
  if (open === null) {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    open = { msgs: [], promise, resolve, reject };
    microtask.then(send);
  }
  open.msgs.push(msg);
  return open.promise;
}
function send() {
  if (open === null || calls >= maxCalls) return; // a waiting batch goes when a call returns
  const batch = open;
  open = null;
  calls++;
  commit(batch).finally(() => {
    calls--;
    send();
  });
}

// The JSONL of a batch, a line per message (a report error's index is the line): an envelope
// carrying the message's tag (checked against the body's eventType) around its body, the body's
// bytes as they came (an envelope's body may be the object itself), so nothing is decoded,
// escaped or copied into a string here, and the lines are written straight into one buffer. A
// body spanning lines goes in as a JSON string instead (a line must stay a line); a body that is
// not JSON fails its line either way, reported below.
const EMPTY = Buffer.alloc(0);
const prefixes = new Map();
/** `{"tag":TAG,"body":` as bytes, made once per tag. */
function prefix(tag) {
  let p = prefixes.get(tag);
  if (!p) prefixes.set(tag, (p = Buffer.from(`{"tag":${JSON.stringify(tag ?? null)},"body":`)));
  return p;
}
function jsonl(msgs) {
  const heads = new Array(msgs.length);
  const bodies = new Array(msgs.length);
  let size = 0;
  for (let i = 0; i < msgs.length; i++) {
    const msg = msgs[i];
    let head = prefix(msg.tags);
    let body = msg.body ?? EMPTY; // ali-ons leaves an empty body undefined (its line then fails)
    if (body.includes(10)) {
      head = Buffer.from(`{"tag":${JSON.stringify(msg.tags ?? null)},"body":${JSON.stringify(body.toString())}`);
      body = EMPTY;
    }
    heads[i] = head;
    bodies[i] = body;
    size += head.length + body.length + 2; // + '}' + '\n'
  }
  const out = Buffer.allocUnsafe(size - 1);
  let n = 0;
  for (let i = 0; i < msgs.length; i++) {
    out.set(heads[i], n);
    n += heads[i].length;
    out.set(bodies[i], n);
    n += bodies[i].length;
    out[n++] = 0x7d; // }
    if (n < out.length) out[n++] = 0x0a; // \n
  }
  return out;
}

async function commit({ msgs, resolve, reject }) {
  let report;
  try {
    report = await store.ingestMany(jsonl(msgs));
    tally.commits++;
    tally.committed += msgs.length;
  } catch (e) {
    // store_unavailable (or anything unexpected): nothing of the batch is acknowledged; every
    // handler throws and ali-ons sends its message back for a later redelivery. (Events the
    // store did commit before failing come back as duplicates, which change nothing.)
    console.error(`store commit of ${msgs.length} messages failed (${e.code ?? e.name}: ${e.message}); they will be redelivered`);
    reject(e);
    return;
  }
  try {
    if (!opt.quiet) {
      for (const t of report.transitions) {
        print(`${iso(t.time)} ${t.clientId} ${t.online ? 'ONLINE ' : 'OFFLINE'} (${t.eventType} on ${t.channelId})`);
      }
    }
    // A malformed notification never becomes valid: it is acknowledged (not retried) and logged.
    for (const e of report.errors) {
      tally.rejected++;
      console.error(`skipped message ${identity(msgs[e.index])}: ${e.code}${e.field ? ` (${e.field})` : ''}: ${e.message}`);
    }
  } finally {
    resolve(); // committed: the batch is acknowledged whatever the printing did
  }
}

// ---- the handler ----

/** True for about `failRate` of all messages, always the same ones (a hash of the id). */
function failsOnPurpose(msg) {
  if (failRate <= 0 || msg.reconsumeTimes > 0) return false;
  const h = createHash('sha1').update(identity(msg)).digest().readUInt32BE(0);
  return h / 2 ** 32 < failRate;
}

const tally = {
  done: new Set(),
  deliveries: 0,
  redeliveries: 0,
  failedOnPurpose: 0,
  rejected: 0,
  first: 0n,
  at95: 0n,
  cpuFirst: null, // process.cpuUsage() at the first delivery
  cpu95: null, // CPU time (µs) from then to the 95 % mark
  commits: 0, // ingestMany calls (batches) that succeeded, and their messages
  committed: 0,
  last: 0n,
};
const ackedFd = opt.acked ? openSync(opt.acked, 'a') : null;

async function handle(msg) {
  if (tally.deliveries++ === 0) {
    tally.first = process.hrtime.bigint();
    tally.cpuFirst = process.cpuUsage();
  }
  if (msg.reconsumeTimes > 0) tally.redeliveries++;
  if (failsOnPurpose(msg)) {
    tally.failedOnPurpose++;
    throw new Error(`failing first delivery of ${identity(msg)} on purpose (--fail-rate)`);
  }
  if (!opt.bare) {
    try {
      await ingest(msg);
    } catch (e) {
      // The commit failed (store_unavailable): the message comes back later. An error of its own
      // per message: ali-ons rewrites the message of the error a handler throws.
      throw new Error('store commit failed', { cause: e });
    }
  }
  acked(identity(msg));
}

function acked(id) {
  // Written before the handler returns, so an instance killed after this write may have
  // acknowledged the id or not (then it comes back), never the reverse.
  if (ackedFd !== null) writeSync(ackedFd, `${id}\n`);
  if (tally.done.has(id)) return;
  tally.done.add(id);
  const n = tally.done.size;
  if (!tally.at95 && expected && n >= Math.ceil(expected * 0.95)) {
    tally.at95 = process.hrtime.bigint();
    const cpu = process.cpuUsage(tally.cpuFirst);
    tally.cpu95 = cpu.user + cpu.system;
  }
  if (expected && n >= expected && !tally.last) {
    tally.last = process.hrtime.bigint();
    // Let the last handler return (so its offset is committed) before closing.
    setImmediate(() => finish(0));
  }
}

// --in-flight consumers of the group in this process, each with its own consume loop; the
// instance name (with the process id, as the Java client's default) tells them apart for the
// broker, which splits the group's queues among all of them.
const consumers = Array.from({ length: inFlight }, (_, k) => {
  const consumer = new ons.Consumer({
    nameSrv: opt.namesrv,
    // ali-ons asserts an HTTP client, used only to look the name server up at an Aliyun address
    // when nameSrv is not given: make sure that never happens.
    httpclient: {
      request() {
        throw new Error('no HTTP name server lookup: pass --namesrv');
      },
    },
    consumerGroup: opt.group,
    instanceName: `${process.pid}-${k}`,
    // ali-ons reports the host's first non-loopback address by default; the tests stay on loopback.
    clientIP: opt['client-ip'],
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    // Handle a batch at once (the default, 1, handles one message at a time per queue).
    pullBatchSize: BATCH,
    parallelConsumeLimit: BATCH,
    persistConsumerOffsetInterval: 1000,
    // Flow control: once a queue holds this many unconsumed messages, ali-ons stops pulling it for
    // pullTimeDelayMillsWhenFlowControl. Its default pause is 5 s (the Java client's: 50 ms), which
    // cut a consumer slower than the pulls (any real one, with a backlog) to ~1,000 msg/s here.
    pullThresholdForQueue: 1000,
    pullTimeDelayMillsWhenFlowControl: 50,
  });
  consumer.on('error', (err) => {
    // Not news: our own test failures, failed commits (logged once per batch above), and a new
    // group's first start (no stored offset yet).
    if (/on purpose|store commit failed|maybe this group consumer boot first/.test(err.message)) return;
    console.error(`consumer error: ${err.message}`);
  });
  consumer.subscribe(opt.topic, opt.tags, handle);
  return consumer;
});
console.error(`rocketmq consumer: ${opt.bare ? 'bare (acknowledge only)' : `mqtt-status ${backend}, store ${opt.store}`}; ` +
  `group ${opt.group}; ${opt.topic} ${opt.tags}; ${inFlight} consume loop(s), batches of up to ${BATCH}` +
  `${opt.bare ? '' : `, ${maxCalls} call(s) in flight`}`);

let finishing = false;
async function finish(code) {
  if (finishing) return;
  finishing = true;
  const seconds = (a, b) => (a && b ? Number(b - a) / 1e9 : null);
  const s95 = seconds(tally.first, tally.at95);
  const report = {
    consumer: opt.bare ? 'bare-node' : 'node',
    group: opt.group,
    inFlight,
    batch: BATCH,
    calls: maxCalls,
    expected,
    consumed: tally.done.size,
    deliveries: tally.deliveries,
    redeliveries: tally.redeliveries,
    failedOnPurpose: tally.failedOnPurpose,
    rejected: tally.rejected,
    seconds95: s95,
    rate: s95 ? Math.round(Math.ceil(expected * 0.95) / s95) : 0,
    drainSeconds: seconds(tally.first, tally.last),
    // This process's CPU (all threads) per message up to the 95 % mark, and the batches committed.
    cpuMicrosPerMessage95: tally.cpu95 === null ? null : +(tally.cpu95 / Math.ceil(expected * 0.95)).toFixed(1),
    commits: tally.commits,
    meanBatch: tally.commits ? +(tally.committed / tally.commits).toFixed(1) : null,
    // Every online client of the shared state; a client not listed is offline.
    answers: null,
    stats: null,
  };
  try {
    if (store) {
      report.answers = Object.fromEntries((await store.onlineClients()).map((id) => [id, true]));
      report.stats = await store.stats();
    }
  } catch (e) {
    console.error(`could not read the store's answers: ${e.message}`);
    code = code || 1;
  }
  flush();
  if (opt.report) writeFileSync(opt.report, `${JSON.stringify(report)}\n`);
  console.error(`${report.consumer}: ${report.consumed} of ${expected || '?'} messages, ${report.deliveries} deliveries ` +
    `(${report.redeliveries} redelivered, ${report.failedOnPurpose} failed on purpose), ${report.rate} msg/s (first 95 %), ` +
    `${report.cpuMicrosPerMessage95} µs CPU per message${report.commits ? `, ${report.commits} batches of ${report.meanBatch} on average` : ''}`);
  try {
    await Promise.race([Promise.all(consumers.map((c) => c.close())), new Promise((r) => setTimeout(r, 5000))]);
  } finally {
    process.exit(code);
  }
}
process.on('SIGTERM', () => finish(expected && tally.done.size < expected ? 2 : 0));
process.on('SIGINT', () => finish(expected && tally.done.size < expected ? 2 : 0));
if (Number(opt.timeout) > 0) setTimeout(() => finish(2), Number(opt.timeout) * 1000).unref();
