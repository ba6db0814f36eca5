//! Per-source ingest cost, for callgrind (docs/BENCHMARKS.md, "Issue 18: per-source ingest"):
//! the same logical stream (2 000 clients × 5 connections, each connect and close, shuffled,
//! 5 % redelivered) written in one source's format, then ingested with `ingest_many`; the
//! `decoded` mode ingests the same events as ready-made notifications (the engine's share).
//!
//! ```sh
//! cargo build --release -p mqtt-status --example source_cost
//! valgrind --tool=callgrind --toggle-collect='*measure*' --callgrind-out-file=/dev/null \
//!   target/release/examples/source_cost aws
//! ```
//!
//! Only `measure` is counted (`--toggle-collect`), so building the stream costs nothing.

use mqtt_status::{Config, EventType, Notification, Source, StatusEngine};

struct Ev {
    client: u32,
    session: u32,
    connect: bool,
    time: u64,
}

fn events() -> Vec<Ev> {
    let mut evs = Vec::new();
    for client in 0..2_000u32 {
        for session in 0..5u32 {
            let t = 1_700_000_000_000 + u64::from(session) * 60_000 + u64::from(client);
            evs.push(Ev { client, session, connect: true, time: t });
            evs.push(Ev { client, session, connect: false, time: t + 30_000 });
        }
    }
    // A fixed shuffle (xorshift), then 5 % redeliveries.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in (1..evs.len()).rev() {
        evs.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    for i in 0..evs.len() / 20 {
        let e = &evs[i * 20];
        let dup = Ev { client: e.client, session: e.session, connect: e.connect, time: e.time };
        evs.push(dup);
    }
    evs
}

fn iso(ms: u64) -> String {
    // All times fall on 2023-11-14 (UTC), 22:13:20 + up to ~5 minutes.
    let s = (ms - 1_699_920_000_000) / 1000;
    format!("2023-11-14T{:02}:{:02}:{:02}.{:03}0000Z", s / 3600, s / 60 % 60, s % 60, ms % 1000)
}

fn line(source: Source, e: &Ev) -> String {
    let (c, k, t) = (e.client, e.session, e.time);
    let sess = format!("a4666d2a7d844ae4ac5d7b38c9c{c:05}{k}");
    let connected_at = t - if e.connect { 0 } else { 30_000 };
    match (source, e.connect) {
        (Source::Aliyun, _) => format!(
            r#"{{"clientId":"GID_dev@@@d{c}","channelId":"{sess}","eventType":"{}","time":{t},"clientIp":"192.0.2.{}:51234"}}"#,
            if e.connect { "connect" } else { "tcpclean" },
            c % 250
        ),
        (Source::Aws, true) => format!(
            r#"{{"clientId":"dev-{c}","timestamp":{t},"eventType":"connected","sessionIdentifier":"{sess}","principalIdentifier":"12345678901234","ipAddress":"192.0.2.{}","versionNumber":{k}}}"#,
            c % 250
        ),
        (Source::Aws, false) => format!(
            r#"{{"clientId":"dev-{c}","timestamp":{t},"eventType":"disconnected","sessionIdentifier":"{sess}","principalIdentifier":"12345678901234","clientInitiatedDisconnect":false,"disconnectReason":"CONNECTION_LOST","versionNumber":{k}}}"#
        ),
        (Source::Emqx, true) => format!(
            r#"{{"event":"client.connected","clientid":"dev-{c}","username":"u_emqx","mountpoint":"undefined","peername":"192.0.2.{}:63412","sockname":"0.0.0.0:1883","proto_name":"MQTT","proto_ver":5,"keepalive":60,"clean_start":true,"expiry_interval":3600,"is_bridge":false,"connected_at":{t},"conn_props":{{"User-Property":{{}},"Request-Problem-Information":1}},"client_attrs":{{}},"timestamp":{t},"node":"emqx@127.0.0.1"}}"#,
            c % 250
        ),
        (Source::Emqx, false) => format!(
            r#"{{"event":"client.disconnected","reason":"keepalive_timeout","clientid":"dev-{c}","username":"u_emqx","peername":"192.0.2.{}:63412","sockname":"0.0.0.0:1883","proto_name":"MQTT","proto_ver":5,"connected_at":{connected_at},"disconnected_at":{t},"disc_props":{{"User-Property":{{}}}},"client_attrs":{{}},"timestamp":{t},"node":"emqx@127.0.0.1"}}"#,
            c % 250
        ),
        (Source::AzureMqtt, _) => format!(
            r#"{{"specversion":"1.0","id":"5249c38a-a048-46dd-8f60-df34fcdab06c","time":"{}","type":"Microsoft.EventGrid.MQTTClientSession{}","source":"/subscriptions/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e/resourceGroups/myrg/providers/Microsoft.EventGrid/namespaces/myns","subject":"clients/client{c}/sessions/dev-{c}","data":{{"namespaceName":"myns","clientAuthenticationName":"client{c}","clientSessionName":"dev-{c}","sequenceNumber":{}{}}}}}"#,
            iso(t),
            if e.connect { "Connected" } else { "Disconnected" },
            k + 1,
            if e.connect { "" } else { r#","disconnectionReason":"ClientError""# }
        ),
        (Source::AliyunSdk, _) => format!(
            r#"{{"channelId":"{sess}","clientId":"GID_dev@@@d{c}","clientIp":"192.0.2.{}:51234","statusType":"{}","time":{t}}}"#,
            c % 250,
            if e.connect { "ONLINE" } else { "OFFLINE" }
        ),
        (Source::Auto, _) => unreachable!(),
    }
}

#[inline(never)]
fn measure(engine: &mut StatusEngine, text: &[u8], decoded: &[(String, String, bool, u64)]) -> usize {
    if decoded.is_empty() {
        return engine.ingest_many(text).transitions.len();
    }
    let mut n = 0;
    for (client, channel, connect, time) in decoded {
        let event_type = if *connect { EventType::Connect } else { EventType::TcpClean };
        let note = Notification {
            client_id: client,
            channel_id: channel,
            event_type,
            time: *time,
            client_ip: None,
            reason: None,
        };
        n += usize::from(engine.ingest(note).unwrap().is_some());
    }
    n
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "aliyun".into());
    let evs = events();
    let (source, auto) = match arg.as_str() {
        "decoded" => (Source::Aliyun, false),
        a if a.starts_with("auto-") => (Source::parse(&a[5..]).expect("source"), true),
        a => (Source::parse(a).expect("source"), false),
    };
    let mut text = String::new();
    let mut decoded = Vec::new();
    for e in &evs {
        if arg == "decoded" {
            let ch = format!("a4666d2a7d844ae4ac5d7b38c9c{:05}{}", e.client, e.session);
            decoded.push((format!("GID_dev@@@d{}", e.client), ch, e.connect, e.time));
        } else {
            text.push_str(&line(source, e));
            text.push('\n');
        }
    }
    let config = Config { source: if auto { Source::Auto } else { source }, ..Config::default() };
    let mut engine = StatusEngine::new(config).unwrap();
    let transitions = measure(&mut engine, text.as_bytes(), &decoded);
    let stats = engine.stats();
    assert_eq!(stats.rejected, 0, "every line must be accepted");
    println!("{arg}: {} events, {} bytes, {transitions} transitions", evs.len(), text.len());
}
