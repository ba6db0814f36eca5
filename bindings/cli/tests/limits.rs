//! The line limit (`--max-line-bytes`): an over-long line is one rejected line with its number,
//! skipped without being held, and the lines after it are applied. Memory is checked by running
//! the binary under an address-space limit far below what holding the line would take.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};

use common::{ok, run, scratch, BIN};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

/// NULs in the over-long line: 64 MiB, which the reader used to hold (in a 128 MiB buffer).
const NULS: u64 = 64 << 20;

/// Address space for the binary under test, in KiB: enough for it with a 4 MiB chunk, far from
/// enough to hold the over-long line.
const ULIMIT_KB: u32 = 64 << 10;

fn connect(n: u32) -> String {
    format!(r#"{{"clientId":"GID_a@@@d{n}","channelId":"c{n}","eventType":"connect","time":{n}}}"#) + "\n"
}

/// Line 1 good, line 2 `NULS` NULs, lines 3 and 4 good.
fn stream() -> impl Read + Send {
    std::io::Cursor::new(connect(1))
        .chain(std::io::repeat(0).take(NULS))
        .chain(std::io::Cursor::new(format!("\n{}{}", connect(3), connect(4))))
}

/// Runs the binary under `ulimit -v` with `input` on stdin.
fn run_limited(args: &[&str], mut input: impl Read + Send + 'static) -> Output {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {ULIMIT_KB} && exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = std::io::copy(&mut input, &mut stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn assert_one_too_long(doc: &Value, file: &str, line: u64, max: u64) {
    let rejected = &doc["rejected"];
    assert_eq!(rejected["total"], 1, "{rejected}");
    let r = &rejected["lines"][0];
    assert_eq!((r["file"].as_str(), r["line"].as_u64()), (Some(file), Some(line)), "{r}");
    assert_eq!((r["code"].as_str(), &r["field"]), (Some("invalid_json"), &Value::Null));
    assert_eq!(
        r["message"],
        format!(
            "invalid JSON: line longer than {max} bytes, skipped unread (--max-line-bytes raises the limit)"
        )
    );
}

#[cfg(target_os = "linux")]
#[test]
fn replay_skips_a_64_mib_line_in_bounded_memory_and_applies_the_rest() {
    let out = run_limited(&["replay", "--format", "json", "--max-line-bytes", "4096", "-"], stream());
    let doc: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_one_too_long(&doc, "<stdin>", 2, 4096);
    assert_eq!(doc["lines"], 4);
    assert_eq!(doc["online"]["clients"], serde_json::json!(["GID_a@@@d1", "GID_a@@@d3", "GID_a@@@d4"]));
    // The engine counts the line as the rejected input it is.
    assert_eq!((doc["stats"]["events"].as_u64(), doc["stats"]["rejected"].as_u64()), (Some(4), Some(1)));
}

#[cfg(target_os = "linux")]
#[test]
fn check_reports_a_64_mib_line_once_in_bounded_memory() {
    // The default limit (1 MiB).
    let out = run_limited(&["check", "-"], stream());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout,
        "<stdin>:2: invalid_json -: invalid JSON: line longer than 1048576 bytes, skipped unread \
         (--max-line-bytes raises the limit)\n"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("checked 4 lines in 1 input: 1 invalid (3 valid, 0 blank)"), "{stderr}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_gzip_bomb_of_nuls_is_skipped_in_bounded_memory() {
    let dir = scratch("gzbomb");
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    std::io::copy(&mut stream(), &mut enc).unwrap();
    let gz = enc.finish().unwrap();
    assert!(gz.len() < 1 << 20, "{} bytes", gz.len());
    let path = dir.join("bomb.jsonl.gz");
    std::fs::write(&path, &gz).unwrap();
    let name = path.to_str().unwrap();
    let out = run_limited(&["replay", "--format", "json", name], std::io::empty());
    let doc: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_one_too_long(&doc, name, 2, 1 << 20);
    assert_eq!(doc["online"]["count"], 3);
}

#[test]
fn a_line_at_the_limit_is_read_and_one_byte_more_is_not() {
    let dir = scratch("limit");
    let line = connect(7);
    let len = line.len() - 1;
    let path = dir.join("one.jsonl");
    std::fs::write(&path, format!("{line}{line}")).unwrap();
    let name = path.to_str().unwrap();
    let at = len.to_string();
    let doc: Value =
        serde_json::from_str(&ok(&run(&["replay", "--format", "json", "--max-line-bytes", &at, name])))
            .unwrap();
    assert_eq!((doc["rejected"]["total"].as_u64(), doc["stats"]["applied"].as_u64()), (Some(0), Some(1)));
    let under = (len - 1).to_string();
    let doc: Value =
        serde_json::from_str(&ok(&run(&["replay", "--format", "json", "--max-line-bytes", &under, name])))
            .unwrap();
    assert_eq!(doc["rejected"]["total"], 2);
    assert_eq!(doc["online"]["count"], 0);
    let out = run(&["check", "--max-line-bytes", &under, name]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<_> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| l[name.len()..].to_string()).collect();
    let msg = format!("invalid_json -: invalid JSON: line longer than {under} bytes");
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with(&format!(":1: {msg}")) && lines[1].starts_with(&format!(":2: {msg}")),
        "{lines:?}"
    );
}

#[test]
fn the_limit_must_be_between_1_byte_and_1_gib() {
    for bad in ["0", "1073741825"] {
        for cmd in ["replay", "check"] {
            let out = run(&[cmd, "--max-line-bytes", bad, "-"]);
            assert_eq!(out.status.code(), Some(2), "{cmd} {bad}");
            let msg = String::from_utf8(out.stderr).unwrap();
            assert!(msg.contains("--max-line-bytes must be between 1 and 1073741824"), "{msg}");
        }
    }
}

#[test]
fn the_output_flushes_the_report_of_an_over_long_line_at_once() {
    // `check` says so before skipping the line, which may never end (`check /dev/zero`): the
    // report is on stdout while the input is still open. Input is read a chunk at a time, so
    // the line is found once a chunk's worth of it has come.
    let mut child = Command::new(BIN)
        .args(["check", "--max-line-bytes", "16", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&vec![0u8; mqtt_status_cli::input::CHUNK + 1]).unwrap();
    stdin.flush().unwrap();
    let mut first = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    while !first.ends_with('\n') {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "stdout ended: {first}");
        first.push(byte[0] as char);
    }
    assert!(
        first.starts_with("<stdin>:1: invalid_json -: invalid JSON: line longer than 16 bytes"),
        "{first}"
    );
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(1));
}
