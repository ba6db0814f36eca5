//! `mqtt-status replay`: feeds whole-line chunks of every input to one engine
//! ([`mqtt_status::StatusEngine::ingest_many_each`]) and hands the result to a renderer.

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use mqtt_status::{Config, StatusEngine};

use crate::args::{Format, PolicyArgs, ReplayArgs};
use crate::error::{CliError, EXIT_OK};
use crate::input::{self, Source};
use crate::progress::Progress;
use crate::{render_json, render_table};

/// At most this many rejected lines are kept for the report (all are counted in the stats).
pub const MAX_REJECTED: usize = 10_000;

/// One rejected input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The input's name (`<stdin>` for standard input).
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Stable error code (`invalid_json`, …).
    pub code: String,
    /// The field at fault, if any.
    pub field: Option<String>,
    /// The core's message.
    pub message: String,
}

/// The outcome of a replay, ready to render.
#[derive(Debug)]
pub struct Replay {
    /// The engine after the replay.
    pub engine: StatusEngine,
    /// Input names, in replay order.
    pub inputs: Vec<String>,
    /// The snapshot the engine started from, if any.
    pub restored_from: Option<String>,
    /// The `--at` time, if any.
    pub at: Option<u64>,
    /// Valid events skipped because their time is after `--at` (counted only with `--at`).
    pub skipped: u64,
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Input bytes read (decompressed).
    pub bytes: u64,
    /// Wall time of the ingestion.
    pub elapsed: Duration,
    /// Rejected lines, at most [`MAX_REJECTED`].
    pub rejected: Vec<Rejected>,
    /// Lines rejected in this replay (all of them, kept or not).
    pub rejected_total: u64,
}

/// Builds the starting engine: from `--restore` (whose configuration wins; a policy flag that
/// contradicts it is a usage error) or from the policy flags.
pub fn start_engine(policy: &PolicyArgs, restore: Option<&Path>) -> Result<StatusEngine, CliError> {
    let Some(path) = restore else {
        let d = Config::default();
        let config = Config {
            takeover: policy.takeover,
            close_on_disconnect: policy.close_on_disconnect,
            tombstones_per_client: policy.tombstones_per_client.unwrap_or(d.tombstones_per_client),
            max_id_len: policy.max_id_len.unwrap_or(d.max_id_len),
            ..d
        };
        return StatusEngine::new(config).map_err(|e| CliError::usage(format!("bad policy option: {e}")));
    };
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CliError::reading(&name, &e, false))?;
    let engine = StatusEngine::restore(&bytes).map_err(|e| {
        CliError::Io(format!(
            "{name}: not a usable mqtt-status snapshot ({e}); write one with `replay --save`"
        ))
    })?;
    let c = *engine.config();
    let mut conflicts = Vec::new();
    if policy.takeover && !c.takeover {
        conflicts.push("--takeover (snapshot: takeover off)".to_string());
    }
    if policy.close_on_disconnect && !c.close_on_disconnect {
        conflicts.push("--close-on-disconnect (snapshot: off)".to_string());
    }
    if let Some(n) = policy.tombstones_per_client.filter(|&n| n != c.tombstones_per_client) {
        conflicts.push(format!("--tombstones-per-client {n} (snapshot: {})", c.tombstones_per_client));
    }
    if let Some(n) = policy.max_id_len.filter(|&n| n != c.max_id_len) {
        conflicts.push(format!("--max-id-len {n} (snapshot: {})", c.max_id_len));
    }
    if !conflicts.is_empty() {
        return Err(CliError::usage(format!(
            "{name}: the snapshot's configuration wins, and these flags contradict it: {}; \
             drop them, or replay from scratch without --restore",
            conflicts.join(", ")
        )));
    }
    Ok(engine)
}

/// Replays `sources` into `engine`, in order.
pub fn replay(
    mut engine: StatusEngine,
    sources: &[Source],
    at: Option<u64>,
    show_progress: bool,
) -> Result<Replay, CliError> {
    let total = sources.iter().map(Source::size).sum::<Option<u64>>();
    let mut progress = Progress::new(total, show_progress);
    let consumed = Rc::new(Cell::new(0u64));
    let started = Instant::now();
    let (mut lines, mut bytes, mut skipped, mut rejected_total) = (0u64, 0u64, 0u64, 0u64);
    let mut rejected = Vec::new();
    let mut inputs = Vec::new();
    for source in sources {
        let mut input = source.open(consumed.clone())?;
        inputs.push(input.name.clone());
        let mut file_lines = 0;
        input.for_each_chunk(|chunk, before| {
            // Replay reports states, not flips: nothing is kept per transition.
            let report = engine.ingest_many_each(chunk, at, |_| {});
            if at.is_some() {
                let offered = input::lines(chunk).filter(|(_, l)| !input::is_blank(l)).count() as u64;
                let counted = report.applied + report.duplicates + report.late + report.errors.len() as u64;
                skipped += offered.saturating_sub(counted);
            }
            rejected_total += report.errors.len() as u64;
            for e in report.errors {
                if rejected.len() < MAX_REJECTED {
                    rejected.push(Rejected {
                        file: source.name(),
                        line: before + e.index + 1,
                        code: e.code,
                        field: e.field,
                        message: e.message,
                    });
                }
            }
            file_lines = before + input::count_newlines(chunk) + u64::from(!chunk.ends_with(b"\n"));
            bytes += chunk.len() as u64;
            progress.update(consumed.get(), lines + file_lines);
            Ok(())
        })?;
        lines += file_lines;
    }
    progress.finish();
    let restored_from = None;
    Ok(Replay {
        engine,
        inputs,
        restored_from,
        at,
        skipped,
        lines,
        bytes,
        elapsed: started.elapsed(),
        rejected,
        rejected_total,
    })
}

/// Runs `mqtt-status replay`.
pub fn run(args: &ReplayArgs) -> Result<u8, CliError> {
    if args.files.is_empty() && args.restore.is_none() {
        return Err(CliError::usage(
            "replay needs at least one FILE (or - for standard input), or --restore SNAPSHOT",
        ));
    }
    let sources = Source::from_args(&args.files)?;
    let engine = start_engine(&args.policy, args.restore.as_deref())?;
    let mut result = replay(engine, &sources, args.at, !args.no_progress)?;
    result.restored_from = args.restore.as_ref().map(|p| p.display().to_string());
    if let Some(path) = &args.save {
        std::fs::write(path, result.engine.snapshot()).map_err(|e| CliError::writing(path, &e))?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Table => render_table::render(&mut out, &result, args),
        Format::Json => render_json::render(&mut out, &result, args),
    }
    .and_then(|()| std::io::Write::flush(&mut out))
    .map_err(|e| CliError::stdout(&e))?;
    Ok(EXIT_OK)
}
