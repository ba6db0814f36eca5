// Issue 16 item 1: bodies in a SharedArrayBuffer written by another thread during the call. The
// engine must copy the bytes out once, then judge only its own copy: no crash, and no state built
// from bytes that changed between validation and use. Each backend runs the reproduction in a
// child process for a bounded time (a crash fails the test instead of killing the runner).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./fixtures/shared-buffer.cjs', import.meta.url));
const MS = 2500;

for (const backend of ['native', 'wasm']) {
  test(`${backend}: a SharedArrayBuffer written during the call never crashes or corrupts`, () => {
    const r = spawnSync(process.execPath, [child, String(MS)], {
      env: { ...process.env, MQTT_STATUS_BACKEND: backend },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.signal, null, `child died by ${r.signal}; stderr: ${r.stderr}`);
    assert.equal(r.status, 0, `child exit ${r.status}; stderr: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(out.backend, backend);
    assert.ok(out.calls > 0, r.stdout);
    // Only two valid spellings of the id exist (its last byte 'x' before the first flip, then
    // 'A'): anything more means bytes changed under the parser.
    assert.ok(out.clients <= 2, `clients from one id: ${out.clients}`);
    assert.equal(out.restoredSame, true, 'the engine no longer restores from its own snapshot');
  });
}
