//! Fast paths for the two shapes nearly every line has (a flat broker body, and a RocketMQ
//! envelope with the body as a JSON string). Each either decodes exactly what serde_json would,
//! or declines and leaves the line to the general path in `mod.rs`, which reports every error.

use alloc::vec::Vec;

use alloc::borrow::Cow;

use super::{decode_with, key, Key, Raw, RawVisitor, Val};

/// The fast path for the common envelope line, exactly `{"tag":"<tag>","body":"<body JSON>"}`
/// (a dump of RocketMQ messages). A body whose only escapes are its quotes (what a broker body
/// becomes when written as a string) is read in place by [`flat_in`]; any other body string is
/// unescaped into `scratch` in one pass (no allocation once the buffer has grown), then decoded.
///
/// Returns `None` whenever the line is anything else or anything fails, and the caller then
/// takes the general path, which gives every error exactly as before. When this returns
/// `Some`, the line is valid JSON and the general path would have decoded the same tag and the
/// same body bytes: the tag has no escape, control character or invalid UTF-8; [`unescape`]
/// refuses an unescaped quote, a control character, a bad escape and a lone surrogate; and the
/// unescaped body decoded as JSON, which proves it UTF-8, so the body string was too (escapes
/// only ever produce whole characters).
/// The body's fields go into `raw` (filled in place: the caller's record is not copied around;
/// after `None` it may hold some fields and must not be used).
pub(super) fn fast_envelope<'a: 's, 's>(
    bytes: &'a [u8],
    scratch: &'s mut Vec<u8>,
    raw: &mut Raw<'s>,
) -> Option<&'a str> {
    const HEAD: &[u8] = br#"{"tag":""#;
    const MID: &[u8] = br#"","body":""#;
    let rest = bytes.strip_prefix(HEAD)?;
    let end = find_special(rest)?;
    let tag = core::str::from_utf8(&rest[..end]).ok()?;
    let text = rest[end..].strip_prefix(MID)?.strip_suffix(br#""}"#)?;
    // A body whose only escapes are its quotes is read where it lies: no copy, no second pass.
    if flat_in::<true>(text, raw).is_some() {
        return Some(tag);
    }
    *raw = Raw::default();
    unescape(text, scratch)?;
    let scratch: &'s [u8] = scratch;
    if flat(scratch, raw).is_none() {
        *raw = decode_with(scratch, RawVisitor { envelope_allowed: false, byte_keys: true }).ok()?;
    }
    if raw.body.is_some() {
        return None;
    }
    Some(tag)
}

/// The fast path for the common body: one JSON object whose values are strings without
/// escapes, unsigned integers of at most 18 digits or `null` (the broker's notifications); or
/// an envelope whose `body` is such an object.
///
/// `None` for anything else (an escape, another kind of value, a repeated known key, invalid
/// UTF-8, invalid JSON…): the caller then decodes with serde_json. When this returns `Some`,
/// serde_json would have decoded exactly the same fields (its strings without escapes are
/// borrowed the same way, its integers read the same way).
///
/// The fields go into `raw`, which must start empty (after `None` it may hold some of them).
pub(super) fn flat<'a>(bytes: &'a [u8], raw: &mut Raw<'a>) -> Option<()> {
    flat_in::<false>(bytes, raw)
}

/// [`flat`] over JSON text (`QUOTED = false`), or over the contents of a JSON string holding
/// such a body (`QUOTED = true`): there its quotes are written `\"` and it may hold no other
/// escape and no control character (not even whitespace ones, which a string cannot hold
/// raw), so the contents unescape to a flat body whose strings are exactly the text between
/// each `\"` pair, which is how they are read.
pub(super) fn flat_in<'a, const QUOTED: bool>(bytes: &'a [u8], raw: &mut Raw<'a>) -> Option<()> {
    // Validated once; every string below is a slice of it between two ASCII quotes.
    let text = core::str::from_utf8(bytes).ok()?;
    let end = Flat::<QUOTED> { text, b: text.as_bytes() }.object(0, !QUOTED, raw)?;
    (end == bytes.len()).then_some(())
}

/// A flat body's reader; `QUOTED` as in [`flat_in`].
struct Flat<'a, const QUOTED: bool> {
    text: &'a str,
    b: &'a [u8],
}

impl<'a, const QUOTED: bool> Flat<'a, QUOTED> {
    /// How a quote is written.
    const QUOTE: &'static [u8] = if QUOTED { br#"\""# } else { b"\"" };

    #[inline(always)]
    fn ws(&self, mut i: usize) -> usize {
        while match self.b.get(i) {
            Some(b' ') => true,
            Some(b'\t' | b'\n' | b'\r') => !QUOTED,
            _ => false,
        } {
            i += 1;
        }
        i
    }

    /// A string without escapes at `i`; its text and the position after it.
    #[inline(always)]
    fn string(&self, i: usize) -> Option<(&'a str, usize)> {
        let start = i + Self::QUOTE.len();
        if !self.b.get(i..)?.starts_with(Self::QUOTE) {
            return None;
        }
        let end = start + find_special(&self.b[start..])?;
        if !self.b[end..].starts_with(Self::QUOTE) {
            return None;
        }
        Some((self.text.get(start..end)?, end + Self::QUOTE.len()))
    }

    /// The object at (or after whitespace at) `i`, its fields put into `raw`; the position
    /// after it and the whitespace that follows.
    fn object(&self, i: usize, envelope_allowed: bool, raw: &mut Raw<'a>) -> Option<usize> {
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
            let (name, next) = self.string(i)?;
            i = self.ws(next);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = self.ws(i + 1);
            let key = key(name.as_bytes());
            let value = match *b.get(i)? {
                c if c == Self::QUOTE[0] => {
                    let (v, next) = self.string(i)?;
                    i = next;
                    Val::Str(Cow::Borrowed(v))
                }
                b'n' if b[i..].starts_with(b"null") => {
                    i += 4;
                    Val::Null
                }
                c @ b'0'..=b'9' => {
                    let len = b[i..].iter().position(|c| !c.is_ascii_digit()).unwrap_or(b.len() - i);
                    let digits = &b[i..i + len];
                    i += len;
                    if len > 18 || (c == b'0' && len > 1) || matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
                        return None;
                    }
                    Val::Uint(digits.iter().fold(0, |v, &d| v * 10 + u64::from(d - b'0')))
                }
                // An envelope's body object (serde_json's `ValSeed { nested: true }`).
                b'{' if envelope_allowed && matches!(key, Key::Body) => {
                    let mut inner = alloc::boxed::Box::new(Raw::default());
                    i = self.object(i, false, &mut inner)?;
                    Val::Object(inner)
                }
                _ => return None,
            };
            let slot = match key {
                Key::ClientId => &mut raw.client_id,
                Key::ChannelId => &mut raw.channel_id,
                Key::EventType => &mut raw.event_type,
                Key::Time => &mut raw.time,
                Key::ClientIp => &mut raw.client_ip,
                Key::Tag => &mut raw.tag,
                Key::Body if envelope_allowed => &mut raw.body,
                // An inner `body` may be any value in serde_json's hands: leave it to it.
                Key::Body => return None,
                Key::Other => &mut None, // validated and ignored, as serde_json's `Skip` does
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(value);
            i = self.ws(i);
            match b.get(i) {
                Some(b',') => i = self.ws(i + 1),
                Some(b'}') => return Some(self.ws(i + 1)),
                _ => return None,
            }
        }
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0;
    for &c in b.get(..4)? {
        v = (v << 4) | char::from(c).to_digit(16)?;
    }
    Some(v)
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// For eight bytes (little-endian), the high bit of each zero byte; the lowest bit set is exact
/// (the classic "has zero byte" trick: false positives only appear above a true one).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

/// For eight bytes (little-endian), the high bit of each byte that is `\`, `"` or below 0x20
/// (what ends a run of plain string content); the lowest bit set is exact.
#[inline(always)]
fn special(x: u64) -> u64 {
    const BACKSLASH: u64 = LO * b'\\' as u64;
    const QUOTE: u64 = LO * b'"' as u64;
    const SPACE: u64 = LO * 0x20;
    zero_bytes(x ^ BACKSLASH) | zero_bytes(x ^ QUOTE) | (x.wrapping_sub(SPACE) & !x & HI)
}

/// Position of the first byte that `mark` flags in its word (eight bytes a step, the lowest
/// flag exact) or, in the last few bytes, that `is` accepts.
#[inline(always)]
fn first_marked(s: &[u8], mark: impl Fn(u64) -> u64, is: impl Fn(u8) -> bool) -> Option<usize> {
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let z = mark(u64::from_le_bytes(w));
        if z != 0 {
            return Some(at + (z.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&c| is(c)).map(|p| at + p)
}

/// Position of the first `\`, `"` or control character, eight bytes a step.
#[inline(always)]
pub(crate) fn find_special(s: &[u8]) -> Option<usize> {
    first_marked(s, special, |c| c == b'"' || c == b'\\' || c < 0x20)
}

/// Position of the first `byte`, eight bytes a step (lines in a batch, keys in a line).
#[inline(always)]
pub(crate) fn find_byte(s: &[u8], byte: u8) -> Option<usize> {
    let pattern = LO * u64::from(byte);
    first_marked(s, |x| zero_bytes(x ^ pattern), |c| c == byte)
}

/// Unescapes the contents of a JSON string literal into `out`, as serde_json would; `None` on
/// anything it would refuse (an unescaped quote, a control character, a bad escape, a lone
/// surrogate).
///
/// Copies eight bytes a step up to the next byte that needs a look (the output is never longer
/// than the input, so the buffer keeps eight bytes of slack for the last step).
pub(super) fn unescape(s: &[u8], out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    out.resize(s.len() + 8, 0);
    let (mut i, mut w) = (0, 0);
    loop {
        while i + 8 <= s.len() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&s[i..i + 8]);
            out[w..w + 8].copy_from_slice(&word);
            let z = special(u64::from_le_bytes(word));
            if z != 0 {
                let k = (z.trailing_zeros() / 8) as usize;
                i += k;
                w += k;
                break;
            }
            i += 8;
            w += 8;
        }
        let Some(&c) = s.get(i) else { break };
        if c != b'\\' {
            if c == b'"' || c < 0x20 {
                return None;
            }
            out[w] = c;
            i += 1;
            w += 1;
            continue;
        }
        let byte = match *s.get(i + 1)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let hi = hex4(s.get(i + 2..)?)?;
                i += 6;
                let cp = match hi {
                    0xD800..=0xDBFF => {
                        if s.get(i..i + 2)? != b"\\u" {
                            return None;
                        }
                        let lo = hex4(s.get(i + 2..)?)?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return None;
                        }
                        i += 6;
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return None,
                    cp => cp,
                };
                let mut buf = [0u8; 4];
                let utf8 = char::from_u32(cp)?.encode_utf8(&mut buf).as_bytes();
                out[w..w + utf8.len()].copy_from_slice(utf8);
                w += utf8.len();
                continue;
            }
            _ => return None,
        };
        out[w] = byte;
        i += 2;
        w += 1;
    }
    out.truncate(w);
    Some(())
}
