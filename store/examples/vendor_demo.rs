//! The store design the vendor's demo suggests (issue 15), as a benchmark contender against the
//! status store, on the same stream with redeliveries: speed, and wrong answers against one
//! engine fed the whole stream (the truth the conformance vectors pin).
//!
//! The demo (`MQTTClientStatusNoticeProcessDemo`, ApsaraMQ for MQTT documentation) keeps, per
//! client, the events of each channel; on every message it stores the event, reads the channel's
//! events back, and deletes the channel once it holds both an online (`connect`) and an offline
//! event; a client is online if some channel holds an online event and no offline one. Its
//! comments advise Redis for the shared state: here one Redis hash per client, one field per
//! channel and event type (`channelId:eventType` -> the event as JSON), one message at a time as
//! its `MessageListener` consumes them. Written generously: every event type is consumed (the
//! demo subscribes to `connect||tcpclean` only), and the write and the read back of a message
//! share one round trip (pipelined), the delete a second when needed.
//!
//! ```text
//! target/release/mqtt-status generate --clients 20000 --seed 1 -o /tmp/fleet.jsonl
//! cargo run --release -p mqtt-status-store --example vendor_demo -- /tmp/fleet.jsonl redis://127.0.0.1:6390
//! ```

use std::collections::BTreeMap;
use std::time::Instant;

use mqtt_status::{Config, StatusEngine};
use mqtt_status_store::StatusStore;
use serde_json::Value;

const TYPES: [&str; 3] = ["connect", "disconnect", "tcpclean"];

fn prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("bench-{name}-{nanos}")
}

/// The demo's `consume`: store the event, read the channel's events, delete the channel when it
/// has both an online and an offline event.
/// Returns the round trips it took.
fn demo_consume(c: &mut redis::Connection, prefix: &str, body: &str) -> u64 {
    // A line is a message body, or an envelope {"tag", "body"} around one (the generator writes
    // both; the body a JSON text or object): the demo reads the body.
    let mut msg: Value = serde_json::from_str(body).expect("the stream's lines are JSON");
    match msg.get("body") {
        Some(Value::String(inner)) => msg = serde_json::from_str(inner).expect("an envelope's body is JSON"),
        Some(inner @ Value::Object(_)) => msg = inner.clone(),
        _ => {}
    }
    let s = |k: &str| msg.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let (event_type, client_id, channel_id) = (s("eventType"), s("clientId"), s("channelId"));
    let event = serde_json::json!({
        "channelId": channel_id,
        "clientIp": s("clientIp"),
        "eventType": event_type,
        "time": msg.get("time").and_then(Value::as_u64),
    })
    .to_string();
    let key = format!("{prefix}:{client_id}");
    let fields: Vec<String> = TYPES.iter().map(|t| format!("{channel_id}:{t}")).collect();
    let (_, got): ((), Vec<Option<String>>) = redis::pipe()
        .cmd("HSET")
        .arg(&key)
        .arg(format!("{channel_id}:{event_type}"))
        .arg(event)
        .cmd("HMGET")
        .arg(&key)
        .arg(&fields)
        .query(c)
        .unwrap();
    let online = got[0].is_some();
    let offline = got[1].is_some() || got[2].is_some();
    if online && offline {
        let _: () = redis::cmd("HDEL").arg(&key).arg(&fields).query(c).unwrap();
        return 2;
    }
    1
}

/// The demo's `checkClientOnline` on each client's hash (read in pipelined pages).
fn demo_online(c: &mut redis::Connection, prefix: &str, ids: &[&str]) -> Vec<bool> {
    let mut out = Vec::with_capacity(ids.len());
    for page in ids.chunks(1000) {
        let mut p = redis::pipe();
        for id in page {
            p.cmd("HGETALL").arg(format!("{prefix}:{id}"));
        }
        let maps: Vec<BTreeMap<String, String>> = p.query(c).unwrap();
        for m in maps {
            let mut channels: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
            for field in m.keys() {
                let (ch, t) = field.rsplit_once(':').unwrap_or((field, ""));
                let e = channels.entry(ch).or_default();
                if t == "connect" {
                    e.0 = true;
                } else {
                    e.1 = true;
                }
            }
            out.push(channels.values().any(|&(on, off)| on && !off));
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, url] = &args[..] else { panic!("usage: vendor_demo FLEET.jsonl REDIS_URL") };
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let mut truth = StatusEngine::default();
    truth.ingest_many(text.as_bytes());
    let ids = truth.client_ids();
    println!(
        "{} events, {} clients, {} online at the end (one engine, the truth)",
        lines.len(),
        ids.len(),
        truth.count_online(None)
    );

    // The status store: ingest_many in batches of 1,000.
    let store = StatusStore::open(&format!("{url}?prefix={}", prefix("ours")), Config::default()).unwrap();
    let t = Instant::now();
    for chunk in lines.chunks(1000) {
        store.ingest_many(chunk.join("\n").as_bytes()).unwrap();
    }
    let ours_rate = lines.len() as f64 / t.elapsed().as_secs_f64();
    let mut ours_wrong = 0;
    for id in &ids {
        ours_wrong += usize::from(store.is_online(id).unwrap() != truth.is_online(id));
    }

    // The demo's design, one message at a time.
    let p = prefix("demo");
    let mut c = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let t = Instant::now();
    let mut trips = 0;
    for l in &lines {
        trips += demo_consume(&mut c, &p, l);
    }
    let demo_rate = lines.len() as f64 / t.elapsed().as_secs_f64();
    let got = demo_online(&mut c, &p, &ids);
    let mut wrong = [0usize; 2]; // [said online, said offline]
    for (id, &on) in ids.iter().zip(&got) {
        if on != truth.is_online(id) {
            wrong[usize::from(!on)] += 1;
        }
    }
    let demo_count = got.iter().filter(|&&o| o).count();
    println!("status store (ingest_many, batches of 1,000): {ours_rate:>9.0} events/s, {ours_wrong} clients wrong, count_online {}", store.count_online(None).unwrap());
    println!(
        "vendor demo design (hash per client, per message): {demo_rate:>9.0} events/s, {} clients wrong ({} said online but offline, {} said offline but online), online count {demo_count}, {:.2} round trips per event",
        wrong[0] + wrong[1],
        wrong[0],
        wrong[1],
        trips as f64 / lines.len() as f64
    );
    println!("status store / demo speed: {:.1}x", ours_rate / demo_rate);
}
