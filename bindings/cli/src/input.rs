//! Reading inputs: files or stdin, plain or gzip (detected by its magic bytes), in large chunks
//! cut at line ends so that the core always sees whole lines. A line longer than the limit
//! (`--max-line-bytes`) is reported and skipped without being held: memory stays bounded by the
//! chunk, whatever the input holds (`/dev/zero`, a gzip bomb of NULs).

use std::cell::Cell;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::rc::Rc;

use flate2::bufread::MultiGzDecoder;

use crate::error::CliError;

/// Bytes handed to the engine at a time (whole lines; the buffer grows past it only for a line
/// longer than it, up to the line limit).
pub const CHUNK: usize = 4 << 20;

/// Default of `--max-line-bytes`: the longest line read, in bytes (its `\n` not counted). A valid
/// line with the default `--max-id-len` of 256 is well under 2 kB.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// Largest accepted `--max-line-bytes` (1 GiB): the buffer may grow to it.
pub const MAX_LINE_LIMIT: usize = 1 << 30;

/// Checks a `--max-line-bytes` value.
pub fn check_max_line(n: usize) -> Result<usize, CliError> {
    if n == 0 || n > MAX_LINE_LIMIT {
        return Err(CliError::usage(format!("--max-line-bytes must be between 1 and {MAX_LINE_LIMIT}")));
    }
    Ok(n)
}

/// The core's error for a line longer than `max` bytes: `invalid_json` with no field, since the
/// line is rejected before any of it is parsed, as a whole and not for one field; like the
/// parser's depth limit, it is a bound on what the reader takes, not a judgment of the event.
pub fn too_long(max: usize) -> mqtt_status::Error {
    mqtt_status::Error::InvalidJson {
        reason: format!("line longer than {max} bytes, skipped unread (--max-line-bytes raises the limit)"),
    }
}

/// One input: a file, or standard input (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input.
    Stdin,
    /// A file path.
    File(PathBuf),
}

impl Source {
    /// `-` is stdin, anything else a path.
    pub fn from_arg(arg: &OsStr) -> Self {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(arg))
        }
    }

    /// All arguments as sources; `-` may be given once.
    pub fn from_args(args: &[OsString]) -> Result<Vec<Source>, CliError> {
        let sources: Vec<Source> = args.iter().map(|a| Source::from_arg(a)).collect();
        if sources.iter().filter(|s| **s == Source::Stdin).count() > 1 {
            return Err(CliError::usage("`-` (standard input) can be given only once"));
        }
        Ok(sources)
    }

    /// The name used in messages (`<stdin>` for standard input).
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(p) => p.display().to_string(),
        }
    }

    /// Size in bytes, when it is a regular file.
    pub fn size(&self) -> Option<u64> {
        match self {
            Source::Stdin => None,
            Source::File(p) => std::fs::metadata(p).ok().filter(|m| m.is_file()).map(|m| m.len()),
        }
    }

    /// Opens the source, to be read in lines of at most `max_line` bytes. `consumed` counts raw
    /// (possibly compressed) bytes read from it, for progress reporting.
    pub fn open(&self, consumed: Rc<Cell<u64>>, max_line: usize) -> Result<Input, CliError> {
        let name = self.name();
        let raw: Box<dyn Read> = match self {
            Source::Stdin => Box::new(io::stdin().lock()),
            Source::File(p) => {
                if p.is_dir() {
                    return Err(CliError::Io(format!(
                        "{name}: is a directory; give the .jsonl files inside it"
                    )));
                }
                Box::new(File::open(p).map_err(|e| CliError::reading(&name, &e, false))?)
            }
        };
        let mut buffered = BufReader::with_capacity(1 << 20, Counting { inner: raw, count: consumed });
        let head = buffered.fill_buf().map_err(|e| CliError::reading(&name, &e, false))?;
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read> =
            if gzip { Box::new(MultiGzDecoder::new(buffered)) } else { Box::new(buffered) };
        Ok(Input { gzip, ..Input::new(name, reader, max_line) })
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// An opened source, decompressed if it was gzip.
pub struct Input {
    /// Its name for messages.
    pub name: String,
    /// Whether it is gzip-compressed.
    pub gzip: bool,
    reader: Box<dyn Read>,
    /// The longest line read, in bytes (its `\n` not counted).
    max_line: usize,
    /// The read buffer: `chunk` bytes, or up to `max_line + 1` for a longer line.
    buf: Vec<u8>,
    /// The buffer's first size: [`CHUNK`] (the unit tests make it small to cut lines anywhere).
    chunk: usize,
}

/// What [`Input::for_each_piece`] hands on, in input order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Whole lines: each ends with `\n`, except perhaps the last piece of the input.
    Lines {
        /// The lines' bytes.
        chunk: &'a [u8],
        /// Lines of the input before them.
        before: u64,
    },
    /// Line `line` (1-based) is longer than the limit: it is skipped, up to its `\n`, unread.
    TooLong {
        /// Its 1-based number.
        line: u64,
    },
}

/// What one input held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Lines (blank and over-long ones included; a last line without `\n` counts).
    pub lines: u64,
    /// Bytes (decompressed).
    pub bytes: u64,
}

impl Input {
    /// An input read from `reader` (already decompressed), in lines of at most `max_line` bytes.
    pub fn new(name: String, reader: Box<dyn Read>, max_line: usize) -> Self {
        Input { name, gzip: false, reader, max_line, buf: Vec::new(), chunk: CHUNK }
    }

    /// The read buffer's size so far: never more than `max(CHUNK, max_line + 1)`, whatever the
    /// input holds (the tests check it); the buffer is the only memory a line takes.
    pub fn buffer_len(&self) -> usize {
        self.buf.len()
    }

    /// Calls `f` with every piece of the input in order: runs of whole lines, and each line
    /// longer than the limit (skipped to its `\n` without being held). Returns what it read.
    pub fn for_each_piece(
        &mut self,
        mut f: impl FnMut(Piece<'_>) -> Result<(), CliError>,
    ) -> Result<Totals, CliError> {
        let max = self.max_line;
        if self.buf.is_empty() {
            self.buf = vec![0u8; self.chunk];
        }
        let mut t = Totals::default();
        let mut filled = 0usize;
        // Inside an over-long line whose `\n` has not been read yet.
        let mut skipping = false;
        loop {
            let (n, eof) = fill(&mut *self.reader, &mut self.buf[filled..], &self.name, self.gzip)?;
            t.bytes += n as u64;
            filled += n;
            let buf = &self.buf[..filled];
            let mut start = 0;
            if skipping {
                match buf.iter().position(|&c| c == b'\n') {
                    Some(p) => {
                        (skipping, start) = (false, p + 1);
                        t.lines += 1;
                    }
                    None if eof => {
                        t.lines += 1;
                        return Ok(t);
                    }
                    None => {
                        filled = 0;
                        continue;
                    }
                }
            }
            // Over-long lines among the ones read: the lines before each go on as they are.
            while let Some(off) = first_too_long(&buf[start..], max) {
                let at = start + off;
                if at > start {
                    f(Piece::Lines { chunk: &buf[start..at], before: t.lines })?;
                    t.lines += count_newlines(&buf[start..at]);
                }
                f(Piece::TooLong { line: t.lines + 1 })?;
                match buf[at..].iter().position(|&c| c == b'\n') {
                    Some(p) => {
                        t.lines += 1;
                        start = at + p + 1;
                    }
                    None => {
                        (skipping, start) = (true, filled);
                        break;
                    }
                }
            }
            if eof {
                if skipping {
                    t.lines += 1;
                } else if start < filled {
                    let last = &buf[start..];
                    f(Piece::Lines { chunk: last, before: t.lines })?;
                    t.lines += count_newlines(last) + u64::from(!last.ends_with(b"\n"));
                }
                return Ok(t);
            }
            // The lines up to the last `\n` go on; the partial line after it (at most `max`
            // bytes, or it would have been found above) moves to the front.
            let keep_from = match memrchr_newline(&buf[start..]) {
                Some(end) => {
                    let chunk = &buf[start..=start + end];
                    f(Piece::Lines { chunk, before: t.lines })?;
                    t.lines += count_newlines(chunk);
                    start + end + 1
                }
                None => start,
            };
            self.buf.copy_within(keep_from..filled, 0);
            filled -= keep_from;
            if filled == self.buf.len() {
                // A partial line fills the buffer, so it is shorter than the limit: grow, at
                // most to `max + 1` bytes, where a line without `\n` is over-long.
                let len = (self.buf.len() * 2).min(max + 1);
                self.buf.resize(len, 0);
            }
        }
    }
}

/// Reads into `buf` until it is full or the input ends; returns the bytes read and whether it
/// ended.
fn fill(reader: &mut dyn Read, buf: &mut [u8], name: &str, gzip: bool) -> Result<(usize, bool), CliError> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => return Ok((filled, true)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CliError::reading(name, &e, gzip)),
        }
    }
    Ok((filled, false))
}

/// The offset in `b` (which starts at a line start) of the first line longer than `max` bytes;
/// a last line without `\n` counts only once it is longer than `max`.
///
/// Every line inside a window of `max + 1` bytes from a line start is at most `max` bytes
/// long, so the search jumps to the window's last `\n`, found scanning back from its end: a
/// few bytes per window in practice, so the check costs next to nothing per chunk.
fn first_too_long(b: &[u8], max: usize) -> Option<usize> {
    let mut s = 0;
    while s < b.len() {
        let w = b.len().min(s.saturating_add(max).saturating_add(1));
        match memrchr_newline(&b[s..w]) {
            Some(p) => s += p + 1,
            None if w - s > max => return Some(s),
            None => return None,
        }
    }
    None
}

fn memrchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().rposition(|&c| c == b'\n')
}

/// Number of `\n` in `b`.
pub fn count_newlines(b: &[u8]) -> u64 {
    // Byte-wide sums over blocks of 255 bytes vectorise well (a u64 counter per byte does not).
    b.chunks(255).map(|c| u64::from(c.iter().fold(0u8, |n, &x| n + u8::from(x == b'\n')))).sum()
}

/// Splits a chunk into lines as the core does (`\n`, an optional `\r` stripped), with their
/// 0-based index in the chunk; blank lines are included.
pub fn lines(chunk: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let chunk = chunk.strip_suffix(b"\n").unwrap_or(chunk);
    chunk.split(|&c| c == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).zip(0u64..).map(|(l, i)| (i, l))
}

/// Whether a line is blank (only ASCII whitespace): the core skips those.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests;
