// The cost of the JavaScript wrapper classes (pkg/api.cjs) on the hot calls, same run: `ingest`
// line by line and `isOnline` per client, through the package's `StatusEngine` (the wrapper)
// and through the raw class of the same backend with `ingest` defined on its prototype (how
// pkg/report.cjs assembled the API before the wrapper). Variants alternate, best of REPS each.
// Usage: node bench/node_wrapper.mjs FILE [REPS]   (after `npm run build` in pkg/)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { bind } = require('../pkg/api.cjs');
const { unpackTransition } = require('../pkg/packed.cjs');
const RAW = { native: require('../bindings/node/index.js'), wasm: require('../pkg/dist/node/mqtt_status_wasm.cjs') };

const [path, repsArg] = process.argv.slice(2);
const reps = Number(repsArg || 5);
const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
const ids = [...new Set(lines.map((l) => JSON.parse(l).body?.clientId ?? JSON.parse(l).clientId))].filter(Boolean);

function timed(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t);
}

const out = {};
for (const [backend, raw] of Object.entries(RAW)) {
  const types = raw.eventTypes();
  // The former assembly: `ingest` patched onto the raw prototype, queries the raw methods.
  Object.defineProperty(raw.StatusEngine.prototype, 'ingest', {
    value(input, tag) {
      return unpackTransition(this.ingestPacked(input, tag), types);
    },
    configurable: true,
  });
  const variants = { patched: raw.StatusEngine, wrapper: bind(raw).StatusEngine };
  const best = { patched: { ingest: Infinity, isOnline: Infinity }, wrapper: { ingest: Infinity, isOnline: Infinity } };
  for (let r = 0; r < reps; r++) {
    for (const [name, Engine] of Object.entries(variants)) {
      const e = new Engine();
      best[name].ingest = Math.min(best[name].ingest, timed(() => lines.forEach((l) => e.ingest(l))) / lines.length);
      best[name].isOnline = Math.min(best[name].isOnline, timed(() => ids.forEach((id) => e.isOnline(id))) / ids.length);
      e.free();
    }
  }
  out[backend] = {
    ingest_ns: { patched: best.patched.ingest, wrapper: best.wrapper.ingest, ratio: best.wrapper.ingest / best.patched.ingest },
    isOnline_ns: { patched: best.patched.isOnline, wrapper: best.wrapper.isOnline, ratio: best.wrapper.isOnline / best.patched.isOnline },
  };
}
console.log(JSON.stringify({ events: lines.length, clients: ids.length, reps, node: process.version, ...out }, null, 1));
