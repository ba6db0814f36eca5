// What copying a batch's bytes costs (the native addon copies host buffers before reading them,
// issue 16): `Buffer.from(u8)` of a JSONL file, the same memcpy into fresh memory, best of REPS.
// Usage: node bench/node_copy.mjs FILE [REPS]; prints one JSON object.
import { readFileSync } from 'node:fs';

const [path, repsArg] = process.argv.slice(2);
const data = new Uint8Array(readFileSync(path));
const events = data.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
let best = Infinity;
for (let i = 0; i < Number(repsArg || 9); i++) {
  const t = process.hrtime.bigint();
  const copy = Buffer.from(data);
  best = Math.min(best, Number(process.hrtime.bigint() - t));
  if (copy.length !== data.length) throw new Error('short copy');
}
console.log(JSON.stringify({ bytes: data.length, events, copy_ms: best / 1e6, copy_ns_per_event: best / events }));
