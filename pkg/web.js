// Browser entry of `mqtt-status`: the WebAssembly build. Call `await init()` once before creating
// engines (no top-level await here, so bundlers and CommonJS output keep working).
//
//   import init, { StatusEngine } from 'mqtt-status';   // or '/pkg/web.js' from a static server
//   await init();                                       // fetches dist/web/mqtt_status_wasm_bg.wasm
//   const engine = new StatusEngine({ takeover: true });
import * as wasm from './dist/web/mqtt_status_wasm.js';
import { bind } from './dist/web/api.js';

export { ERROR_CODES, isStatusError } from './dist/web/errors.js';

/**
 * The classes (api.cjs) over the WebAssembly build. `StatusStore`: no store in WebAssembly;
 * `StatusStore.open` rejects (code store_unavailable).
 */
export const { StatusEngine, StatusStore } = bind(wasm);

/** Always "wasm" here. */
export const backend = 'wasm';

/** Always null here (there is no native addon in a browser). */
export const nativeError = null;

/**
 * Loads the WebAssembly module. `input` (optional): URL, Request, Response, bytes or a compiled
 * WebAssembly.Module; by default the .wasm next to the glue, resolved from this module's URL.
 * Calling it again is harmless.
 */
export default function init(input) {
  return wasm.default(input === undefined ? undefined : { module_or_path: input });
}

/** Synchronous variant for workers that already hold the bytes or a compiled module. */
export function initSync(module) {
  return wasm.initSync({ module });
}
