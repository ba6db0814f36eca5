//! `replay` agrees with the generator's ground truth, for several seeds, sizes, noise levels
//! and policies.

mod common;

use common::{generate, online_list, replay_json, scratch};

const CASES: &[(&str, &[&str])] = &[
    ("clean", &["--clients", "20", "--seed", "1", "--duplicates", "0", "--jitter", "0"]),
    ("noisy", &["--clients", "60", "--seed", "2", "--duplicates", "0.4", "--jitter", "5000"]),
    ("default", &["--clients", "400", "--seed", "3"]),
    (
        "long-lived",
        &[
            "--clients",
            "150",
            "--seed",
            "4",
            "--events-per-client",
            "40..90",
            "--duplicates",
            "0.5",
            "--jitter",
            "30000",
            "--invalid",
            "0.02",
        ],
    ),
    ("one-event", &["--clients", "80", "--seed", "5", "--events-per-client", "1", "--online", "0.5"]),
    ("all-offline", &["--clients", "50", "--seed", "6", "--online", "0", "--groups", "12"]),
];

#[test]
fn replay_matches_truth_and_counts() {
    let dir = scratch("truth");
    for (name, extra) in CASES {
        let g = generate(&dir, name, extra);
        let truth = g.truth();
        let doc = replay_json(&[g.log_str()]);
        assert_eq!(online_list(&doc), g.truth_online(), "{name}: online clients");
        let s = &doc["stats"];
        assert_eq!(s["online"], truth["onlineCount"], "{name}");
        assert_eq!(s["clients"], truth["generator"]["clients"], "{name}");
        // Every original is applied once; every redelivery is a duplicate, or late when it comes
        // after more than 8 newer sessions of its client closed (its tombstone was dropped).
        assert_eq!(s["applied"], truth["events"], "{name}: applied");
        let redelivered = s["duplicates"].as_u64().unwrap() + s["late"].as_u64().unwrap();
        assert_eq!(redelivered, truth["duplicates"].as_u64().unwrap(), "{name}: duplicates + late");
        assert_eq!(s["rejected"], truth["invalid"], "{name}: rejected");
        assert_eq!(s["events"], truth["lines"], "{name}: events");
        assert_eq!(s["maxTime"], truth["lastEventTime"], "{name}: maxTime");
    }
}

#[test]
fn truth_holds_under_every_policy() {
    let dir = scratch("policies");
    let g =
        generate(&dir, "p", &["--clients", "250", "--seed", "11", "--duplicates", "0.3", "--jitter", "8000"]);
    let expect = g.truth_online();
    for flags in [
        &["--takeover"][..],
        &["--close-on-disconnect"],
        &["--takeover", "--close-on-disconnect"],
        &["--tombstones-per-client", "3"],
    ] {
        let mut args = vec![g.log_str()];
        args.extend_from_slice(flags);
        let doc = replay_json(&args);
        assert_eq!(online_list(&doc), expect, "{flags:?}");
    }
}

#[test]
fn group_filter_restricts_listing_and_count() {
    let dir = scratch("group");
    let g = generate(&dir, "g", &["--clients", "120", "--seed", "8"]);
    let expect: Vec<String> =
        g.truth_online().into_iter().filter(|id| id.starts_with("GID_lamp@@@")).collect();
    let doc = replay_json(&[g.log_str(), "--group", "GID_lamp"]);
    assert_eq!(online_list(&doc), expect);
    assert_eq!(doc["online"]["count"], expect.len());
    assert_eq!(doc["online"]["group"], "GID_lamp");
    let none = replay_json(&[g.log_str(), "--group", "GID_nosuch"]);
    assert_eq!(none["online"]["count"], 0);
}
