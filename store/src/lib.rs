//! # mqtt-status-store
//!
//! Durable and shared state for [`mqtt_status`] (SPEC §8): a [`StatusStore`] answers the engine's
//! queries from a backend that outlives the process and that many consumer instances share.
//! The judgment stays the core's: the store keeps each client's *record* (the core's per-client
//! encoding) and applies events to records with the core, committing each change atomically
//! (compare-and-set) with its indexes and its entry in the transition feed.
//!
//! Backends, chosen by URL: `file:PATH` (a local directory, one process at a time: the embedded
//! default for a single consumer), `redis://host:port`, `redis+cluster://host:port[,host:port…]` (a
//! Redis Cluster), the same over TLS (`rediss://…`, `rediss+cluster://…`; a `#insecure` fragment
//! skips certificate checks, for tests). URL options: `?shards=N&prefix=P&feed_maxlen=N&timeout_ms=N&connect_timeout_ms=N`.
//! See `docs/store.md`.
//!
//! ```no_run
//! use mqtt_status::Config;
//! use mqtt_status_store::StatusStore;
//!
//! let store = StatusStore::open("redis://127.0.0.1:6379", Config::default())?;
//! let body = br#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":1}"#;
//! if let Some(t) = store.ingest_json(body, None)? {
//!     println!("{} is now {}", t.client_id, if t.online { "online" } else { "offline" });
//! }
//! assert!(store.is_online("GID_a@@@d1")?);
//! # Ok::<(), mqtt_status::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod file;
mod group;
mod key;
mod redis;

use mqtt_status::{
    BatchReport, ClientStatus, Config, Error, EventBatch, GroupCount, StaleClient, Stats, Transition,
};

pub use crate::key::{new_engine, process_index_key, restore_engine};
pub use crate::redis::{DEFAULT_FEED_MAXLEN, DEFAULT_PREFIX, DEFAULT_SHARDS};

/// Not API (for `fuzz/` only; may change or go at any time): replays a file store log image as
/// opening the store does (header, frames, entries, through an engine with the default
/// configuration) without touching a file. `Ok((whole frames, byte offset where they end, torn))`,
/// where `torn` means bytes after that offset were dropped as a torn tail; `invalid_snapshot` for a
/// bad header, damage before a whole frame, or an undecodable entry in a whole frame.
#[doc(hidden)]
pub fn __fuzz_scan_log(bytes: &[u8]) -> Result<(usize, usize, bool), Error> {
    file::scan_log_image(bytes)
}

/// `invalid_field` (field `url`): nothing was ever created at `url`.
fn no_store(url: &str, why: &str) -> Error {
    let reason = format!("no status store at {url:?} ({why}); check the URL (`open` would create one)");
    Error::InvalidField { field: "url", reason }
}

/// One page of the transition feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    /// The entries, oldest first.
    pub entries: Vec<FeedEntry>,
    /// The cursor to pass as `after` for the next page (unchanged when there was nothing new).
    pub next: String,
}

/// One flip of a client's shared status, as the feed recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// The cursor just after this entry (opaque).
    pub cursor: String,
    /// The flip.
    pub transition: Transition,
}

enum Backend {
    File(file::FileStore),
    Redis(redis::RedisStore),
}

/// A status store: the engine's API over durable, shared state. `Send + Sync`; every call
/// blocks until its effect is committed (or fails with `store_unavailable`, changing no client
/// half-way).
pub struct StatusStore {
    backend: Backend,
    /// Redis only: concurrent calls' batches waiting to share a commit (the file backend groups
    /// its log entries itself, with the same mechanism).
    group: group::Group<EventBatch, BatchReport>,
}

impl std::fmt::Debug for StatusStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusStore").field("config", self.config()).finish_non_exhaustive()
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match &$self.backend {
            Backend::File($s) => $e,
            Backend::Redis($s) => $e,
        }
    };
}

impl StatusStore {
    fn with(backend: Backend) -> Self {
        StatusStore { backend, group: group::Group::new(group::ROUND_EVENTS) }
    }

    /// Opens (creating if new) the store at `url` with `config`. A store created with another
    /// configuration gives `config_mismatch`; an unreachable backend `store_unavailable`; a bad
    /// URL `invalid_field` (field `url`).
    pub fn open(url: &str, config: Config) -> Result<Self, Error> {
        if !config.source.is_default() {
            // Records and logs are source-neutral, but the store's batch parsing and the file
            // log's replay read the aliyun format only so far (docs/store.md).
            let reason = "a status store reads the aliyun format only (for now)".into();
            return Err(Error::InvalidField { field: "source", reason });
        }
        if let Some(path) = url.strip_prefix("file:") {
            let (path, options) = file::parse_url(path)?;
            let backend =
                Backend::File(file::FileStore::open_with(std::path::Path::new(path), config, options)?);
            return Ok(Self::with(backend));
        }
        let schemes = ["redis://", "rediss://", "redis+cluster://", "rediss+cluster://"];
        if schemes.iter().any(|s| url.starts_with(s)) {
            let backend = Backend::Redis(redis::RedisStore::open(url, config)?);
            return Ok(Self::with(backend));
        }
        Err(Error::InvalidField { field: "url", reason: format!("unknown store URL scheme in {url:?}") })
    }

    /// Opens the store at `url` like [`open`](Self::open), but only if it exists: a URL where no
    /// store was ever created (a mistyped path, prefix or database) gives `invalid_field` (field
    /// `url`) and creates nothing. For readers such as `mqtt-status status --store URL`, which
    /// should not answer "nobody online" from a store they just made.
    pub fn open_existing(url: &str, config: Config) -> Result<Self, Error> {
        if let Some(path) = url.strip_prefix("file:") {
            let (dir, _) = file::parse_url(path)?;
            if !std::path::Path::new(dir).join("meta").is_file() {
                return Err(no_store(url, "no meta file there"));
            }
            return Self::open(url, config);
        }
        let schemes = ["redis://", "rediss://", "redis+cluster://", "rediss+cluster://"];
        if schemes.iter().any(|s| url.starts_with(s)) {
            if !config.source.is_default() {
                return Self::open(url, config); // the same refusal as open's
            }
            let backend = match redis::RedisStore::open_existing(url, config)? {
                Some(store) => Backend::Redis(store),
                None => return Err(no_store(url, "no store metadata under that prefix")),
            };
            return Ok(Self::with(backend));
        }
        Self::open(url, config)
    }

    /// The configuration the store judges by.
    pub fn config(&self) -> &Config {
        dispatch!(self, s => s.config())
    }

    /// Redis only (the file backend logs a call's input as given and groups its own commits):
    /// commits `batch` together with the batches of concurrent calls on this handle (group
    /// commit), returning this call's own report once the commit holding it is done.
    fn ingest_grouped(&self, batch: EventBatch) -> Result<BatchReport, Error> {
        let Backend::Redis(s) = &self.backend else {
            // Never taken (every ingest path hands a file store its input first); an error, not
            // a panic, should that ever change.
            let reason = "internal: a file store ingests through its log".into();
            return Err(Error::StoreUnavailable { reason });
        };
        let weight = batch.len().max(1);
        self.group.submit(batch, weight, |batches| group::commit_batches(batches, |all| s.ingest_batch(all)))
    }

    /// Ingests one body or envelope; returns the transition if it flipped the shared status.
    ///
    /// Concurrent calls on one handle (a push consumer's listener threads) share commits
    /// (group commit), with each other and with concurrent batches: each returns once the
    /// commit holding its own event is done.
    pub fn ingest_json(&self, body: &[u8], tag: Option<&str>) -> Result<Option<Transition>, Error> {
        if let Backend::File(s) = &self.backend {
            return s.ingest_json(body, tag);
        }
        let mut batch = EventBatch::default();
        if let Some(e) = batch.push(0, body, tag, self.config().max_id_len) {
            if let Backend::Redis(s) = &self.backend {
                s.count_rejected(1);
            }
            return Err(e);
        }
        let report = self.ingest_grouped(batch)?;
        Ok(report.transitions.get(0).map(|t| t.to_transition()))
    }

    /// Commits made for ingest calls (group commits: fewer than the calls when calls on this
    /// handle overlapped, since each commit carries every call queued while the one before ran).
    pub fn group_commits(&self) -> u64 {
        match &self.backend {
            Backend::File(s) => s.group_commits(),
            Backend::Redis(_) => self.group.commits(),
        }
    }

    /// Ingests JSONL (one body or envelope per line) in a constant number of round trips per
    /// shard touched; bad lines are reported as by the engine. Concurrent calls on one handle
    /// share commits (group commit), each getting its own report.
    pub fn ingest_many(&self, jsonl: &[u8]) -> Result<BatchReport, Error> {
        if let Backend::File(s) = &self.backend {
            return s.ingest_many(jsonl);
        }
        self.ingest_grouped(EventBatch::from_jsonl(jsonl, self.config().max_id_len))
    }

    /// Ingests a list of bodies or envelopes, each with its message tag if any (grouped with
    /// concurrent calls as [`ingest_many`](Self::ingest_many)).
    pub fn ingest_items(&self, items: &[(&[u8], Option<&str>)]) -> Result<BatchReport, Error> {
        if let Backend::File(s) = &self.backend {
            return s.ingest_items(items);
        }
        let mut batch = EventBatch::default();
        for (i, (body, tag)) in items.iter().enumerate() {
            batch.push(i as u64, body, *tag, self.config().max_id_len);
        }
        self.ingest_grouped(batch)
    }

    /// Whether the client is online in the shared state.
    pub fn is_online(&self, client_id: &str) -> Result<bool, Error> {
        dispatch!(self, s => s.is_online(client_id))
    }

    /// Everything known about a client, or `None`.
    pub fn client(&self, client_id: &str) -> Result<Option<ClientStatus>, Error> {
        dispatch!(self, s => s.client(client_id))
    }

    /// Online client ids, sorted; `group` filters, `after` is the exclusive cursor, `limit` the
    /// page size.
    pub fn online_clients(
        &self,
        group: Option<&str>,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<String>, Error> {
        dispatch!(self, s => s.online_clients(group, after, limit))
    }

    /// Number of online clients, in all or in one group.
    pub fn count_online(&self, group: Option<&str>) -> Result<u64, Error> {
        dispatch!(self, s => s.count_online(group))
    }

    /// Every group seen, sorted by groupId.
    pub fn groups(&self) -> Result<Vec<GroupCount>, Error> {
        dispatch!(self, s => s.groups())
    }

    /// The shared state's figures; `events` … `wentOffline` count this handle's own calls.
    pub fn stats(&self) -> Result<Stats, Error> {
        dispatch!(self, s => s.stats())
    }

    /// The whole store in the engine's snapshot format.
    pub fn snapshot(&self) -> Result<Vec<u8>, Error> {
        dispatch!(self, s => s.snapshot())
    }

    /// Merges a snapshot (same configuration) into the store.
    pub fn load_snapshot(&self, bytes: &[u8]) -> Result<(), Error> {
        dispatch!(self, s => s.load_snapshot(bytes))
    }

    /// Up to `limit` (default 1000) flips recorded after the cursor `after` (`None`: from the
    /// oldest kept).
    pub fn transitions(&self, after: Option<&str>, limit: Option<usize>) -> Result<FeedPage, Error> {
        dispatch!(self, s => s.transitions(after, limit))
    }

    /// Tells the store the host's time is now `now_ms` (SPEC §9, grace): every pending offline
    /// whose `close + offlineGraceMs` it reaches is confirmed, entered in the feed and returned
    /// (sorted by time, then clientId), exactly once among all handles. Monotone: a time not
    /// later than the store's latest `advance` confirms nothing. No grace: does nothing.
    /// `invalid_field` (`now`) beyond 2^53 − 1.
    pub fn advance(&self, now_ms: u64) -> Result<Vec<Transition>, Error> {
        dispatch!(self, s => s.advance(now_ms))
    }

    /// Records an authoritative answer about a client (the broker's query API), as
    /// [`StatusEngine::observe`](mqtt_status::StatusEngine::observe): one more event, durably;
    /// its transition if it flipped the shared status.
    pub fn observe(&self, client_id: &str, online: bool, time_ms: u64) -> Result<Option<Transition>, Error> {
        dispatch!(self, s => s.observe(client_id, online, time_ms))
    }

    /// Online clients with no event or observation for longer than `older_than_ms` before
    /// `now_ms`: oldest first (ties by clientId), at most `limit`, as
    /// [`StatusEngine::stale_online`](mqtt_status::StatusEngine::stale_online).
    pub fn stale_online(
        &self,
        older_than_ms: u64,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<StaleClient>, Error> {
        dispatch!(self, s => s.stale_online(older_than_ms, now_ms, limit))
    }

    /// Counts an input a binding refused before it reached the store (e.g. `observe` arguments
    /// of the wrong type) as one rejected by this handle, as the engine's `reject_unread`; returns
    /// the error to raise.
    pub fn reject_unread(&self, error: Error) -> Error {
        match &self.backend {
            Backend::File(s) => s.reject_unread(error),
            Backend::Redis(s) => {
                s.count_rejected(1);
                error
            }
        }
    }

    /// Compare-and-set conflicts this handle met and retried (a measure of contention).
    pub fn conflicts(&self) -> u64 {
        match &self.backend {
            // One process at a time: nobody to conflict with.
            Backend::File(_) => 0,
            Backend::Redis(s) => s.conflicts(),
        }
    }
}
