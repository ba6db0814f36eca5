#!/usr/bin/env node
// A consumer-shaped example: reads RocketMQ message dumps (one envelope {"tag", "body"} or bare
// body per line) from files or stdin, prints every online/offline transition, and keeps the
// engine's state in a snapshot file between runs, as a real consumer would across restarts.
//
//   node consumer.mjs [--state FILE] [--takeover] [FILE ...]     (no FILE, or "-": stdin)
import { createReadStream, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { StatusEngine, backend, isStatusError } from 'mqtt-status';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    state: { type: 'string', default: 'consumer-state.bin' },
    takeover: { type: 'boolean', default: false },
  },
});

// Resume from the last snapshot (its configuration wins), or start fresh.
const engine = existsSync(values.state)
  ? StatusEngine.restore(readFileSync(values.state))
  : new StatusEngine({ takeover: values.takeover });
console.error(`backend: ${backend}; state: ${values.state}; known clients: ${engine.stats().clients}`);

function persist() {
  // Write-then-rename, so a crash never leaves a torn snapshot behind.
  writeFileSync(`${values.state}.tmp`, engine.snapshot());
  renameSync(`${values.state}.tmp`, values.state);
}

const inputs = positionals.length ? positionals : ['-'];
let lines = 0;
for (const file of inputs) {
  const stream = file === '-' ? process.stdin : createReadStream(file);
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    lines += 1;
    if (!line.trim()) continue;
    try {
      // In a real consumer: engine.ingest(message.body, message.tag) for each RocketMQ message.
      const t = engine.ingest(line);
      if (t) console.log(`${new Date(t.time).toISOString()} ${t.clientId} ${t.online ? 'ONLINE ' : 'OFFLINE'} (${t.eventType} on ${t.channelId})`);
    } catch (e) {
      if (!isStatusError(e)) throw e;
      console.error(`${file}:${lines}: skipped: ${e.code}${e.field ? ` (${e.field})` : ''}: ${e.message}`);
    }
    if (lines % 10_000 === 0) persist(); // checkpoint now and then
  }
}
persist();

const s = engine.stats();
console.error(`${lines} lines; ${s.applied} applied, ${s.duplicates} duplicates, ${s.late} late, ${s.rejected} rejected`);
console.error(`online now: ${engine.countOnline()} of ${s.clients}: ${engine.onlineClients({ limit: 10 }).join(', ')}${s.online > 10 ? ', …' : ''}`);
