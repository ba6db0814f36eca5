//! The Rust writer of the cross-language multi-writer test (`tests/store/run.sh`); the Python
//! (`writer.py`) and Node (`writer.mjs`) writers speak the same protocol:
//!
//! `store-writer write URL OPTIONS_JSON PART SEED`: opens the store, prints `ready`, waits for a
//! line on stdin (the start signal: every writer races from the same moment), then ingests the
//! lines of the file PART — a random mix (seeded) of single `ingest` calls and `ingest_many`
//! batches of 1–60 lines — and prints every transition it was returned, one JSON object a line,
//! then `done`.
//!
//! `store-writer snapshot URL OPTIONS_JSON OUT`: writes the store's `snapshot()` bytes to OUT.
//!
//! `store-writer feed URL OPTIONS_JSON PART SEED START` (the crash test, `crash.py`): ingests the
//! lines of PART from index START on, the same random mix (seeded by SEED + START), and after
//! each call returns prints `ack N` (lines before N are committed: a consumer would acknowledge
//! them now), then `done`. The test kills it with SIGKILL and starts it again from the last ack.
//! A line `{"advance":T}` in PART is an `advance(T)` call (a host's timer), not an event.

use std::io::{BufRead, Write};

use mqtt_status::{Config, Error, Transition};
use mqtt_status_store::StatusStore;

/// xorshift64*: the same sequence as the other writers' (see writer.py, writer.mjs).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn write(store: &StatusStore, part: &str, seed: u64) -> Result<Vec<Transition>, Error> {
    let lines: Vec<&str> = part.lines().filter(|l| !l.is_empty()).collect();
    let mut rng = Rng(seed | 1);
    let mut got = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if rng.below(4) == 0 {
            got.extend(store.ingest_json(lines[i].as_bytes(), None)?);
            i += 1;
        } else {
            let n = (1 + rng.below(60) as usize).min(lines.len() - i);
            let report = store.ingest_many(lines[i..i + n].join("\n").as_bytes())?;
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            got.extend(report.transitions.to_vec());
            i += n;
        }
    }
    Ok(got)
}

/// A line `{"advance":T}` of a part (the crash test's grace round): call `advance(T)`.
fn advance_to(line: &str) -> Option<u64> {
    line.strip_prefix("{\"advance\":")?.strip_suffix('}')?.parse().ok()
}

/// At most `want` lines, stopping before the next `advance` line.
fn batch_len(rest: &[&str], want: usize) -> usize {
    rest.iter().take(want).take_while(|l| advance_to(l).is_none()).count().max(1)
}

/// The `feed` command: ingest from `start`, acknowledging each call once it returned; a line
/// `{"advance":T}` is an `advance(T)` call, acknowledged the same way.
fn feed(store: &StatusStore, part: &str, seed: u64, start: usize) -> Result<(), Error> {
    let lines: Vec<&str> = part.lines().filter(|l| !l.is_empty()).collect();
    let mut rng = Rng((seed + start as u64) | 1);
    let mut out = std::io::stdout().lock();
    let mut i = start;
    while i < lines.len() {
        if let Some(now) = advance_to(lines[i]) {
            store.advance(now)?;
            i += 1;
        } else if rng.below(4) == 0 {
            store.ingest_json(lines[i].as_bytes(), None)?;
            i += 1;
        } else {
            let n = batch_len(&lines[i..], 1 + rng.below(60) as usize);
            let report = store.ingest_many(lines[i..i + n].join("\n").as_bytes())?;
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            i += n;
        }
        // A failed print (the test gone) ends the writer like a kill would.
        if writeln!(out, "ack {i}").and_then(|_| out.flush()).is_err() {
            std::process::exit(1);
        }
    }
    let _ = writeln!(out, "done").and_then(|_| out.flush());
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fail = |what: &str, e: &dyn std::fmt::Display| -> ! {
        eprintln!("store-writer: {what}: {e}");
        std::process::exit(1)
    };
    let want = match args.get(1).map(String::as_str) {
        Some("write") => 6,
        Some("feed") => 7,
        _ => 5,
    };
    if args.len() != want {
        fail(
            "usage",
            &"store-writer write URL OPTIONS_JSON PART SEED | feed URL OPTIONS_JSON PART SEED START | snapshot URL OPTIONS_JSON OUT",
        );
    }
    let config = Config::from_json(args[3].as_bytes()).unwrap_or_else(|e| fail("options", &e));
    let store = StatusStore::open(&args[2], config).unwrap_or_else(|e| fail("open", &e));
    match args[1].as_str() {
        "snapshot" => {
            let bytes = store.snapshot().unwrap_or_else(|e| fail("snapshot", &e));
            std::fs::write(&args[4], bytes).unwrap_or_else(|e| fail("write", &e));
        }
        "write" => {
            let part = std::fs::read_to_string(&args[4]).unwrap_or_else(|e| fail("read", &e));
            let seed: u64 = args[5].parse().unwrap_or_else(|e| fail("seed", &e));
            let mut out = std::io::stdout().lock();
            writeln!(out, "ready").and_then(|_| out.flush()).unwrap_or_else(|e| fail("stdout", &e));
            let mut go = String::new();
            std::io::stdin().lock().read_line(&mut go).unwrap_or_else(|e| fail("stdin", &e));
            let got = write(&store, &part, seed).unwrap_or_else(|e| fail("ingest", &e));
            for t in got {
                let line = serde_json::to_string(&t).unwrap_or_else(|e| fail("json", &e));
                writeln!(out, "{line}").unwrap_or_else(|e| fail("stdout", &e));
            }
            writeln!(out, "done").unwrap_or_else(|e| fail("stdout", &e));
        }
        "feed" => {
            let part = std::fs::read_to_string(&args[4]).unwrap_or_else(|e| fail("read", &e));
            let seed: u64 = args[5].parse().unwrap_or_else(|e| fail("seed", &e));
            let start: usize = args[6].parse().unwrap_or_else(|e| fail("start", &e));
            feed(&store, &part, seed, start).unwrap_or_else(|e| fail("ingest", &e));
        }
        other => fail("unknown command", &other),
    }
}
