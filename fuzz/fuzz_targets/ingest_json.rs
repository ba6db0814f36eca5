//! `ingest_json`: one body (arbitrary bytes) with an optional tag, into an engine of an arbitrary
//! configuration, checked against the documented rules (docs/semantics.md, "Input validation").
//!
//! Input: a config flags byte (see `mqtt_status_fuzz::config`), a selector byte (bits 0–2: no
//! tag, `connect`, `disconnect`, `tcpclean` or an arbitrary string; bit 3: start from an engine
//! that already holds a few clients), then the body. Seeds are `00 00` + a JSON body.
//!
//! Checks: a rejected input changes nothing (stats equal but `events` and `rejected` one higher,
//! state unchanged), its code is a documented one with a documented field, and invalid JSON (as
//! serde_json judges it) is `invalid_json`; an accepted input decodes to what serde_json reads
//! in it, ingests exactly as its decoded `Notification` does, moves exactly one outcome counter,
//! returns a transition iff the client flipped, and ingested again is a duplicate or late that
//! changes nothing. The engine stays consistent (`check_consistent`).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mqtt_status::{with_notification, ErrorCode, EventType, Notification, Outcome, StatusEngine, MAX_TIME};
use mqtt_status_fuzz::{check_consistent, check_ingest_error, config, engine, state, EXAMPLE};
use serde_json::{Map, Value};

/// A decoded notification, owned (the decoder lends it only inside its callback).
#[derive(Debug)]
struct Owned {
    client_id: String,
    channel_id: String,
    event_type: EventType,
    time: u64,
    client_ip: Option<String>,
}

impl Owned {
    fn of(n: Notification<'_>) -> Self {
        Owned {
            client_id: n.client_id.into(),
            channel_id: n.channel_id.into(),
            event_type: n.event_type,
            time: n.time,
            client_ip: n.client_ip.map(String::from),
        }
    }

    fn as_ref(&self) -> Notification<'_> {
        Notification {
            client_id: &self.client_id,
            channel_id: &self.channel_id,
            event_type: self.event_type,
            time: self.time,
            client_ip: self.client_ip.as_deref(),
            reason: None,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((config, _)) = config(&mut u) else { return };
    let sel = u8::arbitrary(&mut u).unwrap_or(0);
    let tag = match sel & 7 {
        4 => Some("connect".to_string()),
        5 => Some("disconnect".to_string()),
        6 => Some("tcpclean".to_string()),
        7 => {
            let len = usize::from(u8::arbitrary(&mut u).unwrap_or(0) % 16);
            Some(String::from_utf8_lossy(u.bytes(len).unwrap_or_default()).into_owned())
        }
        _ => None,
    };
    let body = u.take_rest();
    let Some(mut e) = engine(config) else { return };
    if sel & 8 != 0 {
        e.ingest_many(EXAMPLE.as_bytes()); // some lines are refused under small limits
    }
    one(&mut e, body, tag.as_deref());
});

fn one(e: &mut StatusEngine, body: &[u8], tag: Option<&str>) {
    if mqtt_status::is_observation(body) {
        return observation(e, body, tag);
    }
    let max = e.config().max_id_len;
    let (stats0, state0) = (e.stats(), state(e));
    let decoded = with_notification(body, tag, max, Owned::of);
    let mut by_struct = e.clone();
    let result = e.ingest_json_detailed(body, tag);
    let mut stats1 = e.stats();
    match (result, decoded) {
        (Err(err), Err(err2)) => {
            assert_eq!(err, err2, "ingest_json and with_notification disagree");
            check_ingest_error(&err);
            if serde_json::from_slice::<Value>(body).is_err() {
                // A repeated key included (finding `duplicate-before-syntax`, fixed).
                assert_eq!(
                    err.code(),
                    ErrorCode::InvalidJson,
                    "serde_json refuses {body:?}, core says {err}"
                );
            }
            // A rejection is counted, and changes nothing else.
            assert_eq!((stats1.events, stats1.rejected), (stats0.events + 1, stats0.rejected + 1));
            (stats1.events, stats1.rejected) = (stats0.events, stats0.rejected);
            assert_eq!(stats1, stats0, "a rejected input changed the stats");
            assert_eq!(state(e), state0, "a rejected input changed the state");
            assert_eq!(e.ingest_json(body, tag).unwrap_err(), err, "same input, other error");
        }
        (Ok((outcome, transition)), Ok(n)) => {
            if let Some(t) = tag {
                assert!(EventType::parse(t).is_some(), "accepted with tag {t:?}");
            }
            check_decoded(body, tag, max, &n);
            // The JSON path and the decoded path are the same ingest.
            let by_struct_result = by_struct.ingest_detailed(n.as_ref());
            assert_eq!(by_struct_result, Ok((outcome, transition.clone())), "ingest vs ingest_json");
            assert_eq!(by_struct.snapshot(), e.snapshot(), "ingest vs ingest_json: snapshot");
            let was = stats0.clone();
            let bump = |o: Outcome| u64::from(o == outcome);
            assert_eq!(stats1.events, was.events + 1);
            assert_eq!(stats1.rejected, was.rejected);
            assert_eq!(stats1.applied, was.applied + bump(Outcome::Applied));
            assert_eq!(stats1.duplicates, was.duplicates + bump(Outcome::Duplicate));
            assert_eq!(stats1.late, was.late + bump(Outcome::Late));
            let flip = transition.as_ref().map(|t| t.online);
            assert_eq!(stats1.went_online, was.went_online + u64::from(flip == Some(true)));
            assert_eq!(stats1.went_offline, was.went_offline + u64::from(flip == Some(false)));
            match &transition {
                Some(t) => {
                    assert_eq!(outcome, Outcome::Applied);
                    assert_eq!(
                        (&*t.client_id, &*t.channel_id, t.time, t.event_type),
                        (&*n.client_id, &*n.channel_id, n.time, n.event_type)
                    );
                    assert_eq!(e.is_online(&n.client_id), t.online);
                }
                None => assert_eq!(stats1.online, was.online, "online count moved without a transition"),
            }
            if outcome != Outcome::Applied {
                assert_eq!(state(e), state0, "a duplicate or late event changed the state");
            }
            assert!(e.client(&n.client_id).is_some(), "accepted event left no client");
            // The same event again changes nothing.
            let state1 = state(e);
            let again = e.ingest_json_detailed(body, tag).expect("accepted once, refused twice");
            assert!(matches!(again, (Outcome::Duplicate | Outcome::Late, None)), "{again:?}");
            assert_eq!(state(e), state1, "a redelivery changed the state");
        }
        (r, d) => panic!("ingest_json {r:?} but with_notification {d:?}"),
    }
    check_consistent(e, true);
}

/// An observation body (SPEC §9): `ingest_json` is `observe` of what `parse_observation_line`
/// reads in it, refused with a tag (`tag_mismatch`: an observation is no broker message); a
/// refusal changes nothing but the counters; the same observation again changes nothing.
fn observation(e: &mut StatusEngine, body: &[u8], tag: Option<&str>) {
    let max = e.config().max_id_len;
    let (stats0, state0) = (e.stats(), state(e));
    let parsed = mqtt_status::parse_observation_line(body, max).expect("is_observation said so");
    let mut model = e.clone();
    // `None`: refused with tag_mismatch, whatever the engine holds.
    let want = match (&parsed, tag) {
        (Err(err), _) => Some(Err(err.clone())),
        (Ok(_), Some(_)) => None,
        (Ok((id, online, time)), None) => Some(model.observe(id, *online, *time)),
    };
    match (e.ingest_json_detailed(body, tag), want) {
        (Err(err), want @ (None | Some(Err(_)))) => {
            match want {
                None => assert_eq!(err.code(), ErrorCode::TagMismatch, "{err}"),
                Some(want) => assert_eq!(Err(err.clone()), want, "ingest_json vs parse_observation_line"),
            }
            check_ingest_error(&err);
            let mut stats1 = e.stats();
            assert_eq!((stats1.events, stats1.rejected), (stats0.events + 1, stats0.rejected + 1));
            (stats1.events, stats1.rejected) = (stats0.events, stats0.rejected);
            assert_eq!(stats1, stats0, "a rejected observation changed the stats");
            assert_eq!(state(e), state0, "a rejected observation changed the state");
        }
        (Ok((_, transition)), Some(Ok(want))) => {
            assert_eq!(transition, want, "ingest_json vs observe");
            assert_eq!(e.snapshot(), model.snapshot(), "ingest_json vs observe: snapshot");
            let (id, ..) = parsed.expect("accepted");
            if let Some(t) = &transition {
                assert_eq!((&*t.client_id, t.event_type), (&*id, EventType::Observe));
                assert_eq!(e.is_online(&id), t.online);
            }
            let state1 = state(e);
            let again = e.ingest_json_detailed(body, tag).expect("accepted once, refused twice");
            assert_eq!(again.1, None, "a repeated observation gave a transition");
            assert_eq!(state(e), state1, "a repeated observation changed the state");
        }
        (r, w) => panic!("ingest_json {r:?} but observe {w:?}"),
    }
    check_consistent(e, true);
}

/// What the core decoded is what serde_json reads in the same bytes (SPEC §1 and the envelope
/// rules), and within the limits.
fn check_decoded(body: &[u8], tag: Option<&str>, max: u32, n: &Owned) {
    let max = max as usize;
    assert!(!n.client_id.is_empty() && n.client_id.len() <= max, "clientId {:?}", n.client_id);
    assert!(!n.channel_id.is_empty() && n.channel_id.len() <= max, "channelId {:?}", n.channel_id);
    assert!(n.time <= MAX_TIME);
    assert!(n.client_ip.as_ref().is_none_or(|ip| ip.len() <= max), "clientIp {:?}", n.client_ip);
    let top: Value = serde_json::from_slice(body).expect("core accepted what serde_json refuses");
    let top = top.as_object().expect("core accepted a non-object");
    let (fields, envelope_tag): (Map<String, Value>, Option<&str>) = match top.get("body") {
        None => (top.clone(), None),
        Some(b) => {
            let inner = match b {
                Value::Object(m) => m.clone(),
                Value::String(s) => match serde_json::from_str::<Value>(s) {
                    Ok(Value::Object(m)) => m,
                    other => panic!("accepted an envelope whose string body is {other:?}"),
                },
                other => panic!("accepted an envelope whose body is {other:?}"),
            };
            assert!(!inner.contains_key("body"), "accepted an envelope inside an envelope");
            (inner, top.get("tag").and_then(Value::as_str))
        }
    };
    let text = |k: &str| fields.get(k).and_then(Value::as_str);
    assert_eq!(text("clientId"), Some(&*n.client_id), "clientId");
    assert_eq!(text("channelId"), Some(&*n.channel_id), "channelId");
    let time = match fields.get("time") {
        Some(Value::Number(v)) => v.as_u64(),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        other => panic!("accepted time {other:?}"),
    };
    assert_eq!(time, Some(n.time), "time");
    let kind = text("eventType").or(envelope_tag).or(tag);
    assert_eq!(kind, Some(n.event_type.as_str()), "eventType");
    for t in [envelope_tag, tag].into_iter().flatten() {
        assert_eq!(t, n.event_type.as_str(), "a tag disagrees with the accepted eventType");
    }
    let ip = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(String::from);
    assert_eq!(ip(text("clientIp")), ip(n.client_ip.as_deref()), "clientIp");
}
