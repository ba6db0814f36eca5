//! `generate --source X` writes each broker's format with its truth, and `replay --source X` /
//! `check --source X` read it: with duplicates, reordering and malformed lines, 0 wrong.
//! Also: the small logs in `tests/sources/` (which the Python and JS tests replay) are exactly
//! what the generator writes for them.

mod common;

use common::{generate, ok, online_list, replay_json, run, scratch};

const SOURCES: [&str; 6] = ["aliyun", "aws", "emqx", "azure-mqtt", "aliyun-sdk", "auto"];

/// The arguments of the committed fixtures (`tests/sources/README.md` says the same).
const FIXTURE_ARGS: [&str; 12] = [
    "--clients",
    "10",
    "--seed",
    "18",
    "--events-per-client",
    "6..14",
    "--duplicates",
    "0.3",
    "--jitter",
    "5000",
    "--invalid",
    "0.03",
];

fn noisy(source: &str) -> Vec<&str> {
    let mut a = vec!["--source", source, "--clients", "300", "--seed", "21", "--duplicates", "0.4"];
    a.extend(["--jitter", "8000", "--invalid", "0.02", "--events-per-client", "4..40"]);
    a
}

#[test]
fn every_source_replays_to_the_truth() {
    let dir = scratch("sources");
    for source in SOURCES {
        let g = generate(&dir, source, &noisy(source));
        let truth = g.truth();
        assert!(truth["duplicates"].as_u64().unwrap() > 100, "{source}: redeliveries");
        for policy in
            [&[][..], &["--takeover"], &["--close-on-disconnect"], &["--tombstones-per-client", "3"]]
        {
            let mut args = vec![g.log_str(), "--source", source];
            args.extend_from_slice(policy);
            let doc = replay_json(&args);
            assert_eq!(online_list(&doc), g.truth_online(), "{source} {policy:?}: online clients");
            let s = &doc["stats"];
            assert_eq!(s["rejected"], truth["invalid"], "{source} {policy:?}: rejected");
            if policy.is_empty() {
                assert_eq!(s["applied"], truth["events"], "{source}: applied");
                let redelivered = s["duplicates"].as_u64().unwrap() + s["late"].as_u64().unwrap();
                assert_eq!(redelivered, truth["duplicates"].as_u64().unwrap(), "{source}: duplicates + late");
                assert_eq!(s["events"], truth["lines"], "{source}: events");
            }
        }
        // `check` finds exactly the malformed lines.
        let out = run(&["check", "--source", source, "-q", g.log_str()]);
        let bad = String::from_utf8(out.stdout).unwrap().lines().count() as u64;
        assert_eq!(bad, truth["invalid"].as_u64().unwrap(), "{source}: check");
    }
}

#[test]
fn vendor_lines_are_reordered_and_need_their_source() {
    let dir = scratch("sources-order");
    for source in ["aws", "emqx", "azure-mqtt", "aliyun-sdk"] {
        let g = generate(&dir, source, &noisy(source));
        let kind = mqtt_status::Source::parse(source).unwrap();
        let text = std::fs::read_to_string(&g.log).unwrap();
        let mut times = Vec::new();
        for line in text.lines() {
            let _ =
                mqtt_status::with_notification_as(kind, line.as_bytes(), None, 256, |n| times.push(n.time));
            // Read as ApsaraMQ lines, none of them is a notification.
            assert!(mqtt_status::with_notification(line.as_bytes(), None, 256, |_| ()).is_err(), "{line}");
        }
        let inversions = times.windows(2).filter(|w| w[1] < w[0]).count();
        assert!(inversions > 50, "{source}: {inversions} lines arrive before an earlier event's");
        // No ApsaraMQ goodbye in a vendor log: one close per connection.
        let truth = g.truth();
        assert_eq!(
            times.len() as u64,
            truth["events"].as_u64().unwrap() + truth["duplicates"].as_u64().unwrap()
        );
    }
}

#[test]
fn committed_fixtures_are_what_the_generator_writes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sources");
    for source in ["aws", "emqx", "azure-mqtt", "aliyun-sdk", "auto"] {
        let dir = scratch("sources-fixture");
        let mut args = vec!["--source", source];
        args.extend(FIXTURE_ARGS);
        let g = generate(&dir, source, &args);
        for (made, name) in [(&g.log, format!("{source}.jsonl")), (&g.truth, format!("{source}.truth.json"))]
        {
            let committed = std::fs::read(root.join(&name)).unwrap_or_default();
            assert!(
                committed == std::fs::read(made).unwrap(),
                "tests/sources/{name} differs from `mqtt-status generate {}`: regenerate it \
                 (tests/sources/README.md)",
                args.join(" ")
            );
        }
    }
}

#[test]
fn source_with_restore_or_a_store_is_refused() {
    let dir = scratch("sources-restore");
    let g = generate(&dir, "a", &["--clients", "5"]);
    let snap = dir.join("s.bin");
    ok(&run(&["replay", g.log_str(), "--save", snap.to_str().unwrap()]));
    let out = run(&["replay", "--restore", snap.to_str().unwrap(), "--source", "aws"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    // The default source is no conflict.
    ok(&run(&["replay", "--restore", snap.to_str().unwrap(), "--source", "aliyun"]));
    let bad = run(&["generate", "--source", "mqtt"]);
    assert_eq!(bad.status.code(), Some(2));
    // A status store reads the aliyun format only (docs/store.md): said, not ignored.
    let store = format!("file:{}", dir.join("store").display());
    let out = run(&["replay", "--store", &store, "--source", "aws", g.log_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("source"));
}

#[test]
fn a_client_shows_its_close_reasons_in_table_and_json() {
    let dir = scratch("sources-why");
    let log = dir.join("aws.jsonl");
    let line = |s: &str, t: u64, ev: &str, reason: &str| {
        format!(
            r#"{{"clientId":"dev-1","sessionIdentifier":"{s}","eventType":"{ev}","timestamp":{t},"disconnectReason":"{reason}"}}"#
        )
    };
    let text = [
        line("s1", 1000, "connected", ""),
        line("s1", 2000, "disconnected", "MQTT_KEEP_ALIVE_TIMEOUT"),
        line("s2", 3000, "connected", ""),
    ]
    .join("\n");
    std::fs::write(&log, text).unwrap();
    let path = log.to_str().unwrap();
    let table = ok(&run(&["replay", "--source", "aws", "--client", "dev-1", path]));
    let header = table.lines().find(|l| l.trim_start().starts_with("channel")).unwrap();
    assert!(header.trim_end().ends_with("ip  reason"), "{table}");
    let s1 = table.lines().find(|l| l.trim_start().starts_with("s1 ")).unwrap();
    assert!(s1.trim_end().ends_with("-   MQTT_KEEP_ALIVE_TIMEOUT"), "{table}");
    let s2 = table.lines().find(|l| l.trim_start().starts_with("s2 ")).unwrap();
    assert!(s2.trim_end().ends_with("-   -"), "{table}");
    let doc = replay_json(&["--source", "aws", "--client", "dev-1", path]);
    let chans = &doc["clients"]["dev-1"]["channels"];
    assert_eq!(chans[0]["reason"], "MQTT_KEEP_ALIVE_TIMEOUT");
    assert!(chans[1].get("reason").is_none(), "{chans}");
    // Without reasons the table has no reason column.
    std::fs::write(&log, line("s1", 1000, "connected", "")).unwrap();
    let table = ok(&run(&["replay", "--source", "aws", "--client", "dev-1", path]));
    let header = table.lines().find(|l| l.trim_start().starts_with("channel")).unwrap();
    assert!(header.trim_end().ends_with("  ip"), "{table}");
}
