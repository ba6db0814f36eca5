//! `mqtt-status check`: validates every line with the core's own parser
//! ([`mqtt_status::with_notification`]) and prints `file:line: code field: message` for each
//! bad one.

use std::cell::Cell;
use std::io::{BufWriter, Write};
use std::rc::Rc;

use crate::args::CheckArgs;
use crate::error::{CliError, EXIT_INVALID_LINES, EXIT_OK};
use crate::input::{self, Source};
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
}

/// Checks every line of `sources`, writing one report line per bad input line to `out`.
pub fn check_sources(
    sources: &[Source],
    max_id_len: u32,
    out: &mut impl Write,
) -> Result<CheckSummary, CliError> {
    let mut sum = CheckSummary::default();
    let total = sources.iter().map(Source::size).sum::<Option<u64>>();
    let mut progress = Progress::new(total, true);
    let consumed = Rc::new(Cell::new(0u64));
    for source in sources {
        let mut inp = source.open(consumed.clone())?;
        let name = inp.name.clone();
        inp.for_each_chunk(|chunk, before| {
            for (i, line) in input::lines(chunk) {
                sum.lines += 1;
                if input::is_blank(line) {
                    sum.blank += 1;
                    continue;
                }
                match mqtt_status::with_notification(line, None, max_id_len, |_| ()) {
                    Ok(()) => sum.valid += 1,
                    Err(e) => {
                        sum.invalid += 1;
                        let field = e.field().unwrap_or("-");
                        writeln!(out, "{name}:{}: {} {field}: {e}", before + i + 1, e.code())
                            .map_err(|e| CliError::stdout(&e))?;
                    }
                }
            }
            progress.update(consumed.get(), sum.lines);
            Ok(())
        })?;
    }
    progress.finish();
    Ok(sum)
}

/// Runs `mqtt-status check`: exit 0 if every line is valid, 1 otherwise.
pub fn run(args: &CheckArgs) -> Result<u8, CliError> {
    let sources = Source::from_args(&args.files)?;
    if args.max_id_len == 0 || args.max_id_len > mqtt_status::MAX_ID_LEN_LIMIT {
        return Err(CliError::usage("--max-id-len must be between 1 and 65535"));
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let sum = check_sources(&sources, args.max_id_len, &mut out)?;
    out.flush().map_err(|e| CliError::stdout(&e))?;
    if !args.quiet {
        let verdict =
            if sum.invalid == 0 { "all valid".to_string() } else { format!("{} invalid", sum.invalid) };
        eprintln!(
            "checked {} line{} in {} input{}: {verdict} ({} valid, {} blank)",
            sum.lines,
            if sum.lines == 1 { "" } else { "s" },
            sources.len(),
            if sources.len() == 1 { "" } else { "s" },
            sum.valid,
            sum.blank
        );
    }
    Ok(if sum.invalid == 0 { EXIT_OK } else { EXIT_INVALID_LINES })
}
