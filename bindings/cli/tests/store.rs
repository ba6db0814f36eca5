//! `replay --store` and `status --store` against a real Redis. The Redis tests are ignored by a
//! plain `cargo test` (no server there) and run by scripts/ci/store.sh with `--include-ignored`
//! and `MQTT_STATUS_REDIS_URL` set; run that way without the variable they fail, never pass.
//! Each test uses its own key prefix. The same checks run on the file backend (`file:PATH`, a
//! fresh directory each), which needs no server; so do the unreachable-store and usage tests.

mod common;

use std::net::TcpListener;
use std::process::Output;

use common::{ok, run, scratch};
use serde_json::Value;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/sample.jsonl");
/// The stats a store counts per handle (SPEC §8): not part of the shared state.
const PER_INSTANCE: [&str; 7] =
    ["events", "applied", "duplicates", "late", "rejected", "wentOnline", "wentOffline"];
/// Keys of a replay's document that describe the replay, not the state.
const REPLAY_ONLY: [&str; 6] = ["inputs", "restoredFrom", "at", "lines", "skipped", "rejected"];

/// A store URL on the test server with a prefix no other test or run uses.
fn store_url(name: &str) -> String {
    let base = std::env::var("MQTT_STATUS_REDIS_URL")
        .unwrap_or_else(|_| panic!("MQTT_STATUS_REDIS_URL is not set: run `bash scripts/ci/store.sh`"));
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let base = base.trim_end_matches('/');
    format!("{base}/?prefix=cli-{name}-{}-{nanos}", std::process::id())
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("a JSON document")
}

fn without(mut doc: Value, keys: &[&str]) -> Value {
    for k in keys {
        doc.as_object_mut().unwrap().remove(*k);
    }
    doc
}

/// The state's answers only: no replay facts, no store URL, no per-instance counters.
fn state(doc: Value) -> Value {
    let mut doc = without(doc, &REPLAY_ONLY);
    doc.as_object_mut().unwrap().remove("store");
    for k in PER_INSTANCE {
        doc["stats"].as_object_mut().unwrap().remove(k);
    }
    doc
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn replay_into_a_store_answers_as_in_memory(url: &str) {
    let url = url.to_string();
    let (on, never) = ("GID_gateway@@@dev01a51e", "GID_lamp@@@nobody");
    let args = ["--format", "json", "--client", on, "--client", never, SAMPLE];
    let memory = json(&run(&[&["replay"][..], &args].concat()));
    let stored = json(&run(&[&["replay", "--store", &url][..], &args].concat()));
    assert_eq!(stored["store"], url.as_str());
    // One fresh handle counted every line: even the per-instance counters and the rejected
    // lines (numbered across the 1,000-line batches) are the engine's.
    assert_eq!(without(stored, &["store"]), memory);
    assert_eq!(memory["clients"][on]["online"], true);

    // A second process asking the live store gets the same state.
    let status =
        json(&run(&["status", "--store", &url, "--format", "json", "--client", on, "--client", never]));
    for k in REPLAY_ONLY {
        assert!(status.get(k).is_none(), "status has no {k}");
    }
    assert_eq!(state(status), state(memory.clone()));

    // The table: the same client block as the in-memory replay's.
    let table = ok(&run(&["status", "--store", &url, "--client", on]));
    let replayed = ok(&run(&["replay", "--client", on, SAMPLE]));
    let block = |t: &str| {
        t[t.find(&format!("client {on}:")).unwrap()..].split("\n\n").next().unwrap().trim_end().to_string()
    };
    assert_eq!(block(&table), block(&replayed));
    assert!(table.starts_with(&format!("store {url}\n")), "{table}");
    assert!(table.contains("online clients: 121 (first 20;"), "{table}");
    assert!(!table.contains("\nevents "), "no per-instance counters in status: {table}");
}

fn two_processes_each_replaying_half_equal_one_replay(halves: &str, whole: &str) {
    let dir = scratch("store-halves");
    let text = std::fs::read_to_string(SAMPLE).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (a, b) = lines.split_at(lines.len() / 2);
    let (pa, pb) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    std::fs::write(&pa, a.join("\n") + "\n").unwrap();
    std::fs::write(&pb, b.join("\n") + "\n").unwrap();
    ok(&run(&["replay", "--store", halves, "--close-on-disconnect", pa.to_str().unwrap()]));
    ok(&run(&["replay", "--store", halves, "--close-on-disconnect", pb.to_str().unwrap()]));
    ok(&run(&["replay", "--store", whole, "--close-on-disconnect", SAMPLE]));
    let ask = |url: &str| {
        let args = ["status", "--store", url, "--close-on-disconnect", "--format", "json", "--client"];
        json(&run(&[&args[..], &["GID_gateway@@@dev01a51e"]].concat()))
    };
    let memory = json(&run(&[
        "replay",
        "--format",
        "json",
        "--close-on-disconnect",
        "--client",
        "GID_gateway@@@dev01a51e",
        SAMPLE,
    ]));
    assert_eq!(state(ask(halves)), state(ask(whole)));
    assert_eq!(state(ask(halves)), state(memory));
}

fn status_pages_groups_and_feed(url: &str) {
    let url = url.to_string();
    ok(&run(&["replay", "--store", &url, SAMPLE]));
    let memory = json(&run(&["replay", "--format", "json", "--group", "GID_lamp", SAMPLE]));
    let all: Vec<Value> = memory["online"]["clients"].as_array().unwrap().clone();
    // Pages of 10 with --after walk the whole group listing.
    let (mut seen, mut after) = (Vec::new(), None::<String>);
    loop {
        let mut args =
            vec!["status", "--store", &url, "--group", "GID_lamp", "--format", "json", "--limit", "10"];
        if let Some(a) = &after {
            args.extend(["--after", a.as_str()]);
        }
        let doc = json(&run(&args));
        assert_eq!(doc["online"]["count"], memory["online"]["count"]);
        let page = doc["online"]["clients"].as_array().unwrap().clone();
        seen.extend(page.iter().cloned());
        if doc["online"]["truncated"] == false {
            break;
        }
        after = Some(page.last().unwrap().as_str().unwrap().to_string());
    }
    assert_eq!(seen, all);

    // The feed: one entry per flip of the shared state, as many as the replay's flips.
    let doc = json(&run(&["status", "--store", &url, "--feed", "--limit", "0", "--format", "json"]));
    let entries = doc["entries"].as_array().unwrap();
    let flips =
        memory["stats"]["wentOnline"].as_u64().unwrap() + memory["stats"]["wentOffline"].as_u64().unwrap();
    assert_eq!(entries.len() as u64, flips);
    let first = &entries[0];
    let page = json(&run(&["status", "--store", &url, "--feed", "--limit", "1", "--format", "json"]));
    assert_eq!(page["entries"][0], *first);
    let next = page["next"].as_str().unwrap();
    let after = json(&run(&[
        "status", "--store", &url, "--feed", "--after", next, "--limit", "1", "--format", "json",
    ]));
    assert_eq!(after["entries"][0], entries[1]);
    let table = ok(&run(&["status", "--store", &url, "--feed", "--limit", "2"]));
    assert!(
        table.contains("store ") && table.contains("2 flips") && table.contains("next: --feed --after "),
        "{table}"
    );
}

fn another_configuration_is_refused_and_changes_nothing(url: &str) {
    let url = url.to_string();
    ok(&run(&["replay", "--store", &url, SAMPLE]));
    let before = json(&run(&["status", "--store", &url, "--format", "json"]));
    for flags in [&["--takeover"][..], &["--close-on-disconnect"], &["--tombstones-per-client", "3"]] {
        let replay = run(&[&["replay", "--store", &url][..], flags, &[SAMPLE]].concat());
        assert_eq!(code(&replay), Some(5), "{}", stderr(&replay));
        assert!(stderr(&replay).contains("config_mismatch") && stderr(&replay).contains(flags[0]));
        let status = run(&[&["status", "--store", &url][..], flags].concat());
        assert_eq!(code(&status), Some(5), "{}", stderr(&status));
    }
    assert_eq!(json(&run(&["status", "--store", &url, "--format", "json"])), before);
    // The flags it was created with are accepted.
    let explicit = run(&["status", "--store", &url, "--tombstones-per-client", "8", "--format", "json"]);
    assert_eq!(json(&explicit), before);
}

/// A file store in a fresh directory.
/// `replay --store URL --grace MS` on a flapping fleet: the document of the in-memory replay with
/// the same grace (pending offlines, `grace` block, `wentOffline` with the offlines confirmed at
/// the end); `status --store` then answers the same state, and the feed carries the reconnects'
/// `offlineSince`.
fn grace_replay_into_a_store_answers_as_in_memory(url: &str) {
    let dir = scratch("store-grace");
    let g = common::generate(&dir, "flapping", &["--clients", "300", "--seed", "5", "--flap", "0.3"]);
    let log = g.log.to_str().unwrap();
    let args = ["--grace", "30000", "--format", "json", "--limit", "0", log];
    let memory = json(&run(&[&["replay"][..], &args].concat()));
    let stored = json(&run(&[&["replay", "--store", url][..], &args].concat()));
    assert_eq!(without(stored, &["store"]), memory);
    assert!(memory["grace"]["unreportedOfflines"].as_u64().unwrap() > 0, "{}", memory["grace"]);
    assert!(memory["stats"]["pendingOffline"].is_u64());
    let status =
        json(&run(&["status", "--store", url, "--grace", "30000", "--format", "json", "--limit", "0"]));
    // `grace` describes what the replay reported, not the state.
    assert_eq!(state(status), without(state(memory), &["grace"]));
    let feed = json(&run(&[
        "status", "--store", url, "--grace", "30000", "--feed", "--limit", "0", "--format", "json",
    ]));
    let entries = feed["entries"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["transition"]["offlineSince"].is_u64()),
        "a reconnect ended an unreported offline"
    );
    let table = ok(&run(&["status", "--store", url, "--grace", "30000", "--feed", "--limit", "0"]));
    assert!(table.contains("unreported)"), "{table}");
}

#[test]
#[ignore = "needs Redis: MQTT_STATUS_REDIS_URL (scripts/ci/store.sh sets it)"]
fn redis_grace_replay_answers_as_in_memory() {
    grace_replay_into_a_store_answers_as_in_memory(&store_url("grace"));
}

#[test]
fn file_grace_replay_answers_as_in_memory() {
    grace_replay_into_a_store_answers_as_in_memory(&file_url("grace"));
}

fn file_url(name: &str) -> String {
    format!("file:{}", scratch(name).join("store").display())
}

#[test]
#[ignore = "needs Redis: MQTT_STATUS_REDIS_URL (scripts/ci/store.sh sets it)"]
fn redis_replay_answers_as_in_memory() {
    replay_into_a_store_answers_as_in_memory(&store_url("equal"));
}

#[test]
fn file_replay_answers_as_in_memory() {
    replay_into_a_store_answers_as_in_memory(&file_url("file-equal"));
}

#[test]
#[ignore = "needs Redis: MQTT_STATUS_REDIS_URL (scripts/ci/store.sh sets it)"]
fn redis_halves_equal_one_replay() {
    two_processes_each_replaying_half_equal_one_replay(&store_url("halves"), &store_url("whole"));
}

#[test]
fn file_halves_equal_one_replay() {
    two_processes_each_replaying_half_equal_one_replay(&file_url("file-halves"), &file_url("file-whole"));
}

#[test]
#[ignore = "needs Redis: MQTT_STATUS_REDIS_URL (scripts/ci/store.sh sets it)"]
fn redis_status_pages_groups_and_feed() {
    status_pages_groups_and_feed(&store_url("pages"));
}

#[test]
fn file_status_pages_groups_and_feed() {
    status_pages_groups_and_feed(&file_url("file-pages"));
}

#[test]
#[ignore = "needs Redis: MQTT_STATUS_REDIS_URL (scripts/ci/store.sh sets it)"]
fn redis_another_configuration_is_refused() {
    another_configuration_is_refused_and_changes_nothing(&store_url("mismatch"));
}

#[test]
fn file_another_configuration_is_refused() {
    another_configuration_is_refused_and_changes_nothing(&file_url("file-mismatch"));
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn an_unreachable_store_is_store_unavailable() {
    let url = format!("redis://127.0.0.1:{}/?connect_timeout_ms=2000", closed_port());
    for args in [
        &["replay", "--store", &url, SAMPLE][..],
        &["status", "--store", &url],
        &["status", "--store", &url, "--feed"],
    ] {
        let out = run(args);
        assert_eq!(code(&out), Some(4), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("store_unavailable"), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn store_usage_errors() {
    let url = format!("redis://127.0.0.1:{}/", closed_port());
    for args in [
        &["replay", "--store", &url, "--at", "2024-05-01", SAMPLE][..],
        &["replay", "--store", &url, "--restore", "x.bin"],
        &["replay", "--store", "nosuch://x", SAMPLE],
        &["status"],
        &["status", "--store", &url, "--feed", "--client", "x"],
    ] {
        let out = run(args);
        assert_eq!(code(&out), Some(2), "{args:?}: {}", stderr(&out));
    }
}

/// A Redis server of this test's own (so that it can be stopped), on a free port.
struct OwnRedis {
    child: std::process::Child,
    port: u16,
}

impl OwnRedis {
    fn start() -> Self {
        let port = closed_port();
        let mut child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (scripts/ci/redis.sh installs it)");
        for _ in 0..600 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return OwnRedis { child, port };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server on port {port} did not start");
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs Redis: MQTT_STATUS_REDIS_URL (scripts/ci/store.sh sets it)"]
fn a_store_failing_mid_replay_stops_it_saying_what_is_committed() {
    // The variable marks the environment that has redis-server; this test runs its own.
    let _ = store_url("own");
    let mut redis = OwnRedis::start();
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let dir = scratch("store-fails");
    let fifo = dir.join("later.jsonl");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // The replay commits the sample, then waits on the FIFO (opened only when its turn comes).
    let mut replay = std::process::Command::new(common::BIN)
        .args(["replay", "--store", &url, SAMPLE, fifo.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_at_fifo(&mut replay);
    let memory = json(&run(&["replay", "--format", "json", SAMPLE]));
    assert_eq!(state(json(&run(&["status", "--store", &url, "--format", "json"]))), state(memory));
    let _ = redis.child.kill();
    let _ = redis.child.wait();
    // New events (the sample again would be duplicates a handle can judge from its cache,
    // with no round trip).
    let new = r#"{"clientId":"GID_new@@@d1","channelId":"c1","eventType":"connect","time":1714600000000}"#;
    std::fs::write(&fifo, format!("{new}\n")).unwrap();
    let out = replay.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), Some(4), "{err}");
    assert!(err.contains("store_unavailable"), "{err}");
    assert!(
        err.contains(&format!("the first 0 lines of {} (3,674 lines in all) are committed", fifo.display())),
        "{err}"
    );
    assert!(err.contains("from line 1 of"), "{err}");
    assert!(out.stdout.is_empty());
}

/// Waits until `replay` is blocked opening a FIFO (Linux names that wait `wait_for_partner`):
/// every input before it is in the store.
fn wait_at_fifo(replay: &mut std::process::Child) {
    let wchan = format!("/proc/{}/wchan", replay.id());
    let waiting = (0..2400).any(|_| {
        let at_fifo = std::fs::read_to_string(&wchan).is_ok_and(|w| w.contains("wait_for_partner"));
        if !at_fifo {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        at_fifo
    });
    if !waiting {
        let _ = replay.kill();
        let out = std::mem::replace(replay, std::process::Command::new("true").spawn().unwrap());
        panic!("the replay never reached its FIFO input: {}", stderr(&out.wait_with_output().unwrap()));
    }
}

#[test]
fn a_file_store_in_use_is_store_locked() {
    let url = file_url("file-locked");
    let fifo = scratch("file-locked-fifo").join("later.jsonl");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut replay = std::process::Command::new(common::BIN)
        .args(["replay", "--store", &url, SAMPLE, fifo.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_at_fifo(&mut replay);
    let other = run(&["status", "--store", &url]);
    assert_eq!(code(&other), Some(4), "{}", stderr(&other));
    assert!(stderr(&other).contains("store_locked"), "{}", stderr(&other));
    std::fs::write(&fifo, b"").unwrap();
    ok(&replay.wait_with_output().unwrap());
    let memory = json(&run(&["replay", "--format", "json", SAMPLE]));
    assert_eq!(state(json(&run(&["status", "--store", &url, "--format", "json"]))), state(memory));
}

/// `status` on a store that was never created (a mistyped URL or path): an error naming
/// invalid_field, exit 2 (the command line is at fault), and nothing is created.
fn status_on_a_missing_store_is_an_error(url: &str) {
    for args in [&["status", "--store", url][..], &["status", "--store", url, "--feed"]] {
        let out = run(args);
        assert_eq!(code(&out), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("invalid_field"), "{}", stderr(&out));
        assert!(stderr(&out).contains("no status store"), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    // Still not there: `replay --store` creates it, and then `status` answers.
    assert_eq!(code(&run(&["status", "--store", url])), Some(2));
    ok(&run(&["replay", "--store", url, SAMPLE]));
    ok(&run(&["status", "--store", url]));
}

#[test]
#[ignore = "needs Redis: MQTT_STATUS_REDIS_URL (scripts/ci/store.sh sets it)"]
fn redis_status_on_a_missing_store_is_an_error() {
    status_on_a_missing_store_is_an_error(&store_url("missing"));
}

#[test]
fn file_status_on_a_missing_store_is_an_error() {
    let url = file_url("file-missing");
    status_on_a_missing_store_is_an_error(&url);
}
