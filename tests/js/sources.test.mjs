// Generated traffic in every broker format (tests/sources/, written by `mqtt-status generate
// --source X`: redeliveries, reordering, malformed lines) replays to its truth, 0 wrong, on both
// backends of the installed package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const BACKENDS = { wasm: require('mqtt-status/wasm'), native: require('mqtt-status/native') };
const DIR = new URL('../sources/', import.meta.url).pathname;
const FORMATS = ['aws', 'emqx', 'azure-mqtt', 'aliyun-sdk', 'auto'];

for (const [name, { StatusEngine }] of Object.entries(BACKENDS)) {
  for (const source of FORMATS) {
    test(`${source} traffic replays to its truth (${name})`, () => {
      const text = readFileSync(`${DIR}${source}.jsonl`, 'utf8');
      const truth = JSON.parse(readFileSync(`${DIR}${source}.truth.json`, 'utf8'));
      assert.ok(truth.duplicates > 0 && truth.invalid > 0);
      const expect = Object.keys(truth.status).filter((c) => truth.status[c]).sort();

      const batch = new StatusEngine({ source });
      const r = batch.ingestMany(text);
      assert.deepEqual(batch.onlineClients(), expect);
      assert.equal(r.applied, truth.events);
      assert.equal(r.duplicates + r.late, truth.duplicates);
      assert.equal(r.rejected, truth.invalid);

      // One line at a time, the same answer.
      const single = new StatusEngine({ source });
      let rejected = 0;
      for (const line of text.split('\n').filter((l) => l)) {
        try { single.ingest(line); } catch (e) { assert.equal(typeof e.code, 'string'); rejected += 1; }
      }
      assert.equal(rejected, truth.invalid);
      assert.deepEqual(single.onlineClients(), expect);
      if (source !== 'auto') assert.equal(new StatusEngine().ingestMany(text).applied, 0, 'read as aliyun lines');
    });
  }
}
