//! The vendor flat reader: one pass over a vendor line, its known keys put into a [`Rec`] as
//! borrowed values, everything else skipped in place. Like the ApsaraMQ flat reader
//! (`../flat.rs`) it either reads exactly what serde_json would or declines (`None`) without
//! judging the line, and `de.rs` reads it again and reports every error: it declines string
//! escapes, numbers with a fraction or an exponent, integers of more than 18 digits, nesting
//! deeper than [`MAX_DEPTH`] and a known key seen twice.

use super::super::lex::{Lex, Next};
use super::super::raw::{self, Val};
use super::{Rec, F};

/// Deepest nesting skipped in place (serde_json's own limit, 128, applies on the exact read).
const MAX_DEPTH: u32 = 32;

/// Reads `bytes` into `rec`, which must start empty (after `None` it must not be used).
pub(super) fn read<'a>(bytes: &'a [u8], rec: &mut Rec<&'a str>) -> Option<()> {
    raw::count(raw::Read::Line);
    // Validated once, a word a step (cheaper than a check per kept string, measured); every
    // string below is a slice of it between two ASCII quotes.
    let text = core::str::from_utf8(bytes).ok()?;
    let w = Walk(Lex { text, b: bytes });
    let end = w.object(0, rec, false)?;
    (end == bytes.len()).then_some(())
}

/// The vendor reader's object walk; its tokens are read by [`Lex`].
struct Walk<'a>(Lex<'a, false>);

impl<'a> Walk<'a> {
    /// An integer at `i` (optionally negative, not `-0`) as [`Lex::uint`] reads its digits:
    /// its value, and the position after.
    #[inline(always)]
    fn int(&self, i: usize) -> Option<(Val<&'a str>, usize)> {
        if self.0.b.get(i) != Some(&b'-') {
            let (v, end) = self.0.uint(i)?;
            return Some((Val::Uint(v), end));
        }
        let (_, end) = self.0.uint(i + 1)?;
        // serde_json reads `-0` as a float: declined, the exact read says what it is.
        (self.0.b[i + 1] != b'0').then_some((Val::Negative, end))
    }

    /// The object at (or after whitespace at) `i`; its known keys go into `rec` (top level, or
    /// Azure's `data` when `nested`). The position after it and the whitespace that follows.
    fn object(&self, i: usize, rec: &mut Rec<&'a str>, nested: bool) -> Option<usize> {
        let b = self.0.b;
        let mut i = match self.0.open(i)? {
            Next::Member(i) => i,
            Next::End(end) => return Some(end),
        };
        loop {
            let (name, next) = self.0.bytes(i)?;
            i = self.0.colon(next)?;
            match F::of(name, nested) {
                Some(f) => {
                    let (v, next) = self.value(i, rec, f, nested)?;
                    if let (Val::Uint(_), Some(k)) = (&v, super::decimal_slot(f)) {
                        rec.decimal[k] = Some(self.0.text.get(i..next)?);
                    }
                    *rec.vacant(f).ok()? = Some(v);
                    i = next;
                }
                // Most skipped values are strings: skipped here, without a call.
                None if b.get(i) == Some(&b'"') => i = self.0.bytes(i)?.1,
                None => i = self.skip(i, 0)?,
            }
            match self.0.next(i)? {
                Next::Member(next) => i = next,
                Next::End(end) => return Some(end),
            }
        }
    }

    /// A known key's value at `i`.
    #[inline(always)]
    fn value(&self, i: usize, rec: &mut Rec<&'a str>, f: F, nested: bool) -> Option<(Val<&'a str>, usize)> {
        let b = self.0.b;
        Some(match *b.get(i)? {
            b'"' => {
                let (s, next) = self.0.string(i)?;
                (Val::Str(s), next)
            }
            b'{' if f == F::Data && !nested => {
                if rec.get(F::Data).is_some() {
                    return None; // repeated: the exact read reports it
                }
                (Val::Object, self.object(i, rec, true)?)
            }
            b'{' | b'[' => (Val::Compound, self.skip(i, 0)?),
            b'-' | b'0'..=b'9' => self.int(i)?,
            b't' if b[i..].starts_with(b"true") => (Val::Bool, i + 4),
            b'f' if b[i..].starts_with(b"false") => (Val::Bool, i + 5),
            b'n' if b[i..].starts_with(b"null") => (Val::Null, i + 4),
            _ => return None,
        })
    }

    /// Skips any value at `i` (checked as serde_json would check it, or declined).
    fn skip(&self, i: usize, depth: u32) -> Option<usize> {
        let b = self.0.b;
        match *b.get(i)? {
            b'"' => self.0.bytes(i).map(|(_, next)| next),
            b'-' | b'0'..=b'9' => self.int(i).map(|(_, next)| next),
            b't' if b[i..].starts_with(b"true") => Some(i + 4),
            b'f' if b[i..].starts_with(b"false") => Some(i + 5),
            b'n' if b[i..].starts_with(b"null") => Some(i + 4),
            open @ (b'{' | b'[') if depth < MAX_DEPTH => {
                let close = if open == b'{' { b'}' } else { b']' };
                let mut i = self.0.ws(i + 1);
                if b.get(i) == Some(&close) {
                    return Some(i + 1);
                }
                loop {
                    if open == b'{' {
                        i = self.0.ws(self.0.bytes(i)?.1);
                        if b.get(i) != Some(&b':') {
                            return None;
                        }
                        i = self.0.ws(i + 1);
                    }
                    i = self.0.ws(self.skip(i, depth + 1)?);
                    match b.get(i) {
                        Some(b',') => i = self.0.ws(i + 1),
                        Some(&c) if c == close => return Some(i + 1),
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }
}
