//! The `mqtt-status` command line, as a library so that its parts are documented and testable.
//!
//! Four subcommands, all built on the core crate's judgment (the CLI decides nothing itself):
//!
//! - `replay` feeds JSONL logs (plain, gzip or stdin) to one [`mqtt_status::StatusEngine`], or
//!   with `--store URL` to a [`mqtt_status_store::StatusStore`], and reports who is online
//!   ([`replay`] fills a [`report::Replay`] and gathers the state's [`answers::Answers`], which
//!   [`render_table`] and [`render_json`] print);
//! - `status --store URL` prints a live store's answers with the same renderers, or its
//!   transition feed ([`status`]);
//! - `check` validates every line with the core's parser ([`check`]);
//! - `generate` simulates realistic, deterministic traffic with its own ground truth
//!   ([`generate`]).
//!
//! See `docs/cli.md` for the user's guide, the JSON schema and the exit codes.

pub mod answers;
pub mod args;
pub mod check;
pub mod error;
pub mod generate;
pub mod input;
pub mod progress;
pub mod render_json;
pub mod render_table;
pub mod replay;
pub mod report;
pub mod status;
pub mod timefmt;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::CliError;

/// Parses the command line, runs the subcommand and returns the process exit code
/// (see [`error`] for the codes). Errors are printed to stderr.
pub fn run<I, T>(argv: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; real usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { error::EXIT_USAGE } else { error::EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Replay(a) => replay::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Generate(a) => generate::run(&a),
        Command::Status(a) => status::run(&a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(CliError::BrokenPipe) => ExitCode::from(error::EXIT_OK),
        Err(e) => {
            eprintln!("mqtt-status: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
