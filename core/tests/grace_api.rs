//! Grace, observations and staleness (SPEC §9) at the API's edges: options, bad input, record
//! versions, ordering of `advance`, and `stale_online`'s partial selection. The rules themselves
//! are pinned by the vectors (`tests/vectors/grace-*`, `observe-*`, `stale-*`).

use mqtt_status::{
    Config, EventType, Notification, StaleClient, StatusEngine, Transition, MAX_GRACE_MS, MAX_TIME,
};

fn graced(ms: u64) -> StatusEngine {
    StatusEngine::new(Config { offline_grace_ms: ms, ..Config::default() }).unwrap()
}

fn ev(
    client: &'static str,
    channel: &'static str,
    event_type: EventType,
    time: u64,
) -> Notification<'static> {
    Notification { client_id: client, channel_id: channel, event_type, time, client_ip: None, reason: None }
}

#[test]
fn the_option_is_checked_and_serialized_only_when_set() {
    let c = Config::from_json(br#"{"offlineGraceMs":30000}"#).unwrap();
    assert_eq!(c.offline_grace_ms, 30_000);
    assert_eq!(Config::from_json(br#"{"offlineGraceMs":604800000}"#).unwrap().offline_grace_ms, MAX_GRACE_MS);
    for bad in [
        r#"{"offlineGraceMs":604800001}"#,
        r#"{"offlineGraceMs":-1}"#,
        r#"{"offlineGraceMs":1.5}"#,
        r#"{"offlineGraceMs":"5"}"#,
    ] {
        let e = Config::from_json(bad.as_bytes()).unwrap_err();
        assert_eq!((e.code().as_str(), e.field()), ("invalid_field", Some("offlineGraceMs")), "{bad}");
    }
    let e =
        StatusEngine::new(Config { offline_grace_ms: MAX_GRACE_MS + 1, ..Config::default() }).unwrap_err();
    assert_eq!(e.field(), Some("offlineGraceMs"));
    // Configurations written before the option keep their JSON.
    assert!(!serde_json::to_string(&Config::default()).unwrap().contains("offlineGraceMs"));
    assert!(serde_json::to_string(&c).unwrap().contains(r#""offlineGraceMs":30000"#));
}

#[test]
fn observe_is_no_notification_type_and_bad_input_changes_nothing() {
    let mut e = graced(1000);
    let err = e.ingest(ev("a", "c1", EventType::Observe, 5)).unwrap_err();
    assert_eq!((err.code().as_str(), err.field()), ("unknown_event_type", Some("eventType")));
    assert_eq!(EventType::parse("observe"), None);
    let err = e.advance(MAX_TIME + 1).unwrap_err();
    assert_eq!((err.code().as_str(), err.field()), ("invalid_field", Some("now")));
    let err = e.observe("a", true, MAX_TIME + 1).unwrap_err();
    assert_eq!(err.field(), Some("time"));
    let s = e.stats();
    assert_eq!((s.events, s.rejected, s.clients), (2, 2, 0), "advance is no input: not counted");
    assert_eq!(e.advanced_to(), None);
    // A single body may be an observation too, but one without a tag: it is no broker message.
    let obs = br#"{"observe":{"clientId":"a","online":true,"time":1}}"#;
    let err = e.ingest_json(obs, Some("connect")).unwrap_err();
    assert_eq!(err.code().as_str(), "tag_mismatch");
    assert!(e.ingest_json(obs, None).unwrap().is_some_and(|t| t.event_type == EventType::Observe));
    assert_eq!((e.stats().events, e.stats().rejected, e.stats().applied), (4, 3, 1));
}

#[test]
fn advance_confirms_in_time_then_client_order() {
    let mut e = graced(100);
    for (c, close) in [("b", 50), ("a", 50), ("c", 10)] {
        e.ingest(ev(c, "x", EventType::Connect, 1)).unwrap();
        assert_eq!(e.ingest(ev(c, "x", EventType::TcpClean, close)).unwrap(), None);
    }
    assert_eq!(e.stats().pending_offline, Some(3));
    let got: Vec<(String, u64)> =
        e.advance(1000).unwrap().into_iter().map(|t| (t.client_id, t.time)).collect();
    assert_eq!(got, [("c".into(), 10), ("a".into(), 50), ("b".into(), 50)]);
    assert_eq!(e.advanced_to(), Some(1000));
    assert_eq!((e.stats().went_offline, e.stats().pending_offline), (3, Some(0)));
}

#[test]
fn records_carry_observations_in_version_2_only() {
    let mut e = StatusEngine::default();
    e.ingest(ev("plain", "c1", EventType::Connect, 1)).unwrap();
    e.ingest(ev("seen", "c1", EventType::Connect, 1)).unwrap();
    let t = e.observe("seen", false, 7).unwrap().unwrap();
    let want = Transition {
        client_id: "seen".into(),
        online: false,
        time: 7,
        channel_id: String::new(),
        event_type: EventType::Observe,
        offline_since: None,
    };
    assert_eq!(t, want);
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        r#"{"clientId":"seen","online":false,"time":7,"channelId":"","eventType":"observe"}"#
    );
    let plain = e.client_record("plain").unwrap();
    let seen = e.client_record("seen").unwrap();
    assert_eq!((plain[0], seen[0]), (1, 2));
    let mut fresh = StatusEngine::default();
    fresh.load_record("seen", &seen).unwrap();
    assert_eq!(fresh.client("seen"), e.client("seen"));
    assert_eq!(fresh.client_record("seen").unwrap(), seen);
    // A version byte that promises observations the record lacks (or the reverse) is refused.
    let mut forged = plain.clone();
    forged[0] = 2;
    assert_eq!(fresh.load_record("plain", &forged).unwrap_err().code().as_str(), "invalid_snapshot");
    // Joining records keeps the latest observation of each kind.
    let mut other = StatusEngine::default();
    other.observe("seen", true, 9).unwrap();
    let joined =
        StatusEngine::join_records(Config::default(), "seen", &seen, &other.client_record("seen").unwrap())
            .unwrap();
    let mut j = StatusEngine::default();
    j.load_record("seen", &joined).unwrap();
    assert!(j.is_online("seen"), "online at 9 holds after offline at 7");
}

#[test]
fn stale_online_selects_the_oldest_like_a_full_sort() {
    let mut e = StatusEngine::default();
    let ids: Vec<String> = (0..200).map(|i| format!("dev{i:03}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let time = (i as u64 * 7919) % 53; // many ties
        e.ingest(Notification {
            client_id: id,
            channel_id: "c",
            event_type: EventType::Connect,
            time,
            client_ip: None,
            reason: None,
        })
        .unwrap();
    }
    let all = e.stale_online(0, 1000, usize::MAX);
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| (a.last_seen, &a.client_id).cmp(&(b.last_seen, &b.client_id)));
    assert_eq!(all, sorted);
    assert_eq!(all.len(), 200);
    for limit in [0, 1, 7, 53, 199, 200, 500] {
        let page: Vec<StaleClient> = e.stale_online(0, 1000, limit);
        assert_eq!(page, all[..limit.min(200)], "limit {limit}");
    }
    assert!(e.stale_online(1000, 1000, 10).is_empty());
}
