// The Node writer of the cross-language multi-writer test (protocol: rust-writer/src/main.rs),
// on the native backend of the installed package (tests/js/node_modules):
//   node writer.mjs write URL OPTIONS_JSON PART SEED | feed URL OPTIONS_JSON PART SEED START
//                   | snapshot URL OPTIONS_JSON OUT
// (`feed`: from line START on, `ack N` after each call returned, then `done`: the crash test;
// a line `{"advance":T}` there is an `advance(T)` call.)
import { readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../js/package.json', import.meta.url));
const { StatusStore } = require('mqtt-status/native');
const MASK = (1n << 64n) - 1n;

/** xorshift64*, as the Rust writer's. */
function rng(seed) {
  let s = BigInt(seed) | 1n;
  return (n) => {
    s ^= s >> 12n;
    s = (s ^ (s << 25n)) & MASK;
    s ^= s >> 27n;
    return Number(((s * 0x2545f4914f6cdd1dn) & MASK) % BigInt(n));
  };
}

/** A line `{"advance":T}` (the crash test's grace round) is an `advance(T)` call. */
function advanceTo(line) {
  const m = /^\{"advance":(\d+)\}$/.exec(line);
  return m ? Number(m[1]) : null;
}

/** At most `want` lines from `i`, stopping before the next `advance` line. */
function batchLen(lines, i, want) {
  let n = 0;
  while (n < want && i + n < lines.length && advanceTo(lines[i + n]) === null) n += 1;
  return Math.max(n, 1);
}

const [cmd, url, options, path, seed, start] = process.argv.slice(2);
const store = await StatusStore.open(url, JSON.parse(options));
if (cmd === 'snapshot') {
  writeFileSync(path, await store.snapshot());
} else if (cmd === 'feed') {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l);
  const below = rng(BigInt(seed) + BigInt(start));
  let i = Number(start);
  while (i < lines.length) {
    const now = advanceTo(lines[i]);
    if (now !== null) {
      await store.advance(now);
      i += 1;
    } else if (below(4) === 0) {
      await store.ingest(lines[i]);
      i += 1;
    } else {
      const n = batchLen(lines, i, 1 + below(60));
      const report = await store.ingestMany(lines.slice(i, i + n).join('\n'));
      if (report.errors.length) throw new Error(JSON.stringify(report.errors));
      i += n;
    }
    // Synchronous on a pipe (Linux): the ack is out before the next call starts.
    writeSync(1, `ack ${i}\n`);
  }
  writeSync(1, 'done\n');
} else {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l);
  const below = rng(seed);
  process.stdout.write('ready\n');
  const input = createInterface({ input: process.stdin });
  await new Promise((resolve) => input.once('line', resolve));
  input.close();
  const got = [];
  let i = 0;
  while (i < lines.length) {
    if (below(4) === 0) {
      const t = await store.ingest(lines[i]);
      if (t) got.push(t);
      i += 1;
    } else {
      const n = Math.min(1 + below(60), lines.length - i);
      const report = await store.ingestMany(lines.slice(i, i + n).join('\n'));
      if (report.errors.length) throw new Error(JSON.stringify(report.errors));
      got.push(...report.transitions);
      i += n;
    }
  }
  process.stdout.write(got.map((t) => JSON.stringify(t) + '\n').join('') + 'done\n');
}
