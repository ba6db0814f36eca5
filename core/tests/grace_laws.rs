//! The grace's law (SPEC §9, docs/semantics.md "Grace"): on a stream in time order, the
//! transitions with `offline_grace_ms` are the transitions without it minus the flaps shorter
//! than the grace, once each `offline_since` is expanded into the offline transition it stands
//! for — whenever the host advances its clock, and once it has advanced past the last close.
//!
//! And whatever the history (any order, observations, merges, snapshots), advancing past every
//! deadline confirms every pending offline, once.
//!
//! Cases: 256 by default; `PROPTEST_CASES=5000 cargo test --release --test grace_laws` for more.

use std::collections::BTreeMap;

use mqtt_status::{Config, EventType, Notification, StatusEngine, Transition, MAX_TIME};
use proptest::prelude::*;

const CLIENTS: [&str; 3] = ["GID_a@@@d1", "GID_a@@@d2", "solo"];
const CHANNELS: [&str; 6] = ["c0", "c1", "c2", "c3", "c4", "c5"];

/// One event of a time-ordered stream.
#[derive(Debug, Clone)]
struct Ev {
    client: usize,
    channel: usize,
    kind: EventType,
    time: u64,
}

/// Per client up to six sessions (one channel each), starting 1..40 ms after the previous one
/// started and lasting 1..40 ms, so sessions overlap (flash reconnects) or leave gaps of any
/// length; all events sorted by time (ties: client, then connects first).
fn stream() -> impl Strategy<Value = Vec<Ev>> {
    let sessions = proptest::collection::vec((1..40u64, 1..40u64), 0..6);
    proptest::collection::vec(sessions, CLIENTS.len()).prop_map(|clients| {
        let mut evs = Vec::new();
        for (client, sessions) in clients.into_iter().enumerate() {
            let mut start = 0;
            for (channel, (after, len)) in sessions.into_iter().enumerate() {
                start += after;
                evs.push(Ev { client, channel, kind: EventType::Connect, time: start });
                evs.push(Ev { client, channel, kind: EventType::TcpClean, time: start + len });
            }
        }
        evs.sort_by_key(|e| (e.time, e.client, e.kind != EventType::Connect, e.channel));
        evs
    })
}

fn notification(e: &Ev) -> Notification<'static> {
    let (client_id, channel_id) = (CLIENTS[e.client], CHANNELS[e.channel]);
    Notification { client_id, channel_id, event_type: e.kind, time: e.time, client_ip: None, reason: None }
}

/// Each client's flips as (online, time), in order.
type Flips = BTreeMap<String, Vec<(bool, u64)>>;

fn flips<'a>(ts: impl IntoIterator<Item = &'a Transition>) -> Flips {
    let mut out = Flips::new();
    for t in ts {
        let list = out.entry(t.client_id.clone()).or_default();
        // An online flip that ends an unreported offline period stands for both.
        if let Some(since) = t.offline_since {
            list.push((false, since));
        }
        list.push((t.online, t.time));
    }
    out
}

/// The exact flips minus the flaps shorter than `grace`: an offline at t followed by an online
/// before t + grace.
fn without_short_flaps(exact: &Flips, grace: u64) -> Flips {
    let mut out = Flips::new();
    for (client, list) in exact {
        let mut kept: Vec<(bool, u64)> = Vec::new();
        for &(online, time) in list {
            match kept.last() {
                Some(&(false, off)) if online && time < off + grace => {
                    kept.pop();
                }
                _ => kept.push((online, time)),
            }
        }
        if !kept.is_empty() {
            out.insert(client.clone(), kept);
        }
    }
    out
}

proptest! {
    #[test]
    fn grace_removes_exactly_the_short_flaps(
        evs in stream(),
        grace in 1..30u64,
        advances in proptest::collection::vec(any::<bool>(), 36),
    ) {
        let mut exact = StatusEngine::default();
        let mut graced = StatusEngine::new(Config { offline_grace_ms: grace, ..Config::default() }).unwrap();
        let (mut ts, mut gs) = (Vec::new(), Vec::new());
        for (i, e) in evs.iter().enumerate() {
            ts.extend(exact.ingest(notification(e)).unwrap());
            gs.extend(graced.ingest(notification(e)).unwrap());
            // The host's clock, read now and then: the time of the latest event.
            if advances[i % advances.len()] {
                gs.extend(graced.advance(e.time).unwrap());
            }
            for c in CLIENTS {
                // The exact judgment does not change with a grace; a pending client is offline.
                prop_assert_eq!(graced.is_online(c), exact.is_online(c));
                let pending = graced.client(c).and_then(|s| s.pending_offline_since);
                prop_assert!(pending.is_none() || !graced.is_online(c));
            }
        }
        gs.extend(graced.advance(MAX_TIME).unwrap());
        prop_assert_eq!(flips(&gs), without_short_flaps(&flips(&ts), grace));
        // The exact judgment is the grace's too, and nothing stays pending.
        prop_assert_eq!(graced.online_clients(None, None, None), exact.online_clients(None, None, None));
        prop_assert_eq!(graced.stats().pending_offline, Some(0));
    }

    #[test]
    fn advancing_past_every_deadline_confirms_every_pending_offline_once(
        a in proptest::collection::vec(any_event(), 0..40),
        b in proptest::collection::vec(any_event(), 0..40),
        grace in 1..30u64,
        mid in 0..80u64,
    ) {
        let config = Config { offline_grace_ms: grace, tombstones_per_client: 2, ..Config::default() };
        let run = |evs: &[(usize, usize, u8, u64)], advance: Option<u64>| {
            let mut e = StatusEngine::new(config).unwrap();
            for (i, &(client, channel, kind, time)) in evs.iter().enumerate() {
                let id = CLIENTS[client];
                match kind {
                    0 | 1 => {
                        let kind = if kind == 0 { EventType::Connect } else { EventType::TcpClean };
                        e.ingest(notification(&Ev { client, channel, kind, time })).unwrap();
                    }
                    _ => {
                        e.observe(id, kind == 2, time).unwrap();
                    }
                }
                if let Some(now) = advance.filter(|_| i == evs.len() / 2) {
                    e.advance(now).unwrap();
                }
            }
            e
        };
        let mut m = run(&a, Some(mid));
        m.merge(&run(&b, None)).unwrap();
        let mut r = StatusEngine::restore(&m.snapshot()).unwrap();
        for e in [&mut m, &mut r] {
            let pending: Vec<(String, u64)> = CLIENTS
                .iter()
                .filter_map(|c| e.client(c).and_then(|s| s.pending_offline_since).map(|t| (c.to_string(), t)))
                .collect();
            prop_assert_eq!(e.stats().pending_offline, Some(pending.len() as u64));
            let mut confirmed: Vec<(String, u64)> =
                e.advance(MAX_TIME).unwrap().into_iter().map(|t| (t.client_id, t.time)).collect();
            confirmed.sort();
            let mut want = pending.clone();
            want.sort();
            prop_assert_eq!(confirmed, want);
            prop_assert_eq!(e.stats().pending_offline, Some(0));
            prop_assert!(e.advance(MAX_TIME).unwrap().is_empty());
        }
    }
}

/// Any event of a small world, in no particular order: (client, channel, kind, time) with kind 0
/// connect, 1 tcpclean, 2 online observation, 3 offline observation.
fn any_event() -> impl Strategy<Value = (usize, usize, u8, u64)> {
    (
        0..CLIENTS.len(),
        0..CHANNELS.len(),
        prop_oneof![3 => Just(0u8), 3 => Just(1), 1 => Just(2), 1 => Just(3)],
        0..60u64,
    )
}
