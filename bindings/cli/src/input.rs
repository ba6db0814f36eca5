//! Reading inputs: files or stdin, plain or gzip (detected by its magic bytes), in large chunks
//! cut at line ends so that the core always sees whole lines.

use std::cell::Cell;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::rc::Rc;

use flate2::bufread::MultiGzDecoder;

use crate::error::CliError;

/// Bytes handed to the engine at a time (whole lines; a longer line makes a longer chunk).
pub const CHUNK: usize = 4 << 20;

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

    /// Opens the source. `consumed` counts raw (possibly compressed) bytes read from it, for
    /// progress reporting.
    pub fn open(&self, consumed: Rc<Cell<u64>>) -> Result<Input, CliError> {
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
        Ok(Input { name, gzip, reader })
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
}

impl Input {
    /// Calls `f` with successive chunks of whole lines (each ends with `\n`, except perhaps the
    /// last chunk of the input) and the number of lines before the chunk.
    pub fn for_each_chunk(
        &mut self,
        mut f: impl FnMut(&[u8], u64) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        let mut buf = vec![0u8; CHUNK];
        let (mut filled, mut lines) = (0usize, 0u64);
        loop {
            let eof = self.fill(&mut buf, &mut filled)?;
            match memrchr_newline(&buf[..filled]) {
                Some(end) if !eof => {
                    let chunk = &buf[..=end];
                    f(chunk, lines)?;
                    lines += count_newlines(chunk);
                    buf.copy_within(end + 1..filled, 0);
                    filled -= end + 1;
                }
                // One line longer than the buffer: grow it and read on.
                None if !eof => buf.resize(buf.len() * 2, 0),
                _ => {
                    if filled > 0 {
                        f(&buf[..filled], lines)?;
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Reads until `buf` is full or the input ends; returns whether it ended.
    fn fill(&mut self, buf: &mut [u8], filled: &mut usize) -> Result<bool, CliError> {
        while *filled < buf.len() {
            match self.reader.read(&mut buf[*filled..]) {
                Ok(0) => return Ok(true),
                Ok(n) => *filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(CliError::reading(&self.name, &e, self.gzip)),
            }
        }
        Ok(false)
    }
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
