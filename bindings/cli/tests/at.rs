//! `replay --at TIME` answers as of an event time, exactly as the core does with only the
//! earlier events.

mod common;

use common::{generate, online_list, replay_json, scratch};
use mqtt_status::StatusEngine;
use mqtt_status_cli::timefmt::format_time;

#[test]
fn at_before_start_end_and_midpoint() {
    let dir = scratch("at");
    let g = generate(
        &dir,
        "a",
        &["--clients", "200", "--seed", "21", "--duplicates", "0.2", "--invalid", "0.01"],
    );
    let truth = g.truth();
    let first = truth["firstEventTime"].as_u64().unwrap();
    let last = truth["lastEventTime"].as_u64().unwrap();
    let invalid = truth["invalid"].as_u64().unwrap();

    let before = replay_json(&[g.log_str(), "--at", &(first - 1).to_string()]);
    assert_eq!(before["online"]["count"], 0);
    assert_eq!(before["stats"]["applied"], 0);
    assert_eq!(before["stats"]["rejected"], invalid, "bad lines are still reported");
    assert_eq!(before["skipped"], truth["lines"].as_u64().unwrap() - invalid);
    assert_eq!(before["at"], first - 1);

    let end = replay_json(&[g.log_str(), "--at", &format_time(last)]);
    assert_eq!(online_list(&end), g.truth_online());
    assert_eq!(end["skipped"], 0);

    // Midpoint: the core fed only the lines whose event time is <= T (and the bad lines).
    let mid = first + (last - first) / 2;
    let log = std::fs::read(&g.log).unwrap();
    let mut kept = Vec::new();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        match mqtt_status::with_notification(line, None, 256, |n| n.time) {
            Ok(t) if t > mid => continue,
            _ => {
                kept.extend_from_slice(line);
                kept.push(b'\n');
            }
        }
    }
    let mut engine = StatusEngine::default();
    engine.ingest_many(&kept);
    for at in [mid.to_string(), format_time(mid)] {
        let doc = replay_json(&[g.log_str(), "--at", &at]);
        assert_eq!(online_list(&doc), engine.online_clients(None, None, None), "--at {at}");
        assert_eq!(doc["stats"], serde_json::to_value(engine.stats()).unwrap(), "--at {at}");
        let n = doc["online"]["count"].as_u64().unwrap();
        assert!(n > 0 && n < 200, "a midpoint has some clients online: {n}");
    }
}

#[test]
fn at_rejects_a_bad_time() {
    let out = common::run(&["replay", "-", "--at", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ISO-8601"));
}
