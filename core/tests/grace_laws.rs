//! The grace's law (SPEC §9, docs/semantics.md "Grace"): on a stream in time order, the
//! transitions with `offline_grace_ms` are the transitions without it minus the flaps shorter
//! than the grace, once each `offline_since` is expanded into the offline transition it stands
//! for — whenever the host advances its clock, and once it has advanced past the last close.
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
    Notification { client_id, channel_id, event_type: e.kind, time: e.time, client_ip: None }
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
}
