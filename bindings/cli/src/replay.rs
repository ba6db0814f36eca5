//! `mqtt-status replay`: feeds whole-line chunks of every input to one engine
//! ([`mqtt_status::StatusEngine::ingest_many_each`]) and hands the result to a renderer.

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use mqtt_status::{Config, StatusEngine};

use crate::args::{Format, PolicyArgs, ReplayArgs};
use crate::error::{CliError, EXIT_OK};
use crate::input::{self, Piece, Source};
use crate::progress::Progress;
use crate::report::{Rejected, Replay, MAX_REJECTED};
use crate::{render_json, render_table};

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
            ..Config::default()
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

/// Replays `sources` into `engine`, in order, in lines of at most `max_line` bytes.
pub fn replay(
    mut engine: StatusEngine,
    sources: &[Source],
    at: Option<u64>,
    max_line: usize,
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
        let mut input = source.open(consumed.clone(), max_line)?;
        inputs.push(input.name.clone());
        let mut keep = |line: u64, code: String, field: Option<String>, message: String| {
            rejected_total += 1;
            if rejected.len() < MAX_REJECTED {
                rejected.push(Rejected { file: source.name(), line, code, field, message });
            }
        };
        let read = input.for_each_piece(|piece| {
            let file_lines = match piece {
                Piece::Lines { chunk, before } => {
                    // Replay reports states, not flips: nothing is kept per transition.
                    let report = engine.ingest_many_each(chunk, at, |_| {});
                    if at.is_some() {
                        let offered = input::lines(chunk).filter(|(_, l)| !input::is_blank(l)).count() as u64;
                        let counted =
                            report.applied + report.duplicates + report.late + report.errors.len() as u64;
                        skipped += offered.saturating_sub(counted);
                    }
                    for e in report.errors {
                        keep(before + e.index + 1, e.code, e.field, e.message);
                    }
                    before + input::count_newlines(chunk)
                }
                Piece::TooLong { line } => {
                    // The engine counts it as the rejected input it is (`events`, `rejected`),
                    // from a stand-in that cannot parse: its bytes were never held.
                    let stand_in = engine.ingest_json(b"", None);
                    debug_assert!(stand_in.is_err());
                    let e = input::too_long(max_line);
                    keep(line, e.code().as_str().to_string(), None, e.to_string());
                    line
                }
            };
            progress.update(consumed.get(), lines + file_lines);
            Ok(())
        })?;
        lines += read.lines;
        bytes += read.bytes;
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
    let max_line = input::check_max_line(args.max_line_bytes)?;
    let engine = start_engine(&args.policy, args.restore.as_deref())?;
    let mut result = replay(engine, &sources, args.at, max_line, !args.no_progress)?;
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
