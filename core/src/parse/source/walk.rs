//! The vendor flat reader: one pass over a vendor line, its known keys put into a [`Rec`] as
//! borrowed values, everything else skipped in place. Like the ApsaraMQ flat reader
//! (`../flat.rs`) it either reads exactly what serde_json would or declines (`None`) without
//! judging the line, and `de.rs` reads it again and reports every error: it declines string
//! escapes, numbers with a fraction or an exponent, integers of more than 18 digits, nesting
//! deeper than [`MAX_DEPTH`] and a known key seen twice.
//!
//! What a skipped value is checked for (the guarantee behind "reads exactly what serde_json
//! would"): the whole line is valid UTF-8 (checked once, before the walk); every string,
//! skipped ones included, ends at a plain quote with no control byte inside, and any
//! backslash declines the line, so `\"` and `\\"` are never guessed at; every bracket is
//! closed by its own kind, in order; every member of a skipped object has a string key and a
//! colon; every number and literal is one serde_json reads the same way. Nothing is skipped by
//! counting brackets alone: a skipped array or object is walked token by token
//! ([`Walk::compound`]), in one loop with its open brackets kept as bits instead of a
//! recursive call per value. `skip_tests.rs` holds the tricky cases.

use super::super::lex::{Lex, Next};
use super::super::raw::{self, Val};
use super::{word, Rec, F};

/// Deepest nesting of non-empty brackets skipped in place (serde_json's own limit, 128,
/// applies on the exact read); at most 64, the bits of [`Walk::compound`]'s stack.
const MAX_DEPTH: u32 = 32;
const _: () = assert!(MAX_DEPTH <= 64);

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

/// The vendor reader's object walk; its tokens are read by [`Lex`] (strings, integers,
/// whitespace) and `word.rs` (skipped numbers and literals).
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
            i = self.colon(next)?;
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
                None => i = self.skip(i)?,
            }
            // Compact JSON: a comma and the next key's quote, tested as one pair.
            if let Some(&[b',', b'"']) = b.get(i..i + 2) {
                i += 1;
                continue;
            }
            match self.0.next(i)? {
                Next::Member(next) => i = next,
                Next::End(end) => return Some(end),
            }
        }
    }

    /// A key's colon at (or after whitespace at) `i`: where the value starts. Compact JSON
    /// has the colon right there and the value right after it, tested as one pair (the
    /// general case, `Lex::colon`, tests for whitespace at both places).
    #[inline(always)]
    fn colon(&self, i: usize) -> Option<usize> {
        match self.0.b.get(i..i + 2) {
            Some(&[b':', c]) if c > b' ' => Some(i + 1),
            _ => self.0.colon(i),
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
            b'{' | b'[' => (Val::Compound, self.compound(i)?),
            b'-' | b'0'..=b'9' => self.int(i)?,
            b't' if b[i..].starts_with(b"true") => (Val::Bool, i + 4),
            b'f' if b[i..].starts_with(b"false") => (Val::Bool, i + 5),
            b'n' if b[i..].starts_with(b"null") => (Val::Null, i + 4),
            _ => return None,
        })
    }

    /// Skips an unknown key's value at `i` (not a string: those are skipped where met).
    /// Inlined: with the key match inlined too this measured best for EMQX (its skipped
    /// numbers and literals) and within 0.1 % for Azure, which skips only strings.
    #[inline(always)]
    fn skip(&self, i: usize) -> Option<usize> {
        let b = self.0.b;
        match *b.get(i)? {
            b'{' | b'[' => self.compound(i),
            b'-' | b'0'..=b'9' => self.number(i),
            _ => word::literal(b, i).map(|n| i + n),
        }
    }

    /// Skips an integer at `i` that [`int`](Self::int) would read: the position after it.
    /// Short ones (most skipped numbers: versions, intervals, ports) are counted in one word.
    #[inline(always)]
    fn number(&self, i: usize) -> Option<usize> {
        let b = self.0.b;
        let neg = b[i] == b'-';
        let d = i + usize::from(neg);
        let Some(n) = word::short_digits(b, d) else {
            return self.int(i).map(|(_, end)| end); // eight digits or more: the long way
        };
        let end = d + n;
        // As `Lex::uint` and `int`: a digit, no leading zero, no `-0`, no fraction or exponent.
        if n == 0 || (b[d] == b'0' && (n > 1 || neg)) || matches!(b.get(end), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(end)
    }

    /// A key (and its colon) inside a skipped object, at `i`: where its value starts.
    #[inline(always)]
    fn member_key(&self, i: usize) -> Option<usize> {
        let b = self.0.b;
        if b.get(i) != Some(&b'"') {
            return None;
        }
        self.colon(self.0.bytes(i)?.1)
    }

    /// Skips the array or object at `i`, checked as serde_json checks it (or declined): the
    /// position after its closing bracket. One loop over its tokens with the open brackets kept
    /// as bits (1 for an object), so nesting costs a shift, not a call.
    fn compound(&self, mut i: usize) -> Option<usize> {
        let b = self.0.b;
        let (mut stack, mut depth) = (0u64, 0u32);
        loop {
            // A value starts at `i`.
            match *b.get(i)? {
                open @ (b'{' | b'[') => {
                    let j = self.0.ws(i + 1);
                    // `{` + 2 is `}`, `[` + 2 is `]`: an empty one is a value like a literal.
                    if b.get(j) == Some(&(open + 2)) {
                        i = j + 1;
                    } else {
                        if depth == MAX_DEPTH {
                            return None;
                        }
                        depth += 1;
                        let object = open == b'{';
                        stack = stack << 1 | u64::from(object);
                        i = if object { self.member_key(j)? } else { j };
                        continue;
                    }
                }
                b'"' => i = self.0.bytes(i)?.1,
                b'-' | b'0'..=b'9' => i = self.number(i)?,
                _ => i += word::literal(b, i)?,
            }
            // After a value: close brackets until a comma (then the next value) or the end of
            // the outermost one.
            loop {
                if depth == 0 {
                    return Some(i);
                }
                i = self.0.ws(i);
                let object = stack & 1 == 1;
                match b.get(i) {
                    Some(b',') => {
                        i = self.0.ws(i + 1);
                        if object {
                            i = self.member_key(i)?;
                        }
                        break;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    _ => return None,
                }
                i += 1;
                depth -= 1;
                stack >>= 1;
            }
        }
    }
}
