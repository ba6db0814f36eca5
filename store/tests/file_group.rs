//! File store: concurrent writers share appends and syncs (group commit), and every call that
//! returned is durable.

mod file_common;

use std::sync::{Arc, Barrier};

use file_common::*;
use mqtt_status::{Config, StatusEngine};
use mqtt_status_store::StatusStore;

const THREADS: usize = 8;
const PER_THREAD: usize = 150;

/// Frames in a log file: one per group commit, each one sync.
fn frames(log: &[u8]) -> usize {
    let mut pos = 20;
    let mut n = 0;
    while pos + 8 <= log.len() {
        let len = u32::from_le_bytes(log[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 8 + len;
        n += 1;
    }
    assert_eq!(pos, log.len(), "whole frames");
    n
}

fn event(thread: usize, i: usize) -> String {
    // Each thread has its own clients, so the outcome does not depend on the interleaving.
    let client = format!("GID_t{thread}@@@dev{}", i % 10);
    let event = if i % 3 == 2 { "tcpclean" } else { "connect" };
    format!(
        r#"{{"clientId":"{client}","channelId":"ch{}","eventType":"{event}","time":{}}}"#,
        i / 3,
        1000 + i
    )
}

#[test]
fn concurrent_ingests_share_syncs_and_all_are_durable() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), "");
    let store = Arc::new(StatusStore::open(&url, Config::default()).unwrap());
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, start) = (Arc::clone(&store), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let mut flips = 0;
                for i in 0..PER_THREAD {
                    flips += usize::from(store.ingest_json(event(t, i).as_bytes(), None).unwrap().is_some());
                    // Returned means applied: this thread's own view is up to date.
                    let e: serde_json::Value = serde_json::from_str(&event(t, i)).unwrap();
                    assert!(store.client(e["clientId"].as_str().unwrap()).unwrap().is_some());
                }
                flips
            })
        })
        .collect();
    let flips: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let events = THREADS * PER_THREAD;
    let mut one = StatusEngine::default();
    let mut one_flips = 0;
    for t in 0..THREADS {
        for i in 0..PER_THREAD {
            one_flips += usize::from(one.ingest_json(event(t, i).as_bytes(), None).unwrap().is_some());
        }
    }
    assert_eq!(flips, one_flips);
    assert_eq!(store.stats().unwrap().events, events as u64);
    drop(store);

    let log = std::fs::read(dir.path().join("log-0000000000000000")).unwrap();
    let syncs = frames(&log);
    eprintln!(
        "group commit: {THREADS} threads, {events} ingest_json calls, {syncs} log syncs ({:.3} per event)",
        syncs as f64 / events as f64
    );
    assert!(syncs < events, "{syncs} syncs for {events} events: no commit was shared");

    let store = StatusStore::open(&url, Config::default()).unwrap();
    let ids: Vec<String> =
        (0..THREADS).flat_map(|t| (0..10).map(move |d| format!("GID_t{t}@@@dev{d}"))).collect();
    assert_eq!(view_store(&store, &ids), view_engine(&one, &ids));
    assert_eq!(feed(&store).len(), one_flips);
}

#[test]
fn concurrent_batches_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), "?compact_bytes=20000");
    let config = Config { takeover: true, ..Config::default() };
    let store = Arc::new(StatusStore::open(&url, config).unwrap());
    let lines: Vec<String> = (0..THREADS).flat_map(|t| (0..PER_THREAD).map(move |i| event(t, i))).collect();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            let mine: Vec<String> = (0..PER_THREAD).map(|i| event(t, i)).collect();
            std::thread::spawn(move || {
                for chunk in mine.chunks(7) {
                    store.ingest_many(chunk.join("\n").as_bytes()).unwrap();
                    store.count_online(None).unwrap();
                    store.transitions(None, Some(5)).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    drop(store);
    let store = StatusStore::open(&url, config).unwrap();
    let (one, t) = engine_of(config, &lines);
    let ids: Vec<String> =
        (0..THREADS).flat_map(|t| (0..10).map(move |d| format!("GID_t{t}@@@dev{d}"))).collect();
    assert_eq!(view_store(&store, &ids), view_engine(&one, &ids));
    assert_eq!(feed(&store).len(), t.len());
}

#[test]
fn a_store_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<StatusStore>();
}
