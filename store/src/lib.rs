//! # mqtt-status-store
//!
//! Durable and shared state for the `mqtt-status` engine (SPEC §8): one API, the backend chosen
//! by URL. The judgment stays the core's; a store only decides where the state lives.
//!
//! This is the file backend's minimal `lib.rs` (`file:PATH` only); the Redis backend's lib.rs
//! carries the same API and the lead merges the two.
//!
//! ```
//! use mqtt_status_store::{Config, StatusStore};
//! let dir = std::env::temp_dir().join(format!("mqtt-status-doc-{}", std::process::id()));
//! let store = StatusStore::open(&format!("file:{}", dir.display()), Config::default())?;
//! let t = store.ingest_json(br#"{"clientId":"G@@@d1","channelId":"c1","eventType":"connect","time":1}"#, None)?;
//! assert!(t.expect("went online").online);
//! assert!(store.is_online("G@@@d1")?);
//! drop(store);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), mqtt_status::Error>(())
//! ```
#![forbid(unsafe_code)]

mod file;

use std::path::Path;

pub use mqtt_status::{BatchReport, ClientStatus, Config, Error, ErrorCode, GroupCount, Stats, Transition};

/// One page of the transition feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    /// The transitions after the requested cursor, oldest first.
    pub entries: Vec<FeedEntry>,
    /// The cursor to pass as `after` for the next page (the last entry's, or the one given).
    pub next: String,
}

/// One transition of the feed and its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// Opaque, increasing position of this entry.
    pub cursor: String,
    /// The flip.
    pub transition: Transition,
}

enum Backend {
    File(file::FileStore),
}

/// A status store: an engine's state kept durably (and, on Redis, shared). Every method blocks
/// until the backend answers; a write returns only once its effect is durable.
pub struct StatusStore {
    backend: Backend,
}

impl StatusStore {
    /// Opens (creating if needed) the store at `url`: `file:PATH` (a directory).
    pub fn open(url: &str, config: Config) -> Result<Self, Error> {
        if let Some(path) = url.strip_prefix("file:") {
            let (path, options) = file::parse_url(path)?;
            let store = file::FileStore::open_with(Path::new(path), config, options)?;
            return Ok(StatusStore { backend: Backend::File(store) });
        }
        Err(Error::InvalidField {
            field: "url",
            reason: format!("unsupported store URL {url:?} (expected file:PATH)"),
        })
    }

    /// The configuration the store judges by.
    pub fn config(&self) -> &Config {
        match &self.backend {
            Backend::File(s) => s.config(),
        }
    }

    /// Ingests one notification body or envelope; its transition if the client flipped.
    pub fn ingest_json(&self, body: &[u8], tag: Option<&str>) -> Result<Option<Transition>, Error> {
        match &self.backend {
            Backend::File(s) => s.ingest_json(body, tag),
        }
    }

    /// Ingests a JSONL batch; bad lines are reported as by the engine.
    pub fn ingest_many(&self, jsonl: &[u8]) -> Result<BatchReport, Error> {
        match &self.backend {
            Backend::File(s) => s.ingest_many(jsonl),
        }
    }

    /// Ingests a list of bodies or envelopes, each with its message tag if any.
    pub fn ingest_items(&self, items: &[(&[u8], Option<&str>)]) -> Result<BatchReport, Error> {
        match &self.backend {
            Backend::File(s) => s.ingest_items(items),
        }
    }

    /// Whether the client is online.
    pub fn is_online(&self, client_id: &str) -> Result<bool, Error> {
        match &self.backend {
            Backend::File(s) => s.is_online(client_id),
        }
    }

    /// Everything known about a client.
    pub fn client(&self, client_id: &str) -> Result<Option<ClientStatus>, Error> {
        match &self.backend {
            Backend::File(s) => s.client(client_id),
        }
    }

    /// Online client ids, sorted, cursor-paginated as the engine's.
    pub fn online_clients(
        &self,
        group: Option<&str>,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<String>, Error> {
        match &self.backend {
            Backend::File(s) => s.online_clients(group, after, limit),
        }
    }

    /// Number of online clients, in all or in one group.
    pub fn count_online(&self, group: Option<&str>) -> Result<u64, Error> {
        match &self.backend {
            Backend::File(s) => s.count_online(group),
        }
    }

    /// Every group, sorted by id.
    pub fn groups(&self) -> Result<Vec<GroupCount>, Error> {
        match &self.backend {
            Backend::File(s) => s.groups(),
        }
    }

    /// State figures; the ingest counters are this handle's own.
    pub fn stats(&self) -> Result<Stats, Error> {
        match &self.backend {
            Backend::File(s) => s.stats(),
        }
    }

    /// The whole state in the engine's snapshot format.
    pub fn snapshot(&self) -> Result<Vec<u8>, Error> {
        match &self.backend {
            Backend::File(s) => s.snapshot(),
        }
    }

    /// Merges an engine snapshot into the store, durably.
    pub fn load_snapshot(&self, bytes: &[u8]) -> Result<(), Error> {
        match &self.backend {
            Backend::File(s) => s.load_snapshot(bytes),
        }
    }

    /// Transitions after `after` (all retained ones if `None`), at most `limit`.
    pub fn transitions(&self, after: Option<&str>, limit: Option<usize>) -> Result<FeedPage, Error> {
        match &self.backend {
            Backend::File(s) => s.transitions(after, limit),
        }
    }
}
