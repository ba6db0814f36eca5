//! The Redis and Redis Cluster backend (docs/store.md has the layout and the protocol).
//!
//! S shards, fixed when the store is created; client `id` lives in shard
//! [`record_shard`](mqtt_status::record_shard)`(id, S)`, and every key of shard `s` carries the
//! hash tag `{prefix:s}`, so each atomic step touches one slot:
//! `{p:s}:r` hash id -> record, `{p:s}:o` zset of online ids (score 0, ordered by id),
//! `{p:s}:n` hash of counts (and the shard's advance time `a`), `{p:s}:f` stream of
//! transitions, `{p:s}:p` zset of pending offlines by deadline (with a grace), `{p:s}:l` zset
//! of the online ids by last sign of life (`stale_online`). `{p}:meta` holds the format, S and
//! the configuration.

mod advance;
mod cluster;
mod conn;
mod hash;
mod ingest;
mod query;
mod step;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mqtt_status::{Config, Error};
use redis::{cmd, Value};
use serde::{Deserialize, Serialize};

use conn::{bytes, Conn, Target};

/// Default number of shards of a new store.
pub const DEFAULT_SHARDS: u32 = 16;
/// Default key prefix.
pub const DEFAULT_PREFIX: &str = "mqs";
/// Default bound of each shard's transition stream (approximate: `XADD MAXLEN ~`).
pub const DEFAULT_FEED_MAXLEN: u64 = 100_000;
/// How many times a batch's compare-and-set is retried on conflicts before giving up.
const MAX_ATTEMPTS: u32 = 100;

/// What `{prefix}:meta` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    format: u32,
    shards: u32,
    config: Config,
    /// Whether steps keep the seen index `{P:s}:l` (`stale_index=0` at creation: no). Written
    /// only when off, so a store with the index keeps the meta it always had.
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    stale_index: bool,
}

fn yes() -> bool {
    true
}

fn is_yes(b: &bool) -> bool {
    *b
}

/// This handle's own ingest counters (the `stats()` fields that are per instance).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) events: AtomicU64,
    pub(crate) applied: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) late: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) went_online: AtomicU64,
    pub(crate) went_offline: AtomicU64,
    /// Compare-and-set conflicts met (each one re-read and re-applied a shard's events).
    pub(crate) conflicts: AtomicU64,
}

/// A status store on Redis: a connection, the shard layout and this handle's counters.
pub(crate) struct RedisStore {
    conn: Conn,
    config: Config,
    shards: u32,
    prefix: String,
    feed_maxlen: u64,
    /// Whether this store keeps the seen index (fixed at creation; see `Meta`).
    pub(crate) stale_index: bool,
    pub(crate) counters: Counters,
    /// Records as this handle last committed or read them (see `ingest.rs`).
    cache: std::sync::Mutex<hash::FoldMap<String, Vec<u8>>>,
    /// Each shard's advance time as this handle last read or wrote it (`""`: none), with a grace.
    advanced: std::sync::Mutex<std::collections::HashMap<u32, String>>,
}

/// The layout version in `{prefix}:meta`: 2 added the pending and seen indexes (issue 17); a
/// version 1 store lacks them, so it is refused rather than answered from half an index.
const FORMAT: u32 = 2;

/// Options read from a store URL's query string.
struct Options {
    shards: Option<u32>,
    stale_index: Option<bool>,
    prefix: String,
    feed_maxlen: u64,
    connect_timeout: Duration,
    response_timeout: Duration,
}

fn bad_url(url: &str, why: &str) -> Error {
    Error::InvalidField { field: "url", reason: format!("{why} in store URL {url:?}") }
}

/// Splits `redis://…?k=v&…` into the URL(s) to connect to, and the store's own options.
fn parse_url(url: &str) -> Result<(Target, Options), Error> {
    // A fragment (`#insecure`: TLS without certificate checks, for tests) belongs to the
    // connection URL, not to the store's options.
    let (url_part, fragment) =
        url.split_once('#').map_or((url, String::new()), |(u, f)| (u, format!("#{f}")));
    let (base, query) = url_part.split_once('?').unwrap_or((url_part, ""));
    let mut o = Options {
        shards: None,
        stale_index: None,
        prefix: DEFAULT_PREFIX.into(),
        feed_maxlen: DEFAULT_FEED_MAXLEN,
        connect_timeout: Duration::from_secs(2),
        response_timeout: Duration::from_secs(5),
    };
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let num =
            |max: u64| v.parse::<u64>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| bad_url(url, k));
        match k {
            "shards" => o.shards = Some(num(16_384)? as u32),
            "stale_index" => {
                o.stale_index = Some(match v {
                    "1" => true,
                    "0" => false,
                    _ => return Err(bad_url(url, k)),
                })
            }
            "prefix" if !v.is_empty() && !v.contains(['{', '}']) => o.prefix = v.into(),
            "feed_maxlen" => o.feed_maxlen = num(u64::MAX)?,
            "connect_timeout_ms" => o.connect_timeout = Duration::from_millis(num(3_600_000)?),
            "timeout_ms" => o.response_timeout = Duration::from_millis(num(3_600_000)?),
            _ => return Err(bad_url(url, &format!("unknown or bad option {k:?}"))),
        }
    }
    let cluster_hosts = |hosts: &str, scheme: &str| -> Result<Vec<String>, Error> {
        let nodes: Vec<String> =
            hosts.split(',').filter(|h| !h.is_empty()).map(|h| format!("{scheme}://{h}{fragment}")).collect();
        if nodes.is_empty() {
            return Err(bad_url(url, "no cluster node"));
        }
        Ok(nodes)
    };
    let (cluster, nodes) = if let Some(hosts) = base.strip_prefix("redis+cluster://") {
        (true, cluster_hosts(hosts, "redis")?)
    } else if let Some(hosts) = base.strip_prefix("rediss+cluster://") {
        (true, cluster_hosts(hosts, "rediss")?)
    } else if base.starts_with("redis://") || base.starts_with("rediss://") {
        (false, vec![format!("{base}{fragment}")])
    } else {
        return Err(bad_url(url, "unknown scheme"));
    };
    let target =
        Target { nodes, cluster, connect_timeout: o.connect_timeout, response_timeout: o.response_timeout };
    Ok((target, o))
}

impl RedisStore {
    /// Connects and checks (or, for a new store, writes) the stored layout and configuration.
    pub(crate) fn open(url: &str, config: Config) -> Result<Self, Error> {
        // Never `None`: a missing store is created first.
        Self::open_as(url, config, true)?
            .ok_or_else(|| Error::StoreUnavailable { reason: "store metadata missing after creation".into() })
    }

    /// As `open`, but `None` when the store does not exist (nothing is written).
    pub(crate) fn open_existing(url: &str, config: Config) -> Result<Option<Self>, Error> {
        Self::open_as(url, config, false)
    }

    fn open_as(url: &str, config: Config, create: bool) -> Result<Option<Self>, Error> {
        config.validate()?;
        let (target, o) = parse_url(url)?;
        let conn = Conn::open(target)?;
        let want = Meta {
            format: FORMAT,
            shards: o.shards.unwrap_or(DEFAULT_SHARDS),
            config,
            stale_index: o.stale_index.unwrap_or(true),
        };
        let key = format!("{{{}}}:meta", o.prefix);
        let text = serde_json::to_string(&want).expect("meta serializes");
        if create {
            conn.one(cmd("SET").arg(&key).arg(&text).arg("NX").clone())?;
        }
        let stored = conn.one(cmd("GET").arg(&key).clone())?;
        if !create && matches!(stored, Value::Nil) {
            return Ok(None);
        }
        let stored: Meta = bytes(&stored).and_then(|b| serde_json::from_slice(b).ok()).ok_or_else(|| {
            Error::InvalidSnapshot { reason: format!("store metadata {key:?} is unreadable") }
        })?;
        if stored.format != FORMAT {
            let hint = if stored.format == 1 {
                " (made before the pending and staleness indexes: load its snapshot into a new prefix)"
            } else {
                ""
            };
            return Err(Error::InvalidSnapshot {
                reason: format!("store format {} is not supported{hint}", stored.format),
            });
        }
        if stored.config != config {
            let reason =
                format!("the store {key:?} was created with {:?}, opened with {config:?}", stored.config);
            return Err(Error::ConfigMismatch { reason });
        }
        if o.shards.is_some_and(|s| s != stored.shards) {
            let reason =
                format!("the store {key:?} has {} shards, the URL asks for {:?}", stored.shards, o.shards);
            return Err(Error::ConfigMismatch { reason });
        }
        if o.stale_index.is_some_and(|x| x != stored.stale_index) {
            let (has, asks) = (u8::from(stored.stale_index), u8::from(!stored.stale_index));
            let reason =
                format!("the store {key:?} has stale_index={has}, the URL asks for stale_index={asks}");
            return Err(Error::ConfigMismatch { reason });
        }
        Ok(Some(RedisStore {
            conn,
            config,
            shards: stored.shards,
            prefix: o.prefix,
            feed_maxlen: o.feed_maxlen,
            stale_index: stored.stale_index,
            counters: Counters::default(),
            cache: Default::default(),
            advanced: Default::default(),
        }))
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    fn key(&self, shard: u32, kind: &str) -> String {
        format!("{{{}:{shard}}}:{kind}", self.prefix)
    }

    fn shard_of(&self, id: &str) -> u32 {
        mqtt_status::record_shard(id, self.shards)
    }

    /// Compare-and-set conflicts this handle met (each cost a re-read and re-apply of a shard).
    pub(crate) fn conflicts(&self) -> u64 {
        self.counters.conflicts.load(Ordering::Relaxed)
    }
}

/// Adds `n` to a counter.
fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// A reply that should be an array of bulk strings, as owned byte strings (nil kept as `None`).
fn bulk_list(v: &Value) -> Vec<Option<Vec<u8>>> {
    conn::items(v).iter().map(|x| bytes(x).map(<[u8]>::to_vec)).collect()
}

impl RedisStore {
    /// Counts inputs refused before reaching the store.
    pub(crate) fn count_rejected(&self, n: u64) {
        bump(&self.counters.events, n);
        bump(&self.counters.rejected, n);
    }
}
