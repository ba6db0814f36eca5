// Issue 16 (items 4, 5) and issue 14 (items 2, 4) on both backends: huge batch reports, inputs
// the host cannot serialize, freed engines, options checked by the core, the error code list.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const BACKENDS = { wasm: require('mqtt-status/wasm'), native: require('mqtt-status/native') };
/** Option error messages per backend, compared at the end. */
const messages = {};
const CAP = 1000; // MAX_REPORTED_ERRORS in the core
// The backends' own modules (the package's files, reached by path: they are not exports).
const WASM_GLUE = require.resolve('mqtt-status/wasm').replace(/wasm\.cjs$/, 'dist/node/mqtt_status_wasm.cjs');
const MODULES = { wasm: require(WASM_GLUE), native: require('mqtt-status-native') };
const GOOD = JSON.stringify({ clientId: 'GID_a@@@d1', channelId: 'c1', eventType: 'connect', time: 1000 });

for (const [name, m] of Object.entries(BACKENDS)) {
  const { StatusEngine } = m;
  describe(`${name} backend`, () => {
    test('6 million bad lines and a good one: the report is returned, capped, and counts all', () => {
      const bad = 6_000_000;
      const e = new StatusEngine();
      const report = e.ingestMany(`${'x\n'.repeat(bad)}${GOOD}\n`);
      assert.equal(report.rejected, bad);
      assert.equal(report.errors.length, CAP);
      assert.deepEqual(report.errors.map((x) => x.index), [...Array(CAP).keys()]);
      assert.equal(report.errors[CAP - 1].code, 'invalid_json');
      assert.equal(report.applied, 1);
      assert.equal(report.transitions.length, 1);
      assert.equal(e.isOnline('GID_a@@@d1'), true);
      assert.equal(e.stats().rejected, bad);
    });

    test('an array batch past the cap keeps the first errors in order', () => {
      const e = new StatusEngine();
      const items = Array.from({ length: CAP + 300 }, (_, i) => (i % 3 === 0 ? 'x' : 42n));
      items.push(GOOD);
      const report = e.ingestMany(items);
      assert.equal(report.rejected, CAP + 300);
      assert.deepEqual(report.errors.map((x) => x.index), [...Array(CAP).keys()]);
      assert.equal(report.applied, 1);
    });

    test('a value JSON.stringify refuses is a rejected input, whatever it throws', () => {
      const throwing = (v) => ({ toJSON() { throw v; } });
      for (const [thrown, words] of [
        [Symbol('s'), 'symbol'],
        ['plain string', 'plain string'],
        [undefined, 'undefined'],
        [new RangeError('out of range'), 'out of range'],
      ]) {
        const e = new StatusEngine();
        let err;
        try {
          e.ingest(throwing(thrown));
        } catch (x) {
          err = x;
        }
        assert.ok(err instanceof Error, `${String(words)}: ${err}`);
        assert.equal(err.code, 'invalid_json', err.message);
        assert.equal(err.field, null);
        assert.ok(err.message.includes(words), err.message);
        assert.ok(!err.message.includes('Create Error reference'), err.message);
        assert.deepEqual([e.stats().events, e.stats().rejected], [1, 1]);
        const report = e.ingestMany([throwing(thrown), GOOD, 10n]);
        assert.deepEqual(report.errors.map((x) => [x.index, x.code]), [[0, 'invalid_json'], [2, 'invalid_json']]);
        assert.equal(report.rejected, 2);
        assert.equal(report.applied, 1);
        assert.equal(e.isOnline('GID_a@@@d1'), true);
      }
    });

    test('a getter that throws in the options is thrown unchanged', () => {
      const boom = new Error('boom');
      assert.throws(() => new StatusEngine({ get takeover() { throw boom; } }), (x) => x === boom);
      assert.throws(() => new StatusEngine().onlineClients({ get limit() { throw 'str'; } }), (x) => x === 'str');
    });

    test('options and query arguments: the checks and messages of the core, the same on both', () => {
      const err = (fn) => {
        try {
          fn();
        } catch (x) {
          return [x.code, x.field, x.message];
        }
        return null;
      };
      const cases = [
        () => new StatusEngine({ maxIdLen: NaN }),
        () => new StatusEngine({ maxIdLen: 0 }),
        () => new StatusEngine({ takeover: 'yes' }),
        () => new StatusEngine({ tombstonesPerClient: () => 1 }),
        () => new StatusEngine({ typo: 1 }),
        () => new StatusEngine([]),
        () => new StatusEngine().onlineClients({ limit: 2 ** 64 }),
        () => new StatusEngine().ingestMany('', { until: -1 }),
        () => new StatusEngine().ingest('{}', 5),
      ];
      const got = cases.map(err);
      assert.deepEqual(got.map((g) => g[1]), ['maxIdLen', 'maxIdLen', 'takeover', 'tombstonesPerClient', 'options', 'options', 'limit', 'until', 'tag']);
      assert.ok(got.every((g) => g[0] === 'invalid_field'));
      messages[name] = got.map((g) => g[2]);
      assert.ok(new StatusEngine({ takeover: null, maxIdLen: undefined }));
    });

    test('a freed engine throws engine_freed', () => {
      const e = new StatusEngine();
      e.free();
      for (const fn of [() => e.ingest(GOOD), () => e.ingestMany(GOOD), () => e.isOnline('a'), () => e.stats(), () => e.snapshot()]) {
        assert.throws(fn, (x) => x instanceof Error && x.code === 'engine_freed' && x.message === 'StatusEngine was freed');
      }
      assert.throws(() => new StatusEngine().merge(e), (x) => x.code === 'engine_freed');
    });

    test('the error codes: the list the module exports is ERROR_CODES and the d.ts union', () => {
      const exported = MODULES[name].errorCodes();
      assert.deepEqual(exported, [...m.ERROR_CODES]);
      const dts = readFileSync(require.resolve('mqtt-status/package.json').replace(/package\.json$/, 'index.d.ts'), 'utf8');
      const union = /export type ErrorCode =([^;]*);/.exec(dts)[1];
      assert.deepEqual([...union.matchAll(/'([a-z_]+)'/g)].map((x) => x[1]), exported);
    });
  });
}

test('both backends give the same option messages', () => {
  assert.deepEqual(messages.native, messages.wasm);
  assert.ok(messages.wasm.length > 0);
});
