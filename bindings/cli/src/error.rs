//! The CLI's errors and exit codes.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (`check`: every line valid) |
//! | 1 | `check` found invalid lines |
//! | 2 | usage error: bad arguments, conflicting options |
//! | 3 | input or output error: unreadable file, corrupt gzip, invalid snapshot, write failure |
//! | 4 | the status store is unavailable (unreachable, timed out, failing, locked): try again later |
//! | 5 | the status store cannot be used as asked: created with another configuration, or corrupt |

use std::fmt;
use std::io;
use std::path::Path;

use mqtt_status::{Error, ErrorCode};

/// Success.
pub const EXIT_OK: u8 = 0;
/// `check` found at least one invalid line.
pub const EXIT_INVALID_LINES: u8 = 1;
/// Bad arguments or conflicting options.
pub const EXIT_USAGE: u8 = 2;
/// A file could not be read or written, or its content is not what it must be.
pub const EXIT_IO: u8 = 3;

/// `--store`: the store is unreachable, timed out, failed or is locked by another process
/// (`store_unavailable`, `store_locked`); nothing is wrong with the request.
pub const EXIT_STORE_UNAVAILABLE: u8 = 4;
/// `--store`: the store was created with another configuration (`config_mismatch`) or holds
/// something unreadable (`invalid_snapshot`).
pub const EXIT_STORE_REFUSED: u8 = 5;

/// Why a subcommand failed. The message says what to do about it.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments or conflicting options (exit 2).
    Usage(String),
    /// A file could not be read or written, or holds something unusable (exit 3).
    Io(String),
    /// The status store is unavailable (exit 4).
    Store(String),
    /// The status store cannot be used as asked (exit 5).
    StoreRefused(String),
    /// The reader of our output went away (`mqtt-status generate | head`): not an error.
    BrokenPipe,
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Io(_) => EXIT_IO,
            CliError::Store(_) => EXIT_STORE_UNAVAILABLE,
            CliError::StoreRefused(_) => EXIT_STORE_REFUSED,
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

    /// A store's error, explained for a person, with the exit code its kind deserves.
    pub fn store(url: &str, e: &Error) -> Self {
        let msg = store_message(url, e);
        match e.code() {
            ErrorCode::StoreUnavailable | ErrorCode::StoreLocked => CliError::Store(msg),
            ErrorCode::ConfigMismatch | ErrorCode::InvalidSnapshot => CliError::StoreRefused(msg),
            // A bad URL (`invalid_field` url) or policy: the command line is at fault.
            _ => CliError::Usage(msg),
        }
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
            CliError::Usage(m) | CliError::Io(m) | CliError::Store(m) | CliError::StoreRefused(m) => {
                f.write_str(m)
            }
            CliError::BrokenPipe => f.write_str("broken pipe"),
        }
    }
}

impl std::error::Error for CliError {}

/// What a store's error means, for a person: the code, the backend's words, and what to do.
pub fn store_message(url: &str, e: &Error) -> String {
    let code = e.code().as_str();
    match e.code() {
        ErrorCode::StoreUnavailable => {
            format!("{code}: {url} cannot be reached or failed ({e}); check that the server is up")
        }
        ErrorCode::StoreLocked => format!("{code}: {url} is in use by another process ({e})"),
        ErrorCode::ConfigMismatch => format!(
            "{code}: {url} was created with another configuration ({e}); give the same policy \
             flags (--takeover, --close-on-disconnect, --tombstones-per-client, --max-id-len) as \
             when it was created, or use another store"
        ),
        ErrorCode::InvalidSnapshot => format!("{code}: {url} holds unreadable data ({e})"),
        _ => format!("{code}: {url}: {e}"),
    }
}
