// Type declarations of `mqtt-status` (every entry point: Node native or WebAssembly, browser):
// the classes of api.cjs. tests/js/types.test.mjs checks every class member and every answer's
// keys against the real objects of both backends; scripts/types-check.ts uses every member.
// The shapes are the core's serde output: camelCase keys, `null` (never `undefined`) where a value
// is unknown, plain objects and arrays.

/** The three notification types (also the RocketMQ message tag). */
export type EventType = 'connect' | 'disconnect' | 'tcpclean';

/** What caused a transition: a notification type, or `observe` (an observation, SPEC §9). */
export type TransitionEventType = EventType | 'observe';

/** The stable error codes, identical in every language. */
export type ErrorCode =
  | 'invalid_json'
  | 'missing_field'
  | 'invalid_field'
  | 'unknown_event_type'
  | 'tag_mismatch'
  | 'invalid_snapshot'
  | 'config_mismatch'
  | 'store_unavailable'
  | 'store_locked';

/** Engine policies; every key is optional. Unknown keys or wrong types throw `invalid_field`. */
export interface StatusEngineOptions {
  /** A `disconnect` closes its channel as well as a `tcpclean` (default false). */
  closeOnDisconnect?: boolean | null;
  /** Only the client's newest `connect` (by time, ties by channelId) can be open (default false). */
  takeover?: boolean | null;
  /** Closed channels remembered per client to absorb redeliveries (default 8, at most 1024). */
  tombstonesPerClient?: number | null;
  /** Longest accepted clientId / channelId / clientIp in bytes (default 256, 1..65535). */
  maxIdLen?: number | null;
  /**
   * Only a client's this-many newest connects (by time, ties by channelId) can be open; older
   * channels without a close are `superseded` (default 8, 1..1024; `takeover` is the case 1).
   */
  maxOpenChannels?: number | null;
  /**
   * The broker's notification format (default `aliyun`; docs/sources.md): ApsaraMQ for MQTT,
   * AWS IoT Core lifecycle events, EMQX, Azure Event Grid MQTT, the ApsaraMQ cloud SDK, or
   * recognised per line.
   */
  source?: 'aliyun' | 'aws' | 'emqx' | 'azure-mqtt' | 'aliyun-sdk' | 'auto' | null;
  /**
   * Flap suppression (SPEC §9; default 0, off): an offline is reported only once it lasted this
   * many milliseconds, confirmed by `advance(nowMs)` or a later event of the client; a shorter
   * offline/online flap produces no transitions. `isOnline` stays exact. A status store refuses
   * a grace above 0 (`invalid_field`, for now).
   */
  offlineGraceMs?: number | null;
}

/** A status notification body as the broker sends it (unknown fields are ignored). */
export interface Notification {
  clientId: string;
  channelId: string;
  /** Required unless the tag gives it. */
  eventType?: EventType;
  /** Milliseconds; an integer or a string of digits, at most 2^53 − 1. */
  time: number | string;
  clientIp?: string | null;
  [unknownField: string]: unknown;
}

/** A dumped RocketMQ message: the tag and the body (an object or its JSON text). */
export interface Envelope {
  tag?: EventType;
  body: Notification | string;
}

/**
 * One input: JSON text or UTF-8 bytes of a body or envelope, or an object, which is serialized
 * with `JSON.stringify` first (conversion only: the engine judges the JSON text).
 */
export type Body = string | Uint8Array | ArrayBuffer | Notification | Envelope | object;

/** A client's online status flipped; returned by the ingest that caused it. */
export interface Transition {
  clientId: string;
  online: boolean;
  time: number;
  /** `""` when an observation caused it. */
  channelId: string;
  eventType: TransitionEventType;
  /**
   * With `offlineGraceMs`: on an online flip that ends an offline period nobody reported (it
   * lasted at least the grace), the time that period began. Absent otherwise.
   */
  offlineSince?: number;
}

export type ChannelState = 'open' | 'closed' | 'superseded';

/** One row of a client's channel table. */
export interface ChannelStatus {
  channelId: string;
  state: ChannelState;
  connectTime: number | null;
  disconnectTime: number | null;
  /** Time it closed under the active policy; null when open, superseded or closed only by inference. */
  closeTime: number | null;
  clientIp: string | null;
  /**
   * Why it closed, when its close carried a reason (AWS `disconnectReason`, EMQX `reason`, Azure
   * `disconnectionReason`). Absent otherwise.
   */
  reason?: string;
}

/** Everything known about one client. */
export interface ClientStatus {
  clientId: string;
  /** The part before `@@@`, or null for an id without group. */
  groupId: string | null;
  deviceId: string;
  online: boolean;
  lastEventTime: number | null;
  lastIp: string | null;
  /** Distinct channels whose `connect` was seen (compacted ones included). */
  connects: number;
  /** Events for unknown channels at or before this time are late (ignored). */
  horizon: number | null;
  /** Remembered channels, sorted by channelId. */
  channels: ChannelStatus[];
  /**
   * With `offlineGraceMs`: while the client's offline is pending (offline, not yet confirmed,
   * still reported online), the time it went offline. Absent otherwise.
   */
  pendingOfflineSince?: number;
}

export interface GroupCount {
  groupId: string;
  online: number;
  known: number;
}

export interface Stats {
  events: number;
  applied: number;
  duplicates: number;
  late: number;
  rejected: number;
  clients: number;
  online: number;
  openChannels: number;
  tombstones: number;
  wentOnline: number;
  wentOffline: number;
  maxTime: number | null;
  /** With `offlineGraceMs` > 0: clients whose offline is pending. Absent with no grace. */
  pendingOffline?: number;
}

/** An online client with no sign of life for a while (`staleOnline`). */
export interface StaleClient {
  clientId: string;
  /** Its latest event or observation time. */
  lastSeen: number;
}

/** One rejected item of a batch. */
export interface BatchError {
  /** 0-based item index (for JSONL: the line, blank lines included). */
  index: number;
  code: ErrorCode;
  field: string | null;
  message: string;
}

/**
 * Result of `ingestMany`: good items are all applied, bad ones counted in `rejected`; `errors`
 * describes the first 1000 of them (in input order).
 */
export interface BatchReport {
  applied: number;
  duplicates: number;
  late: number;
  /** Every rejected item, also those beyond the 1000 described in `errors`. */
  rejected: number;
  errors: BatchError[];
  transitions: Transition[];
}

export interface IngestManyOptions {
  /** Skip (without counting) events whose time is after this (replay "as of"). */
  until?: number | null;
}

export interface OnlineClientsQuery {
  /** Only clients of this group. */
  group?: string | null;
  /** Exclusive cursor: the last clientId of the previous page. */
  after?: string | null;
  /** Page size. */
  limit?: number | null;
}

/** What the engine throws: a real `Error` with the stable `.code` and the field at fault. */
export interface StatusError extends Error {
  code: ErrorCode;
  /** `clientId`, `channelId`, `eventType`, `time`, `clientIp`, `tag`, `body`, an option name… or null. */
  field: string | null;
}

/** The status engine: feed it notifications, ask who is online. */
export declare class StatusEngine {
  /** @throws {StatusError} `invalid_field` for a bad option. */
  constructor(options?: StatusEngineOptions | null);
  /**
   * Ingests one body or envelope, with the RocketMQ message tag if there is one.
   * @returns the transition if the client's status flipped, else null.
   * @throws {StatusError} for a bad input (which changes nothing).
   */
  ingest(body: Body, tag?: EventType | string | null): Transition | null;
  /**
   * Ingests JSONL text or bytes (one body or envelope per line) or an array of bodies/envelopes.
   * Bad items do not abort the batch; they are reported.
   */
  ingestMany(input: string | Uint8Array | ArrayBuffer | readonly Body[], options?: IngestManyOptions | null): BatchReport;
  /** Whether the client has an open channel (an unknown client is offline). */
  isOnline(clientId: string): boolean;
  /** Everything known about one client, or null if never seen. */
  client(clientId: string): ClientStatus | null;
  /** Online client ids sorted by id; filter by group, paginate with after/limit. */
  onlineClients(query?: OnlineClientsQuery | null): string[];
  /** Number of online clients, in all or in one group. */
  countOnline(group?: string | null): number;
  /** Every group seen, sorted by groupId. */
  groups(): GroupCount[];
  /** Engine-wide counters and gauges. */
  stats(): Stats;
  /**
   * Tells the engine the host's time (it reads no clock; SPEC §9): every pending offline whose
   * close + `offlineGraceMs` `nowMs` reaches is confirmed.
   * @returns the offline transitions it confirmed (the close's time, channel and type), sorted by
   * (time, clientId); none for an earlier time than before, or with no grace.
   * @throws {StatusError} `invalid_field` (`now`) for a time that is not an integer from 0 to 2^53 − 1.
   */
  advance(nowMs: number): Transition[];
  /**
   * Records an authoritative answer about a client (e.g. the broker's `QuerySessionByClientId`)
   * as one more event: offline at `timeMs` closes every channel connected at or before then;
   * online holds the client online until a later close or offline observation.
   * @returns the transition it caused (`eventType` `observe`, `channelId` `""`), else null.
   * @throws {StatusError} `invalid_field` (`clientId`, `online`, `time`); counted as rejected, changes nothing.
   */
  observe(clientId: string, online: boolean, timeMs: number): Transition | null;
  /**
   * Online clients whose last sign of life (event or observation) is older than
   * `nowMs - olderThanMs`, oldest first (ties by clientId), at most `limit`: the few worth
   * verifying with the broker's rate-limited query API.
   */
  staleOnline(olderThanMs: number, nowMs: number, limit: number): StaleClient[];
  /** The whole state, configuration included, as versioned binary bytes (same in every language). */
  snapshot(): Uint8Array;
  /**
   * The client's per-client record (SPEC §8): the bytes a status store keeps for it (versioned,
   * checksummed, the same from every backend and language), or null for an unknown client.
   */
  clientRecord(clientId: string): Uint8Array | null;
  /**
   * Loads a per-client record (`clientRecord()` of any backend or language), replacing that
   * client's state.
   * @throws {StatusError} `invalid_snapshot` for a corrupt record or one of another client.
   */
  loadRecord(clientId: string, bytes: Uint8Array | ArrayBuffer): void;
  /**
   * An engine from `snapshot()` bytes of any backend or language.
   * @throws {StatusError} `invalid_snapshot` for corrupt, truncated or foreign bytes.
   */
  static restore(bytes: Uint8Array | ArrayBuffer): StatusEngine;
  /**
   * Joins another engine's state into this one (an engine of the same backend; across backends
   * go through `snapshot()`/`restore()`).
   * @throws {StatusError} `config_mismatch` if the configurations differ.
   */
  merge(other: StatusEngine): void;
  /** Releases the engine's memory now rather than at garbage collection; any later call throws an `Error` with `.code` `"engine_freed"`. */
  free(): void;
}

/** One flip recorded in a store's transition feed; `cursor` is the position just after it. */
export interface FeedEntry {
  cursor: string;
  transition: Transition;
}

/** A page of the transition feed, oldest first; pass `next` as `after` for the following page. */
export interface FeedPage {
  entries: FeedEntry[];
  /** Unchanged (equal to `after`, or "" from the start) when there was nothing new. */
  next: string;
}

/**
 * The status store (durable and shared state, docs/store.md): the engine's API over a backend
 * chosen by URL (`redis://host:port`, `redis+cluster://host:port[,host:port…]`, URL options
 * `?prefix=…&shards=…`). Every method returns a Promise and runs off the event loop; each ingest
 * resolves once its effect is committed (acknowledge the message then). Errors reject with a
 * `StatusError`: `store_unavailable` (backend unreachable), `config_mismatch` (store created with
 * other options), the engine's codes for bad input.
 *
 * Native backend only: in WebAssembly (`mqtt-status/web`, `MQTT_STATUS_BACKEND=wasm`),
 * `StatusStore.open` rejects with code `store_unavailable` ("no status store in WebAssembly: …").
 *
 * With `offlineGraceMs`, `advance`, `observe` and `staleOnline` answer as the engine's
 * (docs/store.md, "Grace, observations and staleness").
 */
export declare class StatusStore {
  private constructor();
  /** Opens (creating if new) the store at `url` with the engine's options. */
  static open(url: string, options?: StatusEngineOptions | null): Promise<StatusStore>;
  /** Ingests and commits one body or envelope; the transition if the shared status flipped. */
  ingest(body: Body, tag?: EventType | string | null): Promise<Transition | null>;
  /**
   * Ingests and commits a batch (JSONL or an array) in a constant number of round trips.
   * Concurrent calls on one handle (`Promise.all`, several pulls in flight) share commits, each
   * resolving to its own report.
   */
  ingestMany(input: string | Uint8Array | ArrayBuffer | readonly Body[]): Promise<BatchReport>;
  isOnline(clientId: string): Promise<boolean>;
  client(clientId: string): Promise<ClientStatus | null>;
  onlineClients(query?: OnlineClientsQuery | null): Promise<string[]>;
  countOnline(group?: string | null): Promise<number>;
  groups(): Promise<GroupCount[]>;
  /** The shared state's figures; `events` … `wentOffline` count this handle's own calls. */
  stats(): Promise<Stats>;
  /** The whole store in the engine's snapshot format (`StatusEngine.restore` reads it). */
  snapshot(): Promise<Uint8Array>;
  /** Merges a snapshot (same configuration, else `config_mismatch`) into the store. */
  loadSnapshot(bytes: Uint8Array | ArrayBuffer): Promise<void>;
  /** Up to `limit` (default 1000) flips recorded after the cursor `after` (absent: from the oldest kept). */
  transitions(after?: string | null, limit?: number | null): Promise<FeedPage>;
  /** Commits this handle made for ingest calls: fewer than the calls when calls overlapped (group commit). */
  groupCommits(): Promise<number>;
  /**
   * Tells the store the host's time: the pending offlines `nowMs` confirms, committed and entered
   * in the feed (each returned to exactly one handle), sorted by (time, clientId).
   */
  advance(nowMs: number): Promise<Transition[]>;
  /** Records an authoritative answer about a client, committed; the transition it caused or null. */
  observe(clientId: string, online: boolean, timeMs: number): Promise<Transition | null>;
  /** Online clients with no sign of life for `olderThanMs` before `nowMs`, oldest first. */
  staleOnline(olderThanMs: number, nowMs: number, limit: number): Promise<StaleClient[]>;
  /**
   * Closes the handle once the calls running on it have ended: a file store's lock and a Redis
   * store's connections are released; every later call rejects with an `Error` with `.code`
   * `"store_closed"` (not a `StatusError` code: a usage error, like `"engine_freed"`). Closing
   * again does nothing.
   */
  close(): Promise<void>;
}

/** Which backend this entry point loaded. */
export declare const backend: 'native' | 'wasm';

/** Node only: why the native addon did not load when the WebAssembly fallback was taken (else null). */
export declare const nativeError: Error | null;

/**
 * Loads the WebAssembly module in browsers (the .wasm next to the glue by default; or a URL,
 * Request, Response, bytes or compiled `WebAssembly.Module`, see `mqtt-status/web`); a no-op in
 * Node. Call it once before creating engines; calling it again is harmless.
 */
export declare function init(input?: unknown): Promise<unknown>;
export default init;

/** Synchronous `init` from bytes or a compiled module (browsers, workers); a no-op in Node. */
export declare function initSync(module?: unknown): unknown;

/** The stable error codes. */
export declare const ERROR_CODES: readonly ErrorCode[];

/** Whether `e` is an error thrown by the engine. */
export declare function isStatusError(e: unknown): e is StatusError;
