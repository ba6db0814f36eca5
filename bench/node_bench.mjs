// Times the npm package on a JSONL file: `ingest` line by line, and one `ingestMany`.
// Usage: MQTT_STATUS_BACKEND=native|wasm node bench/node_bench.mjs FILE [REPS]
// Prints one JSON object (ns per event, best of REPS), which bench/run.sh folds into the table.
import { readFileSync } from 'node:fs';
import { StatusEngine, backend } from '../pkg/index.js';

const [path, repsArg] = process.argv.slice(2);
const reps = Number(repsArg || 3);
const data = new Uint8Array(readFileSync(path));
const lines = new TextDecoder().decode(data).split('\n').filter((l) => l.trim() !== '');
const n = lines.length;

function best(fn) {
  let out = Infinity;
  for (let i = 0; i < reps; i++) out = Math.min(out, fn());
  return out;
}

function timed(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t);
}

const free = (e) => (typeof e.free === 'function' ? e.free() : undefined);

const one = best(() => {
  const e = new StatusEngine();
  const ns = timed(() => {
    for (const line of lines) e.ingest(line);
  });
  free(e);
  return ns;
});
const many = best(() => {
  const e = new StatusEngine();
  const ns = timed(() => e.ingestMany(data));
  free(e);
  return ns;
});
// The same batch again: every line a duplicate, an empty report (isolates report conversion).
const again = best(() => {
  const e = new StatusEngine();
  e.ingestMany(data);
  const ns = timed(() => e.ingestMany(data));
  free(e);
  return ns;
});
console.log(JSON.stringify({
  backend, events: n, ingest_ns: one / n, batch_ns: many / n, batch_again_ns: again / n, node: process.version,
}));
