//! JSON lexing shared by both flat readers (the ApsaraMQ one, `flat.rs`, and the vendor one,
//! `source/walk.rs`): whitespace, a string without escapes, an unsigned integer. Each reader
//! keeps its own object walk; the tokens are read here, once, in the variant measured fastest
//! (docs/BENCHMARKS.md, issues 14 and 18). Like the readers, every primitive either reads
//! exactly what serde_json would or declines (`None`).

use crate::scan::find_special;

/// A position-free cursor over a line: JSON text (`QUOTED = false`) or, for the ApsaraMQ
/// reader, the contents of a JSON string holding a flat object (`QUOTED = true`), whose quotes
/// are written `\"` and which can hold no raw whitespace other than a space.
#[derive(Clone, Copy)]
pub(super) struct Lex<'a, const QUOTED: bool> {
    /// The whole line, validated as UTF-8 once; every string read is a slice of it.
    pub(super) text: &'a str,
    /// The same line as bytes.
    pub(super) b: &'a [u8],
}

/// Where an object's walk goes on: a member at this position, or the object's end.
pub(super) enum Next {
    /// The position of a member's key.
    Member(usize),
    /// The position after the closing brace and the whitespace that follows.
    End(usize),
}

impl<'a, const QUOTED: bool> Lex<'a, QUOTED> {
    /// How a quote is written.
    pub(super) const QUOTE: &'static [u8] = if QUOTED { br#"\""# } else { b"\"" };

    /// The position of the first non-whitespace byte at or after `i`. Compact JSON has none:
    /// the first test settles it.
    #[inline(always)]
    pub(super) fn ws(&self, i: usize) -> usize {
        match self.b.get(i) {
            Some(&c) if c > b' ' => i,
            _ => self.ws_slow(i),
        }
    }

    #[inline(never)]
    fn ws_slow(&self, mut i: usize) -> usize {
        while match self.b.get(i) {
            Some(b' ') => true,
            Some(b'\t' | b'\n' | b'\r') => !QUOTED,
            _ => false,
        } {
            i += 1;
        }
        i
    }

    /// An object's opening brace at (or after whitespace at) `i`: where its first member
    /// starts, or, for `{}`, where the object and the whitespace after it end.
    #[inline(always)]
    pub(super) fn open(&self, i: usize) -> Option<Next> {
        let i = self.ws(i);
        if self.b.get(i) != Some(&b'{') {
            return None;
        }
        let i = self.ws(i + 1);
        Some(if self.b.get(i) == Some(&b'}') { Next::End(self.ws(i + 1)) } else { Next::Member(i) })
    }

    /// A key's colon at (or after whitespace at) `i`: where the value starts.
    #[inline(always)]
    pub(super) fn colon(&self, i: usize) -> Option<usize> {
        let i = self.ws(i);
        (self.b.get(i) == Some(&b':')).then(|| self.ws(i + 1))
    }

    /// What follows a member's value at (or after whitespace at) `i`: a comma and the next
    /// member, or the closing brace (the position after it and the whitespace that follows).
    #[inline(always)]
    pub(super) fn next(&self, i: usize) -> Option<Next> {
        let i = self.ws(i);
        match self.b.get(i) {
            Some(b',') => Some(Next::Member(self.ws(i + 1))),
            Some(b'}') => Some(Next::End(self.ws(i + 1))),
            _ => None,
        }
    }

    /// A string without escapes at `i`: its bytes and the position after it. Keys and skipped
    /// strings can stay bytes: only a kept value need be turned into `&str` ([`Lex::string`]).
    #[inline(always)]
    pub(super) fn bytes(&self, i: usize) -> Option<(&'a [u8], usize)> {
        let b = self.b;
        let start = i + Self::QUOTE.len();
        let end = if QUOTED {
            if !b.get(i..)?.starts_with(Self::QUOTE) {
                return None;
            }
            let end = start + find_special(&b[start..])?;
            if !b[end..].starts_with(Self::QUOTE) {
                return None;
            }
            end
        } else {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let end = start + find_special(&b[start..])?;
            if b[end] != b'"' {
                return None;
            }
            end
        };
        Some((&b[start..end], end + Self::QUOTE.len()))
    }

    /// A string without escapes at `i`: its text and the position after it.
    #[inline(always)]
    pub(super) fn string(&self, i: usize) -> Option<(&'a str, usize)> {
        let (s, next) = self.bytes(i)?;
        let start = i + Self::QUOTE.len();
        // Between two ASCII quotes of valid UTF-8: always a boundary.
        Some((self.text.get(start..start + s.len())?, next))
    }

    /// An unsigned integer at `i` with no fraction or exponent and at most 18 digits (what
    /// cannot overflow and what serde_json reads as a `u64` too): its value, and the position
    /// after. Millisecond times have 13 digits: read eight a step ([`eight_digits`]).
    #[inline(always)]
    pub(super) fn uint(&self, i: usize) -> Option<(u64, usize)> {
        let b = self.b;
        let (mut end, mut v) = (i, 0u64);
        while let Some(w) = b.get(end..end + 8).and_then(|c| eight_digits(c.try_into().ok()?)) {
            // Wraps only past 18 digits, which are declined below.
            v = v.wrapping_mul(100_000_000).wrapping_add(w);
            end += 8;
        }
        while let Some(&c) = b.get(end).filter(|c| c.is_ascii_digit()) {
            v = v.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            end += 1;
        }
        let len = end - i;
        if len == 0 || len > 18 || (b[i] == b'0' && len > 1) || matches!(b.get(end), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        Some((v, end))
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
    use super::{eight_digits, Lex};

    #[test]
    fn eight_digits_reads_exactly_eight_digits() {
        for n in [0u64, 1, 9, 10, 12_345_678, 99_999_999, 10_000_000, 90_000_009, 17_140_521] {
            let text = alloc::format!("{n:08}");
            assert_eq!(eight_digits(text.as_bytes().try_into().unwrap()), Some(n), "{text}");
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

    fn uint(s: &str) -> Option<(u64, usize)> {
        Lex::<false> { text: s, b: s.as_bytes() }.uint(0)
    }

    #[test]
    fn uint_reads_what_serde_json_reads_as_u64_up_to_18_digits() {
        assert_eq!(uint("0"), Some((0, 1)));
        assert_eq!(uint("1717000000123,"), Some((1_717_000_000_123, 13)));
        assert_eq!(uint("999999999999999999}"), Some((999_999_999_999_999_999, 18)));
        for declined in ["", "x", "01", "1234567890123456789", "1.5", "1e3", "12345678E1"] {
            assert_eq!(uint(declined), None, "{declined}");
        }
    }

    #[test]
    fn quoted_strings_and_whitespace() {
        let s = r#"\"a b\" \"c"#;
        let q = Lex::<true> { text: s, b: s.as_bytes() };
        assert_eq!(q.string(0), Some(("a b", 7)));
        assert_eq!(q.ws(7), 8);
        assert_eq!(q.string(8), None);
        let t = "\t\n \"x\"";
        assert_eq!(Lex::<false> { text: t, b: t.as_bytes() }.ws(0), 3);
        assert_eq!(Lex::<true> { text: t, b: t.as_bytes() }.ws(0), 0);
    }
}
