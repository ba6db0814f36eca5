//! Group commit of batches: concurrent `ingest_many` / `ingest_items` / `ingest_json` calls on
//! ONE handle share commits, and each caller gets exactly the report a lone call would give —
//! its own counts, its own rejected lines (its own line numbers) and its own transitions, in its
//! input order — on a standalone Redis, a Redis Cluster and a file store.

mod common;

use std::sync::Barrier;

use common::{assert_feed_tracks, assert_same, config, engine, feed, fresh_prefix, servers, stream, Rng};
use mqtt_status::{BatchReport, Config, StatusEngine, Transition};
use mqtt_status_store::StatusStore;

const THREADS: usize = 6;

/// One call: how it is made and its input lines (bad ones included).
#[derive(Clone)]
enum Call {
    Many(Vec<String>),
    Items(Vec<String>),
    One(String),
}

/// What a call returned, as a report (a single ingest as a report of one item).
fn call(store: &StatusStore, c: &Call) -> BatchReport {
    match c {
        Call::Many(lines) => store.ingest_many(lines.join("\n").as_bytes()).unwrap(),
        Call::Items(lines) => {
            let items: Vec<(&[u8], Option<&str>)> = lines.iter().map(|l| (l.as_bytes(), None)).collect();
            store.ingest_items(&items).unwrap()
        }
        Call::One(line) => one_report(store.ingest_json(line.as_bytes(), None)),
    }
}

/// The same call on an engine.
fn call_engine(e: &mut StatusEngine, c: &Call) -> BatchReport {
    match c {
        Call::Many(lines) => e.ingest_many(lines.join("\n").as_bytes()),
        Call::Items(lines) => e.ingest_items(lines.iter()),
        Call::One(line) => one_report(e.ingest_json(line.as_bytes(), None)),
    }
}

/// A single ingest's result in report form (counts aside: a single call returns none).
fn one_report(r: Result<Option<Transition>, mqtt_status::Error>) -> BatchReport {
    let mut report = BatchReport::default();
    match r {
        Ok(t) => report.transitions.extend(t.as_ref().map(Into::into)),
        Err(e) => {
            report.rejected = 1;
            report.errors.push(mqtt_status::BatchError::new(0, &e));
        }
    }
    report
}

/// Thread `k`'s calls: the lines cut in random sizes (1..=120, now and then 2 500), some with
/// bad lines and blank lines among good ones, some wholly bad, as ingest_many, ingest_items or
/// single ingests.
fn calls(lines: &[String], seed: u64) -> Vec<Call> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::new();
    let mut rest = lines;
    while !rest.is_empty() {
        let n = if rng.below(25) == 0 { 2_500 } else { 1 + rng.below(120) as usize };
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        let mut chunk: Vec<String> = chunk.to_vec();
        match rng.below(8) {
            0 => chunk.insert(rng.below(chunk.len() as u64 + 1) as usize, "not json".into()),
            1 => chunk.insert(rng.below(chunk.len() as u64 + 1) as usize, r#"{"clientId":"x"}"#.into()),
            2 => chunk.insert(0, String::new()), // blank: skipped by JSONL, an item for ingest_items
            _ => {}
        }
        if rng.below(30) == 0 {
            out.push(Call::Many(vec!["{}".into(), "nope".into()]));
        }
        out.push(match rng.below(6) {
            0 if chunk.len() == 1 => Call::One(chunk.remove(0)),
            0 | 1 => Call::Items(chunk),
            _ => Call::Many(chunk),
        });
    }
    out
}

/// Each thread's own clients: ids renamed so no two threads share one.
fn own_clients(lines: Vec<String>, k: usize) -> Vec<String> {
    lines
        .into_iter()
        .map(|l| l.replace("@@@dev", &format!("@@@t{k}dev")).replace("solo-", &format!("solo{k}-")))
        .collect()
}

/// Runs every thread's calls at once on `store`; each thread's reports, in call order.
fn race(store: &StatusStore, work: &[Vec<Call>]) -> Vec<Vec<BatchReport>> {
    let start = Barrier::new(work.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = work
            .iter()
            .map(|calls| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    calls.iter().map(|c| call(store, c)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Every store this test runs on: (name, URL).
fn stores(name: &str, dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = servers()
        .into_iter()
        .map(|(n, base)| (n.to_string(), common::url(&base, &fresh_prefix(name), "")))
        .collect();
    out.push(("file".into(), format!("file:{}", dir.join(name).display())));
    out
}

#[test]
fn each_caller_gets_its_own_report_as_if_alone() {
    let cfg = config(true);
    let work: Vec<Vec<Call>> =
        (0..THREADS).map(|k| calls(&own_clients(stream(100 + k as u64, 120, 6), k), 7 + k as u64)).collect();
    let dir = tempfile::tempdir().unwrap();
    for (name, url) in stores("own", dir.path()) {
        let store = StatusStore::open(&url, cfg).unwrap();
        let got = race(&store, &work);
        let calls: usize = work.iter().map(Vec::len).sum();
        let commits = store.group_commits();
        eprintln!("{name}: {calls} calls from {THREADS} threads, {commits} commits");
        assert!(commits < calls as u64, "{name}: {commits} commits for {calls} calls: nothing was grouped");
        // Threads own their clients, so a caller's report cannot depend on the interleaving:
        // it must be exactly what its call gives on an engine fed that thread's calls alone.
        let mut all = StatusEngine::new(cfg).unwrap();
        for (k, (calls, reports)) in work.iter().zip(&got).enumerate() {
            let mut alone = StatusEngine::new(cfg).unwrap();
            for (i, (c, r)) in calls.iter().zip(reports).enumerate() {
                assert_eq!(r, &call_engine(&mut alone, c), "{name}: thread {k}, call {i}");
                call_engine(&mut all, c);
            }
        }
        assert_same(&store, &all, &name);
        let fed = feed(&store);
        assert_feed_tracks(&fed, &all, &name);
        // Transitions exactly once across callers: the feed holds what the callers got.
        let mut returned: Vec<Transition> =
            got.iter().flatten().flat_map(|r| r.transitions.iter().map(|t| t.to_transition())).collect();
        let key = |t: &Transition| (t.client_id.clone(), t.time, t.online, t.channel_id.clone());
        let mut fed = fed;
        returned.sort_by_key(key);
        fed.sort_by_key(key);
        assert_eq!(returned, fed, "{name}: feed = transitions returned to the callers");
    }
}

#[test]
fn callers_racing_on_the_same_clients() {
    let cfg = config(true);
    let lines = stream(55, 150, 8);
    // Every thread gets a random share of the same clients' events.
    let mut rng = Rng(99);
    let mut shares: Vec<Vec<String>> = vec![Vec::new(); THREADS];
    for l in &lines {
        shares[rng.below(THREADS as u64) as usize].push(l.clone());
    }
    let work: Vec<Vec<Call>> = shares.iter().enumerate().map(|(k, s)| calls(s, 31 + k as u64)).collect();
    let dir = tempfile::tempdir().unwrap();
    for (name, url) in stores("race", dir.path()) {
        let store = StatusStore::open(&url, cfg).unwrap();
        let got = race(&store, &work);
        let one = engine(cfg, &lines);
        assert_same(&store, &one, &name);
        let fed = feed(&store);
        assert_feed_tracks(&fed, &one, &name);
        let mut returned = Vec::new();
        for (calls, reports) in work.iter().zip(&got) {
            for (c, r) in calls.iter().zip(reports) {
                // What does not depend on the order: the rejected lines, and every valid line
                // counted once; each transition is one of the call's own events, in its order.
                let lone = call_engine(&mut StatusEngine::new(cfg).unwrap(), c);
                assert_eq!((&r.errors, r.rejected), (&lone.errors, lone.rejected), "{name}");
                let valid = lone.applied + lone.duplicates + lone.late;
                assert_eq!(r.applied + r.duplicates + r.late, valid, "{name}");
                let own: Vec<String> = match c {
                    Call::Many(l) | Call::Items(l) => l.clone(),
                    Call::One(l) => vec![l.clone()],
                };
                let mut pos = 0;
                for t in r.transitions.iter() {
                    let t = t.to_transition();
                    let found = own[pos..].iter().position(|l| {
                        let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else { return false };
                        v["clientId"] == t.client_id.as_str()
                            && v["channelId"] == t.channel_id.as_str()
                            && v["time"] == t.time
                            && v["eventType"] == t.event_type.as_str()
                    });
                    let at =
                        found.unwrap_or_else(|| panic!("{name}: {t:?} is not one of the call's own events"));
                    pos += at;
                    returned.push(t);
                }
            }
        }
        let key = |t: &Transition| (t.client_id.clone(), t.time, t.online, t.channel_id.clone());
        let mut fed = fed;
        returned.sort_by_key(key);
        fed.sort_by_key(key);
        assert_eq!(returned, fed, "{name}: each flip returned to exactly one caller");
    }
}

/// A private Redis (its own free port and directory) for the failure test; killed when dropped.
struct Private {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Private {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--daemonize", "no"])
            .args(["--save", "", "--appendonly", "no", "--logfile", "log"])
            .arg("--dir")
            .arg(dir.path())
            .spawn()
            .expect("redis-server runs (scripts/ci/redis.sh installs it)");
        let server = Private { child, port, dir }; // killed and waited for on drop, even by a panic
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
        for _ in 0..200 {
            if let Ok(mut c) = client.get_connection_with_timeout(std::time::Duration::from_millis(200)) {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return server;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("private redis-server on port {port} did not start");
    }

    fn signal(&self, sig: i32) {
        // SAFETY: a plain kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

#[test]
fn a_failed_commit_fails_every_caller_in_it() {
    let server = Private::start();
    let cfg = Config::default();
    let url =
        format!("redis://127.0.0.1:{}?prefix=gfail&timeout_ms=1500&connect_timeout_ms=500", server.port);
    let store = StatusStore::open(&url, cfg).unwrap();
    let lines = stream(3, 60, 4);
    let (first, second) = lines.split_at(lines.len() / 3);
    store.ingest_many(first.join("\n").as_bytes()).unwrap();
    // Stopped, not killed: the first round waits for its reply until the timeout while the other
    // callers queue behind it, so the next round carries several of them and fails as a whole.
    server.signal(libc::SIGSTOP);
    let commits = store.group_commits();
    let parts: Vec<&[String]> = second.chunks(second.len().div_ceil(THREADS)).collect();
    let start = Barrier::new(parts.len());
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|p| {
                let (store, start) = (&store, &start);
                s.spawn(move || {
                    start.wait();
                    store.ingest_many(p.join("\n").as_bytes())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let rounds = store.group_commits() - commits;
    eprintln!("{} callers while Redis was stopped: {rounds} commits", parts.len());
    for r in &results {
        let e = r.as_ref().expect_err("a call while Redis is stopped");
        assert_eq!(e.code(), mqtt_status::ErrorCode::StoreUnavailable, "{e}");
    }
    assert!(
        rounds < parts.len() as u64,
        "{rounds} commits for {} callers: no failed commit was shared",
        parts.len()
    );
    server.signal(libc::SIGCONT);
    // A stopped server still runs what it had received once resumed (a timed-out write may land
    // late, as with any Redis client): redelivered, every caller's batch commits, and whatever
    // landed is found a duplicate.
    for p in &parts {
        store.ingest_many(p.join("\n").as_bytes()).unwrap();
    }
    let one = engine(cfg, &lines);
    assert_same(&store, &one, "after the failure");
}
