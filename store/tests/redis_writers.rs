//! Multi-writer equivalence (SPEC §8), on a standalone Redis and on a Redis Cluster: a generated
//! stream (duplicates, late redeliveries, takeover traffic) split at random among 4 writer
//! threads, each with its own `StatusStore` handle, racing on the same clients. Afterwards every
//! query equals one engine's on the whole stream; the feed holds exactly the transitions the
//! writers were returned (one per flip of the shared state) and ends at each client's status;
//! on a stream of a few hot clients, compare-and-set conflicts did happen (the retry path ran).
//! With a grace (SPEC §9), observation lines in the stream and `advance` calls interleaved among
//! the writers: the same, against one engine fed the whole stream and advanced to the latest
//! time any writer advanced to; the feed ends at each client's *reported* status. And `advance`
//! racing an ingest on the same client, many times: the offline is reported exactly once.

mod common;

use std::sync::Barrier;

use common::{
    assert_feed_tracks, assert_same, config, engine, feed, fresh_prefix, open, servers, stream, Rng,
};
use mqtt_status::{Config, Transition};

/// The `"time":N` of a line (an event or an observation).
fn line_time(line: &str) -> u64 {
    let rest = &line[line.find("\"time\":").expect("a time") + 7..];
    rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())].parse().unwrap()
}

/// Runs 4 writers over `lines`; returns every transition they were returned, and the conflicts.
/// With `advance`, each writer also calls `advance` now and then with a time near the line it
/// is at (writers disagree on "now", as hosts do); the latest time advanced to is returned.
fn race(
    base: &str,
    prefix: &str,
    cfg: Config,
    lines: &[String],
    seed: u64,
    max_batch: u64,
    advance: bool,
) -> (Vec<Transition>, u64, Option<u64>) {
    const WRITERS: usize = 4;
    let mut rng = Rng(seed | 1);
    let mut parts: Vec<Vec<&str>> = vec![Vec::new(); WRITERS];
    for l in lines {
        parts[rng.below(WRITERS as u64) as usize].push(l);
    }
    let barrier = Barrier::new(WRITERS);
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(w, part)| {
                let barrier = &barrier;
                s.spawn(move || {
                    let store = open(base, prefix, cfg);
                    let mut rng = Rng((seed ^ ((w as u64 + 1) * 0x51ed)) | 1);
                    let mut got = Vec::new();
                    let mut advanced: Option<u64> = None;
                    barrier.wait();
                    let mut i = 0;
                    while i < part.len() {
                        if advance && rng.below(6) == 0 {
                            let now = line_time(part[i]).saturating_sub(rng.below(20_000));
                            got.extend(store.advance(now).unwrap());
                            advanced = advanced.max(Some(now));
                        }
                        if rng.below(5) == 0 {
                            // A single ingest, as a push consumer's listener makes.
                            got.extend(store.ingest_json(part[i].as_bytes(), None).unwrap());
                            i += 1;
                            continue;
                        }
                        let n = (1 + rng.below(max_batch) as usize).min(part.len() - i);
                        let report = store.ingest_many(part[i..i + n].join("\n").as_bytes()).unwrap();
                        assert!(report.errors.is_empty());
                        got.extend(report.transitions.to_vec());
                        i += n;
                    }
                    (got, store.conflicts(), advanced)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut conflicts = 0;
        let mut latest = None;
        for h in handles {
            let (got, c, advanced) = h.join().unwrap();
            all.extend(got);
            conflicts += c;
            latest = latest.max(advanced);
        }
        (all, conflicts, latest)
    })
}

fn check(base: &str, name: &str, cfg: Config, lines: &[String], seed: u64, max_batch: u64) -> u64 {
    check_with(base, name, cfg, lines, seed, max_batch, false)
}

fn check_with(
    base: &str,
    name: &str,
    cfg: Config,
    lines: &[String],
    seed: u64,
    max_batch: u64,
    advance: bool,
) -> u64 {
    let prefix = fresh_prefix("writers");
    let (returned, conflicts, latest) = race(base, &prefix, cfg, lines, seed, max_batch, advance);
    let mut one = engine(cfg, lines);
    if let Some(t) = latest {
        one.advance(t).unwrap();
    }
    let store = open(base, &prefix, cfg);
    assert_same(&store, &one, name);
    let fed = feed(&store);
    assert_feed_tracks(&fed, &one, name);
    let key = |t: &Transition| (t.client_id.clone(), t.time, t.online, t.channel_id.clone(), t.offline_since);
    let (mut a, mut b) = (fed, returned);
    a.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(a.len(), b.len(), "{name}: feed entries vs transitions returned to the writers");
    assert_eq!(a, b, "{name}: feed = what the writers were returned");
    conflicts
}

#[test]
fn four_writers_on_a_fleet_answer_like_one_engine() {
    for (name, base) in servers() {
        for (k, takeover) in [false, true].into_iter().enumerate() {
            let lines = stream(100 + k as u64, 300, 8);
            check(&base, &format!("{name} takeover={takeover}"), config(takeover), &lines, 7 + k as u64, 60);
        }
    }
}

#[test]
fn four_writers_on_hot_clients_conflict_and_retry() {
    for (name, base) in servers() {
        // Six clients, many sessions each, tiny batches: the writers keep colliding.
        let lines = stream(42, 6, 40);
        let conflicts = check(&base, &format!("{name} hot"), config(true), &lines, 3, 4);
        assert!(
            conflicts > 0,
            "{name}: no compare-and-set conflict on a hot stream: the retry path never ran"
        );
        eprintln!("{name}: {} events, {conflicts} conflicts retried", lines.len());
    }
}

/// The stream with observation lines mixed in (about one line in 12): answers the broker's query
/// API might give about a client, at times around its events, some of them contradicting it.
fn with_observations(lines: &[String], seed: u64) -> Vec<String> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::with_capacity(lines.len() * 13 / 12);
    for l in lines {
        out.push(l.clone());
        if rng.below(12) == 0 {
            let id = &l[l.find("\"clientId\":\"").unwrap() + 12..];
            let id = &id[..id.find('"').unwrap()];
            let time = line_time(l) + rng.below(30_000);
            let online = rng.below(2) == 0;
            let obs = format!(r#"{{"observe":{{"clientId":"{id}","online":{online},"time":{time}}}}}"#);
            let at = out.len() - rng.below(out.len().min(50) as u64) as usize;
            out.insert(at, obs);
        }
    }
    out
}

#[test]
fn four_writers_with_grace_observations_and_advances_answer_like_one_engine() {
    for (name, base) in servers() {
        for (k, takeover) in [false, true].into_iter().enumerate() {
            let cfg = Config { offline_grace_ms: 30_000, ..config(takeover) };
            let lines = with_observations(&stream(200 + k as u64, 300, 8), 11 + k as u64);
            let at = format!("{name} grace takeover={takeover}");
            check_with(&base, &at, cfg, &lines, 17 + k as u64, 60, true);
        }
        // Hot clients: advances and ingests keep colliding on the same shards and clients.
        let cfg = Config { offline_grace_ms: 2_000, ..config(true) };
        let lines = with_observations(&stream(43, 6, 40), 5);
        let conflicts = check_with(&base, &format!("{name} grace hot"), cfg, &lines, 9, 4, true);
        eprintln!("{name} grace hot: {} lines, {conflicts} conflicts retried", lines.len());
    }
}

/// One round: a client's offline is pending; `advance` past its deadline races an ingest of the
/// same client on another handle. Either order is an engine's, and the offline is reported
/// exactly once: `reconnect` within the grace gives (flap: nothing, nothing) or (offline,
/// online); a close racing the advance gives one offline, from whichever committed second.
#[test]
fn advance_racing_an_ingest_on_the_same_client_reports_once() {
    const ROUNDS: u64 = 60;
    for (name, base) in servers() {
        let prefix = fresh_prefix("advance-race");
        let cfg = Config { offline_grace_ms: 1_000, ..config(true) };
        let (a, b) = (open(&base, &prefix, cfg), open(&base, &prefix, cfg));
        let ev = |id: &str, ch: &str, kind: &str, t: u64| {
            format!(r#"{{"clientId":"{id}","channelId":"{ch}","eventType":"{kind}","time":{t}}}"#)
        };
        let mut orders = [0u32; 2];
        let mut returned: Vec<Transition> = Vec::new();
        for r in 0..ROUNDS {
            let base_t = 1_000_000 + r * 100_000;
            let id = format!("GID_race@@@d{r}");
            let barrier = Barrier::new(2);
            if r % 2 == 0 {
                // Pending offline, then advance vs a reconnect inside the grace.
                returned.extend(a.ingest_json(ev(&id, "c1", "connect", base_t).as_bytes(), None).unwrap());
                assert_eq!(
                    a.ingest_json(ev(&id, "c1", "tcpclean", base_t + 100).as_bytes(), None).unwrap(),
                    None
                );
                let (adv, ing) = std::thread::scope(|s| {
                    let h = s.spawn(|| {
                        barrier.wait();
                        a.advance(base_t + 1_500).unwrap()
                    });
                    barrier.wait();
                    let t = b.ingest_json(ev(&id, "c2", "connect", base_t + 500).as_bytes(), None).unwrap();
                    (h.join().unwrap(), t)
                });
                returned.extend(adv.iter().cloned().chain(ing.clone()));
                match (adv.as_slice(), &ing) {
                    ([], None) => orders[0] += 1,
                    ([off], Some(on)) if !off.online && on.online && on.offline_since.is_none() => {
                        orders[1] += 1
                    }
                    other => panic!("{name} round {r}: {other:?}"),
                }
            } else {
                // Connected; a close (pending by the old time) vs an advance past its deadline.
                returned.extend(a.ingest_json(ev(&id, "c1", "connect", base_t).as_bytes(), None).unwrap());
                let (adv, ing) = std::thread::scope(|s| {
                    let h = s.spawn(|| {
                        barrier.wait();
                        a.advance(base_t + 1_500).unwrap()
                    });
                    barrier.wait();
                    let t = b.ingest_json(ev(&id, "c1", "tcpclean", base_t + 100).as_bytes(), None).unwrap();
                    (h.join().unwrap(), t)
                });
                returned.extend(adv.iter().cloned().chain(ing.clone()));
                let offs: Vec<&Transition> = adv.iter().chain(ing.iter()).collect();
                assert_eq!(offs.len(), 1, "{name} round {r}: {adv:?} {ing:?}");
                assert!(!offs[0].online && offs[0].time == base_t + 100, "{name} round {r}: {offs:?}");
                orders[usize::from(ing.is_some())] += 1;
            }
            // Nothing stays pending past a deadline the store has advanced beyond.
            let since = b.client(&id).unwrap().unwrap().pending_offline_since;
            assert!(since.is_none_or(|t| t + 1_000 > base_t + 1_500), "{name} round {r}: {since:?}");
        }
        let fed = feed(&a);
        let key = |t: &Transition| (t.client_id.clone(), t.time, t.online);
        let (mut x, mut y) = (fed.clone(), returned);
        x.sort_by_key(key);
        y.sort_by_key(key);
        assert_eq!(x, y, "{name}: the feed holds exactly the transitions returned");
        let ids: Vec<String> = (0..ROUNDS).map(|r| format!("GID_race@@@d{r}")).collect();
        let mut last: std::collections::HashMap<&str, bool> = Default::default();
        for t in &fed {
            let was = last.insert(&t.client_id, t.online).unwrap_or(false);
            assert_ne!(was, t.online, "{name}: {} flipped to {} twice", t.client_id, t.online);
        }
        for id in &ids {
            let c = a.client(id).unwrap().unwrap();
            let reported = c.online || c.pending_offline_since.is_some();
            assert_eq!(
                last.get(id.as_str()).copied().unwrap_or(false),
                reported,
                "{name}: feed ends wrong for {id}"
            );
        }
        eprintln!("{name}: advance-vs-ingest orders seen {orders:?} over {ROUNDS} rounds");
    }
}
