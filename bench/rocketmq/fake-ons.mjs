// A broker-free stand-in for ali-ons' push consumer, to measure what the example consumer
// (examples/node/rocketmq-consumer.mjs, run unchanged through register.mjs) costs per message
// without a broker: the messages of a fleet file (`mqtt-status generate` lines) become ali-ons
// `Message` objects (its own class: tags in `properties.TAGS`, the body a Buffer of its own as
// its decoder makes it, a UNIQ_KEY), split over FAKE_ONS_QUEUES queues (4) shared out among the
// consumers of the process. Per queue, pulls of 32 messages (what the broker sends) fill ali-ons'
// process-queue list, with its flow control (a 50 ms pause while 1,000 wait); each consumer runs
// ali-ons 3.12's consume loop (`_consumeMessageLoop` and `consumeSingleMsg`, copied): one batch of
// up to `parallelConsumeLimit` messages of one queue at a time, all handlers called in one turn,
// the batch awaited whole before the next; a handler that throws sends its message back (here:
// it comes again a second later with reconsumeTimes + 1).
//
// Environment: FAKE_ONS_INPUT (the fleet file, required), FAKE_ONS_QUEUES (4), FAKE_ONS_PULL_MS
// (0: a pull's round trip, random up to this many ms; 0 = the next turn), FAKE_ONS_STATS (a file
// to write the figures to: messages, wall and CPU seconds of the whole drain, CPU per thread kind
// from /proc/self/task).
import { EventEmitter } from 'node:events';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../examples/node/package.json', import.meta.url));
const Message = require('ali-ons/lib/message/message');

const QUEUES = Number(process.env.FAKE_ONS_QUEUES || 4);
// A pull's round trip, up to this many ms (random): the broker's pulls arrive in their own I/O
// callbacks, not in the turn the consumer loops resume in. 0: the messages are always there.
const PULL_MS = Number(process.env.FAKE_ONS_PULL_MS || 0);
const TICK = 100; // clock ticks per second of /proc/*/stat (Linux: USER_HZ)

/** A fleet line -> [tag, body]: a dump `{"tag", "body"}` or a bare body (tag = its eventType). */
function split(line) {
  const o = JSON.parse(line);
  if (typeof o.tag === 'string') return [o.tag, typeof o.body === 'string' ? o.body : JSON.stringify(o.body)];
  return [o.eventType, line];
}
const lines = readFileSync(process.env.FAKE_ONS_INPUT, 'utf8').split('\n').filter(Boolean).map(split);
// Queue q holds the lines q, q + QUEUES, ... (the producer's round robin).
const queues = Array.from({ length: QUEUES }, () => []);
lines.forEach((l, i) => queues[i % QUEUES].push(i));

/** The message ali-ons would decode for line i (a new object per delivery, as a pull makes). */
function message(topic, i, reconsumeTimes) {
  const [tag, body] = lines[i];
  // ali-ons' decoder copies each body into a Buffer of its own (`Buffer.alloc`, not the pool).
  const bytes = Buffer.alloc(Buffer.byteLength(body));
  bytes.write(body);
  const msg = new Message(topic, tag, bytes);
  msg.properties.UNIQ_KEY = `7F000001${i.toString(16).padStart(24, '0')}`;
  msg.properties.WAIT = 'true';
  msg.msgId = `7F00000100002A9F${(i * 300).toString(16).padStart(16, '0')}`;
  msg.queueId = i % QUEUES;
  msg.queueOffset = Math.floor(i / QUEUES);
  msg.reconsumeTimes = reconsumeTimes;
  msg.bornTimestamp = Date.now();
  msg.storeTimestamp = msg.bornTimestamp;
  msg.line = i;
  return msg;
}

/** CPU seconds of this process's threads, by thread name (main, libuv-worker, V8 ..., ...). */
function threadCpu() {
  const out = {};
  for (const tid of readdirSync('/proc/self/task')) {
    let stat;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const name = tid === String(process.pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out[name] = (out[name] || 0) + (Number(f[11]) + Number(f[12])) / TICK;
  }
  return out;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const consumers = [];
let started = null;
let loopsLeft = 0;

function start() {
  if (started) return;
  const t0 = { wall: process.hrtime.bigint(), cpu: process.cpuUsage(), threads: threadCpu() };
  started = t0;
  loopsLeft = consumers.length;
  // The broker's share-out: queue q to consumer q % n.
  consumers.forEach((c, k) => {
    c.pqs = queues.map((q, n) => ({ n, lines: q, next: 0, msgList: [] })).filter((pq) => pq.n % consumers.length === k);
  });
  for (const c of consumers) c.run().then(done, (e) => { console.error(e); process.exit(3); });
}

function done() {
  if (--loopsLeft > 0) return;
  const wall = Number(process.hrtime.bigint() - started.wall) / 1e9;
  const cpu = process.cpuUsage(started.cpu);
  const threads = threadCpu();
  for (const k of Object.keys(threads)) threads[k] = +(threads[k] - (started.threads[k] || 0)).toFixed(2);
  const stats = {
    messages: lines.length,
    wall: +wall.toFixed(3),
    cpu: +((cpu.user + cpu.system) / 1e6).toFixed(3),
    threads,
  };
  if (process.env.FAKE_ONS_STATS) writeFileSync(process.env.FAKE_ONS_STATS, `${JSON.stringify(stats)}\n`);
}

class Consumer extends EventEmitter {
  constructor(options) {
    super();
    this.options = options;
    this.limit = options.parallelConsumeLimit || 1;
    this.closed = false;
    this.waiter = null;
    this.retrying = 0;
    consumers.push(this);
  }

  subscribe(topic, tags, handler) {
    this.topic = topic;
    this.tagsSet = tags.split('||');
    this.handler = handler;
    // Every consumer of the example is made and subscribed in one turn: start after it.
    setImmediate(start);
  }

  /**
   * ali-ons' pulls of one queue: up to 32 messages a pull (what the broker sends), made into
   * `Message` objects that wait in the queue's list until consumed; flow control (a pause of
   * 50 ms) while 1,000 wait, as the example configures ali-ons.
   */
  async pull(pq) {
    while (pq.next < pq.lines.length) {
      if (pq.msgList.length >= 1000) {
        await sleep(50);
        continue;
      }
      await (PULL_MS > 0 ? sleep(Math.random() * PULL_MS) : new Promise((resolve) => setImmediate(resolve)));
      const end = Math.min(pq.next + 32, pq.lines.length);
      for (let j = pq.next; j < end; j++) pq.msgList.push(message(this.topic, pq.lines[j], 0));
      pq.next = end;
      this.wake();
    }
  }

  wake() {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  /**
   * ali-ons' `_consumeMessageLoop` (a batch of up to `parallelConsumeLimit` of one queue's pulled
   * messages at a time, over the queues in turn) until every queue of this consumer is drained.
   */
  async run() {
    for (const pq of this.pqs) this.pull(pq);
    for (;;) {
      let hasMsg = false;
      for (const pq of this.pqs) {
        while (pq.msgList.length) {
          hasMsg = true;
          const msgs = pq.msgList.slice(0, this.limit);
          const consumeTasks = [];
          for (const msg of msgs) {
            if (!msg.tags || this.tagsSet.includes(msg.tags)) consumeTasks.push(this.consumeSingleMsg(msg, pq));
          }
          try {
            await Promise.all(consumeTasks);
          } catch {
            continue;
          }
          pq.msgList.splice(0, msgs.length);
        }
      }
      if (this.pqs.every((pq) => pq.next === pq.lines.length && pq.msgList.length === 0) && this.retrying === 0) return;
      if (!hasMsg) await new Promise((resolve) => (this.waiter = resolve));
    }
  }

  /** ali-ons' `consumeSingleMsg`: a failed message is sent back; it comes again a second later. */
  async consumeSingleMsg(msg, pq) {
    if (msg.topic === `%RETRY%${this.options.consumerGroup}`) msg.topic = msg.retryTopic;
    try {
      await this.handler(msg, { key: `q${msg.queueId}` }, pq);
      return;
    } catch (err) {
      err.message = `process mq message failed, topic: ${msg.topic}, msgId: ${msg.msgId}, ${err.message}`;
      this.emit('error', err);
    }
    this.retrying++;
    setTimeout(() => {
      this.retrying--;
      pq.msgList.push(message(this.topic, msg.line, msg.reconsumeTimes + 1));
      this.wake();
    }, 1000);
  }

  async close() {
    this.closed = true;
  }
}

export default { Consumer, Message };
