//! File store: one opener at a time — a second handle in the same process or another process
//! gets `store_locked`; the lock goes with the holder.

mod file_common;

use std::io::{BufRead, BufReader, Write};

use file_common::*;
use mqtt_status::{Config, ErrorCode};
use mqtt_status_store::StatusStore;

/// These tests take turns: a child forked by one thread holds copies of the other threads' open
/// files until it execs — a store's locked `LOCK` among them — so a store closed and reopened
/// meanwhile would rightly, and briefly, be `store_locked`.
static TURNS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURNS.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn second_opener_in_the_same_process_is_store_locked() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), "");
    let first = StatusStore::open(&url, Config::default()).unwrap();
    let err = StatusStore::open(&url, Config::default()).err().unwrap();
    assert_eq!(err.code(), ErrorCode::StoreLocked, "{err}");
    // Also from another thread, and with another config (the lock is checked first).
    let u = url.clone();
    let other = std::thread::spawn(move || {
        StatusStore::open(&u, Config { takeover: true, ..Config::default() }).err()
    })
    .join()
    .unwrap();
    assert_eq!(other.unwrap().code(), ErrorCode::StoreLocked);
    drop(first);
    StatusStore::open(&url, Config::default()).unwrap();
}

/// Child: opens the store named by `STORE_URL`, says so, holds it until stdin closes.
#[test]
fn child_holds_the_store() {
    if !is_child() {
        return;
    }
    let url = std::env::var("STORE_URL").unwrap();
    let store = StatusStore::open(&url, Config::default()).unwrap();
    store
        .ingest_json(br#"{"clientId":"G@@@kid","channelId":"c","eventType":"connect","time":1}"#, None)
        .unwrap();
    println!("holding");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(store);
    println!("released");
}

#[test]
fn second_opener_in_another_process_is_store_locked() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path(), "");
    let mut kid = child("child_holds_the_store", &[("STORE_URL", url.clone())]).spawn().unwrap();
    let mut out = BufReader::new(kid.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("holding") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child ended before holding the store");
    }
    let err = StatusStore::open(&url, Config::default()).err().unwrap();
    assert_eq!(err.code(), ErrorCode::StoreLocked, "{err}");
    kid.stdin.take().unwrap().write_all(b"done\n").unwrap();
    assert!(kid.wait().unwrap().success());
    let store = StatusStore::open(&url, Config::default()).unwrap();
    assert!(store.is_online("G@@@kid").unwrap());

    // A holder killed with SIGKILL releases the lock too (the kernel closes its files).
    drop(store);
    let mut kid = child("child_holds_the_store", &[("STORE_URL", url.clone())]).spawn().unwrap();
    let mut out = BufReader::new(kid.stdout.take().unwrap());
    line.clear();
    while !line.contains("holding") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0);
    }
    assert_eq!(StatusStore::open(&url, Config::default()).err().unwrap().code(), ErrorCode::StoreLocked);
    kid.kill().unwrap();
    kid.wait().unwrap();
    assert!(StatusStore::open(&url, Config::default()).unwrap().is_online("G@@@kid").unwrap());
}
