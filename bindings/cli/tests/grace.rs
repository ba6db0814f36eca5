//! `replay --grace`, `generate --flap` and observation lines (SPEC §9).
//!
//! The law checked on a generated stream with flapping devices: with a grace, the offline
//! periods shorter than the grace (the flaps) give no transitions, every other offline period is
//! reported exactly once (an offline transition, the `offlineSince` of the reconnect that ended
//! it, or still pending at the end), and the answers are those without a grace. The number of
//! flaps comes from an independent reading of the log (below), not from the engine.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{generate, ok, online_list, replay_json, run, run_stdin, scratch};
use mqtt_status::EventType;
use serde_json::Value;

const GRACE: u64 = 30_000;

/// The offline periods of every client in an in-order log (no jitter, no duplicates), read
/// without the engine: a client is offline from the close that leaves it no open channel to its
/// next connect. Returns (periods that ended by a reconnect shorter than `grace`, all periods
/// that ended by a reconnect, clients offline at the end).
fn offline_periods(log: &[u8], grace: u64) -> (u64, u64, u64) {
    #[derive(Default)]
    struct Client {
        open: BTreeSet<String>,
        closed: BTreeSet<String>,
        offline_since: Option<u64>,
    }
    let mut events = Vec::new();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let _ = mqtt_status::with_notification(line, None, 256, |n| {
            events.push((n.client_id.to_string(), n.time, n.channel_id.to_string(), n.event_type));
        });
    }
    // Per client in time order; a connect before a close of the same time (a flash reconnect's
    // order in the generator).
    events.sort_by_key(|(c, t, _, e)| (c.clone(), *t, *e != EventType::Connect));
    let mut clients: BTreeMap<String, Client> = BTreeMap::new();
    let (mut short, mut ended) = (0, 0);
    for (client, time, channel, kind) in events {
        let c = clients.entry(client).or_default();
        match kind {
            EventType::Connect if !c.closed.contains(&channel) => {
                if let Some(since) = c.offline_since.take() {
                    ended += 1;
                    short += u64::from(time - since < grace);
                }
                c.open.insert(channel);
            }
            EventType::TcpClean => {
                c.closed.insert(channel.clone());
                if c.open.remove(&channel) && c.open.is_empty() {
                    c.offline_since = Some(time);
                }
            }
            _ => {}
        }
    }
    let offline_at_end = clients.values().filter(|c| c.offline_since.is_some()).count() as u64;
    (short, ended, offline_at_end)
}

fn stat(doc: &Value, key: &str) -> u64 {
    doc["stats"][key].as_u64().unwrap_or_else(|| panic!("stats.{key} in {doc}"))
}

#[test]
fn a_grace_drops_exactly_the_flaps_shorter_than_it_and_keeps_the_answers() {
    let dir = scratch("grace");
    let args = ["--clients", "1500", "--seed", "17", "--duplicates", "0", "--jitter", "0", "--flap", "0.3"];
    let g = generate(&dir, "flapping", &args);
    let log = std::fs::read(&g.log).unwrap();
    let (flaps, ended, offline_at_end) = offline_periods(&log, GRACE);
    // The stream really flaps: the generator's natural short gaps (a third of its 2 s – 2 h gaps)
    // plus the 30 % of session ends that --flap turns into flaps.
    let calm = generate(&dir, "calm", &args[..args.len() - 2]);
    let (calm_flaps, _, _) = offline_periods(&std::fs::read(&calm.log).unwrap(), GRACE);
    assert!(
        flaps > 1000 && flaps > calm_flaps + calm_flaps / 4,
        "flaps {flaps}, without --flap {calm_flaps}"
    );

    let exact = replay_json(&[g.log_str()]);
    let graced = replay_json(&[g.log_str(), "--grace", "30000"]);
    // The answers do not depend on the grace, and are the generator's truth.
    assert_eq!(online_list(&graced), online_list(&exact));
    assert_eq!(online_list(&graced), g.truth_online());
    assert_eq!(graced["groups"], exact["groups"]);
    assert_eq!(graced["online"]["count"], exact["online"]["count"]);
    assert_eq!(graced["config"]["offlineGraceMs"], 30000);
    assert!(exact.get("grace").is_none(), "no grace report without --grace");

    // Without a grace every offline period is two transitions (in an in-order log).
    assert_eq!(stat(&exact, "wentOffline"), ended + offline_at_end);
    assert_eq!(stat(&exact, "wentOnline"), stat(&exact, "clients") + ended);
    // With it, the flaps give none; every other period is reported once.
    let report = &graced["grace"];
    let unreported = report["unreportedOfflines"].as_u64().unwrap();
    let pending = stat(&graced, "pendingOffline");
    assert_eq!(stat(&graced, "wentOnline"), stat(&exact, "wentOnline") - flaps);
    assert_eq!(stat(&graced, "wentOffline") + unreported + pending, stat(&exact, "wentOffline") - flaps);
    // The replay confirmed at its end what had lasted the grace by then (its latest event).
    assert_eq!(report["confirmedAtEnd"].as_u64().unwrap() + pending, offline_at_end);
    assert!(unreported > 0 && report["graceMs"] == 30000);
}

#[test]
fn generate_flap_zero_is_the_generator_without_flaps() {
    let dir = scratch("flap0");
    let plain = generate(&dir, "plain", &["--clients", "50", "--seed", "3"]);
    let zero = generate(&dir, "zero", &["--clients", "50", "--seed", "3", "--flap", "0"]);
    assert_eq!(std::fs::read(&plain.log).unwrap(), std::fs::read(&zero.log).unwrap());
    assert_eq!(std::fs::read(&plain.truth).unwrap(), std::fs::read(&zero.truth).unwrap());
    let out = run(&["generate", "--clients", "5", "--flap", "1.5"]);
    assert_eq!(out.status.code(), Some(2), "a fraction above 1 is a usage error");
}

const OBSERVED: &str = concat!(
    r#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":1000}"#,
    "\n",
    r#"{"observe":{"clientId":"GID_a@@@d1","online":false,"time":5000}}"#,
    "\n",
    r#"{"observe":{"clientId":"GID_a@@@d2","online":true,"time":6000}}"#,
    "\n",
);

#[test]
fn observation_lines_are_replayed_and_checked() {
    let doc = serde_json::from_str::<Value>(&ok(&run_stdin(
        &["replay", "--format", "json", "-"],
        OBSERVED.as_bytes(),
    )))
    .unwrap();
    assert_eq!(online_list(&doc), vec!["GID_a@@@d2"], "offline at 5000 closed c1; d2 observed online");
    assert_eq!(doc["stats"]["applied"], 3);
    let out = run_stdin(&["check", "-"], OBSERVED.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = run_stdin(&["check", "-"], br#"{"observe":{"clientId":"a","online":"yes","time":1}}"#);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("invalid_field online"));
}

#[test]
fn a_grace_conflicting_with_a_snapshot_is_refused_and_a_store_takes_one() {
    let dir = scratch("grace-refused");
    let snap = dir.join("s.bin");
    let input = dir.join("in.jsonl");
    std::fs::write(&input, OBSERVED).unwrap();
    ok(&run(&["replay", input.to_str().unwrap(), "--grace", "1000", "--save", snap.to_str().unwrap()]));
    let out = run(&["replay", "--restore", snap.to_str().unwrap(), "--grace", "2000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--grace 2000 (snapshot: 1000)"));
    // A status store keeps a grace (observation lines included): the same document as in memory.
    let store = format!("file:{}", dir.join("store").display());
    let args = ["replay", input.to_str().unwrap(), "--grace", "1000", "--format", "json"];
    let memory: serde_json::Value = serde_json::from_str(&ok(&run(&args))).unwrap();
    let stored: serde_json::Value =
        serde_json::from_str(&ok(&run(&[&args[..], &["--store", &store]].concat()))).unwrap();
    let mut stored = stored.as_object().unwrap().clone();
    assert_eq!(stored.remove("store").unwrap(), store.as_str());
    assert_eq!(serde_json::Value::Object(stored), memory);
}
