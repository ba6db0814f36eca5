//! `source_json`: one line (arbitrary bytes) read in a vendor format (option `source`, SPEC
//! §10), checked against serde_json: the vendor flat reader (core/src/parse/source/walk.rs)
//! must never accept what serde_json refuses, and what it accepts must be what serde_json
//! reads there.
//!
//! Input: a selector byte (`aws`, `emqx`, `azure-mqtt`, `aliyun-sdk`, `auto`: its value mod 5),
//! then the line. Seeds are the `source-*` vectors' lines (fuzz/make_seeds.py).
//!
//! Checks: invalid JSON (as serde_json judges it) is `invalid_json`; an accepted line is a JSON
//! object whose client id key (the format's) holds the decoded client id, whose time key holds
//! the decoded time (formats with millisecond integers), and an engine configured with that
//! source accepts or refuses it the same way (same error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_status::{with_notification_as, Config, ErrorCode, EventType, Source, StatusEngine};
use serde_json::Value;

const SOURCES: [Source; 5] = [Source::Aws, Source::Emqx, Source::AzureMqtt, Source::AliyunSdk, Source::Auto];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, line)) = data.split_first() else { return };
    let source = SOURCES[usize::from(sel) % SOURCES.len()];
    let max = Config::default().max_id_len;
    let decoded =
        with_notification_as(source, line, None, max, |n| (n.client_id.to_owned(), n.time, n.event_type));
    let json = serde_json::from_slice::<Value>(line);
    match (&decoded, &json) {
        (Err(e), Err(_)) => {
            assert_eq!(e.code(), ErrorCode::InvalidJson, "serde_json refuses {line:?}, core says {e}")
        }
        (Ok(_), Err(je)) => panic!("accepted what serde_json refuses ({je}): {line:?}"),
        (Ok((client, time, event_type)), Ok(v)) => {
            let v = v.as_object().expect("accepted a line that is not an object");
            let data = v.get("data").and_then(Value::as_object);
            let (key, time_key) = match source {
                Source::Aws => (v.get("clientId"), v.get("timestamp")),
                Source::Emqx => {
                    let t = match event_type {
                        EventType::Connect => v.get("connected_at"),
                        _ => ["disconnected_at", "timestamp", "ts"]
                            .iter()
                            .find_map(|k| v.get(*k).filter(|x| !x.is_null())),
                    };
                    (v.get("clientid"), t)
                }
                Source::AzureMqtt => (data.and_then(|d| d.get("clientSessionName")), None),
                Source::AliyunSdk => (v.get("clientId"), v.get("time").filter(|t| t.is_u64())),
                _ => (None, None),
            };
            if source != Source::Auto {
                assert_eq!(key.and_then(Value::as_str), Some(client.as_str()), "client id of {line:?}");
            }
            if let Some(t) = time_key {
                assert_eq!(t.as_u64(), Some(*time), "time of {line:?}");
            }
        }
        (Err(_), Ok(_)) => {}
    }
    let mut engine = StatusEngine::new(Config { source, ..Config::default() }).expect("config");
    // An observation body (`{"observe": …}`, SPEC §9) is no broker's event whatever the source:
    // the engine observes what `parse_observation_line` reads in it (the fuzz target
    // `ingest_json` checks that path in full); here only that it fails where that fails.
    if let Some(parsed) = mqtt_status::parse_observation_line(line, max) {
        let got = engine.ingest_json(line, None);
        if let Err(e) = parsed {
            assert_eq!(got.err(), Some(e), "an observation the engine reads otherwise: {line:?}");
        }
        return;
    }
    // The engine reads any other line as the parser does.
    match (engine.ingest_json(line, None), decoded) {
        (Err(a), Err(b)) => assert_eq!(a, b, "engine and parser disagree on {line:?}"),
        (Ok(_), Ok(_)) => {}
        (a, b) => panic!("engine {a:?}, parser {b:?} on {line:?}"),
    }
});
