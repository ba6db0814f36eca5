//! Ingest throughput on a deterministic generated stream, next to the parse floor (serde_json
//! merely validating the same bodies) so results read as ratios taken in the same run.
//!
//! `cargo bench -p mqtt-status --bench ingest`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mqtt_status::StatusEngine;
use serde::de::IgnoredAny;

/// splitmix64: a fixed, seedable sequence (benchmarks must see the same stream every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Sessions per client (connect, sometimes disconnect, tcpclean; flash reconnects overlap),
/// delivered with jitter and 5% redeliveries. One JSON body per element.
fn stream(clients: u64, sessions: u64) -> Vec<String> {
    let mut rng = Rng(42);
    let mut out: Vec<(u64, String)> = Vec::new();
    for c in 0..clients {
        let client = format!("GID_bench{}@@@device-{c:07}", c % 8);
        let mut t = 1_700_000_000_000 + rng.next() % 60_000;
        for s in 0..sessions {
            let channel = format!("{:016x}{:016x}", rng.next(), c * 1000 + s);
            let ip = format!("10.{}.{}.{}:{}", c % 256, (c >> 8) % 256, s % 256, 1024 + rng.next() % 60000);
            let body = |kind: &str, time: u64| {
                format!(
                    r#"{{"clientId":"{client}","channelId":"{channel}","eventType":"{kind}","time":{time},"clientIp":"{ip}"}}"#
                )
            };
            out.push((t, body("connect", t)));
            let end = t + 1_000 + rng.next() % 600_000;
            if rng.next() % 3 == 0 {
                out.push((end - 5, body("disconnect", end - 5)));
            }
            if s + 1 < sessions || rng.next() % 2 == 0 {
                out.push((end, body("tcpclean", end)));
            }
            // A flash reconnect opens the next channel before this one's tcpclean.
            t = if rng.next() % 4 == 0 { end - 500 } else { end + rng.next() % 60_000 };
        }
    }
    // Delivery jitter: order by time plus up to 2 s of noise, then redeliver 5%.
    let mut keyed: Vec<(u64, String)> = out.into_iter().map(|(t, b)| (t + rng.next() % 2_000, b)).collect();
    keyed.sort();
    let mut bodies: Vec<String> = keyed.into_iter().map(|(_, b)| b).collect();
    let n = bodies.len() as u64;
    for _ in 0..n / 20 {
        let i = (rng.next() % n) as usize;
        bodies.push(bodies[i].clone());
    }
    bodies
}

/// The same stream as RocketMQ message dumps: `{"tag": …, "body": "<body as a JSON string>"}`.
fn envelopes(bodies: &[String]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| {
            let tag = ["connect", "disconnect", "tcpclean"]
                .into_iter()
                .find(|t| b.contains(&format!("\"{t}\"")))
                .unwrap_or("connect");
            format!(r#"{{"tag":"{tag}","body":{}}}"#, serde_json::to_string(b).expect("a string"))
        })
        .collect()
}

/// The parse floor of a bare body: serde_json validating it, keeping nothing.
fn floor_bare(line: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(line).is_ok()
}

/// The parse floor of an envelope: serde_json validating it, and its string body as a second
/// JSON document.
fn floor_envelope(line: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(default, borrow)]
        body: Option<std::borrow::Cow<'a, str>>,
    }
    match serde_json::from_slice::<Line<'_>>(line) {
        Ok(Line { body: Some(b) }) => serde_json::from_str::<IgnoredAny>(&b).is_ok(),
        Ok(Line { body: None }) => true,
        Err(_) => false,
    }
}

fn ingest(c: &mut Criterion) {
    let bare = stream(20_000, 3);
    let wrapped = envelopes(&bare);
    ingest_group(c, "ingest", &bare, floor_bare);
    ingest_group(c, "ingest_envelopes", &wrapped, floor_envelope);
}

fn ingest_group(c: &mut Criterion, group: &str, bodies: &[String], floor: fn(&[u8]) -> bool) {
    let jsonl: String = bodies.iter().flat_map(|b| [b.as_str(), "\n"]).collect();
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.throughput(Throughput::Elements(bodies.len() as u64));
    g.bench_function("parse_floor", |b| {
        b.iter(|| {
            for body in bodies {
                black_box(floor(body.as_bytes()));
            }
        })
    });
    g.bench_function("ingest_json", |b| {
        b.iter_batched(
            StatusEngine::default,
            |mut e| {
                for body in bodies {
                    black_box(e.ingest_json(body.as_bytes(), None).ok());
                }
                e
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("ingest_many", |b| {
        b.iter_batched(
            StatusEngine::default,
            |mut e| {
                black_box(e.ingest_many(jsonl.as_bytes()));
                e
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("ingest_many_each", |b| {
        b.iter_batched(
            StatusEngine::default,
            |mut e| {
                black_box(e.ingest_many_each(jsonl.as_bytes(), None, |t| {
                    black_box(t);
                }));
                e
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn queries(c: &mut Criterion) {
    let bodies = stream(20_000, 3);
    let mut e = StatusEngine::default();
    let jsonl: String = bodies.iter().flat_map(|b| [b.as_str(), "\n"]).collect();
    e.ingest_many(jsonl.as_bytes());
    let ids: Vec<String> = (0..1000).map(|c| format!("GID_bench{}@@@device-{:07}", c % 8, c * 17)).collect();
    let mut g = c.benchmark_group("query");
    g.throughput(Throughput::Elements(ids.len() as u64));
    g.bench_function("is_online", |b| b.iter(|| ids.iter().filter(|id| e.is_online(id)).count()));
    g.bench_function("client", |b| b.iter(|| ids.iter().filter_map(|id| e.client(id)).count()));
    g.throughput(Throughput::Elements(1));
    g.bench_function("count_online_group", |b| b.iter(|| e.count_online(Some(black_box("GID_bench3")))));
    g.bench_function("online_clients_walk_1000", |b| {
        b.iter(|| {
            let mut after: Option<String> = None;
            let mut n = 0;
            loop {
                let page = e.online_clients(None, after.as_deref(), Some(1000));
                n += page.len();
                match page.last() {
                    Some(last) => after = Some(last.clone()),
                    None => break n,
                }
            }
        })
    });
    g.bench_function("snapshot", |b| b.iter(|| e.snapshot().len()));
    let snap = e.snapshot();
    g.bench_function("restore", |b| b.iter(|| StatusEngine::restore(&snap).map(|r| r.count_online(None))));
    g.finish();
}

criterion_group!(benches, ingest, queries);
criterion_main!(benches);
