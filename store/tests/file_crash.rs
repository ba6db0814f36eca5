//! File store under crashes: a writer killed with SIGKILL at random points (many runs), and a
//! writer that dies at each step of a compaction. After each death the store reopens holding
//! every acknowledged call (and at most the one call in flight), nothing counted twice; fed again
//! from the first unacknowledged line, it ends exactly where one engine fed the stream once does.

mod file_common;

use std::io::{BufRead, BufReader};
use std::path::Path;

use file_common::*;
use mqtt_status::Config;
use mqtt_status_store::StatusStore;

const CLIENTS: u64 = 40;

/// The two crash tests take turns: a child forked by one test's thread holds copies of the other
/// thread's open files until it execs, the store's locked `LOCK` among them, so the other test's
/// next opener could briefly find the store locked (`store_locked`, rightly: see
/// docs/store.md, "The file backend": "One process at a time").
static TURNS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Redeliveries come from the last 400 lines (about ten events of a client back) and clients
/// remember 16 closed channels, so a line fed twice — the crash's unacknowledged call, fed
/// again — is a duplicate, as SPEC §8 promises "within the tombstone bound". Beyond it the
/// engine itself differs: a redelivery older than what a client remembers may enter as a new
/// channel, and feeding it twice can then move the client's horizon (seen with redeliveries from
/// anywhere in the stream: 14 of 300 random re-fed windows changed a horizon, 0 with this
/// window).
const REDELIVERY_WINDOW: usize = 400;

fn config() -> Config {
    Config { takeover: true, tombstones_per_client: 16, ..Config::default() }
}

/// Child: feeds the stream in `STREAM_FILE` from line `START` into `STORE_URL` in random calls,
/// printing `begin I` before and `ack I` after each call (I: the call's last line).
#[test]
fn child_ingests() {
    if !is_child() {
        return;
    }
    let var = |k: &str| std::env::var(k).unwrap();
    let lines: Vec<String> =
        std::fs::read_to_string(var("STREAM_FILE")).unwrap().lines().map(String::from).collect();
    let start: usize = var("START").parse().unwrap();
    let store = StatusStore::open(&var("STORE_URL"), config()).unwrap_or_else(|e| {
        println!("child panicked: open: {e}");
        panic!("{e}")
    });
    let mut rng = Rng::new(start as u64 ^ var("SEED").parse::<u64>().unwrap());
    let mut at = start;
    while at < lines.len() {
        // Now and then a batch over 32 KiB: its sync overlaps applying it.
        let big = rng.chance(4);
        let n = if big { 250 + rng.below(150) as usize } else { 1 + rng.below(25) as usize };
        let n = n.min(lines.len() - at);
        let chunk = &lines[at..at + n];
        match if big { 1 } else { rng.below(3) } {
            0 => {
                for (i, l) in chunk.iter().enumerate() {
                    println!("begin {}", at + i);
                    let _ = store.ingest_json(l.as_bytes(), None);
                    println!("ack {}", at + i);
                }
            }
            1 => {
                println!("begin {}", at + n - 1);
                if let Err(e) = store.ingest_many(chunk.join("\n").as_bytes()) {
                    println!("child panicked: ingest_many: {e}");
                    panic!("{e}");
                }
                println!("ack {}", at + n - 1);
            }
            _ => {
                println!("begin {}", at + n - 1);
                let items: Vec<(&[u8], Option<&str>)> = chunk.iter().map(|l| (l.as_bytes(), None)).collect();
                store.ingest_items(&items).unwrap();
                println!("ack {}", at + n - 1);
            }
        }
        at += n;
    }
    println!("child-finished");
}

/// What a child printed before it died.
#[derive(Debug, Default)]
struct Run {
    acked: Option<usize>,
    begun: Option<usize>,
    finished: bool,
}

/// Runs a child from `start`; SIGKILLs it after `kill_after` acks (with a little jitter) if set.
fn run_child(
    dir: &Path,
    query: &str,
    stream_file: &Path,
    seed: u64,
    start: usize,
    kill_after: Option<(usize, u64)>,
    crash_at: Option<&str>,
) -> Run {
    let mut env = vec![
        ("STORE_URL", url(dir, query)),
        ("STREAM_FILE", stream_file.display().to_string()),
        ("START", start.to_string()),
        ("SEED", seed.to_string()),
    ];
    if let Some(step) = crash_at {
        env.push(("MQTT_STATUS_FILE_STORE_CRASH_AT", step.to_string()));
    }
    let mut kid = child("child_ingests", &env).spawn().unwrap();
    let out = BufReader::new(kid.stdout.take().unwrap());
    let mut run = Run::default();
    let mut acks = 0;
    let mut killed = false;
    for line in out.lines() {
        let line = line.unwrap();
        // libtest may print its own text before the child's first line.
        let word = |w: &str| line.split(w).nth(1).and_then(|n| n.trim().parse::<usize>().ok());
        if let Some(i) = word("begin ") {
            run.begun = Some(i);
        } else if let Some(i) = word("ack ") {
            run.acked = Some(i);
            acks += 1;
        } else if line.contains("child-finished") {
            run.finished = true;
        } else if line.contains("panicked") || line.contains("FAILED") {
            panic!("the child failed: {line}");
        }
        if let Some((n, jitter_us)) = kill_after {
            if acks >= n && !killed {
                std::thread::sleep(std::time::Duration::from_micros(jitter_us));
                kid.kill().unwrap();
                killed = true;
            }
        }
    }
    kid.wait().unwrap();
    run
}

/// Reopens the store after a death and checks it against the engine on the acknowledged prefix
/// (or that plus the call in flight). `durable` is how many lines an earlier check found in the
/// store (a call in flight may have landed before its death: its lines are fed again, as
/// duplicates). Returns the next line to feed and how many lines the store now holds.
fn check_after_death(
    dir: &Path,
    query: &str,
    lines: &[String],
    start: usize,
    durable: usize,
    run: &Run,
) -> (usize, usize) {
    let ids = client_ids(CLIENTS);
    let acked = run.acked.map_or(start, |a| a + 1).max(durable);
    let begun = run.begun.map_or(start, |b| b + 1).max(acked);
    let store = StatusStore::open(&url(dir, query), config()).unwrap();
    let got = view_store(&store, &ids);
    let (a, ta) = engine_of(config(), &lines[..acked]);
    let (b, tb) = engine_of(config(), &lines[..begun]);
    let feed = feed(&store);
    let (va, vb) = (view_engine(&a, &ids), view_engine(&b, &ids));
    let next = run.acked.map_or(start, |a| a + 1);
    if got == va {
        assert_eq!(feed, ta, "the feed after a death at line {acked}");
        (next, acked)
    } else {
        assert!(
            got == vb,
            "state is the acknowledged prefix ({acked}) or that and the call in flight ({begun}):\n{}\n---\n{}",
            diff(&got, &va),
            diff(&got, &vb)
        );
        assert_eq!(feed, tb, "the feed after a death with a call in flight");
        (next, begun)
    }
}

fn finish_and_compare(dir: &Path, query: &str, lines: &[String], from: usize) {
    let store = StatusStore::open(&url(dir, query), config()).unwrap();
    store.ingest_many(lines[from..].join("\n").as_bytes()).unwrap();
    let ids = client_ids(CLIENTS);
    let (one, transitions) = engine_of(config(), lines);
    let (got, want) = (view_store(&store, &ids), view_engine(&one, &ids));
    assert!(got == want, "the end differs from one engine's: {}", diff(&got, &want));
    assert_eq!(feed(&store), transitions, "every flip once in the feed");
}

#[test]
fn sigkill_at_random_points_loses_nothing_and_counts_nothing_twice() {
    let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
    let seed = 11;
    let lines = stream_within(seed, CLIENTS, 6_000, REDELIVERY_WINDOW);
    let work = tempfile::tempdir().unwrap();
    let stream_file = work.path().join("stream.jsonl");
    std::fs::write(&stream_file, lines.join("\n")).unwrap();
    let dir = work.path().join("store");
    // Small enough that some kills land in or around a compaction.
    let query = "?compact_bytes=30000";
    let mut rng = Rng::new(seed);
    let (mut start, mut durable) = (0, 0);
    let mut runs = 0;
    loop {
        let kill = (1 + rng.below(12) as usize, rng.below(3000));
        let run = run_child(&dir, query, &stream_file, seed + runs, start, Some(kill), None);
        runs += 1;
        eprintln!("sigkill run {runs}: start {start} durable {durable} kill {kill:?} {run:?}");
        if run.finished {
            start = lines.len();
            break;
        }
        (start, durable) = check_after_death(&dir, query, &lines, start, durable, &run);
        assert!(runs < 2_000, "no progress");
    }
    assert!(runs >= 20, "only {runs} runs");
    eprintln!("{runs} runs killed with SIGKILL");
    finish_and_compare(&dir, query, &lines, start);
}

#[test]
fn death_at_every_compaction_step_recovers() {
    let _turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
    let seed = 5;
    let lines = stream_within(seed, CLIENTS, 2_500, REDELIVERY_WINDOW);
    let work = tempfile::tempdir().unwrap();
    let stream_file = work.path().join("stream.jsonl");
    std::fs::write(&stream_file, lines.join("\n")).unwrap();
    for step in ["snap-tmp", "snap-renamed", "snap-synced", "log-created", "cleaned"] {
        let dir = work.path().join(step);
        let query = "?compact_bytes=6000";
        let (mut start, mut durable) = (0, 0);
        let mut deaths = 0;
        // Several compactions per step: every other run dies at its first one; the runs
        // between (killed after a few calls) get past it, since a death before the rename
        // leaves the log as long as it was.
        let mut rng = Rng::new(seed);
        let mut runs = 0;
        while start < lines.len() {
            let crash = runs % 2 == 0;
            let kill = (!crash).then(|| (1 + rng.below(15) as usize, 0));
            let run = run_child(&dir, query, &stream_file, seed + runs, start, kill, crash.then_some(step));
            runs += 1;
            if run.finished {
                start = lines.len();
                break;
            }
            deaths += usize::from(crash);
            eprintln!("{step} run {runs}: start {start} durable {durable} {run:?}");
            (start, durable) = check_after_death(&dir, query, &lines, start, durable, &run);
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            let gens = names.iter().filter(|n| n.starts_with("snap-") || n.starts_with("log-")).count();
            assert!(
                gens <= 2 && !names.iter().any(|n| n.ends_with(".tmp")),
                "{step}: one generation left: {names:?}"
            );
            assert!(runs < 500, "no progress");
        }
        assert!(deaths >= 3, "{step}: only {deaths} deaths");
        eprintln!("{step}: {deaths} deaths");
        finish_and_compare(&dir, query, &lines, start);
    }
}
