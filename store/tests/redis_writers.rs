//! Multi-writer equivalence (SPEC §8), on a standalone Redis and on a Redis Cluster: a generated
//! stream (duplicates, late redeliveries, takeover traffic) split at random among 4 writer
//! threads, each with its own `StatusStore` handle, racing on the same clients. Afterwards every
//! query equals one engine's on the whole stream; the feed holds exactly the transitions the
//! writers were returned (one per flip of the shared state) and ends at each client's status;
//! on a stream of a few hot clients, compare-and-set conflicts did happen (the retry path ran).

mod common;

use std::sync::Barrier;

use common::{
    assert_feed_tracks, assert_same, config, engine, feed, fresh_prefix, open, servers, stream, Rng,
};
use mqtt_status::{Config, Transition};

/// Runs 4 writers over `lines`; returns every transition they were returned, and the conflicts.
fn race(
    base: &str,
    prefix: &str,
    cfg: Config,
    lines: &[String],
    seed: u64,
    max_batch: u64,
) -> (Vec<Transition>, u64) {
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
                    barrier.wait();
                    let mut i = 0;
                    while i < part.len() {
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
                    (got, store.conflicts())
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut conflicts = 0;
        for h in handles {
            let (got, c) = h.join().unwrap();
            all.extend(got);
            conflicts += c;
        }
        (all, conflicts)
    })
}

fn check(base: &str, name: &str, cfg: Config, lines: &[String], seed: u64, max_batch: u64) -> u64 {
    let prefix = fresh_prefix("writers");
    let (returned, conflicts) = race(base, &prefix, cfg, lines, seed, max_batch);
    let one = engine(cfg, lines);
    let store = open(base, &prefix, cfg);
    assert_same(&store, &one, name);
    let fed = feed(&store);
    assert_feed_tracks(&fed, &one, name);
    let key = |t: &Transition| (t.client_id.clone(), t.time, t.online, t.channel_id.clone());
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
