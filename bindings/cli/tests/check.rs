//! `mqtt-status check`: one `file:line: code field: message` per bad line, exit codes.

mod common;

use common::{generate, run, run_stdin, scratch};

const MIXED: &str = concat!(
    r#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":1}"#,
    "\n\n",
    "{not json\n",
    r#"{"channelId":"c1","eventType":"connect","time":1}"#,
    "\r\n",
    r#"{"tag":"connect","body":"{\"clientId\":\"GID_a@@@d1\",\"channelId\":\"c2\",\"time\":\"7\"}"}"#,
    "\n",
    r#"{"tag":"tcpclean","body":{"clientId":"GID_a@@@d1","channelId":"c2","eventType":"connect","time":9}}"#,
    "\n",
    r#"{"clientId":"GID_a@@@d1","channelId":"c3","eventType":"ping","time":1}"#,
    "\n",
    r#"{"clientId":"GID_a@@@d1","channelId":"c3","eventType":"tcpclean","time":-4}"#
);

fn expected(name: &str) -> Vec<String> {
    vec![
        format!("{name}:3: invalid_json -: "),
        format!("{name}:4: missing_field clientId: missing field `clientId`"),
        format!("{name}:6: tag_mismatch tag: "),
        format!("{name}:7: unknown_event_type eventType: "),
        format!("{name}:8: invalid_field time: "),
    ]
}

fn assert_report(stdout: &str, name: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    let want = expected(name);
    assert_eq!(lines.len(), want.len(), "{stdout}");
    for (got, want) in lines.iter().zip(&want) {
        assert!(got.starts_with(want.as_str()), "got {got:?}, want prefix {want:?}");
    }
}

#[test]
fn reports_each_bad_line_and_exits_1() {
    let dir = scratch("check");
    let path = dir.join("mixed.jsonl");
    std::fs::write(&path, MIXED).unwrap();
    let name = path.to_str().unwrap();
    let out = run(&["check", name]);
    assert_eq!(out.status.code(), Some(1));
    assert_report(&String::from_utf8(out.stdout).unwrap(), name);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("8 lines") && stderr.contains("5 invalid"), "{stderr}");

    let quiet = run(&["check", "--quiet", name]);
    assert!(quiet.stderr.is_empty());

    let stdin = run_stdin(&["check", "-"], MIXED.as_bytes());
    assert_eq!(stdin.status.code(), Some(1));
    assert_report(&String::from_utf8(stdin.stdout).unwrap(), "<stdin>");
}

#[test]
fn valid_logs_exit_0_and_line_numbers_continue_across_chunks() {
    let dir = scratch("check-ok");
    let g = generate(&dir, "ok", &["--clients", "300", "--seed", "3"]);
    let out = run(&["check", g.log_str()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());

    // A generated log with malformed lines: check finds exactly the generator's count, and
    // the line numbers match the lines replay rejects.
    let bad = generate(&dir, "bad", &["--clients", "2000", "--seed", "4", "--invalid", "0.01"]);
    let out = run(&["check", bad.log_str()]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(report.lines().count() as u64, bad.truth()["invalid"].as_u64().unwrap());
    let doc = common::replay_json(&[bad.log_str()]);
    let from_replay: Vec<String> = doc["rejected"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}:{}:", r["file"].as_str().unwrap(), r["line"]))
        .collect();
    let from_check: Vec<String> =
        report.lines().map(|l| l.split_inclusive(':').take(2).collect::<String>()).collect();
    assert_eq!(from_check, from_replay);
    let text = std::fs::read_to_string(&bad.log).unwrap();
    for prefix in &from_check {
        let n: usize = prefix.trim_end_matches(':').rsplit(':').next().unwrap().parse().unwrap();
        let line = text.lines().nth(n - 1).unwrap();
        assert!(mqtt_status::with_notification(line.as_bytes(), None, 256, |_| ()).is_err(), "{line}");
    }
}

#[test]
fn usage_and_io_errors() {
    assert_eq!(run(&["check"]).status.code(), Some(2), "no FILE");
    assert_eq!(run(&["replay"]).status.code(), Some(2), "no FILE");
    assert_eq!(run(&["replay", "--bogus"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(run(&["check", "-", "-"]).status.code(), Some(2));
    assert_eq!(run(&["generate", "--duplicates", "2"]).status.code(), Some(2));
    assert_eq!(run(&["generate", "--events-per-client", "9..3"]).status.code(), Some(2));
    assert_eq!(run(&["replay", "--tombstones-per-client", "5000", "-"]).status.code(), Some(2));
    assert_eq!(run(&["--help"]).status.code(), Some(0));
    assert_eq!(run(&["replay", "--help"]).status.code(), Some(0));

    let missing = run(&["check", "no/such/file.jsonl"]);
    assert_eq!(missing.status.code(), Some(3));
    let msg = String::from_utf8(missing.stderr).unwrap();
    assert!(msg.contains("no/such/file.jsonl") && msg.contains("no such file"), "{msg}");

    let dir = scratch("check-dir");
    let out = run(&["replay", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("directory"));
}
