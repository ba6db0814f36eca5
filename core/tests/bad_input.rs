//! Malformed input: every case gets the right code and field and leaves the state unchanged.
use mqtt_status::{Config, Error, EventType, Notification, StatusEngine, MAX_TIME};

/// The state without the ingest counters: a fresh engine merged with this one.
fn state(e: &StatusEngine) -> Vec<u8> {
    let mut fresh = StatusEngine::new(*e.config()).unwrap();
    fresh.merge(e).unwrap();
    fresh.snapshot()
}

/// A primed engine: one client online, one offline.
fn engine() -> StatusEngine {
    let mut e = StatusEngine::default();
    e.ingest_json(br#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":1}"#, None)
        .unwrap();
    e.ingest_json(br#"{"clientId":"GID_a@@@d2","channelId":"c1","eventType":"tcpclean","time":2}"#, None)
        .unwrap();
    e
}

fn expect_rejected(
    e: &mut StatusEngine,
    what: &str,
    code: &str,
    field: Option<&str>,
    f: impl FnOnce(&mut StatusEngine) -> Result<(), Error>,
) {
    let (before, mut stats) = (state(e), e.stats());
    let err = f(e).expect_err(what);
    assert_eq!((err.code().as_str(), err.field()), (code, field), "{what}: {err}");
    assert_eq!(state(e), before, "{what}: the state changed");
    // The rejection is counted, and nothing else moves.
    (stats.events, stats.rejected) = (stats.events + 1, stats.rejected + 1);
    assert_eq!(e.stats(), stats, "{what}: stats changed beyond events/rejected");
}

const OK: &str = r#""clientId":"GID_a@@@d3","channelId":"c9","eventType":"connect","time":5"#;

#[test]
fn malformed_bodies() {
    let long = "x".repeat(257);
    let deep = format!(r#"{{{OK},"x":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!(r#"{{"x":{}1{},{OK}}}"#, r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    // A body string is parsed on its own: its nesting is bounded as well.
    let deep_in_string = format!(r#"{{"tag":"connect","body":{}}}"#, serde_json::to_string(&deep).unwrap());
    let with = |k: &str, v: &str| {
        let mut fields = vec![
            ("clientId", r#""GID_a@@@d3""#),
            ("channelId", r#""c9""#),
            ("eventType", r#""connect""#),
            ("time", "5"),
        ];
        fields.retain(|(n, _)| *n != k);
        if v != "ABSENT" {
            fields.push((k, v));
        }
        let body: Vec<String> = fields.iter().map(|(n, v)| format!("\"{n}\":{v}")).collect();
        format!("{{{}}}", body.join(","))
    };
    let cases: Vec<(String, Option<&str>, &str, Option<&str>)> = vec![
        ("{".into(), None, "invalid_json", None),
        ("".into(), None, "invalid_json", None),
        (format!("[{{{OK}}}]"), None, "invalid_json", None),
        (format!("{{{OK}}} trailing"), None, "invalid_json", None),
        (format!("{{{OK}}}{{}}"), None, "invalid_json", None),
        ("\"text\"".into(), None, "invalid_json", None),
        (deep, None, "invalid_json", None),
        (deep_obj, None, "invalid_json", None),
        (deep_in_string, None, "invalid_json", None),
        (with("time", "1e400"), None, "invalid_json", None),
        (with("time", &"9".repeat(400)), None, "invalid_json", None),
        (format!(r#"{{{OK},"x":-1e400}}"#), None, "invalid_json", None),
        (format!(r#"{{{OK},"x":"\ud800"}}"#), None, "invalid_json", None),
        (with("clientId", r#""\udc00""#), None, "invalid_json", None),
        ("{}".into(), None, "missing_field", Some("clientId")),
        (r#"{"clientId":"a"}"#.into(), None, "missing_field", Some("channelId")),
        (with("clientId", "ABSENT"), None, "missing_field", Some("clientId")),
        (with("clientId", "null"), None, "missing_field", Some("clientId")),
        (with("channelId", "ABSENT"), None, "missing_field", Some("channelId")),
        (with("eventType", "ABSENT"), None, "missing_field", Some("eventType")),
        (with("time", "ABSENT"), None, "missing_field", Some("time")),
        (with("time", "null"), None, "missing_field", Some("time")),
        (with("clientId", "7"), None, "invalid_field", Some("clientId")),
        (with("clientId", r#""""#), None, "invalid_field", Some("clientId")),
        (with("clientId", &format!("\"{long}\"")), None, "invalid_field", Some("clientId")),
        (with("channelId", "[]"), None, "invalid_field", Some("channelId")),
        (with("channelId", r#""""#), None, "invalid_field", Some("channelId")),
        (with("channelId", &format!("\"{long}\"")), None, "invalid_field", Some("channelId")),
        (with("eventType", "{}"), None, "invalid_field", Some("eventType")),
        (with("eventType", r#""CONNECT""#), None, "unknown_event_type", Some("eventType")),
        (with("eventType", r#""""#), None, "unknown_event_type", Some("eventType")),
        (with("eventType", "ABSENT"), Some(""), "unknown_event_type", Some("tag")),
        (with("eventType", "ABSENT"), Some("open"), "unknown_event_type", Some("tag")),
        (with("eventType", r#""tcpclean""#), Some("connect"), "tag_mismatch", Some("tag")),
        (with("time", "-1"), None, "invalid_field", Some("time")),
        (with("time", "2.5"), None, "invalid_field", Some("time")),
        (with("time", "9007199254740992"), None, "invalid_field", Some("time")),
        (with("time", "99999999999999999999999999"), None, "invalid_field", Some("time")),
        (with("time", r#""12x""#), None, "invalid_field", Some("time")),
        (with("time", "false"), None, "invalid_field", Some("time")),
        (with("time", r#""""#), None, "invalid_field", Some("time")),
        (with("time", r#""-1""#), None, "invalid_field", Some("time")),
        (with("time", "-0"), None, "invalid_field", Some("time")),
        (with("time", "1e3"), None, "invalid_field", Some("time")),
        (with("clientIp", "1"), None, "invalid_field", Some("clientIp")),
        (with("clientIp", "[]"), None, "invalid_field", Some("clientIp")),
        (with("clientIp", &format!("\"{long}\"")), None, "invalid_field", Some("clientIp")),
        (format!(r#"{{{OK},"time":6}}"#), None, "invalid_field", Some("time")),
        (r#"{"tag":"connect","body":null}"#.into(), None, "missing_field", Some("body")),
        (format!(r#"{{"tag":"connect","body":[{{{OK}}}]}}"#), None, "invalid_field", Some("body")),
        (format!(r#"{{"tag":"tcpclean","body":{{{OK}}}}}"#), None, "tag_mismatch", Some("tag")),
        (format!(r#"{{"tag":"connect","body":{{{OK}}}}}"#), Some("tcpclean"), "tag_mismatch", Some("tag")),
    ];
    let mut e = engine();
    for (body, tag, code, field) in &cases {
        let what = format!("{:.80} (tag {tag:?})", body);
        expect_rejected(&mut e, &what, code, *field, |e| e.ingest_json(body.as_bytes(), *tag).map(drop));
        // The batch path reports the same error (tags come only from envelopes; blank lines skip).
        if tag.is_none() && !body.trim().is_empty() {
            let report = e.ingest_many(body.as_bytes());
            let got: Vec<_> = report.errors.iter().map(|x| (x.code.as_str(), x.field.as_deref())).collect();
            assert_eq!(got, vec![(*code, *field)], "batch: {what}");
        }
    }
    let mut non_utf8 = format!("{{{OK}}}").into_bytes();
    non_utf8[14] = 0xff;
    expect_rejected(&mut e, "non-UTF-8", "invalid_json", None, |e| e.ingest_json(&non_utf8, None).map(drop));
    // The well-formed body is accepted, so each case above failed for its own fault only.
    assert!(e.ingest_json(format!("{{{OK}}}").as_bytes(), None).unwrap().is_some());
}

#[test]
fn bad_notifications() {
    let long = "y".repeat(9);
    let n = Notification {
        client_id: "dev",
        channel_id: "c1",
        event_type: EventType::Connect,
        time: 1,
        client_ip: None,
        reason: None,
    };
    let cases = [
        (Notification { client_id: "", ..n }, "clientId"),
        (Notification { channel_id: "", ..n }, "channelId"),
        (Notification { client_id: &long, ..n }, "clientId"),
        (Notification { channel_id: &long, ..n }, "channelId"),
        (Notification { time: MAX_TIME + 1, ..n }, "time"),
        (Notification { time: u64::MAX, ..n }, "time"),
        (Notification { client_ip: Some(&long), ..n }, "clientIp"),
        (Notification { reason: Some(&long), event_type: EventType::TcpClean, ..n }, "reason"),
    ];
    let mut e = StatusEngine::new(Config { max_id_len: 8, ..Config::default() }).unwrap();
    e.ingest(n).unwrap();
    for (bad, field) in cases {
        expect_rejected(&mut e, &format!("{bad:?}"), "invalid_field", Some(field), |e| {
            e.ingest(bad).map(drop)
        });
    }
    assert!(e.ingest(Notification { time: MAX_TIME, channel_id: "c2", ..n }).unwrap().is_none());
}

#[test]
fn bad_snapshots_never_panic() {
    let snap = engine().snapshot();
    for cut in 0..snap.len() {
        let err = StatusEngine::restore(&snap[..cut]).expect_err("truncated");
        assert_eq!(err.code().as_str(), "invalid_snapshot");
    }
    for i in 0..snap.len() {
        let mut b = snap.clone();
        b[i] ^= 0x20;
        assert_eq!(StatusEngine::restore(&b).expect_err("corrupt").code().as_str(), "invalid_snapshot");
    }
}

#[test]
fn empty_client_ip_counts_as_absent() {
    // Like `"clientIp": ""` in JSON: no address. Stored as an empty text address it would make
    // the snapshot unrestorable (restore rejects empty strings).
    let n = Notification {
        client_id: "dev",
        channel_id: "c1",
        event_type: EventType::Connect,
        time: 1,
        client_ip: Some(""),
        reason: None,
    };
    let mut e = StatusEngine::default();
    e.ingest(n).unwrap();
    assert_eq!(e.client("dev").unwrap().channels[0].client_ip, None);
    let copy = StatusEngine::restore(&e.snapshot()).expect("snapshot restores");
    assert_eq!(copy.snapshot(), e.snapshot());
}

#[test]
fn options_out_of_range_are_invalid_fields() {
    let d = Config::default();
    let cases = [
        (Config { max_open_channels: 0, ..d }, "maxOpenChannels"),
        (Config { max_open_channels: mqtt_status::MAX_OPEN_CHANNELS_LIMIT + 1, ..d }, "maxOpenChannels"),
        (Config { tombstones_per_client: mqtt_status::MAX_TOMBSTONES_LIMIT + 1, ..d }, "tombstonesPerClient"),
        (Config { max_id_len: 0, ..d }, "maxIdLen"),
    ];
    for (config, field) in cases {
        let err = StatusEngine::new(config).expect_err("out of range");
        assert_eq!((err.code().as_str(), err.field()), ("invalid_field", Some(field)), "{config:?}");
    }
    for n in [1, 8, mqtt_status::MAX_OPEN_CHANNELS_LIMIT] {
        assert!(StatusEngine::new(Config { max_open_channels: n, ..d }).is_ok());
    }
    // The camelCase name every binding takes.
    let c: Config = serde_json::from_str(r#"{"maxOpenChannels": 3}"#).unwrap();
    assert_eq!(c, Config { max_open_channels: 3, ..d });
}
