//! The CLI's errors and exit codes.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (`check`: every line valid) |
//! | 1 | `check` found invalid lines |
//! | 2 | usage error: bad arguments, conflicting options |
//! | 3 | input or output error: unreadable file, corrupt gzip, invalid snapshot, write failure |

use std::fmt;
use std::io;
use std::path::Path;

/// Success.
pub const EXIT_OK: u8 = 0;
/// `check` found at least one invalid line.
pub const EXIT_INVALID_LINES: u8 = 1;
/// Bad arguments or conflicting options.
pub const EXIT_USAGE: u8 = 2;
/// A file could not be read or written, or its content is not what it must be.
pub const EXIT_IO: u8 = 3;

/// Why a subcommand failed. The message says what to do about it.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments or conflicting options (exit 2).
    Usage(String),
    /// A file could not be read or written, or holds something unusable (exit 3).
    Io(String),
    /// The reader of our output went away (`mqtt-status generate | head`): not an error.
    BrokenPipe,
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Io(_) => EXIT_IO,
            CliError::BrokenPipe => EXIT_OK,
        }
    }

    /// A usage error with this message.
    pub fn usage(msg: impl Into<String>) -> Self {
        CliError::Usage(msg.into())
    }

    /// An error opening or reading `name` (`gzip`: while decompressing it), explained for a
    /// person. Always [`CliError::Io`]: only a closed *output* is [`CliError::BrokenPipe`] (a read
    /// failing with that kind is a real error, not a reader going away).
    pub fn reading(name: &str, e: &io::Error, gzip: bool) -> Self {
        let msg = match e.kind() {
            io::ErrorKind::NotFound => {
                format!("{name}: no such file (check the path; use - to read standard input)")
            }
            io::ErrorKind::PermissionDenied => format!("{name}: permission denied"),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                if gzip =>
            {
                format!(
                    "{name}: corrupt or truncated gzip data ({e}); check it with `gzip -t {name}` \
                     or replay the uncompressed file"
                )
            }
            _ => format!("{name}: cannot read: {e}"),
        };
        CliError::Io(msg)
    }

    /// An error writing `path`, explained for a person.
    pub fn writing(path: &Path, e: &io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return CliError::BrokenPipe;
        }
        match e.kind() {
            io::ErrorKind::NotFound => CliError::Io(format!(
                "{}: cannot create the file: its directory does not exist",
                path.display()
            )),
            _ => CliError::Io(format!("{}: cannot write: {e}", path.display())),
        }
    }

    /// An error writing standard output.
    pub fn stdout(e: &io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Io(format!("cannot write to standard output: {e}"))
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Io(m) => f.write_str(m),
            CliError::BrokenPipe => f.write_str("broken pipe"),
        }
    }
}

impl std::error::Error for CliError {}
