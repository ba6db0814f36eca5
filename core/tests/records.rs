//! Laws of per-client records (SPEC §8): round trip, canonical bytes, "a store of records fed in
//! chunks equals one engine" (order, duplicates), join = ingest both, and corrupt records refused.
//!
//! The store model here is the Redis backend's protocol without Redis: a map id -> record; each
//! chunk of events loads the records of the clients it touches into a scratch engine, ingests the
//! chunk and writes the touched clients' records back.

use std::collections::{BTreeMap, BTreeSet};

use mqtt_status::{Config, ErrorCode, EventBatch, EventType, Notification, StatusEngine, Transition};
use proptest::prelude::*;

const CLIENTS: [&str; 4] = ["GID_a@@@d1", "GID_a@@@d2", "GID_b@@@d1", "solo"];
const CHANNELS: [&str; 5] =
    ["2b9b1281046046faafe5e0b458e40001", "2b9b1281046046faafe5e0b458e40002", "ch-3", "ch-4", "CH-5"];
const IPS: [&str; 3] = ["10.0.0.1:1883", "10.0.0.2:40000", "192.168.XX.XX:133XX"];

type Ev = (u8, u8, EventType, u64, Option<u8>);

fn note(e: &Ev) -> Notification<'static> {
    Notification {
        client_id: CLIENTS[e.0 as usize],
        channel_id: CHANNELS[e.1 as usize],
        event_type: e.2,
        time: e.3,
        client_ip: e.4.map(|i| IPS[i as usize]),
        reason: None,
    }
}

fn json(e: &Ev) -> String {
    let n = note(e);
    let mut v = serde_json::json!({
        "clientId": n.client_id, "channelId": n.channel_id, "eventType": n.event_type.as_str(), "time": n.time,
    });
    if let Some(ip) = n.client_ip {
        v["clientIp"] = ip.into();
    }
    v.to_string()
}

fn event() -> impl Strategy<Value = Ev> {
    let kind = prop_oneof![3 => Just(EventType::Connect), 1 => Just(EventType::Disconnect), 2 => Just(EventType::TcpClean)];
    (0..4u8, 0..5u8, kind, 0..40u64, proptest::option::of(0..3u8))
}

/// Events with redeliveries: some events repeated later in the stream.
fn events() -> impl Strategy<Value = Vec<Ev>> {
    (
        proptest::collection::vec(event(), 0..40),
        proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
    )
        .prop_map(|(mut evs, dups)| {
            if !evs.is_empty() {
                for d in dups {
                    let e = evs[d.index(evs.len())];
                    evs.push(e);
                }
            }
            evs
        })
}

fn config() -> impl Strategy<Value = Config> {
    // Five channels per client never exceed the default bound of 8 tombstones (exact laws);
    // a bound of 1 exercises compaction and horizons inside records.
    (any::<bool>(), any::<bool>(), prop_oneof![Just(8u32), Just(1u32)]).prop_map(|(c, t, tombs)| Config {
        close_on_disconnect: c,
        takeover: t,
        tombstones_per_client: tombs,
        ..Config::default()
    })
}

fn run(config: Config, evs: &[Ev]) -> StatusEngine {
    let mut e = StatusEngine::new(config).unwrap();
    for ev in evs {
        e.ingest(note(ev)).unwrap();
    }
    e
}

fn records(e: &StatusEngine) -> BTreeMap<&'static str, Vec<u8>> {
    CLIENTS.iter().filter_map(|c| e.client_record(c).map(|r| (*c, r))).collect()
}

/// The store model: feeds `chunks` (each a JSONL batch) through records; returns the records and
/// every transition in commit order.
fn store(config: Config, chunks: &[Vec<Ev>]) -> (BTreeMap<&'static str, Vec<u8>>, Vec<Transition>) {
    let mut map: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
    let mut flips = Vec::new();
    for chunk in chunks {
        let jsonl: String = chunk.iter().map(|e| json(e) + "\n").collect();
        let batch = EventBatch::from_jsonl(jsonl.as_bytes(), config.max_id_len);
        assert!(batch.errors().is_empty());
        let touched: BTreeSet<&str> = (0..batch.len()).map(|i| batch.client_id(i)).collect();
        let mut scratch = StatusEngine::new(config).unwrap();
        for id in &touched {
            if let Some(r) = map.get(id) {
                scratch.load_record(id, r).unwrap();
            }
        }
        for i in 0..batch.len() {
            flips.extend(scratch.ingest(batch.event(i).1).unwrap());
        }
        for id in touched {
            let id = CLIENTS.iter().find(|c| **c == id).unwrap();
            map.insert(id, scratch.client_record(id).expect("a touched client has a record"));
        }
    }
    (map, flips)
}

/// One engine holding every record of `map`.
fn engine_of(config: Config, map: &BTreeMap<&'static str, Vec<u8>>) -> StatusEngine {
    let mut e = StatusEngine::new(config).unwrap();
    for (id, r) in map {
        e.load_record(id, r).unwrap();
    }
    e
}

fn answers(e: &StatusEngine) -> String {
    let clients: Vec<_> = CLIENTS.iter().map(|c| (e.is_online(c), e.client(c))).collect();
    let mut s = e.stats();
    (s.events, s.applied, s.duplicates, s.late, s.rejected, s.went_online, s.went_offline) =
        (0, 0, 0, 0, 0, 0, 0);
    format!(
        "{clients:?}|{:?}|{}|{:?}|{s:?}",
        e.online_clients(None, None, None),
        e.count_online(Some("GID_a")),
        e.groups()
    )
}

fn chunked(evs: &[Ev], cuts: &[prop::sample::Index]) -> Vec<Vec<Ev>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(evs.len() + 1)).collect();
    at.extend([0, evs.len()]);
    at.sort_unstable();
    at.windows(2).map(|w| evs[w[0]..w[1]].to_vec()).collect()
}

proptest! {
    #[test]
    fn records_round_trip(config in config(), evs in events()) {
        let e = run(config, &evs);
        let map = records(&e);
        let copy = engine_of(config, &map);
        prop_assert_eq!(records(&copy), map.clone());
        prop_assert_eq!(answers(&copy), answers(&e));
        // Reloading a client's own record over it changes nothing.
        let mut again = copy.clone();
        for (id, r) in &map {
            again.load_record(id, r).unwrap();
        }
        prop_assert_eq!(answers(&again), answers(&e));
    }

    #[test]
    fn chunks_through_records_equal_one_engine(config in config(), evs in events(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let chunks = chunked(&evs, &cuts);
        let (map, flips) = store(config, &chunks);
        let mut one = StatusEngine::new(config).unwrap();
        let mut one_flips = Vec::new();
        for ev in &evs {
            one_flips.extend(one.ingest(note(ev)).unwrap());
        }
        prop_assert_eq!(&map, &records(&one));
        prop_assert_eq!(flips, one_flips);
        prop_assert_eq!(answers(&engine_of(config, &map)), answers(&one));
    }

    #[test]
    fn chunk_order_and_redelivery_do_not_matter(
        config in config().prop_map(|c| Config { tombstones_per_client: 8, ..c }),
        evs in events(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        seed in any::<u64>(),
    ) {
        let mut chunks = chunked(&evs, &cuts);
        // Deterministic shuffle of the chunks, then every chunk redelivered once more at the end.
        let mut s = seed | 1;
        for i in (1..chunks.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            chunks.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let again = chunks.clone();
        chunks.extend(again);
        let (map, _) = store(config, &chunks);
        let one = run(config, &evs);
        prop_assert_eq!(&map, &records(&one), "canonical: equal states give equal bytes");
        prop_assert_eq!(answers(&engine_of(config, &map)), answers(&one));
    }

    #[test]
    fn join_is_ingest_both(config in config().prop_map(|c| Config { tombstones_per_client: 8, ..c }), a in events(), b in events()) {
        let (ea, eb) = (run(config, &a), run(config, &b));
        let both = run(config, &[a.clone(), b.clone()].concat());
        for id in CLIENTS {
            let want = both.client_record(id);
            let got = match (ea.client_record(id), eb.client_record(id)) {
                (Some(ra), Some(rb)) => {
                    let j = StatusEngine::join_records(config, id, &ra, &rb).unwrap();
                    prop_assert_eq!(&StatusEngine::join_records(config, id, &rb, &ra).unwrap(), &j, "commutative");
                    prop_assert_eq!(&StatusEngine::join_records(config, id, &j, &j).unwrap(), &j, "idempotent");
                    Some(j)
                }
                (ra, rb) => ra.or(rb),
            };
            prop_assert_eq!(got, want, "{}", id);
        }
    }

    #[test]
    fn damaged_records_are_refused_and_change_nothing(config in config(), evs in events(), at in any::<prop::sample::Index>(), bit in 0..8u8) {
        let e = run(config, &evs);
        for (id, r) in records(&e) {
            let mut bad = r.clone();
            let i = at.index(bad.len());
            bad[i] ^= 1 << bit;
            let mut target = e.clone();
            let before = answers(&target);
            for (key, bytes) in [(id, &bad[..]), (id, &r[..r.len() - 1]), ("GID_a@@@other", &r[..])] {
                let err = target.load_record(key, bytes).unwrap_err();
                prop_assert_eq!(err.code(), ErrorCode::InvalidSnapshot);
                prop_assert!(err.to_string().contains(key), "{} does not name {}", err, key);
                prop_assert_eq!(answers(&target), before.clone());
            }
        }
    }
}
