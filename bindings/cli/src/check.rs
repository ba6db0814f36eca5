//! `mqtt-status check`: validates every line with the core's own parser
//! ([`mqtt_status::with_notification_as`], in the `--source` format, and
//! [`mqtt_status::parse_observation_line`] for observation lines) and prints
//! `file:line: code field: message` for each bad one.

use std::cell::Cell;
use std::io::{BufWriter, Write};
use std::rc::Rc;

use crate::args::CheckArgs;
use crate::error::{CliError, EXIT_INVALID_LINES, EXIT_OK};
use crate::input::{self, Piece, Source};
use crate::progress::Progress;

/// Counts of one check run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CheckSummary {
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Non-blank lines that are valid notifications.
    pub valid: u64,
    /// Lines rejected.
    pub invalid: u64,
    /// Blank lines (skipped, as the engine does).
    pub blank: u64,
    /// Whether the reader of the report went away (a closed pipe: `check FILE | head -1`); the
    /// check stopped there, so the counts cover the lines read until then.
    pub stdout_closed: bool,
}

/// Checks every line of `sources` (lines longer than `max_line` bytes are rejected unread),
/// writing one report line per bad input line to `out`. If `out` is a closed pipe, the check
/// stops there with [`CheckSummary::stdout_closed`] set: a bad line was found, so the verdict is
/// known, and no one reads the rest.
pub fn check_sources(
    sources: &[Source],
    format: mqtt_status::Source,
    max_id_len: u32,
    max_line: usize,
    out: &mut impl Write,
) -> Result<CheckSummary, CliError> {
    let mut sum = CheckSummary::default();
    let total = sources.iter().map(Source::size).sum::<Option<u64>>();
    let mut progress = Progress::new(total, true);
    let consumed = Rc::new(Cell::new(0u64));
    for source in sources {
        let mut inp = source.open(consumed.clone(), max_line)?;
        let name = inp.name.clone();
        let result = inp.for_each_piece(|piece| {
            match piece {
                Piece::Lines { chunk, before } => {
                    for (i, line) in input::lines(chunk) {
                        sum.lines += 1;
                        if input::is_blank(line) {
                            sum.blank += 1;
                            continue;
                        }
                        // An observation line (SPEC §9) is checked as a batch reads it.
                        let checked = match mqtt_status::parse_observation_line(line, max_id_len) {
                            Some(observation) => observation.map(|_| ()),
                            None => mqtt_status::with_notification_as(format, line, None, max_id_len, |_| ()),
                        };
                        match checked {
                            Ok(()) => sum.valid += 1,
                            Err(e) => {
                                sum.invalid += 1;
                                report(out, &name, before + i + 1, &e)?;
                            }
                        }
                    }
                }
                Piece::TooLong { line } => {
                    sum.lines += 1;
                    sum.invalid += 1;
                    report(out, &name, line, &input::too_long(max_line))?;
                    // Skipping the line may take long (`check /dev/zero` never ends): say so now.
                    out.flush().map_err(|e| CliError::stdout(&e))?;
                }
            }
            progress.update(consumed.get(), sum.lines);
            Ok(())
        });
        match result {
            Ok(_) => {}
            Err(CliError::BrokenPipe) => {
                sum.stdout_closed = true;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    progress.finish();
    Ok(sum)
}

/// Writes `file:line: code field: message` for one bad line.
fn report(out: &mut impl Write, name: &str, line: u64, e: &mqtt_status::Error) -> Result<(), CliError> {
    let field = e.field().unwrap_or("-");
    writeln!(out, "{name}:{line}: {} {field}: {e}", e.code()).map_err(|e| CliError::stdout(&e))
}

/// Runs `mqtt-status check`: exit 0 if every line is valid, 1 otherwise.
pub fn run(args: &CheckArgs) -> Result<u8, CliError> {
    let sources = Source::from_args(&args.files)?;
    if args.max_id_len == 0 || args.max_id_len > mqtt_status::MAX_ID_LEN_LIMIT {
        return Err(CliError::usage("--max-id-len must be between 1 and 65535"));
    }
    let max_line = input::check_max_line(args.max_line_bytes)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut sum = check_sources(&sources, args.source, args.max_id_len, max_line, &mut out)?;
    match out.flush().map_err(|e| CliError::stdout(&e)) {
        Err(CliError::BrokenPipe) => sum.stdout_closed = true,
        r => r?,
    }
    if !args.quiet {
        let verdict =
            if sum.invalid == 0 { "all valid".to_string() } else { format!("{} invalid", sum.invalid) };
        // Stopped early: the counts are of the lines read, the verdict (some bad line) is final.
        let (stopped, so_far) =
            if sum.stdout_closed { (" before standard output was closed", " so far") } else { ("", "") };
        eprintln!(
            "checked {} line{} in {} input{}{stopped}: {verdict}{so_far} ({} valid, {} blank)",
            sum.lines,
            if sum.lines == 1 { "" } else { "s" },
            sources.len(),
            if sources.len() == 1 { "" } else { "s" },
            sum.valid,
            sum.blank
        );
    }
    // A closed pipe never hides the verdict: `check bad.jsonl | head -1` still exits 1.
    Ok(if sum.invalid == 0 { EXIT_OK } else { EXIT_INVALID_LINES })
}
