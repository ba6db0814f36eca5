//! `laws`: structured event sets against the laws of SPEC §2/§4, as `core/tests/laws.rs` states
//! them, with coverage guidance instead of proptest's random sampling.
//!
//! Input: a config flags byte (see `mqtt_status_fuzz::config`; bit 4 of it gives every channel
//! broker-shaped times: connect < disconnect < tcpclean), an event count, three bytes per event
//! (client, type and address; channel and time range; time), then the bytes that drive the
//! permutation, the duplicates and the split into three engines. An event whose address bits
//! are 7 is an observation (SPEC §9, `observe`): online iff its type bits say connect.
//!
//! Laws, compared on the state (`mqtt_status_fuzz::state`, counters left out) and on every answer:
//! a permutation gives the same; duplicates anywhere change nothing; merge equals ingesting both,
//! is commutative, associative and idempotent; the naive model agrees; transitions track the
//! status. Those hold within the tombstone bound (at most `tombstonesPerClient` channels per
//! client), which the default limits keep; beyond it (small limits) the target checks what
//! still holds: snapshots round-trip and continue identically, a batch equals its events one by
//! one, and with broker-shaped times a redelivery never changes an online answer.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mqtt_status::{Config, EventType, Notification, StatusEngine, MAX_TIME};
use mqtt_status_fuzz::{check_consistent, config, engine, gauges, state};

const CLIENTS: [&str; 5] = ["GID_a@@@d1", "GID_a@@@d2", "GID_b@@@d1", "solo", "é@@@ü"];
/// Broker-style hex ids (lower and upper case: one is stored packed, one as text), a 31-digit
/// near miss and plain text ids.
const CHANNELS: [&str; 6] = [
    "2b9b1281046046faafe5e0b458e40001",
    "2B9B1281046046FAAFE5E0B458E40002",
    "2b9b1281046046faafe5e0b458e4000",
    "ch-4",
    "ch-5",
    "CH-6",
];
/// A packed IPv4 address, a masked one (text), no address (`""`), IPv6 and an address without port.
const IPS: [&str; 6] =
    ["10.0.0.1:1883", "10.0.0.2:40000", "192.168.XX.XX:133XX", "", "[::1]:1883", "1.2.3.4"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ev {
    client: usize,
    channel: usize,
    kind: EventType,
    time: u64,
    ip: Option<usize>,
    /// `Some(online)`: an observation of the client at `time` (channel, type and address unused).
    observed: Option<bool>,
}

impl Ev {
    fn read(u: &mut Unstructured<'_>) -> arbitrary::Result<Ev> {
        let [a, b, t] = <[u8; 3]>::arbitrary(u)?;
        let kind = [EventType::Connect, EventType::Disconnect, EventType::TcpClean][usize::from(a >> 3) % 3];
        let ip = usize::from(a >> 5);
        // Mostly small times, so that events collide; sometimes at the very top of the range.
        let time = if b & 0x80 != 0 { MAX_TIME - u64::from(t) } else { u64::from(t) };
        let channel = usize::from(b & 0x7f) % CHANNELS.len();
        Ok(Ev {
            client: usize::from(a & 7) % CLIENTS.len(),
            channel,
            kind,
            time,
            ip: (ip < IPS.len()).then_some(ip),
            observed: (ip == 7).then_some(kind == EventType::Connect),
        })
    }

    /// Feeds the event (or observation) to `e`.
    fn feed(&self, e: &mut StatusEngine) -> Result<Option<mqtt_status::Transition>, mqtt_status::Error> {
        match self.observed {
            Some(online) => e.observe(CLIENTS[self.client], online, self.time),
            None => e.ingest(self.notification()),
        }
    }

    fn notification(&self) -> Notification<'static> {
        Notification {
            client_id: CLIENTS[self.client],
            channel_id: CHANNELS[self.channel],
            event_type: self.kind,
            time: self.time,
            client_ip: self.ip.map(|i| IPS[i]),
            reason: None,
        }
    }

    fn json(&self) -> String {
        if let Some(online) = self.observed {
            let (id, time) = (CLIENTS[self.client], self.time);
            return serde_json::json!({"observe": {"clientId": id, "online": online, "time": time}})
                .to_string();
        }
        let n = self.notification();
        let mut body = serde_json::json!({
            "clientId": n.client_id, "channelId": n.channel_id,
            "eventType": n.event_type.as_str(), "time": n.time,
        });
        if let Some(ip) = n.client_ip {
            body["clientIp"] = ip.into();
        }
        body.to_string()
    }
}

/// Runs the events one by one, checking that transitions track the status.
fn run(config: Config, evs: &[Ev]) -> StatusEngine {
    let mut e = StatusEngine::new(config).unwrap();
    for ev in evs {
        let id = CLIENTS[ev.client];
        let before = e.is_online(id);
        match ev.feed(&mut e).expect("a valid event") {
            Some(t) => {
                assert_eq!(t.online, !before, "transition to the status it had");
                assert_eq!(t.client_id, id);
                assert_eq!(e.is_online(id), t.online);
            }
            None => assert_eq!(e.is_online(id), before, "status flipped without a transition"),
        }
    }
    e
}

/// Every answer that depends on the state (not on arrival order).
fn answers(e: &StatusEngine) -> String {
    let clients: Vec<_> = CLIENTS.iter().map(|c| (e.is_online(c), e.client(c))).collect();
    for (online, client) in &clients {
        assert_eq!(*online, client.as_ref().is_some_and(|s| s.online), "cached status is stale");
    }
    format!(
        "{clients:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        e.online_clients(None, None, None),
        e.online_clients(Some("GID_a"), Some("GID_a@@@d1"), Some(1)),
        e.count_online(Some("GID_a")),
        e.groups(),
        gauges(&e.stats()),
    )
}

/// The naive model: every event in a set, nothing compacted; observations as SPEC §9 says (offline
/// at T closes what was connected at or before T; online at T holds the client online while no
/// offline observation and no close is later).
fn model_online(config: &Config, evs: &[Ev], client: usize) -> bool {
    let mut chans: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let mut connect_time: BTreeMap<usize, u64> = BTreeMap::new();
    let mut close_time: BTreeMap<usize, u64> = BTreeMap::new();
    let (mut obs_off, mut obs_on) = (None::<u64>, None::<u64>);
    for ev in evs.iter().filter(|e| e.client == client) {
        if let Some(online) = ev.observed {
            let latest = if online { &mut obs_on } else { &mut obs_off };
            *latest = (*latest).max(Some(ev.time));
            continue;
        }
        let closes = ev.kind == EventType::TcpClean
            || (config.close_on_disconnect && ev.kind == EventType::Disconnect);
        if closes {
            let t = close_time.entry(ev.channel).or_insert(ev.time);
            *t = (*t).min(ev.time);
        }
        chans.entry(ev.channel).or_default().insert(ev.kind as usize);
        if ev.kind == EventType::Connect {
            let t = connect_time.entry(ev.channel).or_insert(ev.time);
            *t = (*t).min(ev.time);
        }
    }
    let (connect, disconnect, tcpclean) =
        (EventType::Connect as usize, EventType::Disconnect as usize, EventType::TcpClean as usize);
    let live = |ch: &usize| {
        let kinds = &chans[ch];
        kinds.contains(&connect)
            && !kinds.contains(&tcpclean)
            && !(config.close_on_disconnect && kinds.contains(&disconnect))
            && obs_off.is_none_or(|off| connect_time[ch] > off)
    };
    let open = if config.takeover {
        let newest = connect_time.iter().max_by_key(|(ch, t)| (**t, CHANNELS[**ch]));
        newest.is_some_and(|(ch, _)| live(ch))
    } else {
        chans.keys().any(live)
    };
    let held =
        obs_on.is_some_and(|on| obs_off.is_none_or(|off| off <= on) && close_time.values().all(|&t| t <= on));
    open || held
}

fn merged(x: &StatusEngine, y: &StatusEngine) -> StatusEngine {
    let mut m = x.clone();
    m.merge(y).expect("same config");
    m
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((config, extra)) = config(&mut u) else { return };
    // The pools' ids must stay valid: small limits here shrink the tombstone bound only.
    let config = Config { max_id_len: config.max_id_len.max(64), ..config };
    if engine(config).is_none() {
        return;
    }
    let n = usize::from(u8::arbitrary(&mut u).unwrap_or(0) % 48);
    let mut evs = Vec::with_capacity(n);
    for _ in 0..n {
        match Ev::read(&mut u) {
            Ok(ev) => evs.push(ev),
            Err(_) => break,
        }
    }
    let broker_shaped = extra & 1 != 0;
    if broker_shaped {
        // One start per (client, channel), from its first event; connect, disconnect, tcpclean one
        // millisecond apart: every copy of an event has the same time, as the broker writes them.
        let mut starts = BTreeMap::new();
        for ev in evs.iter_mut().filter(|e| e.observed.is_none()) {
            let key = (ev.client, ev.channel);
            let start = *starts
                .entry(key)
                .or_insert((ev.time % 64) * 3 + (key.0 * CHANNELS.len() + key.1) as u64 * 1000);
            ev.time = start + ev.kind as u64;
        }
    }
    let in_bound = config.tombstones_per_client as usize >= CHANNELS.len();

    let a = run(config, &evs);
    check_consistent(&a, true);
    let (state_a, answers_a) = (state(&a), answers(&a));

    if in_bound {
        for (c, id) in CLIENTS.iter().enumerate() {
            assert_eq!(a.is_online(id), model_online(&config, &evs, c), "model: {id}");
        }
    }

    // A permutation.
    let mut shuffled = evs.clone();
    for i in (1..shuffled.len()).rev() {
        let j = u.int_in_range(0..=i).unwrap_or(i);
        shuffled.swap(i, j);
    }
    let b = run(config, &shuffled);
    if in_bound {
        assert_eq!(state(&b), state_a, "order matters");
        assert_eq!(answers(&b), answers_a, "order matters (answers)");
    }

    // Duplicates anywhere, and redeliveries after the fact.
    let mut with_dups = evs.clone();
    let mut again = Vec::new();
    if !evs.is_empty() {
        for _ in 0..usize::from(u8::arbitrary(&mut u).unwrap_or(0) % 16) {
            let (Ok(i), Ok(at)) = (u.choose_index(evs.len()), u.choose_index(with_dups.len() + 1)) else {
                break;
            };
            with_dups.insert(at, evs[i]);
            again.push(evs[i]);
        }
    }
    if in_bound {
        let d = run(config, &with_dups);
        assert_eq!(state(&d), state_a, "duplicates changed the state");
        assert_eq!(answers(&d), answers_a, "duplicates changed the answers");
    }
    let observed = evs.iter().any(|e| e.observed.is_some());
    // Beyond the bound, the broker-shaped guarantee is about notifications: an observation may
    // close a channel whose record compaction then drops (docs/semantics.md).
    if in_bound || (broker_shaped && !observed) {
        let online = |e: &StatusEngine| {
            let each: Vec<bool> = CLIENTS.iter().map(|c| e.is_online(c)).collect();
            (each, e.online_clients(None, None, None), e.count_online(Some("GID_a")), e.stats().online)
        };
        let mut e = a.clone();
        let before = online(&e);
        for ev in &again {
            assert_eq!(ev.feed(&mut e), Ok(None), "a redelivery gave a transition");
        }
        assert_eq!(online(&e), before, "a redelivery changed an online answer");
    }

    // Merge: three parts.
    let mut parts: [Vec<Ev>; 3] = Default::default();
    for ev in &evs {
        parts[usize::from(u8::arbitrary(&mut u).unwrap_or(0) % 3)].push(*ev);
    }
    let [pa, pb, pc] = &parts;
    let (ea, eb, ec) = (run(config, pa), run(config, pb), run(config, pc));
    let ab = merged(&ea, &eb);
    let abc = merged(&ab, &ec);
    check_consistent(&abc, false);
    if in_bound {
        assert_eq!(state(&ab), state(&merged(&eb, &ea)), "merge is not commutative");
        assert_eq!(state(&abc), state(&merged(&ea, &merged(&eb, &ec))), "merge is not associative");
        assert_eq!(state(&merged(&ea, &ea)), state(&ea), "merge is not idempotent");
        assert_eq!(state(&abc), state_a, "merge differs from ingesting everything");
        assert_eq!(answers(&abc), answers_a, "merge differs from ingesting everything (answers)");
    }

    // What holds at any bound: the snapshot round trip, continuing identically ...
    let bytes = a.snapshot();
    let mut r = StatusEngine::restore(&bytes).expect("own snapshot");
    assert_eq!(r.snapshot(), bytes);
    assert_eq!(answers(&r), answers_a);
    assert_eq!(r.stats(), a.stats());
    let mut a2 = a.clone();
    for ev in &shuffled {
        assert_eq!(ev.feed(&mut a2), ev.feed(&mut r), "restored engine diverged");
    }
    assert_eq!(a2.snapshot(), r.snapshot(), "restored engine diverged (snapshot)");

    // ... and a batch equals its events one by one.
    let jsonl: String = evs.iter().map(|e| e.json() + "\n").collect();
    let mut batch = StatusEngine::new(config).unwrap();
    let report = batch.ingest_many(jsonl.as_bytes());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(batch.snapshot(), bytes, "batch vs one by one");
});
