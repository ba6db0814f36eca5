//! Helpers shared by the integration tests: run the built binary, make scratch files,
//! generate logs.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

/// The `mqtt-status` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mqtt-status");

/// A fresh scratch directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{test}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary with `args` and no stdin.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).stdin(Stdio::null()).output().expect("run mqtt-status")
}

/// Runs the binary with `args`, feeding `input` on stdin.
pub fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mqtt-status");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Asserts success and returns stdout as text.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Runs `replay --format json` with `args` and parses the document.
pub fn replay_json(args: &[&str]) -> Value {
    let mut all = vec!["replay", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(&run(&all))).expect("replay json parses")
}

/// A generated log and its truth file.
pub struct Generated {
    /// The log.
    pub log: PathBuf,
    /// The truth file.
    pub truth: PathBuf,
}

impl Generated {
    /// The parsed truth document.
    pub fn truth(&self) -> Value {
        serde_json::from_slice(&std::fs::read(&self.truth).unwrap()).unwrap()
    }

    /// The log path as text.
    pub fn log_str(&self) -> &str {
        self.log.to_str().unwrap()
    }

    /// Ids the truth says are online, sorted.
    pub fn truth_online(&self) -> Vec<String> {
        let t = self.truth();
        let mut ids: Vec<String> = t["status"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.as_bool().unwrap())
            .map(|(k, _)| k.clone())
            .collect();
        ids.sort();
        ids
    }
}

/// Runs `generate` with `extra` args into `dir`.
pub fn generate(dir: &std::path::Path, name: &str, extra: &[&str]) -> Generated {
    let log = dir.join(format!("{name}.jsonl"));
    let truth = dir.join(format!("{name}.truth.json"));
    let mut args = vec!["generate", "-o", log.to_str().unwrap(), "--truth", truth.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(&run(&args));
    Generated { log, truth }
}

/// The online list of a replay document.
pub fn online_list(doc: &Value) -> Vec<String> {
    doc["online"]["clients"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}
