//! `mqtt-status replay`: feeds whole-line chunks of every input to one engine
//! ([`mqtt_status::StatusEngine::ingest_many_each`]), or with `--store URL` to a status store in
//! batches of [`STORE_BATCH_LINES`] lines ([`mqtt_status_store::StatusStore::ingest_many`]), then
//! gathers the [`Answers`] from whichever holds the state and hands them to a renderer.

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use mqtt_status::{BatchReport, Config, Error, StatusEngine};
use mqtt_status_store::StatusStore;

use crate::answers::{Answers, Query};
use crate::args::{Format, PolicyArgs, ReplayArgs};
use crate::error::{store_message, CliError, EXIT_OK};
use crate::input::{self, Piece, Source};
use crate::progress::Progress;
use crate::report::{Rejected, Replay, MAX_REJECTED};
use crate::{render_json, render_table};

/// Lines per `ingest_many` call on a store: a constant number of round trips each, and what a
/// failure can leave uncertain (a batch's clients are each all-or-nothing, not the batch).
pub const STORE_BATCH_LINES: u64 = 1_000;

/// The configuration the policy flags ask for (the engine's defaults for omitted ones).
pub fn policy_config(policy: &PolicyArgs) -> Config {
    let d = Config::default();
    Config {
        takeover: policy.takeover,
        close_on_disconnect: policy.close_on_disconnect,
        tombstones_per_client: policy.tombstones_per_client.unwrap_or(d.tombstones_per_client),
        max_id_len: policy.max_id_len.unwrap_or(d.max_id_len),
        source: policy.source.unwrap_or(d.source),
        offline_grace_ms: policy.offline_grace_ms.unwrap_or(d.offline_grace_ms),
        ..d
    }
}

/// Opens the store at `url` with the policy flags' configuration; every failure is explained
/// for a person (a store created with other flags: exit 5; unreachable: exit 4).
pub fn open_store(url: &str, policy: &PolicyArgs) -> Result<StatusStore, CliError> {
    StatusStore::open(url, policy_config(policy)).map_err(|e| CliError::store(url, &e))
}

/// Builds the starting engine: from `--restore` (whose configuration wins; a policy flag that
/// contradicts it is a usage error) or from the policy flags.
pub fn start_engine(policy: &PolicyArgs, restore: Option<&Path>) -> Result<StatusEngine, CliError> {
    let Some(path) = restore else {
        return mqtt_status_store::new_engine(policy_config(policy))
            .map_err(|e| CliError::usage(format!("bad policy option: {e}")));
    };
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CliError::reading(&name, &e, false))?;
    let engine = mqtt_status_store::restore_engine(&bytes).map_err(|e| {
        CliError::Io(format!(
            "{name}: not a usable mqtt-status snapshot ({e}); write one with `replay --save`"
        ))
    })?;
    if policy.source.is_some_and(|s| !s.is_default()) {
        // A snapshot holds no source (it is how lines are read), and an engine's is set when
        // it is made: a restored engine reads `aliyun`.
        return Err(CliError::usage(format!(
            "{name}: --source cannot be combined with --restore yet (a restored engine reads \
             aliyun lines); replay the vendor logs from scratch"
        )));
    }
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
    if let Some(n) = policy.offline_grace_ms.filter(|&n| n != c.offline_grace_ms) {
        conflicts.push(format!("--grace {n} (snapshot: {})", c.offline_grace_ms));
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

/// Where a replay's lines go: an engine, or a store ([`StoreSink`]).
pub trait Sink {
    /// Ingests whole lines (errors indexed by line of `chunk`), as of `at`. A store failure
    /// gives the number of lines of `chunk` committed before it, and the error.
    fn lines(&mut self, chunk: &[u8], at: Option<u64>) -> Result<BatchReport, (u64, Error)>;
    /// Counts a line too long to be read as the rejected input it is.
    fn too_long(&mut self);
    /// Online transitions so far that carry `offline_since` (with a grace: each ends an offline
    /// period that lasted at least the grace and was never reported on its own).
    fn unreported_offlines(&self) -> u64 {
        0
    }
}

/// An engine as a replay's sink, counting the transitions that carry `offline_since`.
#[derive(Debug)]
pub struct EngineSink {
    /// The engine fed.
    pub engine: StatusEngine,
    /// See [`Sink::unreported_offlines`].
    pub unreported: u64,
}

impl Sink for EngineSink {
    fn lines(&mut self, chunk: &[u8], at: Option<u64>) -> Result<BatchReport, (u64, Error)> {
        // Replay reports states, not flips: nothing is kept per transition, only this count.
        let unreported = &mut self.unreported;
        Ok(self.engine.ingest_many_each(chunk, at, |t| *unreported += u64::from(t.offline_since.is_some())))
    }

    fn too_long(&mut self) {
        self.engine.too_long();
    }

    fn unreported_offlines(&self) -> u64 {
        self.unreported
    }
}

impl Sink for StatusEngine {
    fn lines(&mut self, chunk: &[u8], at: Option<u64>) -> Result<BatchReport, (u64, Error)> {
        // Replay reports states, not flips: nothing is kept per transition.
        Ok(self.ingest_many_each(chunk, at, |_| {}))
    }

    fn too_long(&mut self) {
        // The engine counts it as the rejected input it is (`events`, `rejected`); its bytes
        // were never held.
        self.reject_unread(Error::InvalidJson { reason: "line too long".into() });
    }
}

/// A status store as a replay's sink: each chunk goes in batches of [`STORE_BATCH_LINES`]. The
/// second field counts the transitions that carry `offline_since` (see [`Sink::unreported_offlines`]).
#[derive(Debug)]
pub struct StoreSink<'a>(pub &'a StatusStore, pub u64);

impl Sink for StoreSink<'_> {
    fn lines(&mut self, chunk: &[u8], at: Option<u64>) -> Result<BatchReport, (u64, Error)> {
        debug_assert!(at.is_none(), "--at is refused with --store");
        let mut report = BatchReport::default();
        let (mut rest, mut done) = (chunk, 0u64);
        while !rest.is_empty() {
            let cut = rest
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .nth(STORE_BATCH_LINES as usize - 1)
                .map_or(rest.len(), |(i, _)| i + 1);
            let (batch, tail) = rest.split_at(cut);
            let r = self.0.ingest_many(batch).map_err(|e| (done, e))?;
            self.1 += r.transitions.iter().filter(|t| t.offline_since.is_some()).count() as u64;
            report.applied += r.applied;
            report.duplicates += r.duplicates;
            report.late += r.late;
            report.rejected += r.rejected;
            report.errors.extend(r.errors.into_iter().map(|mut e| {
                e.index += done;
                e
            }));
            done += input::count_newlines(batch);
            rest = tail;
        }
        Ok(report)
    }

    fn too_long(&mut self) {
        // Counted by the handle as rejected (`events`, `rejected`) without a round trip.
        let stand_in = self.0.ingest_json(b"", None);
        debug_assert!(stand_in.is_err());
    }

    fn unreported_offlines(&self) -> u64 {
        self.1
    }
}

/// Replays `sources` into `sink`, in order, in lines of at most `max_line` bytes. A store
/// failure stops it with [`CliError::Store`] saying which lines were committed.
pub fn replay(
    sink: &mut impl Sink,
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
    // Rejections a capped batch report counted but did not list.
    let mut unlisted = 0u64;
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
                    let report = sink.lines(chunk, at).map_err(|(done, e)| {
                        stopped(&e, &source.name(), before + done, lines + before + done)
                    })?;
                    if at.is_some() {
                        let offered = input::lines(chunk).filter(|(_, l)| !input::is_blank(l)).count() as u64;
                        let counted = report.applied + report.duplicates + report.late + report.rejected;
                        skipped += offered.saturating_sub(counted);
                    }
                    // A report keeps the first errors and counts them all.
                    unlisted += report.rejected - report.errors.len() as u64;
                    for e in report.errors {
                        keep(before + e.index + 1, e.code, e.field, e.message);
                    }
                    before + input::count_newlines(chunk)
                }
                Piece::TooLong { line } => {
                    sink.too_long();
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
    rejected_total += unlisted;
    let restored_from = None;
    Ok(Replay {
        unreported_offlines: sink.unreported_offlines(),
        confirmed_at_end: 0,
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

/// The error that stops a replay into a store: what failed, and how far the store got.
fn stopped(e: &Error, file: &str, file_lines: u64, all_lines: u64) -> CliError {
    let what = store_message("the store", e);
    CliError::Store(format!(
        "{what}; replay stopped: the first {} lines of {file} ({} lines in all) are committed, \
         the batch after them may be partly applied. Replaying again from line {} of {file} \
         (or from the start) is safe: lines already applied count as duplicates",
        crate::render_table::thousands(file_lines),
        crate::render_table::thousands(all_lines),
        file_lines + 1
    ))
}

/// The question the report asks, for this output format.
pub fn query<'a>(args: &'a ReplayArgs) -> Query<'a> {
    Query {
        group: args.group.as_deref(),
        after: None,
        limit: limit_for(args.format, args.limit),
        clients: &args.clients,
        details: args.format == Format::Table,
    }
}

/// `--limit` for a format: `0` is all; omitted is 20 in a table, all in JSON.
pub fn limit_for(format: Format, limit: Option<usize>) -> Option<usize> {
    match (limit, format) {
        (Some(0), _) | (None, Format::Json) => None,
        (Some(n), _) => Some(n),
        (None, Format::Table) => Some(crate::render_table::DEFAULT_LIMIT),
    }
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
    let (result, answers) = match &args.store {
        None => {
            let engine = start_engine(&args.policy, args.restore.as_deref())?;
            let mut sink = EngineSink { engine, unreported: 0 };
            let mut result = replay(&mut sink, &sources, args.at, max_line, !args.no_progress)?;
            let mut engine = sink.engine;
            result.restored_from = args.restore.as_ref().map(|p| p.display().to_string());
            // With a grace, the answer is as of the end of the input (`--at`, else its latest
            // event): the offlines that lasted the grace by then are confirmed; later ones stay
            // pending (`stats.pendingOffline`). Nothing happens with no grace.
            if let Some(end) = args.at.or(engine.stats().max_time) {
                let confirmed = engine.advance(end).map_err(|e| CliError::usage(format!("--at: {e}")))?;
                result.confirmed_at_end = confirmed.len() as u64;
            }
            if let Some(path) = &args.save {
                std::fs::write(path, engine.snapshot()).map_err(|e| CliError::writing(path, &e))?;
            }
            let answers = Answers::gather(&engine, &query(args), None).expect("an engine answers");
            (result, answers)
        }
        Some(url) => {
            if args.restore.is_some() || args.at.is_some() {
                return Err(CliError::usage(
                    "--restore and --at cannot be used with --store: the store holds the live state \
                     (replay without --store to answer from a snapshot or as of a time)",
                ));
            }
            let store = open_store(url, &args.policy)?;
            let mut result = replay(&mut StoreSink(&store, 0), &sources, None, max_line, !args.no_progress)?;
            // As in memory: with a grace, the store's clock is advanced to the latest event time
            // it holds (`advance` is monotone: a live store's later host time is unaffected);
            // the offlines it confirms enter the feed. Nothing happens with no grace.
            if let Some(end) = store.stats().map_err(|e| CliError::store(url, &e))?.max_time {
                let confirmed = store.advance(end).map_err(|e| CliError::store(url, &e))?;
                result.confirmed_at_end = confirmed.len() as u64;
            }
            if let Some(path) = &args.save {
                let bytes = store.snapshot().map_err(|e| CliError::store(url, &e))?;
                std::fs::write(path, bytes).map_err(|e| CliError::writing(path, &e))?;
            }
            let answers = gather(&store, &query(args), url)?;
            (result, answers)
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Table => render_table::render(&mut out, Some(&result), &answers),
        Format::Json => render_json::render(&mut out, Some(&result), &answers),
    }
    .and_then(|()| std::io::Write::flush(&mut out))
    .map_err(|e| CliError::stdout(&e))?;
    Ok(EXIT_OK)
}

/// Asks a store, explaining a failure.
pub fn gather(store: &StatusStore, query: &Query<'_>, url: &str) -> Result<Answers, CliError> {
    Answers::gather(store, query, Some(url)).map_err(|e| CliError::store(url, &e))
}
