//! Inputs: gzip (single and multi-member, corrupt), stdin, several files in order, CRLF and a
//! missing final newline.

mod common;

use std::io::Write;

use common::{generate, ok, online_list, replay_json, run, run_stdin, scratch};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A replay document without the fields that name the inputs.
fn answers(mut doc: Value) -> Value {
    doc.as_object_mut().unwrap().remove("inputs");
    for r in doc["rejected"]["lines"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("file");
    }
    doc
}

#[test]
fn gzip_plain_and_stdin_agree() {
    let dir = scratch("io");
    let g = generate(&dir, "io", &["--clients", "500", "--seed", "31", "--invalid", "0.01"]);
    let raw = std::fs::read(&g.log).unwrap();
    let plain = replay_json(&[g.log_str()]);
    assert_eq!(online_list(&plain), g.truth_online());

    let gz = dir.join("io.jsonl.gz");
    std::fs::write(&gz, gzip(&raw)).unwrap();
    assert_eq!(answers(replay_json(&[gz.to_str().unwrap()])), answers(plain.clone()));

    // Concatenated gzip members (as `cat a.gz b.gz` makes) are one stream.
    let cut = raw.len() / 2 + raw[raw.len() / 2..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut multi = gzip(&raw[..cut]);
    multi.extend(gzip(&raw[cut..]));
    let multi_path = dir.join("multi.gz");
    std::fs::write(&multi_path, &multi).unwrap();
    assert_eq!(answers(replay_json(&[multi_path.to_str().unwrap()])), answers(plain.clone()));
    assert_eq!(run(&["check", multi_path.to_str().unwrap()]).status.code(), Some(1));

    let out = run_stdin(&["replay", "--format", "json", "-"], &raw);
    let doc: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(doc["inputs"][0], "<stdin>");
    assert_eq!(answers(doc), answers(plain.clone()));
    let out = run_stdin(&["replay", "--format", "json", "-"], &gzip(&raw));
    assert_eq!(answers(serde_json::from_str(&ok(&out)).unwrap()), answers(plain));
}

#[test]
fn corrupt_gzip_is_an_io_error_naming_the_file() {
    let dir = scratch("corrupt");
    let g = generate(&dir, "c", &["--clients", "200", "--seed", "32"]);
    let gz = gzip(&std::fs::read(&g.log).unwrap());
    let truncated = dir.join("truncated.jsonl.gz");
    std::fs::write(&truncated, &gz[..gz.len() / 2]).unwrap();
    let mut flipped = gz.clone();
    let mid = flipped.len() / 2;
    flipped[mid..mid + 64].iter_mut().for_each(|b| *b ^= 0x5a);
    let damaged = dir.join("damaged.jsonl.gz");
    std::fs::write(&damaged, &flipped).unwrap();
    for path in [&truncated, &damaged] {
        let name = path.to_str().unwrap();
        let out = run(&["replay", name]);
        assert_eq!(out.status.code(), Some(3), "{name}");
        let msg = String::from_utf8(out.stderr).unwrap();
        assert!(msg.contains(name) && msg.contains("gzip"), "{msg}");
    }
}

#[test]
fn several_files_replay_in_order_into_one_engine() {
    let dir = scratch("multi");
    let g = generate(&dir, "m", &["--clients", "300", "--seed", "33", "--invalid", "0.02"]);
    let text = std::fs::read_to_string(&g.log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (a, b) = lines.split_at(lines.len() / 3);
    // The second part with CRLF line ends and no final newline.
    let (pa, pb) = (dir.join("part-a.jsonl"), dir.join("part-b.jsonl"));
    std::fs::write(&pa, a.join("\n") + "\n").unwrap();
    std::fs::write(&pb, b.join("\r\n")).unwrap();
    let whole = replay_json(&[g.log_str()]);
    let parts = replay_json(&[pa.to_str().unwrap(), pb.to_str().unwrap()]);
    assert_eq!(parts["stats"], whole["stats"]);
    assert_eq!(online_list(&parts), g.truth_online());
    // Rejected lines are numbered within their own file.
    let split = a.len() as u64;
    let got: Vec<(String, u64)> = parts["rejected"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["file"].as_str().unwrap().to_string(), r["line"].as_u64().unwrap()))
        .collect();
    let want: Vec<(String, u64)> = whole["rejected"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .map(|n| {
            if n <= split {
                (pa.to_str().unwrap().to_string(), n)
            } else {
                (pb.to_str().unwrap().to_string(), n - split)
            }
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}
