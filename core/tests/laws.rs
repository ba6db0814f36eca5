//! Property tests for the laws of SPEC §2/§4/§9: order independence, duplicate independence,
//! snapshot round trip, merge laws, batch = one by one, the index key (no answer depends on it),
//! and agreement with a naive model, with
//! observations among the events and a grace in some configurations (the grace's own law is in
//! `grace_laws.rs`).
//!
//! Cases: 256 each by default; `PROPTEST_CASES=5000 cargo test --release --test laws` for more.
//!
//! `state(e)` merges an engine into an empty one: the canonical snapshot of its *state*, without
//! the ingest counters (which describe arrival order by design, see docs/semantics.md).

use std::collections::{BTreeMap, BTreeSet};

use mqtt_status::{ChannelState, Config, EventType, IndexKey, Notification, StatusEngine, Transition};
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Ev {
    client: u8,
    channel: u8,
    kind: EventType,
    time: u64,
    ip: Option<u8>,
    /// A close's reason (`tcpclean` only), from [`REASONS`].
    reason: Option<u8>,
}

const CLIENTS: [&str; 4] = ["GID_a@@@d1", "GID_a@@@d2", "GID_b@@@d1", "solo"];
const CHANNELS: [&str; 10] = [
    "2b9b1281046046faafe5e0b458e40001",
    "2b9b1281046046faafe5e0b458e40002",
    "2b9b1281046046faafe5e0b458e40003",
    "ch-4",
    "ch-5",
    "CH-6",
    "2b9b1281046046faafe5e0b458e4000a",
    "ch-8",
    "ch-9",
    "~",
];
const IPS: [&str; 3] = ["10.0.0.1:1883", "10.0.0.2:40000", "192.168.XX.XX:133XX"];
/// Known codes (kept as one byte), other text (boxed), and the empty string (none).
const REASONS: [&str; 4] = ["normal", "kicked", "some other reason", ""];

impl Ev {
    /// An observation (`kind` Observe): online iff its channel number is even.
    fn observed_online(&self) -> bool {
        self.channel % 2 == 0
    }

    /// Feeds the event (or observation) to `e`.
    fn apply(&self, e: &mut StatusEngine) -> Option<Transition> {
        match self.kind {
            EventType::Observe => e.observe(CLIENTS[self.client as usize], self.observed_online(), self.time),
            _ => e.ingest(self.notification()),
        }
        .unwrap()
    }

    fn notification(&self) -> Notification<'static> {
        Notification {
            client_id: CLIENTS[self.client as usize],
            channel_id: CHANNELS[self.channel as usize],
            event_type: self.kind,
            time: self.time,
            client_ip: self.ip.map(|i| IPS[i as usize]),
            reason: self.reason.map(|i| REASONS[i as usize]),
        }
    }

    fn kind_rank(&self) -> u64 {
        match self.kind {
            EventType::Connect => 0,
            EventType::Disconnect => 1,
            EventType::TcpClean | EventType::Observe => 2,
        }
    }

    fn json(&self) -> String {
        if self.kind == EventType::Observe {
            let (id, online, time) = (CLIENTS[self.client as usize], self.observed_online(), self.time);
            return serde_json::json!({"observe": {"clientId": id, "online": online, "time": time}})
                .to_string();
        }
        let n = self.notification();
        if let Some(reason) = n.reason {
            // A close with a reason is written as an AWS `disconnected` (the engines read
            // `auto`), so the JSON paths carry reasons too.
            let mut line = serde_json::json!({
                "clientId": n.client_id, "sessionIdentifier": n.channel_id,
                "eventType": "disconnected", "timestamp": n.time, "disconnectReason": reason,
            });
            if let Some(ip) = n.client_ip {
                line["ipAddress"] = ip.into();
            }
            return line.to_string();
        }
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

fn event() -> impl Strategy<Value = Ev> {
    let kind = prop_oneof![
        3 => Just(EventType::Connect),
        1 => Just(EventType::Disconnect),
        2 => Just(EventType::TcpClean),
        1 => Just(EventType::Observe),
    ];
    let reason = proptest::option::of(0..REASONS.len() as u8);
    let any = (0..4u8, 0..10u8, kind, 0..40u64, proptest::option::of(0..3u8), reason).prop_map(
        |(client, channel, kind, time, ip, reason)| {
            let reason = reason.filter(|_| kind == EventType::TcpClean);
            Ev { client, channel, kind, time, ip, reason }
        },
    );
    // Connects without closes for one client: many open channels, more than maxOpenChannels.
    let open = (0..10u8, 0..40u64).prop_map(|(channel, time)| Ev {
        client: 3,
        channel,
        kind: EventType::Connect,
        time,
        ip: None,
        reason: None,
    });
    prop_oneof![3 => any, 1 => open]
}

fn events() -> impl Strategy<Value = Vec<Ev>> {
    proptest::collection::vec(event(), 0..40)
}

fn config() -> impl Strategy<Value = Config> {
    // Ten channels per client never exceed a bound of 10 tombstones (so nothing is compacted and
    // every law holds exactly); maxOpenChannels below ten supersedes channels.
    // A grace of 5 (times are 0..40) leaves some offlines pending: their reported status is a
    // function of the state too, so every law covers it.
    let open = prop_oneof![Just(1u32), Just(2), Just(3), Just(8)];
    let grace = prop_oneof![Just(0u64), Just(5)];
    (any::<bool>(), any::<bool>(), open, grace).prop_map(
        |(close_on_disconnect, takeover, max_open_channels, offline_grace_ms)| Config {
            close_on_disconnect,
            takeover,
            max_open_channels,
            tombstones_per_client: 10,
            offline_grace_ms,
            // Reads the ApsaraMQ bodies and the AWS closes that carry reasons (`Ev::json`).
            source: mqtt_status::Source::Auto,
            ..Config::default()
        },
    )
}

/// How many of a client's newest connects can be open.
fn open_limit(config: &Config) -> usize {
    if config.takeover {
        1
    } else {
        config.max_open_channels as usize
    }
}

fn run(config: Config, evs: &[Ev]) -> StatusEngine {
    let mut e = StatusEngine::new(config).unwrap();
    for ev in evs {
        ev.apply(&mut e);
    }
    e
}

/// Whether the client is reported online: exactly, or with its offline pending.
fn reported(e: &StatusEngine, id: &str) -> bool {
    e.client(id).is_some_and(|c| c.online || c.pending_offline_since.is_some())
}

fn state(e: &StatusEngine) -> Vec<u8> {
    let mut fresh = StatusEngine::new(*e.config()).unwrap();
    fresh.merge(e).unwrap();
    fresh.snapshot()
}

/// Every answer that depends on the state (not on arrival order).
fn answers(e: &StatusEngine) -> String {
    let clients: Vec<_> = CLIENTS.iter().map(|c| (e.is_online(c), e.client(c))).collect();
    for (online, client) in &clients {
        // `is_online` reads the flag the engine keeps; `client` judges the channels afresh.
        assert_eq!(*online, client.as_ref().is_some_and(|s| s.online), "cached status is stale");
    }
    let mut s = e.stats();
    (s.events, s.applied, s.duplicates, s.late, s.rejected, s.went_online, s.went_offline) =
        (0, 0, 0, 0, 0, 0, 0);
    format!(
        "{clients:?}|{:?}|{:?}|{:?}|{:?}|{s:?}",
        e.online_clients(None, None, None),
        e.online_clients(Some("GID_a"), Some("GID_a@@@d1"), Some(1)),
        e.count_online(Some("GID_a")),
        e.groups()
    )
}

/// The naive model: every event in a set, nothing compacted; observations as SPEC §9 says.
fn model_online(config: &Config, evs: &[Ev], client: u8) -> bool {
    // Smallest time per (channel, type); latest offline and online observations.
    let mut times: BTreeMap<(u8, EventType), u64> = BTreeMap::new();
    let (mut obs_off, mut obs_on) = (None::<u64>, None::<u64>);
    for ev in evs.iter().filter(|e| e.client == client) {
        if ev.kind == EventType::Observe {
            let latest = if ev.observed_online() { &mut obs_on } else { &mut obs_off };
            *latest = (*latest).max(Some(ev.time));
            continue;
        }
        let t = times.entry((ev.channel, ev.kind)).or_insert(ev.time);
        *t = (*t).min(ev.time);
    }
    let get = |ch: u8, k: EventType| times.get(&(ch, k)).copied();
    let close = |ch: u8| {
        let clean = get(ch, EventType::TcpClean);
        let disc = get(ch, EventType::Disconnect).filter(|_| config.close_on_disconnect);
        clean.into_iter().chain(disc).min()
    };
    let channels: BTreeSet<u8> = times.keys().map(|(ch, _)| *ch).collect();
    // Live: connected, no close, and not connected at or before an offline observation.
    let live = |ch: u8| {
        get(ch, EventType::Connect).is_some_and(|c| obs_off.is_none_or(|off| c > off)) && close(ch).is_none()
    };
    // Open: live, and the connect among the `open_limit` newest by (time, channelId).
    let mut newest: Vec<(u64, &str, u8)> = channels
        .iter()
        .filter_map(|&ch| get(ch, EventType::Connect).map(|t| (t, CHANNELS[ch as usize], ch)))
        .collect();
    newest.sort_unstable_by(|a, b| b.cmp(a));
    let open = newest.iter().take(open_limit(config)).any(|(_, _, ch)| live(*ch));
    // Held by an online observation at T: no offline observation and no close later than T.
    let held = obs_on.is_some_and(|on| {
        obs_off.is_none_or(|off| off <= on) && channels.iter().all(|&ch| close(ch).is_none_or(|t| t <= on))
    });
    open || held
}

proptest! {

    #[test]
    fn order_does_not_matter((config, evs, shuffled) in (config(), events()).prop_flat_map(|(c, e)| {
        (Just(c), Just(e.clone()), Just(e).prop_shuffle())
    })) {
        let (a, b) = (run(config, &evs), run(config, &shuffled));
        prop_assert_eq!(state(&a), state(&b));
        prop_assert_eq!(answers(&a), answers(&b));
        prop_assert_eq!(a.stats().events, b.stats().events);
    }

    #[test]
    fn duplicates_change_nothing(
        (config, evs, extra) in (config(), events()).prop_flat_map(|(c, e)| {
            let n = e.len().max(1);
            (Just(c), Just(e), proptest::collection::vec(0..n, 0..20))
        }),
        seed in any::<u64>(),
    ) {
        let base = run(config, &evs);
        let mut dup = evs.clone();
        for (k, i) in extra.iter().enumerate() {
            if let Some(ev) = evs.get(*i) {
                // Insert copies anywhere, including long after the original and after its close.
                let at = (seed.wrapping_add(k as u64 * 7919) % (dup.len() as u64 + 1)) as usize;
                dup.insert(at, ev.clone());
            }
        }
        let with_dups = run(config, &dup);
        prop_assert_eq!(state(&base), state(&with_dups));
        prop_assert_eq!(answers(&base), answers(&with_dups));
    }

    #[test]
    fn redelivery_never_changes_answers_even_beyond_the_bound(
        evs in events(), starts in proptest::collection::vec(0..40u64, 40),
        again in proptest::collection::vec(any::<prop::sample::Index>(), 0..30),
        keep in 0..3u32, takeover in any::<bool>(), close_on_disconnect in any::<bool>(),
        open in 1..4u32,
    ) {
        // Broker-made channels: connect, then disconnect, then tcpclean, one time each.
        let evs: Vec<Ev> = evs
            .into_iter()
            .map(|e| Ev { time: starts[(e.client * 10 + e.channel) as usize] * 3 + e.kind_rank(), ..e })
            .collect();
        let config = Config {
            tombstones_per_client: keep,
            takeover,
            close_on_disconnect,
            max_open_channels: open,
            ..Config::default()
        };
        let mut e = run(config, &evs);
        // Beyond the bound a dropped channel can come back as a close-only record (its tcpclean
        // arrives after the horizon); redeliveries may then fill in its details, but nothing
        // opens: the online answers are fixed.
        let online = |e: &StatusEngine| {
            let each: Vec<bool> = CLIENTS.iter().map(|c| e.is_online(c)).collect();
            (each, e.online_clients(None, None, None), e.count_online(Some("GID_a")), e.stats().online)
        };
        let before = online(&e);
        for i in again.iter().filter(|_| !evs.is_empty()) {
            prop_assert_eq!(i.get(&evs).apply(&mut e), None);
        }
        prop_assert_eq!(before, online(&e));
    }

    #[test]
    fn a_client_holds_at_most_open_limit_plus_tombstones_channels(
        evs in events(), more in events(), keep in 0..3u32, takeover in any::<bool>(),
        close_on_disconnect in any::<bool>(), open in 1..4u32,
    ) {
        let config = Config {
            tombstones_per_client: keep,
            takeover,
            close_on_disconnect,
            max_open_channels: open,
            ..Config::default()
        };
        let bound = |e: &StatusEngine| -> Result<(), TestCaseError> {
            for (i, c) in CLIENTS.iter().enumerate() {
                let Some(status) = e.client(c) else { continue };
                let held = status.channels.len();
                let open_now = status.channels.iter().filter(|ch| ch.state == ChannelState::Open).count();
                // An observed client also keeps its two newest closes (docs/semantics.md).
                let observed = evs.iter().chain(&more).any(|e| e.client as usize == i && e.kind == EventType::Observe);
                let extra = if observed { 2 } else { 0 };
                prop_assert!(open_now <= open_limit(&config), "{} open", open_now);
                prop_assert!(held <= open_limit(&config) + keep as usize + extra, "{} holds {} channels", c, held);
                // Tombstones beyond the bound: only the newest connect, kept for takeover (and the
                // newest closes of an observed client).
                prop_assert!(held - open_now <= (keep as usize).max(1 + extra), "{} tombstones", held - open_now);
            }
            Ok(())
        };
        let (a, b) = (run(config, &evs), run(config, &more));
        bound(&a)?;
        let mut m = a.clone();
        m.merge(&b).unwrap();
        bound(&m)?;
        bound(&StatusEngine::restore(&m.snapshot()).unwrap())?;
    }

    #[test]
    fn the_index_key_changes_nothing_but_where_clients_sit(
        config in config(), evs in events(), more in events(), key in any::<[u8; 16]>()
    ) {
        let key = IndexKey::from_bytes(key);
        let mut fixed = StatusEngine::new(config).unwrap();
        let mut keyed = StatusEngine::new(config).unwrap().with_index_key(key);
        for ev in &evs {
            prop_assert_eq!(ev.apply(&mut fixed), ev.apply(&mut keyed));
        }
        prop_assert_eq!(answers(&keyed), answers(&fixed));
        prop_assert_eq!(keyed.snapshot(), fixed.snapshot());
        // Keyed later, or restored under the key: the same engine, going on the same way.
        let mut rekeyed = fixed.clone().with_index_key(key);
        let mut restored = StatusEngine::restore_keyed(&fixed.snapshot(), key).unwrap();
        for ev in &more {
            let t = ev.apply(&mut fixed);
            prop_assert_eq!(&ev.apply(&mut rekeyed), &t);
            prop_assert_eq!(&ev.apply(&mut restored), &t);
        }
        prop_assert_eq!(rekeyed.snapshot(), fixed.snapshot());
        prop_assert_eq!(restored.snapshot(), fixed.snapshot());
    }

    #[test]
    fn snapshot_round_trip_is_identity(config in config(), evs in events(), more in events()) {
        let mut e = run(config, &evs);
        let bytes = e.snapshot();
        let mut r = StatusEngine::restore(&bytes).unwrap();
        prop_assert_eq!(&r.snapshot(), &bytes);
        prop_assert_eq!(answers(&r), answers(&e));
        prop_assert_eq!(r.stats(), e.stats());
        // ... and both continue identically.
        for ev in &more {
            prop_assert_eq!(ev.apply(&mut e), ev.apply(&mut r));
        }
        prop_assert_eq!(e.snapshot(), r.snapshot());
    }

    #[test]
    fn merge_is_a_join(config in config(), a in events(), b in events(), c in events()) {
        let (ea, eb, ec) = (run(config, &a), run(config, &b), run(config, &c));
        let merged = |x: &StatusEngine, y: &StatusEngine| {
            let mut m = x.clone();
            m.merge(y).unwrap();
            m
        };
        let ab = merged(&ea, &eb);
        prop_assert_eq!(state(&ab), state(&merged(&eb, &ea)));
        prop_assert_eq!(state(&merged(&ab, &ec)), state(&merged(&ea, &merged(&eb, &ec))));
        prop_assert_eq!(state(&merged(&ea, &ea)), state(&ea));
        let both: Vec<Ev> = a.iter().chain(&b).cloned().collect();
        let direct = run(config, &both);
        prop_assert_eq!(state(&ab), state(&direct));
        prop_assert_eq!(answers(&ab), answers(&direct));
    }

    #[test]
    fn batch_equals_one_by_one(config in config(), evs in events()) {
        let one = run(config, &evs);
        let mut batch = StatusEngine::new(config).unwrap();
        let jsonl: String = evs.iter().map(|e| e.json() + "\n").collect();
        let report = batch.ingest_many(jsonl.as_bytes());
        prop_assert!(report.errors.is_empty());
        prop_assert_eq!(one.snapshot(), batch.snapshot());
        prop_assert_eq!(report.applied, one.stats().applied);
        let mut json = StatusEngine::new(config).unwrap();
        for ev in evs.iter().filter(|e| e.kind != EventType::Observe) {
            json.ingest_json(ev.json().as_bytes(), None).unwrap();
        }
        let plain: Vec<Ev> = evs.iter().filter(|e| e.kind != EventType::Observe).cloned().collect();
        prop_assert_eq!(run(config, &plain).snapshot(), json.snapshot());
        // Streaming the transitions out changes nothing else: same state, same transitions.
        let mut each = StatusEngine::new(config).unwrap();
        let mut streamed = Vec::new();
        let counts = each.ingest_many_each(jsonl.as_bytes(), None, |t| streamed.push(t.to_transition()));
        prop_assert_eq!(each.snapshot(), batch.snapshot());
        prop_assert!(counts.transitions.is_empty());
        prop_assert_eq!(&streamed, &report.transitions.to_vec());
        prop_assert_eq!((counts.applied, counts.duplicates, counts.late), (report.applied, report.duplicates, report.late));
    }

    #[test]
    fn agrees_with_the_naive_model(config in config(), evs in events()) {
        let e = run(config, &evs);
        let mut online = 0;
        for c in 0..CLIENTS.len() as u8 {
            let want = model_online(&config, &evs, c);
            prop_assert_eq!(e.is_online(CLIENTS[c as usize]), want, "client {}", CLIENTS[c as usize]);
            online += u64::from(want);
        }
        prop_assert_eq!(e.count_online(None), online);
    }

    #[test]
    fn each_close_shows_the_smallest_time_and_reason(config in config(), evs in events()) {
        // The naive model of a reason: per channel, the smallest (time, reason) of its
        // tcpcleans, no reason (or "") smallest; nothing is compacted (ten channels per client).
        let e = run(config, &evs);
        for (c, id) in CLIENTS.iter().enumerate() {
            let mut want: BTreeMap<&str, (u64, Option<&str>)> = BTreeMap::new();
            for ev in evs.iter().filter(|ev| ev.client as usize == c && ev.kind == EventType::TcpClean) {
                let r = ev.reason.map(|i| REASONS[i as usize]).filter(|r| !r.is_empty());
                let slot = want.entry(CHANNELS[ev.channel as usize]).or_insert((ev.time, r));
                *slot = (*slot).min((ev.time, r));
            }
            let got: BTreeMap<String, Option<String>> = e
                .client(id)
                .map(|s| s.channels.into_iter().map(|ch| (ch.channel_id, ch.reason)).collect())
                .unwrap_or_default();
            for (ch, reason) in &got {
                let model = want.get(ch.as_str()).and_then(|w| w.1);
                prop_assert_eq!(reason.as_deref(), model, "{} {}", id, ch);
            }
            prop_assert!(want.keys().all(|ch| got.contains_key(*ch)));
        }
    }

    #[test]
    fn transitions_track_the_status(config in config(), evs in events()) {
        // With a grace, transitions track the reported status (online or pending); an online
        // transition with `offline_since` stands for an offline and an online one.
        let mut e = StatusEngine::new(config).unwrap();
        let (mut status, mut since) = (BTreeMap::new(), 0);
        for ev in &evs {
            let id = CLIENTS[ev.client as usize];
            let before = *status.get(id).unwrap_or(&false);
            match ev.apply(&mut e) {
                Some(t) => {
                    if t.offline_since.is_some() {
                        prop_assert!(before && t.online && config.offline_grace_ms > 0);
                        since += 1;
                    } else {
                        prop_assert_eq!(t.online, !before);
                    }
                    prop_assert_eq!(&t.client_id, id);
                    prop_assert_eq!(reported(&e, id), t.online);
                    status.insert(id, t.online);
                }
                None => prop_assert_eq!(reported(&e, id), before),
            }
        }
        let s = e.stats();
        prop_assert_eq!(s.went_online - s.went_offline - since, s.online + s.pending_offline.unwrap_or(0));
    }
}
