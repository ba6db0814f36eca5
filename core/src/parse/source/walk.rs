//! The vendor flat reader: one pass over a vendor line, its known keys put into a [`Rec`] as
//! borrowed values, everything else skipped in place. Like the ApsaraMQ flat reader
//! (`../flat.rs`) it either reads exactly what serde_json would or declines (`None`) without
//! judging the line, and `de.rs` reads it again and reports every error: it declines string
//! escapes, numbers with a fraction or an exponent, integers of more than 18 digits, nesting
//! deeper than [`MAX_DEPTH`] and a known key seen twice.

use super::super::raw::{self, Val};
use super::{Rec, F};
use crate::scan::find_special;

/// Deepest nesting skipped in place (serde_json's own limit, 128, applies on the exact read).
const MAX_DEPTH: u32 = 32;

/// Reads `bytes` into `rec`, which must start empty (after `None` it must not be used).
pub(super) fn read<'a>(bytes: &'a [u8], rec: &mut Rec<&'a str>) -> Option<()> {
    raw::count(raw::Read::Line);
    // Validated once, a word a step (cheaper than a check per kept string, measured); every
    // string below is a slice of it between two ASCII quotes.
    let text = core::str::from_utf8(bytes).ok()?;
    let w = Walk { text, b: bytes };
    let end = w.object(0, rec, false)?;
    (end == bytes.len()).then_some(())
}

struct Walk<'a> {
    text: &'a str,
    b: &'a [u8],
}

impl<'a> Walk<'a> {
    /// The position of the first non-whitespace byte at or after `i`. Compact JSON has none:
    /// the first test settles it.
    #[inline(always)]
    fn ws(&self, i: usize) -> usize {
        match self.b.get(i) {
            Some(&c) if c > b' ' => i,
            _ => self.ws_slow(i),
        }
    }

    #[inline(never)]
    fn ws_slow(&self, mut i: usize) -> usize {
        while matches!(self.b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    }

    /// A string without escapes at `i`: its bytes and the position after it. Keys and skipped
    /// strings stay bytes: only a kept value is turned into `&str` ([`Walk::string`]).
    #[inline(always)]
    fn bytes(&self, i: usize) -> Option<(&'a [u8], usize)> {
        if self.b.get(i) != Some(&b'"') {
            return None;
        }
        let end = i + 1 + find_special(&self.b[i + 1..])?;
        if self.b[end] != b'"' {
            return None;
        }
        Some((&self.b[i + 1..end], end + 1))
    }

    /// A string without escapes at `i`: its text and the position after it.
    #[inline(always)]
    fn string(&self, i: usize) -> Option<(&'a str, usize)> {
        let (s, next) = self.bytes(i)?;
        // Between two ASCII quotes of valid UTF-8: always a boundary.
        Some((self.text.get(i + 1..i + 1 + s.len())?, next))
    }

    /// An integer at `i` (optionally negative, not `-0`) with no fraction or exponent and at most 18
    /// digits (what cannot overflow): its value, and the position after. Millisecond times have
    /// 13 digits: read eight a step ([`eight_digits`]).
    #[inline(always)]
    fn int(&self, i: usize) -> Option<(Val<&'a str>, usize)> {
        let b = self.b;
        let neg = b.get(i) == Some(&b'-');
        let start = i + usize::from(neg);
        let (mut end, mut v) = (start, 0u64);
        while let Some(w) = b.get(end..end + 8).and_then(|c| eight_digits(c.try_into().ok()?)) {
            // Wraps only past 18 digits, which are declined below.
            v = v.wrapping_mul(100_000_000).wrapping_add(w);
            end += 8;
        }
        while let Some(&c) = b.get(end).filter(|c| c.is_ascii_digit()) {
            v = v.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            end += 1;
        }
        let len = end - start;
        if len == 0
            || len > 18
            || (b[start] == b'0' && len > 1)
            || matches!(b.get(end), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        if neg {
            // serde_json reads `-0` as a float: declined, the exact read says what it is.
            return (b[start] != b'0').then_some((Val::Negative, end));
        }
        Some((Val::Uint(v), end))
    }

    /// The object at (or after whitespace at) `i`; its known keys go into `rec` (top level, or
    /// Azure's `data` when `nested`). The position after it and the whitespace that follows.
    fn object(&self, i: usize, rec: &mut Rec<&'a str>, nested: bool) -> Option<usize> {
        let b = self.b;
        let mut i = self.ws(i);
        if b.get(i) != Some(&b'{') {
            return None;
        }
        i = self.ws(i + 1);
        if b.get(i) == Some(&b'}') {
            return Some(self.ws(i + 1));
        }
        loop {
            let (name, next) = self.bytes(i)?;
            i = self.ws(next);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = self.ws(i + 1);
            match F::of(name, nested) {
                Some(f) => {
                    let (v, next) = self.value(i, rec, f, nested)?;
                    if let (Val::Uint(_), Some(k)) = (&v, super::decimal_slot(f)) {
                        rec.decimal[k] = Some(self.text.get(i..next)?);
                    }
                    *rec.vacant(f).ok()? = Some(v);
                    i = next;
                }
                // Most skipped values are strings: skipped here, without a call.
                None if b.get(i) == Some(&b'"') => i = self.bytes(i)?.1,
                None => i = self.skip(i, 0)?,
            }
            i = self.ws(i);
            match b.get(i) {
                Some(b',') => i = self.ws(i + 1),
                Some(b'}') => return Some(self.ws(i + 1)),
                _ => return None,
            }
        }
    }

    /// A known key's value at `i`.
    #[inline(always)]
    fn value(&self, i: usize, rec: &mut Rec<&'a str>, f: F, nested: bool) -> Option<(Val<&'a str>, usize)> {
        let b = self.b;
        Some(match *b.get(i)? {
            b'"' => {
                let (s, next) = self.string(i)?;
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
        let b = self.b;
        match *b.get(i)? {
            b'"' => self.bytes(i).map(|(_, next)| next),
            b'-' | b'0'..=b'9' => self.int(i).map(|(_, next)| next),
            b't' if b[i..].starts_with(b"true") => Some(i + 4),
            b'f' if b[i..].starts_with(b"false") => Some(i + 5),
            b'n' if b[i..].starts_with(b"null") => Some(i + 4),
            open @ (b'{' | b'[') if depth < MAX_DEPTH => {
                let close = if open == b'{' { b'}' } else { b']' };
                let mut i = self.ws(i + 1);
                if b.get(i) == Some(&close) {
                    return Some(i + 1);
                }
                loop {
                    if open == b'{' {
                        i = self.ws(self.bytes(i)?.1);
                        if b.get(i) != Some(&b':') {
                            return None;
                        }
                        i = self.ws(i + 1);
                    }
                    i = self.ws(self.skip(i, depth + 1)?);
                    match b.get(i) {
                        Some(b',') => i = self.ws(i + 1),
                        Some(&c) if c == close => return Some(i + 1),
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }
}

/// The value of eight ASCII digits (the first the most significant), or `None` if any of the
/// eight bytes is not a digit: the classic SWAR check and three multiply-adds of pairs.
#[inline(always)]
fn eight_digits(c: [u8; 8]) -> Option<u64> {
    let w = u64::from_le_bytes(c);
    // Each byte 0x30..=0x39: its high nibble is 3, and adding 6 keeps it 3.
    let high = 0xF0F0_F0F0_F0F0_F0F0;
    if (w & high) | ((w.wrapping_add(0x0606_0606_0606_0606) & high) >> 4) != 0x3333_3333_3333_3333 {
        return None;
    }
    let x = w - 0x3030_3030_3030_3030;
    let x = (x.wrapping_mul(10) + (x >> 8)) & 0x00FF_00FF_00FF_00FF; // pairs
    let x = (x.wrapping_mul(100) + (x >> 16)) & 0x0000_FFFF_0000_FFFF; // fours
    Some((x.wrapping_mul(10_000) + (x >> 32)) & 0xFFFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::eight_digits;

    #[test]
    fn eight_digits_reads_exactly_eight_digits() {
        for n in [0u64, 1, 9, 10, 12_345_678, 99_999_999, 10_000_000, 90_000_009, 17_140_521] {
            let text = alloc::format!("{n:08}");
            assert_eq!(eight_digits(text.as_bytes().try_into().unwrap()), Some(n), "{text}");
        }
        for bad in [
            *b"1234567/",
            *b"1234567:",
            *b"/2345678",
            *b"12 45678",
            *b"\xff2345678"[..8].try_into().unwrap_or(b"12345678"),
        ] {
            if bad.iter().all(u8::is_ascii_digit) {
                continue;
            }
            assert_eq!(eight_digits(bad), None, "{bad:?}");
        }
        // Every single non-digit byte in every position.
        for pos in 0..8 {
            for c in (0u8..=255).filter(|c| !c.is_ascii_digit()) {
                let mut w = *b"12345678";
                w[pos] = c;
                assert_eq!(eight_digits(w), None, "{w:?}");
            }
        }
    }
}
