//! The flat reader: the first of a line's two reads, for the shapes nearly every line has — a
//! broker body (strings without escapes, small unsigned integers, `null`), an envelope whose body
//! is such an object, or an envelope whose body is such an object written as a JSON string
//! (read where it lies, with `\"` as its quote: no unescaping, no copy).
//!
//! It either reads exactly what serde_json would, or declines (`None`) and the line is read
//! again by `de.rs`, which reports every error; it never reports one itself. When it returns
//! `Some`, serde_json would have decoded the same fields: its strings without escapes are
//! borrowed the same way, its integers read the same way, the whole line is valid UTF-8 and
//! valid JSON.

use super::lex::{Lex, Next};
use super::raw::{self, nested, Key, Line, Raw, Val};

/// Reads `bytes` into `line`, which must start empty (after `None` it may hold some fields and
/// must not be used).
pub(super) fn read<'a>(bytes: &'a [u8], line: &mut Line<&'a str>) -> Option<()> {
    raw::count(raw::Read::Line);
    // Validated once; every string below is a slice of it between two ASCII quotes.
    let text = core::str::from_utf8(bytes).ok()?;
    let Line { outer, inner } = line;
    let flat = Flat::<false>(Lex { text, b: bytes });
    // Nearly every envelope starts `{"tag":`: those tokens matched as bytes, the rest of the
    // object read as usual (the same reading in fewer steps, not a second one).
    const HEAD: &[u8] = br#"{"tag":"#;
    let end = if bytes.starts_with(HEAD) {
        flat.members(HEAD.len() - 1, Some(Key::Tag), outer, Some(inner))?
    } else {
        flat.object(0, outer, Some(inner))?
    };
    (end == bytes.len()).then_some(())
}

/// A flat object's reader, over JSON text (`QUOTED = false`) or over the contents of a JSON
/// string holding a flat object (`QUOTED = true`). There its quotes are written `\"` and it may
/// hold no other escape and no control character (not even whitespace ones, which a string
/// cannot hold raw), so the contents unescape to a flat object whose strings are exactly the
/// text between each `\"` pair, which is how they are read. Its tokens are read by [`Lex`].
struct Flat<'a, const QUOTED: bool>(Lex<'a, QUOTED>);

impl<'a, const QUOTED: bool> Flat<'a, QUOTED> {
    /// The object at (or after whitespace at) `i`, its fields put into `raw` and, for the
    /// envelope's body (see [`nested`]), into `inner`; the position after it and the
    /// whitespace that follows.
    fn object(&self, i: usize, raw: &mut Raw<&'a str>, inner: Option<&mut Raw<&'a str>>) -> Option<usize> {
        match self.0.open(i)? {
            Next::Member(i) => self.members(i, None, raw, inner),
            Next::End(end) => Some(end),
        }
    }

    /// An object's members from `i` to its closing brace, as in [`object`](Self::object); the
    /// first one's key already read when `key` is given (`i` is then at its colon).
    fn members(
        &self,
        mut i: usize,
        mut key: Option<Key>,
        raw: &mut Raw<&'a str>,
        mut inner: Option<&mut Raw<&'a str>>,
    ) -> Option<usize> {
        let b = self.0.b;
        loop {
            let key = match key.take() {
                Some(key) => key,
                None => {
                    let (name, next) = self.0.bytes(i)?;
                    i = next;
                    Key::of(name)
                }
            };
            i = self.0.colon(i)?;
            // A repeated key is rare: declined, for `de.rs` to skip it and read on.
            let slot = raw.vacant(key).ok()?;
            let value = match *b.get(i)? {
                c if c == Lex::<QUOTED>::QUOTE[0] => match nested(key, inner.as_deref_mut()) {
                    // An envelope's body string: read in place, or declined. The quoted reader
                    // never takes a raw `"`, so it stops at the string's closing quote at the
                    // latest, which must follow the object.
                    Some(body) if !QUOTED => {
                        let end = Flat::<true>(Lex { text: self.0.text, b }).object(i + 1, body, None)?;
                        if b.get(end) != Some(&b'"') {
                            return None;
                        }
                        i = end + 1;
                        Val::Object
                    }
                    _ => {
                        let (v, next) = self.0.string(i)?;
                        i = next;
                        Val::Str(v)
                    }
                },
                b'n' if b[i..].starts_with(b"null") => {
                    i += 4;
                    Val::Null
                }
                b'0'..=b'9' => {
                    let (v, next) = self.0.uint(i)?;
                    i = next;
                    Val::Uint(v)
                }
                b'{' => {
                    i = self.object(i, nested(key, inner.as_deref_mut())?, None)?;
                    Val::Object
                }
                _ => return None,
            };
            if let Some(slot) = slot {
                *slot = Some(value);
            }
            match self.0.next(i)? {
                Next::Member(next) => i = next,
                Next::End(end) => return Some(end),
            }
        }
    }
}
