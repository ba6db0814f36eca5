//! Failures, on a private `redis-server` this test starts and kills (127.0.0.1, its own port and
//! directory, AOF with fsync on every write): Redis stopped gives `store_unavailable` on every
//! call and changes nothing; after a restart the same handle recovers, and a writer that retried
//! its failed batches loses nothing and counts nothing twice (no partial client).

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use common::{assert_feed_tracks, assert_same, config, engine, feed, fresh_prefix, stream};
use mqtt_status::ErrorCode;
use mqtt_status_store::StatusStore;

/// A private Redis server; killed (SIGKILL) when dropped.
struct Server {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl Server {
    fn new(port: u16) -> Self {
        let dir = std::env::temp_dir().join(fresh_prefix(&format!("redis-{port}")));
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = Server { port, dir, child: None };
        s.start();
        s
    }

    fn start(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--daemonize", "no"])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--save", ""])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--logfile", "log"])
            .spawn()
            .expect("redis-server runs (scripts/ci/redis.sh installs it)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..200 {
            if let Ok(mut c) = client.get_connection_with_timeout(Duration::from_millis(200)) {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("private redis-server on port {} did not start", self.port);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unavailable<T: std::fmt::Debug>(r: Result<T, mqtt_status::Error>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(e.code(), ErrorCode::StoreUnavailable, "{what}: {e}");
}

#[test]
fn redis_stopped_then_restarted() {
    let mut server = Server::new(6397);
    let cfg = config(false);
    let url = format!("{}?prefix=fail&timeout_ms=2000&connect_timeout_ms=500", server.url());
    let store = StatusStore::open(&url, cfg).unwrap();
    let lines = stream(9, 80, 6);
    let (a, b) = lines.split_at(lines.len() / 2);
    store.ingest_many(a.join("\n").as_bytes()).unwrap();
    let before = store.snapshot().unwrap();

    server.kill();
    unavailable(store.ingest_many(b.join("\n").as_bytes()), "ingest_many while Redis is down");
    unavailable(store.ingest_json(b[0].as_bytes(), None), "ingest_json while Redis is down");
    unavailable(store.is_online("GID_meter@@@dev0000"), "is_online while Redis is down");
    unavailable(store.count_online(None), "count_online while Redis is down");
    unavailable(store.transitions(None, None), "transitions while Redis is down");
    unavailable(StatusStore::open(&url, cfg), "open while Redis is down");

    server.start();
    // The same handle reconnects; nothing of the failed calls was applied.
    assert_eq!(store.snapshot().unwrap(), before, "a failed call changed the store");
    store.ingest_many(b.join("\n").as_bytes()).unwrap();
    let one = engine(cfg, &lines);
    assert_same(&store, &one, "after restart");
    assert_feed_tracks(&feed(&store), &one, "after restart");
}

#[test]
fn a_writer_retrying_through_restarts_loses_nothing() {
    let mut server = Server::new(6398);
    let cfg = config(true);
    let url = format!("{}?prefix=crash&shards=8&timeout_ms=2000&connect_timeout_ms=500", server.url());
    let lines = stream(21, 150, 6);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let store = StatusStore::open(&url, cfg).unwrap();
            let mut failures = 0;
            for chunk in lines.chunks(7) {
                let text = chunk.join("\n");
                // Redelivered until committed, as a consumer does with "reconsume later".
                while let Err(e) = store.ingest_many(text.as_bytes()) {
                    assert_eq!(e.code(), ErrorCode::StoreUnavailable, "{e}");
                    failures += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            failures
        });
        // Kill and restart Redis (AOF) a few times while the writer runs.
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(150));
            if done.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            server.kill();
            std::thread::sleep(Duration::from_millis(100));
            server.start();
        }
        let failures = writer.join().unwrap();
        eprintln!("{failures} failed calls retried");
        assert!(failures > 0, "Redis was never down during a call: the test proved nothing");
    });
    let store = StatusStore::open(&url, cfg).unwrap();
    let one = engine(cfg, &lines);
    assert_same(&store, &one, "after restarts");
    assert_feed_tracks(&feed(&store), &one, "after restarts");
}

#[test]
fn rediss_over_tls() {
    // A private TLS-only server with a self-signed certificate made here (`openssl`); the
    // client skips certificate checks (`#insecure`) but speaks TLS: plain redis:// fails.
    let dir = std::env::temp_dir().join(fresh_prefix("redis-tls"));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem"])
        .args(["-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        .current_dir(&dir)
        .output()
        .expect("openssl runs");
    assert!(ok.status.success(), "openssl: {}", String::from_utf8_lossy(&ok.stderr));
    let child = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", "6399", "--bind", "127.0.0.1", "--daemonize", "no", "--save", ""])
        .args(["--tls-cert-file", "cert.pem", "--tls-key-file", "key.pem", "--tls-ca-cert-file", "cert.pem"])
        .args(["--tls-auth-clients", "no", "--logfile", "log"])
        .current_dir(&dir)
        .spawn()
        .unwrap();
    let _server = Server { port: 6399, dir: dir.clone(), child: Some(child) };
    let url = "rediss://127.0.0.1:6399/?prefix=tls#insecure";
    let mut store = Err(mqtt_status::Error::StoreUnavailable { reason: "not tried".into() });
    for _ in 0..100 {
        store = StatusStore::open(url, config(false));
        if store.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let store = store.unwrap_or_else(|e| panic!("TLS store does not open: {e}"));
    let lines = stream(3, 30, 4);
    store.ingest_many(lines.join("\n").as_bytes()).unwrap();
    assert_same(&store, &engine(config(false), &lines), "TLS");
    let plain = StatusStore::open(
        "redis://127.0.0.1:6399?prefix=tls&connect_timeout_ms=500&timeout_ms=500",
        config(false),
    );
    unavailable(plain, "plain text to a TLS port");
}
