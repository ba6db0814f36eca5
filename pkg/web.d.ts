// Types of `mqtt-status/web` (the browser / WebAssembly entry, pkg/web.js).
export type {
  Body,
  BatchError,
  BatchReport,
  ChannelState,
  ChannelStatus,
  ClientStatus,
  Envelope,
  ErrorCode,
  FeedEntry,
  FeedPage,
  EventType,
  GroupCount,
  IngestManyOptions,
  Notification,
  OnlineClientsQuery,
  StaleClient,
  Stats,
  StatusEngineOptions,
  StatusError,
  Transition,
  TransitionEventType,
} from './index.js';
export { StatusEngine, StatusStore, ERROR_CODES, isStatusError } from './index.js';

/** Always "wasm" here. */
export declare const backend: 'wasm';
/** Always null here (there is no native addon in a browser). */
export declare const nativeError: null;

/** Where `init` finds the module: URL, Request, Response, bytes or a compiled module. */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** Loads the WebAssembly module (by default the .wasm next to the glue). Call once before use. */
export default function init(input?: InitInput | Promise<InitInput>): Promise<unknown>;
/** Synchronous variant for workers that already hold the bytes or a compiled module. */
export declare function initSync(module: BufferSource | WebAssembly.Module): unknown;
