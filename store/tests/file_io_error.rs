//! File store: a write the file system refuses (here: past RLIMIT_FSIZE, in a child process) is
//! `store_unavailable`, leaves nothing half-written and nothing applied, and the store goes on.

mod file_common;

use std::io::Read;

use file_common::*;
use mqtt_status::{Config, ErrorCode};
use mqtt_status_store::StatusStore;

const LOG0: &str = "log-0000000000000000";

fn batch(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"clientId":"G@@@{prefix}{i}","channelId":"c{i}","eventType":"connect","time":{}}}"#,
                10 + i
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Child: one batch, then a file size limit just above the log, a batch too big for it (must
/// fail cleanly), then a small one (must work).
#[test]
fn child_hits_the_file_size_limit() {
    if !is_child() {
        return;
    }
    let dir = std::env::var("STORE_DIR").unwrap();
    let store = StatusStore::open(&format!("file:{dir}"), Config::default()).unwrap();
    store.ingest_many(batch("a", 5).as_bytes()).unwrap();
    let len = std::fs::metadata(format!("{dir}/{LOG0}")).unwrap().len();
    // SAFETY: plain libc calls on this process's own signal disposition and limits.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = libc::rlimit { rlim_cur: len + 600, rlim_max: libc::RLIM_INFINITY };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
    let err = store.ingest_many(batch("b", 40).as_bytes()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreUnavailable, "{err}");
    println!("refused: {err}");
    assert_eq!(std::fs::metadata(format!("{dir}/{LOG0}")).unwrap().len(), len, "cut back");
    assert!(!store.is_online("G@@@b0").unwrap(), "nothing applied");
    store.ingest_many(batch("c", 2).as_bytes()).unwrap();
    assert!(store.is_online("G@@@c1").unwrap());
    println!("child done");
}

#[test]
fn a_refused_write_is_store_unavailable_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut kid = child("child_hits_the_file_size_limit", &[("STORE_DIR", dir.path().display().to_string())])
        .spawn()
        .unwrap();
    let mut out = String::new();
    kid.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(kid.wait().unwrap().success(), "{out}");
    assert!(out.contains("refused: status store unavailable") && out.contains("child done"), "{out}");
    let log_len = std::fs::metadata(dir.path().join(LOG0)).unwrap().len();
    let store = StatusStore::open(&url(dir.path(), ""), Config::default()).unwrap();
    assert_eq!(std::fs::metadata(dir.path().join(LOG0)).unwrap().len(), log_len, "no torn tail to cut");
    let lines: Vec<String> =
        format!("{}\n{}", batch("a", 5), batch("c", 2)).lines().map(String::from).collect();
    let (one, _) = engine_of(Config::default(), &lines);
    let ids: Vec<String> = ["a0", "a4", "b0", "b39", "c0", "c1"].iter().map(|d| format!("G@@@{d}")).collect();
    assert_eq!(view_store(&store, &ids), view_engine(&one, &ids));
}
