//! File store: restore equivalence (a stream through the store, reopened at random points and
//! compacted often, answers as one engine), configuration, snapshots in and out.

mod file_common;

use file_common::*;
use mqtt_status::{Config, ErrorCode, StatusEngine};
use mqtt_status_store::StatusStore;

/// Feeds `lines` through the store in random calls (single events with and without tags, JSONL
/// batches, tagged items), reopening at random points; returns what the calls reported.
fn run(
    seed: u64,
    config: Config,
    query: &str,
    lines: &[String],
) -> (tempfile::TempDir, Vec<mqtt_status::Transition>) {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), query);
    let mut rng = Rng::new(seed ^ 0xfeed);
    let mut store = StatusStore::open(&url, config).unwrap();
    let mut returned = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        if rng.chance(8) {
            drop(store);
            store = StatusStore::open(&url, config).unwrap();
        }
        let n = (1 + rng.below(40) as usize).min(lines.len() - at);
        let chunk = &lines[at..at + n];
        match rng.below(3) {
            0 => {
                for l in chunk {
                    match store.ingest_json(l.as_bytes(), None) {
                        Ok(t) => returned.extend(t),
                        Err(e) => assert!(e.code() != ErrorCode::StoreUnavailable, "{e}"),
                    }
                }
            }
            1 => {
                let report = store.ingest_many(chunk.join("\n").as_bytes()).unwrap();
                returned.extend(report.transitions.to_vec());
            }
            _ => {
                // Items carry the tag of the line when they can: a tag must agree with the body.
                let tags: Vec<Option<&str>> = chunk
                    .iter()
                    .map(|l| {
                        ["connect", "disconnect", "tcpclean"]
                            .into_iter()
                            .find(|t| l.contains(&format!("\"eventType\":\"{t}\"")))
                    })
                    .collect();
                let items: Vec<(&[u8], Option<&str>)> =
                    chunk.iter().zip(&tags).map(|(l, t)| (l.as_bytes(), *t)).collect();
                let report = store.ingest_items(&items).unwrap();
                returned.extend(report.transitions.to_vec());
            }
        }
        at += n;
    }
    drop(store);
    (dir, returned)
}

#[test]
fn restore_equivalence_with_reopens_and_compactions() {
    for seed in 0..4 {
        let config = Config {
            takeover: seed % 2 == 0,
            close_on_disconnect: seed % 3 == 0,
            tombstones_per_client: 2,
            ..Config::default()
        };
        let lines = stream(seed, 60, 2_000);
        let (one, transitions) = engine_of(config, &lines);
        // A tiny threshold: dozens of compactions along the way.
        let (dir, returned) = run(seed, config, "?compact_bytes=4000", &lines);
        assert_eq!(returned, transitions, "seed {seed}: the calls' transitions are the engine's");
        let store = StatusStore::open(&url(dir.path(), ""), config).unwrap();
        let ids = client_ids(60);
        assert_eq!(view_store(&store, &ids), view_engine(&one, &ids), "seed {seed}");
        assert_eq!(feed(&store), transitions, "seed {seed}: the feed has every flip once");
        assert_eq!(store.stats().unwrap().events, 0, "a fresh handle has counted nothing");
        // Compaction kept one generation.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(
            names[0] == "LOCK"
                && names[1].starts_with("log-")
                && names[2] == "meta"
                && names[3].starts_with("snap-"),
            "{names:?}"
        );
        // Snapshot bytes: the same state as the engine's (the counters differ: the store's
        // engine never saw the rejected single events, which are not logged).
        let back = StatusEngine::restore(&store.snapshot().unwrap()).unwrap();
        assert_eq!(view_engine(&back, &ids), view_engine(&one, &ids));
    }
}

#[test]
fn batches_only_give_the_engines_exact_snapshot() {
    let config = Config::default();
    let lines = stream(42, 40, 2_000);
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), "?compact_bytes=10000");
    let mut one = StatusEngine::new(config).unwrap();
    // Chunks of 111 and of 400 lines (over 32 KiB: synced while applied).
    let mut chunks = Vec::new();
    let mut rest = &lines[..];
    while !rest.is_empty() {
        let n = if chunks.len() % 2 == 0 { 111 } else { 400 }.min(rest.len());
        chunks.push(&rest[..n]);
        rest = &rest[n..];
    }
    for (i, chunk) in chunks.into_iter().enumerate() {
        let store = StatusStore::open(&url, config).unwrap();
        let jsonl = chunk.join("\n");
        let mine = store.ingest_many(jsonl.as_bytes()).unwrap();
        assert_eq!(mine, one.ingest_many(jsonl.as_bytes()), "chunk {i}");
        assert_eq!(store.snapshot().unwrap(), one.snapshot(), "chunk {i}: counters included");
    }
    assert_eq!(StatusStore::open(&url, config).unwrap().snapshot().unwrap(), one.snapshot());
}

#[test]
fn feed_is_bounded_and_survives_compaction() {
    let config = Config { takeover: true, ..Config::default() };
    let lines = stream(7, 30, 1_500);
    let (_, transitions) = engine_of(config, &lines);
    assert!(transitions.len() > 100, "{}", transitions.len());
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), "?compact_bytes=3000&feed_len=50");
    for chunk in lines.chunks(100) {
        let store = StatusStore::open(&url, config).unwrap();
        store.ingest_many(chunk.join("\n").as_bytes()).unwrap();
    }
    let store = StatusStore::open(&url, config).unwrap();
    let kept = feed(&store);
    assert_eq!(kept, transitions[transitions.len() - 50..]);
    let page = store.transitions(None, Some(1)).unwrap();
    assert_eq!(page.entries[0].cursor, format!("{:020}", transitions.len() - 49));
    let end = store.transitions(Some(&format!("{:020}", transitions.len())), None).unwrap();
    assert!(end.entries.is_empty());
    assert_eq!(store.transitions(Some("nope"), None).unwrap_err().code(), ErrorCode::InvalidField);
}

#[test]
fn another_config_is_config_mismatch_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), "");
    let store = StatusStore::open(&url, Config::default()).unwrap();
    store
        .ingest_json(br#"{"clientId":"G@@@a","channelId":"c","eventType":"connect","time":1}"#, None)
        .unwrap();
    drop(store);
    let other = Config { takeover: true, ..Config::default() };
    let err = StatusStore::open(&url, other).err().unwrap();
    assert_eq!(err.code(), ErrorCode::ConfigMismatch, "{err}");
    assert!(err.to_string().contains("takeover"), "{err}");
    let store = StatusStore::open(&url, Config::default()).unwrap();
    assert!(store.is_online("G@@@a").unwrap());
    let bad = Config { max_id_len: 0, ..Config::default() };
    assert_eq!(StatusStore::open(&url, bad).err().unwrap().code(), ErrorCode::InvalidField);
}

#[test]
fn load_snapshot_merges_durably_and_feeds_its_flips() {
    let config = Config::default();
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), "");
    let store = StatusStore::open(&url, config).unwrap();
    store
        .ingest_json(br#"{"clientId":"G@@@a","channelId":"c1","eventType":"connect","time":10}"#, None)
        .unwrap();
    let mut other = StatusEngine::new(config).unwrap();
    other.ingest_many(
        b"{\"clientId\":\"G@@@a\",\"channelId\":\"c1\",\"eventType\":\"tcpclean\",\"time\":20}\n\
          {\"clientId\":\"H@@@b\",\"channelId\":\"c2\",\"eventType\":\"connect\",\"time\":30}",
    );
    store.load_snapshot(&other.snapshot()).unwrap();
    let mut expected = StatusEngine::new(config).unwrap();
    expected
        .ingest_json(br#"{"clientId":"G@@@a","channelId":"c1","eventType":"connect","time":10}"#, None)
        .unwrap();
    expected.merge(&other).unwrap();
    let ids = vec!["G@@@a".to_string(), "H@@@b".to_string()];
    assert_eq!(view_store(&store, &ids), view_engine(&expected, &ids));
    let flips: Vec<(String, bool, u64)> =
        feed(&store).into_iter().map(|t| (t.client_id, t.online, t.time)).collect();
    let want = vec![
        ("G@@@a".to_string(), true, 10),
        ("G@@@a".to_string(), false, 20),
        ("H@@@b".to_string(), true, 30),
    ];
    assert_eq!(flips, want);
    drop(store);
    let store = StatusStore::open(&url, config).unwrap();
    assert_eq!(view_store(&store, &ids), view_engine(&expected, &ids));
    assert_eq!(feed(&store).len(), 3);
    // Bad bytes and another configuration change nothing.
    assert_eq!(store.load_snapshot(b"nope").unwrap_err().code(), ErrorCode::InvalidSnapshot);
    let foreign = StatusEngine::new(Config { takeover: true, ..config }).unwrap();
    assert_eq!(store.load_snapshot(&foreign.snapshot()).unwrap_err().code(), ErrorCode::ConfigMismatch);
    assert_eq!(view_store(&store, &ids), view_engine(&expected, &ids));
}

#[test]
fn bad_urls_are_invalid_field() {
    for url in ["file:", "file:/tmp/x?compact_bytes=lots", "file:/tmp/x?colour=blue", "ftp://x"] {
        let err = StatusStore::open(url, Config::default()).err().unwrap();
        assert_eq!(err.code(), ErrorCode::InvalidField, "{url}: {err}");
    }
}

#[test]
fn unreadable_directory_is_store_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err = StatusStore::open(&url(&file, ""), Config::default()).err().unwrap();
    assert_eq!(err.code(), ErrorCode::StoreUnavailable, "{err}");
}

/// One call of the grace run: what the store and the engine are both fed.
enum Call {
    Json(String),
    Many(Vec<String>),
    Observe(String, bool, u64),
    Advance(u64),
}

/// The `"time":N` of a line, if it has one (the stream holds a few bad lines).
fn line_time(line: &str) -> Option<u64> {
    let rest = &line[line.find("\"time\":")? + 7..];
    rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())].parse().ok()
}

#[test]
fn grace_observations_and_advances_survive_reopens_and_compactions() {
    let mut since_seen = false;
    for seed in 0..3u64 {
        let config = Config {
            takeover: seed % 2 == 0,
            tombstones_per_client: 4,
            offline_grace_ms: [300, 2_000, 10_000][seed as usize],
            ..Config::default()
        };
        let lines = stream(seed + 10, 40, 1_500);
        let ids = client_ids(40);
        let mut rng = Rng::new(seed ^ 0x9ace);
        let mut calls = Vec::new();
        let mut at = 0;
        let mut t = 0;
        while at < lines.len() {
            t = line_time(&lines[at]).unwrap_or(t);
            match rng.below(10) {
                0 => calls.push(Call::Advance(t.saturating_sub(rng.below(2_000)))),
                1 => {
                    let id = ids[rng.below(ids.len() as u64) as usize].clone();
                    calls.push(Call::Observe(id, rng.chance(50), t.saturating_sub(rng.below(3_000))));
                }
                2..=5 => {
                    calls.push(Call::Json(lines[at].clone()));
                    at += 1;
                }
                _ => {
                    let n = (1 + rng.below(30) as usize).min(lines.len() - at);
                    let mut chunk = lines[at..at + n].to_vec();
                    // An observation line inside a batch.
                    let id = &ids[rng.below(ids.len() as u64) as usize];
                    chunk.insert(
                        rng.below(n as u64) as usize,
                        format!(
                            r#"{{"observe":{{"clientId":"{id}","online":{},"time":{t}}}}}"#,
                            rng.chance(50)
                        ),
                    );
                    calls.push(Call::Many(chunk));
                    at += n;
                }
            }
        }
        let mut one = StatusEngine::new(config).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = url(dir.path(), "?compact_bytes=3000");
        let mut store = StatusStore::open(&url, config).unwrap();
        let (mut want, mut got) = (Vec::new(), Vec::new());
        for call in &calls {
            if rng.chance(5) {
                drop(store);
                store = StatusStore::open(&url, config).unwrap();
            }
            match call {
                Call::Json(l) => {
                    want.extend(one.ingest_json(l.as_bytes(), None).ok().flatten());
                    got.extend(store.ingest_json(l.as_bytes(), None).ok().flatten());
                }
                Call::Many(chunk) => {
                    let text = chunk.join("\n");
                    want.extend(one.ingest_many(text.as_bytes()).transitions.to_vec());
                    got.extend(store.ingest_many(text.as_bytes()).unwrap().transitions.to_vec());
                }
                Call::Observe(id, online, t) => {
                    want.extend(one.observe(id, *online, *t).unwrap());
                    got.extend(store.observe(id, *online, *t).unwrap());
                }
                Call::Advance(now) => {
                    want.extend(one.advance(*now).unwrap());
                    got.extend(store.advance(*now).unwrap());
                }
            }
        }
        assert_eq!(got, want, "seed {seed}: the calls' transitions are the engine's");
        since_seen |= want.iter().any(|t| t.offline_since.is_some());
        drop(store);
        let store = StatusStore::open(&url, config).unwrap();
        assert_eq!(view_store(&store, &ids), view_engine(&one, &ids), "seed {seed}");
        assert!(one.stats().pending_offline.is_some());
        assert_eq!(feed(&store), want, "seed {seed}: the feed (offlineSince and observe entries kept)");
        let now = one.stats().max_time.unwrap() + 1;
        for older in [0, 1_000, 10_000] {
            assert_eq!(store.stale_online(older, now, 15).unwrap(), one.stale_online(older, now, 15));
        }
        assert!(
            std::fs::read_dir(dir.path())
                .unwrap()
                .any(|e| { e.unwrap().file_name().to_string_lossy().starts_with("snap-") }),
            "seed {seed}: compacted"
        );
    }
    assert!(since_seen, "a reconnect ended a pending offline (offlineSince) somewhere");
}
