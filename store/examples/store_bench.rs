//! Store figures for docs/BENCHMARKS.md, in one run: events/s of `ingest_many` in batches of
//! 1,000 into the in-memory engine and into each given Redis URL, then Redis memory per client
//! (one open channel; one tombstone) from `INFO memory` deltas on the first URL (a standalone
//! server no one else writes to meanwhile).
//!
//! `STORE_BENCH_GRACE_MS=N` judges with an offline grace of N ms (engine and stores alike);
//! `STORE_BENCH_OPTS` is appended to every store URL's options (e.g. `&stale_index=0`).
//!
//! ```text
//! target/release/mqtt-status generate --clients 20000 --seed 1 -o /tmp/fleet.jsonl
//! cargo run --release -p mqtt-status-store --example store_bench -- /tmp/fleet.jsonl \
//!     redis://127.0.0.1:6390 redis+cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
//! ```

use std::time::Instant;

use mqtt_status::{Config, StatusEngine};
use mqtt_status_store::StatusStore;

/// A fresh key prefix, followed by the options of `STORE_BENCH_OPTS`.
fn prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("bench-{name}-{nanos}{}", std::env::var("STORE_BENCH_OPTS").unwrap_or_default())
}

/// This process's CPU seconds (user + system) from /proc/self/stat (clock ticks of 1/100 s).
fn own_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // Fields after the command: state(skipped, not a number), ppid, ..., utime is field 14 overall.
    f.get(10).zip(f.get(11)).map_or(0.0, |(u, s)| (u + s) / 100.0)
}

/// Server CPU seconds (user + system) of every node behind `url`.
fn server_cpu(url: &str) -> f64 {
    let nodes: Vec<String> = match url.strip_prefix("redis+cluster://") {
        Some(hosts) => hosts.split(',').map(|h| format!("redis://{h}")).collect(),
        None => vec![url.to_string()],
    };
    let mut total = 0.0;
    for n in nodes {
        let mut c = redis::Client::open(n.as_str()).unwrap().get_connection().unwrap();
        let info: String = redis::cmd("INFO").arg("cpu").query(&mut c).unwrap();
        for l in info.lines() {
            if let Some(v) = l.strip_prefix("used_cpu_user:").or_else(|| l.strip_prefix("used_cpu_sys:")) {
                total += v.trim().parse::<f64>().unwrap_or(0.0);
            }
        }
    }
    total
}

fn used_memory(url: &str) -> i64 {
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    let info: String = redis::cmd("INFO").arg("memory").query(&mut c).unwrap();
    let line = info.lines().find(|l| l.starts_with("used_memory:")).expect("used_memory");
    line["used_memory:".len()..].trim().parse().unwrap()
}

/// Memory per client of `n` clients each holding what `events` makes of it.
fn memory_per_client(url: &str, n: usize, events: &[&str]) -> f64 {
    // The feed is bounded apart (feed_maxlen); the minimum keeps it out of the per-client figure.
    let store =
        StatusStore::open(&format!("{url}?prefix={}&feed_maxlen=1", prefix("mem")), Config::default())
            .unwrap();
    let before = used_memory(url);
    let mut batch = String::new();
    for i in 0..n {
        let id = format!("GID_meter@@@dev{i:08}");
        let ch = format!("{:032x}", 0x2b9b_1281_0460_46fa_afe5_e0b4_58e4_0000u128 + i as u128);
        for (k, kind) in events.iter().enumerate() {
            let t = 1_700_000_000_000u64 + i as u64 * 10 + k as u64;
            batch.push_str(&format!(
                r#"{{"clientId":"{id}","channelId":"{ch}","eventType":"{kind}","time":{t},"clientIp":"10.{}.{}.{}:{}"}}"#,
                i % 250,
                (i / 250) % 250,
                i % 7,
                1024 + i % 60000
            ));
            batch.push('\n');
        }
        if (i + 1) % 1000 == 0 {
            store.ingest_many(batch.as_bytes()).unwrap();
            batch.clear();
        }
    }
    store.ingest_many(batch.as_bytes()).unwrap();
    (used_memory(url) - before) as f64 / n as f64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (file, urls) = args.split_first().expect("usage: store_bench FLEET.jsonl REDIS_URL...");
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let batches: Vec<String> = lines.chunks(1000).map(|c| c.join("\n")).collect();
    println!("{} events in {} batches of up to 1,000", lines.len(), batches.len());

    // STORE_BENCH_GRACE_MS: judge with an offline grace (engine and stores alike).
    let grace = std::env::var("STORE_BENCH_GRACE_MS").ok().and_then(|g| g.parse().ok()).unwrap_or(0);
    let config = Config { offline_grace_ms: grace, ..Config::default() };
    let (t, cpu) = (Instant::now(), own_cpu());
    let mut engine = StatusEngine::new(config).unwrap();
    for b in &batches {
        engine.ingest_many(b.as_bytes());
    }
    let mem_rate = lines.len() as f64 / t.elapsed().as_secs_f64();
    let mem_cpu = (own_cpu() - cpu) * 1e6 / lines.len() as f64;
    println!("in-memory engine: {mem_rate:>9.0} events/s, {mem_cpu:.2} us CPU/event");

    for url in urls {
        let store = StatusStore::open(&format!("{url}?prefix={}", prefix("speed")), config).unwrap();
        let (t, cpu, srv) = (Instant::now(), own_cpu(), server_cpu(url));
        for b in &batches {
            store.ingest_many(b.as_bytes()).unwrap();
        }
        let rate = lines.len() as f64 / t.elapsed().as_secs_f64();
        let per = |x: f64| x * 1e6 / lines.len() as f64;
        let (client, server) = (per(own_cpu() - cpu), per(server_cpu(url) - srv));
        println!(
            "{url}: {rate:>9.0} events/s ({:.3}x in-memory), CPU/event: client {client:.2} us, Redis {server:.2} us",
            rate / mem_rate
        );
        assert_eq!(store.count_online(None).unwrap(), engine.count_online(None));
    }

    if std::env::var_os("STORE_BENCH_NO_MEMORY").is_some() {
        return;
    }
    let url = &urls[0];
    let n = 100_000;
    let open = memory_per_client(url, n, &["connect"]);
    let tomb = memory_per_client(url, n, &["connect", "tcpclean"]);
    println!("Redis memory per client ({n} clients, ids of 23 bytes): online with one open channel {open:.0} B, offline with one tombstone {tomb:.0} B");
    println!(
        "10-million-client projection: {:.2} GB online, {:.2} GB offline",
        open * 1e7 / 1e9,
        tomb * 1e7 / 1e9
    );
}
