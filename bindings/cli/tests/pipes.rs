//! A reader that goes away early (`… | head`): output commands end quietly with status 0;
//! `check` still exits with its verdict, so `set -o pipefail` sees the bad lines.

mod common;

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};

use common::{generate, scratch, BIN};

/// Runs the binary, reads the first `keep` bytes of its stdout and closes the pipe. The output
/// must be far larger than a pipe's buffer (64 KiB), so that the binary is still writing when
/// the pipe closes: the tests assert it.
fn close_early(args: &[&str], keep: usize) -> (ExitStatus, Vec<u8>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mqtt-status");
    let mut head = vec![0u8; keep];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    // The pipe's read end is closed here, when the stdout handle drops.
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (child.wait().unwrap(), head, stderr)
}

/// A log of 40,000 clients, all online: a replay lists them all in well over 1 MB.
fn fleet() -> String {
    let dir = scratch("pipes");
    let g = generate(&dir, "p", &["--clients", "40000", "--events-per-client", "1", "--online", "1"]);
    g.log_str().to_string()
}

#[test]
fn replay_and_generate_end_quietly_with_0_when_the_reader_goes_away() {
    let log = fleet();
    assert!(std::fs::metadata(&log).unwrap().len() > 4 << 20);
    for args in [
        &["replay", "--format", "json", &log][..],
        &["replay", "--limit", "0", &log],
        &["generate", "--clients", "40000"],
    ] {
        let (status, head, stderr) = close_early(args, 10);
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
        assert_eq!(head.len(), 10);
    }
}

#[test]
fn check_keeps_its_verdict_when_the_reader_goes_away() {
    let dir = scratch("pipes-check");
    let bad = dir.join("bad.jsonl");
    // 100,000 bad lines: about 7 MB of report.
    std::fs::write(&bad, "{not json\n".repeat(100_000)).unwrap();
    let name = bad.to_str().unwrap();
    let first = format!("{name}:1: invalid_json -: ");
    let (status, head, stderr) = close_early(&["check", name], first.len());
    assert_eq!(String::from_utf8(head).unwrap(), first);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("checked ") && stderr.contains(" before standard output was closed: "),
        "{stderr}"
    );
    assert!(stderr.contains(" invalid so far (0 valid, 0 blank)"), "{stderr}");
    let (status, _, stderr) = close_early(&["check", "--quiet", name], 1);
    assert_eq!((status.code(), stderr.as_str()), (Some(1), ""));
}
