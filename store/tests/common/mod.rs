//! Shared by the Redis tests: server URLs from the environment (set by scripts/ci/store.sh;
//! a missing variable fails the test, it is never skipped), fresh key prefixes, a generator.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU32, Ordering};

use mqtt_status::{Config, StatusEngine};
use mqtt_status_store::StatusStore;

/// `MQTT_STATUS_REDIS_URL` (standalone) or `MQTT_STATUS_REDIS_CLUSTER_URL`.
pub fn server(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the store tests with `bash scripts/ci/store.sh` (it starts Redis)")
    })
}

pub fn standalone() -> String {
    server("MQTT_STATUS_REDIS_URL")
}

pub fn cluster() -> String {
    server("MQTT_STATUS_REDIS_CLUSTER_URL")
}

/// Both servers, each with a name for messages.
pub fn servers() -> Vec<(&'static str, String)> {
    vec![("standalone", standalone()), ("cluster", cluster())]
}

/// A key prefix no other test (or earlier run) uses.
pub fn fresh_prefix(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("t-{name}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// `base` with `?prefix=…` (and more options) appended.
pub fn url(base: &str, prefix: &str, extra: &str) -> String {
    format!("{base}?prefix={prefix}{extra}")
}

pub fn open(base: &str, prefix: &str, config: Config) -> StatusStore {
    StatusStore::open(&url(base, prefix, ""), config).unwrap_or_else(|e| panic!("open {base}: {e}"))
}

/// xorshift64*: deterministic per seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A fleet's notifications as JSONL lines: sessions (a new 32-hex channel each) that end with a
/// tcpclean (sometimes a disconnect first), flash reconnects (the next connect before the old
/// close: takeover traffic), some last sessions left open; delivered with jitter, with about 10%
/// redelivered later and 3% redelivered at the very end (late redeliveries). Ids in a few groups,
/// some without a group.
pub fn stream(seed: u64, clients: usize, sessions: u64) -> Vec<String> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut evs: Vec<(u64, String)> = Vec::new();
    let groups = ["GID_meter", "GID_lamp", "GID_gw"];
    for c in 0..clients {
        let id = match c % 7 {
            6 => format!("solo-{c}"),
            k => format!("{}@@@dev{c:04}", groups[k % 3]),
        };
        let mut t = 1_700_000_000_000 + rng.below(60_000);
        let n = 1 + rng.below(sessions);
        for s in 0..n {
            let ch = format!("{:016x}{:016x}", rng.next(), c as u64 * 1000 + s);
            let ip = format!("10.{}.{}.{}:{}", c % 250, s % 250, rng.below(250), 1024 + rng.below(60000));
            let line = |kind: &str, time: u64| {
                format!(
                    r#"{{"clientId":"{id}","channelId":"{ch}","eventType":"{kind}","time":{time},"clientIp":"{ip}"}}"#
                )
            };
            evs.push((t, line("connect", t)));
            let dur = 1_000 + rng.below(600_000);
            let last = s + 1 == n;
            if last && rng.below(10) < 4 {
                break; // stays open
            }
            let end = t + dur;
            if rng.below(4) == 0 {
                evs.push((end - 1, line("disconnect", end - 1)));
            }
            evs.push((end, line("tcpclean", end)));
            // Flash reconnect: the next session starts before this one's close.
            t = if rng.below(3) == 0 {
                end - 1 - rng.below(500).min(dur - 2)
            } else {
                end + 1 + rng.below(100_000)
            };
        }
    }
    // Delivery order: time plus up to 5 s of jitter.
    let mut keyed: Vec<(u64, String)> = evs.into_iter().map(|(t, l)| (t + rng.below(5_000), l)).collect();
    keyed.sort();
    let mut out: Vec<String> = keyed.into_iter().map(|(_, l)| l).collect();
    let n = out.len();
    for _ in 0..n / 10 {
        let l = out[rng.below(n as u64) as usize].clone();
        let at = rng.below(out.len() as u64) as usize;
        out.insert(at, l);
    }
    for _ in 0..n * 3 / 100 {
        let l = out[rng.below(n as u64) as usize].clone();
        out.push(l);
    }
    out
}

/// One engine on the whole stream.
pub fn engine(config: Config, lines: &[String]) -> StatusEngine {
    let mut e = StatusEngine::new(config).unwrap();
    let report = e.ingest_many(lines.join("\n").as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    e
}

/// A configuration whose tombstone bound no generated client exceeds (so the shared state does
/// not depend on arrival order: SPEC §4's "within the tombstone bound").
pub fn config(takeover: bool) -> Config {
    Config { takeover, tombstones_per_client: 64, ..Config::default() }
}

/// Every answer of the store equals the engine's (per-instance counters aside).
pub fn assert_same(store: &StatusStore, e: &StatusEngine, at: &str) {
    let mut s = store.stats().unwrap();
    let mut w = e.stats();
    for x in [&mut s, &mut w] {
        (x.events, x.applied, x.duplicates, x.late, x.rejected, x.went_online, x.went_offline) =
            (0, 0, 0, 0, 0, 0, 0);
    }
    assert_eq!(s, w, "{at}: stats");
    assert_eq!(store.groups().unwrap(), e.groups(), "{at}: groups");
    assert_eq!(store.count_online(None).unwrap(), e.count_online(None), "{at}: count");
    for g in e.groups() {
        let g = Some(g.group_id.as_str());
        assert_eq!(store.count_online(g).unwrap(), e.count_online(g), "{at}: count {g:?}");
        assert_eq!(
            store.online_clients(g, None, None).unwrap(),
            e.online_clients(g, None, None),
            "{at}: {g:?}"
        );
    }
    let all = e.online_clients(None, None, None);
    assert_eq!(store.online_clients(None, None, None).unwrap(), all, "{at}: online clients");
    // Pages of 7 from each cursor position give the engine's pages.
    let mut after: Option<String> = None;
    loop {
        let page = store.online_clients(None, after.as_deref(), Some(7)).unwrap();
        assert_eq!(page, e.online_clients(None, after.as_deref(), Some(7)), "{at}: page after {after:?}");
        match page.last() {
            Some(l) => after = Some(l.clone()),
            None => break,
        }
    }
    for id in e.client_ids() {
        assert_eq!(store.client(id).unwrap(), e.client(id), "{at}: client {id}");
        assert_eq!(store.is_online(id).unwrap(), e.is_online(id), "{at}: is_online {id}");
    }
    assert_eq!(store.client("nobody").unwrap(), None);
    // Staleness, at a few thresholds and limits around the stream's times.
    let now = e.stats().max_time.unwrap_or(0) + 1;
    for (older, limit) in [(0, 10_000), (60_000, 7), (600_000, 1), (u64::MAX, 5), (300_000, 0)] {
        let (got, want) = (store.stale_online(older, now, limit).unwrap(), e.stale_online(older, now, limit));
        assert_eq!(got, want, "{at}: stale_online({older}, {now}, {limit})");
    }
}

/// Whether the client is reported online: exactly online, or offline but still pending (grace).
pub fn reported_online(e: &StatusEngine, id: &str) -> bool {
    e.client(id).is_some_and(|c| c.online || c.pending_offline_since.is_some())
}

/// Reads the whole feed, page by page.
pub fn feed(store: &StatusStore) -> Vec<mqtt_status::Transition> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.transitions(after.as_deref(), Some(500)).unwrap();
        if page.entries.is_empty() {
            return out;
        }
        out.extend(page.entries.into_iter().map(|e| e.transition));
        after = Some(page.next);
    }
}

/// The feed has one entry per flip of the shared state: per client, entries alternate starting
/// with online, and the last one is the client's final reported status (with a grace, a pending
/// offline is still online).
pub fn assert_feed_tracks(feed: &[mqtt_status::Transition], e: &StatusEngine, at: &str) {
    let mut last: std::collections::HashMap<&str, bool> = Default::default();
    for t in feed {
        let was = last.insert(&t.client_id, t.online).unwrap_or(false);
        if t.offline_since.is_some() {
            // A reconnect that ends an offline nobody reported (grace): it stands for that
            // offline and the online at once, so the client was reported online before it.
            assert!(was && t.online, "{at}: {} reconnect with offlineSince after offline", t.client_id);
            continue;
        }
        assert_ne!(was, t.online, "{at}: {} flipped to {} twice in a row", t.client_id, t.online);
    }
    for id in e.client_ids() {
        let reported = reported_online(e, id);
        assert_eq!(last.get(id).copied().unwrap_or(false), reported, "{at}: feed ends wrong for {id}");
    }
    assert!(last.keys().all(|id| e.client(id).is_some()), "{at}: feed names an unknown client");
}
