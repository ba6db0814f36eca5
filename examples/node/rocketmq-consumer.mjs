#!/usr/bin/env node
// A RocketMQ consumer of ApsaraMQ for MQTT status notifications, on ali-ons (the RocketMQ 4.x
// remoting protocol, through the name server: what ApsaraMQ for RocketMQ 4.x instances speak).
//
// Each message (tag = event type, body = the notification JSON) goes to the engine; the message
// is acknowledged only after the engine took it (the handler returns), a handler that throws
// sends it back for redelivery, and every online/offline transition is printed.
//
//   node rocketmq-consumer.mjs [--namesrv 127.0.0.1:9876] [--topic GID_meter_MQTT]
//        [--group GID_mqtt_status_node] [--tags 'connect||disconnect||tcpclean'] [--quiet]
//
// Test options (scripts/ci/e2e.sh): --fail-rate 0.01 fails that share of first deliveries
// (chosen by a hash of the message id, so the same messages fail in every run) to make the broker
// redeliver them; --bare acknowledges without tracking status (the throughput baseline);
// --expect N --report FILE exits after N distinct messages with a JSON report.
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import ons from 'ali-ons';
import { StatusEngine, backend, isStatusError } from 'mqtt-status';

const { values: opt } = parseArgs({
  options: {
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
    timeout: { type: 'string', default: '0' },
  },
});
const failRate = Number(opt['fail-rate']);
const expected = Number(opt.expect);

// The status state. Today one in-process engine per consumer, so one consumer must see the whole
// topic (its own group). With the shared status store this becomes `await store.ingest(body, tag)`
// (a throw on store_unavailable sends the message back), and instances can share a group.
const engine = new StatusEngine();
async function ingest(body, tag) {
  return engine.ingest(body, tag);
}

// A message's identity across redeliveries: the producer's unique key (ali-ons' msgId is the
// broker's offset id, which a redelivered copy in the retry topic does not share).
const identity = (msg) => msg.properties?.UNIQ_KEY || msg.originMessageId || msg.msgId;

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
  last: 0n,
};

// Transitions go out in one write per event-loop turn: console.log to a file or pipe is a
// synchronous write per line, which cost more than the rest of the consumer (about 30 µs a line).
let pending = '';
function print(line) {
  if (!pending) setImmediate(flush);
  pending += `${line}\n`;
}
function flush() {
  if (pending) process.stdout.write(pending);
  pending = '';
}

async function handle(msg) {
  if (tally.deliveries++ === 0) tally.first = process.hrtime.bigint();
  if (msg.reconsumeTimes > 0) tally.redeliveries++;
  if (failsOnPurpose(msg)) {
    tally.failedOnPurpose++;
    throw new Error(`failing first delivery of ${identity(msg)} on purpose (--fail-rate)`);
  }
  if (!opt.bare) {
    try {
      const t = await ingest(msg.body, msg.tags);
      if (t && !opt.quiet) {
        print(`${new Date(t.time).toISOString()} ${t.clientId} ${t.online ? 'ONLINE ' : 'OFFLINE'} (${t.eventType} on ${t.channelId})`);
      }
    } catch (e) {
      // A malformed notification never becomes valid: acknowledge it (do not retry) and log it.
      // Anything else (a bug, a store outage) throws, and the message comes back later.
      if (!isStatusError(e)) throw e;
      tally.rejected++;
      console.error(`skipped message ${identity(msg)}: ${e.code}${e.field ? ` (${e.field})` : ''}: ${e.message}`);
    }
  }
  acked(identity(msg));
}

function acked(id) {
  if (tally.done.has(id)) return;
  tally.done.add(id);
  const n = tally.done.size;
  if (!tally.at95 && expected && n >= Math.ceil(expected * 0.95)) tally.at95 = process.hrtime.bigint();
  if (expected && n >= expected && !tally.last) {
    tally.last = process.hrtime.bigint();
    // Let the last handler return (so its offset is committed) before closing.
    setImmediate(() => finish(0));
  }
}

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
  // ali-ons reports the host's first non-loopback address by default; the tests stay on loopback.
  clientIP: opt['client-ip'],
  consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  // Handle a pulled batch concurrently (the default, 1, handles one message at a time per queue).
  pullBatchSize: 32,
  parallelConsumeLimit: 32,
  persistConsumerOffsetInterval: 1000,
});
consumer.on('error', (err) => {
  // Not errors: our own test failures, and a new group's first start (no stored offset yet).
  if (/on purpose|maybe this group consumer boot first/.test(err.message)) return;
  console.error(`consumer error: ${err.message}`);
});
consumer.subscribe(opt.topic, opt.tags, handle);
console.error(`rocketmq consumer: ${opt.bare ? 'bare (acknowledge only)' : `mqtt-status ${backend}`}; group ${opt.group}; ${opt.topic} ${opt.tags}`);

let finishing = false;
async function finish(code) {
  if (finishing) return;
  finishing = true;
  const seconds = (a, b) => (a && b ? Number(b - a) / 1e9 : null);
  const s95 = seconds(tally.first, tally.at95);
  const report = {
    consumer: opt.bare ? 'bare-node' : 'node',
    group: opt.group,
    expected,
    consumed: tally.done.size,
    deliveries: tally.deliveries,
    redeliveries: tally.redeliveries,
    failedOnPurpose: tally.failedOnPurpose,
    rejected: tally.rejected,
    seconds95: s95,
    rate: s95 ? Math.round(Math.ceil(expected * 0.95) / s95) : 0,
    drainSeconds: seconds(tally.first, tally.last),
    // Every online client; a client not listed is offline.
    answers: opt.bare ? null : Object.fromEntries(engine.onlineClients().map((id) => [id, true])),
    stats: opt.bare ? null : engine.stats(),
  };
  flush();
  if (opt.report) writeFileSync(opt.report, `${JSON.stringify(report)}\n`);
  console.error(`${report.consumer}: ${report.consumed} of ${expected} messages, ${report.deliveries} deliveries ` +
    `(${report.redeliveries} redelivered, ${report.failedOnPurpose} failed on purpose), ${report.rate} msg/s (first 95 %)`);
  try {
    await Promise.race([consumer.close(), new Promise((r) => setTimeout(r, 5000))]);
  } finally {
    process.exit(code);
  }
}
process.on('SIGTERM', () => finish(expected && tally.done.size < expected ? 2 : 0));
process.on('SIGINT', () => finish(expected && tally.done.size < expected ? 2 : 0));
if (Number(opt.timeout) > 0) setTimeout(() => finish(2), Number(opt.timeout) * 1000).unref();
