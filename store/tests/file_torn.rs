//! File store: a torn tail (the last frame cut at any byte, or zeros after it) is dropped on open
//! and cut from the log; damage before good frames, or in a snapshot file, is `invalid_snapshot`.

mod file_common;

use std::fs;
use std::path::{Path, PathBuf};

use file_common::*;
use mqtt_status::{Config, ErrorCode};
use mqtt_status_store::StatusStore;

const LOG0: &str = "log-0000000000000000";

fn copy_dir(from: &Path, to: &Path) {
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A store fed `calls` batches; the log's length before the last one.
fn store_with(calls: &[String]) -> (tempfile::TempDir, u64) {
    let dir = tempfile::tempdir().unwrap();
    let store = StatusStore::open(&url(dir.path(), ""), Config::default()).unwrap();
    let mut before = 0;
    for c in calls {
        before = fs::metadata(dir.path().join(LOG0)).unwrap().len();
        store.ingest_many(c.as_bytes()).unwrap();
    }
    (dir, before)
}

fn calls() -> (Vec<String>, Vec<String>) {
    // Five calls of 20 lines, then a short last one (every byte of its frame is a cut point).
    let lines = stream(3, 20, 104);
    let mut calls: Vec<String> = lines[..100].chunks(20).map(|c| c.join("\n")).collect();
    calls.push(lines[100..].join("\n"));
    (lines, calls)
}

#[test]
fn every_cut_of_the_last_frame_drops_exactly_that_frame() {
    let (lines, calls) = calls();
    let (dir, before) = store_with(&calls);
    let full = fs::read(dir.path().join(LOG0)).unwrap();
    let ids = client_ids(20);
    let config = Config::default();
    let (without_last, t_without) = engine_of(config, &lines[..100]);
    let (all, t_all) = engine_of(config, &lines);
    assert_ne!(view_engine(&without_last, &ids), view_engine(&all, &ids), "the last frame matters");
    let scratch = tempfile::tempdir().unwrap();
    for cut in before..full.len() as u64 {
        let d: PathBuf = scratch.path().join(format!("cut{cut}"));
        fs::create_dir(&d).unwrap();
        copy_dir(dir.path(), &d);
        fs::write(d.join(LOG0), &full[..cut as usize]).unwrap();
        let store = StatusStore::open(&url(&d, ""), config).unwrap();
        assert_eq!(view_store(&store, &ids), view_engine(&without_last, &ids), "cut at {cut}");
        assert_eq!(feed(&store), t_without, "cut at {cut}");
        assert_eq!(
            fs::metadata(d.join(LOG0)).unwrap().len(),
            before,
            "cut at {cut}: the tail is cut off the file"
        );
        if cut % 97 == 0 {
            // Fed again, the dropped call lands after the good frames.
            store.ingest_many(calls.last().unwrap().as_bytes()).unwrap();
            drop(store);
            let again = StatusStore::open(&url(&d, ""), config).unwrap();
            assert_eq!(view_store(&again, &ids), view_engine(&all, &ids), "cut at {cut}, fed again");
            assert_eq!(feed(&again), t_all);
        } else {
            drop(store);
        }
        fs::remove_dir_all(&d).unwrap();
    }
    // The whole log keeps every frame.
    let store = StatusStore::open(&url(dir.path(), ""), config).unwrap();
    assert_eq!(view_store(&store, &ids), view_engine(&all, &ids));
}

#[test]
fn zeros_after_the_last_frame_are_a_torn_tail() {
    let (lines, calls) = calls();
    let (dir, _) = store_with(&calls);
    let log = dir.path().join(LOG0);
    let len = fs::metadata(&log).unwrap().len();
    let mut bytes = fs::read(&log).unwrap();
    bytes.extend_from_slice(&[0; 4096]);
    fs::write(&log, &bytes).unwrap();
    let store = StatusStore::open(&url(dir.path(), ""), Config::default()).unwrap();
    let ids = client_ids(20);
    assert_eq!(view_store(&store, &ids), view_engine(&engine_of(Config::default(), &lines).0, &ids));
    assert_eq!(fs::metadata(&log).unwrap().len(), len);
}

#[test]
fn damage_before_good_frames_is_invalid_snapshot_and_kept() {
    let (_, calls) = calls();
    let (dir, _) = store_with(&calls);
    let log = dir.path().join(LOG0);
    let mut bytes = fs::read(&log).unwrap();
    bytes[20 + 8 + 30] ^= 0x20; // inside the first frame's body
    fs::write(&log, &bytes).unwrap();
    let err = StatusStore::open(&url(dir.path(), ""), Config::default()).err().unwrap();
    assert_eq!(err.code(), ErrorCode::InvalidSnapshot, "{err}");
    assert!(err.to_string().contains("corruption"), "{err}");
    assert_eq!(fs::read(&log).unwrap(), bytes, "nothing was cut");
}

#[test]
fn a_damaged_snapshot_file_or_meta_is_invalid_snapshot() {
    let (_, calls) = calls();
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), "?compact_bytes=100");
    let store = StatusStore::open(&url, Config::default()).unwrap();
    for c in &calls {
        store.ingest_many(c.as_bytes()).unwrap();
    }
    drop(store);
    let snap = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("snap-"))
        .expect("compacted");
    let good = fs::read(&snap).unwrap();
    for at in [0, 12, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        fs::write(&snap, &bad).unwrap();
        let err = StatusStore::open(&url, Config::default()).err().unwrap();
        assert_eq!(err.code(), ErrorCode::InvalidSnapshot, "byte {at}: {err}");
    }
    fs::write(&snap, &good).unwrap();
    StatusStore::open(&url, Config::default()).unwrap();
    fs::write(dir.path().join("meta"), b"{").unwrap();
    assert_eq!(StatusStore::open(&url, Config::default()).err().unwrap().code(), ErrorCode::InvalidSnapshot);
}

#[test]
fn fuzz_hook_scans_a_real_log_as_open_does() {
    // `__fuzz_scan_log` (the file_log fuzz target's hook) reads a real log as open() does: every
    // frame whole, then the last one cut is a torn tail after the others; a bad header is refused.
    let (_, calls) = calls();
    let (dir, before) = store_with(&calls);
    let log = fs::read(dir.path().join(LOG0)).unwrap();
    let scan = mqtt_status_store::__fuzz_scan_log;
    assert_eq!(scan(&log).unwrap(), (calls.len(), log.len(), false));
    let cut = &log[..log.len() - 1];
    assert_eq!(scan(cut).unwrap(), (calls.len() - 1, before as usize, true));
    let mut bad = log.clone();
    bad[0] ^= 1;
    assert_eq!(scan(&bad).unwrap_err().code(), ErrorCode::InvalidSnapshot);
}
