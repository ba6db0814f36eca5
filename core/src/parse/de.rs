//! The serde path: the second and exact read of a line the flat reader declined, through
//! serde_json with checked (UTF-8) keys. It takes any JSON and is the one that reports errors,
//! with serde_json's messages.
//!
//! No `serde_json::Value` is built: known fields go into a [`Raw`] as they come, other values
//! are skipped through [`Skip`].

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::raw::{self, nested, Key, Raw, Val};
use crate::Error;

/// Reads one JSON object (and nothing else but whitespace) into `raw`; with `body`, the top
/// level of a line: an object `body` goes into `body.inner`, a string `body` with escapes is
/// unescaped into `body.text` (see [`Val::Unescaped`]).
pub(super) fn decode<'a>(
    bytes: &'a [u8],
    raw: &mut Raw<Cow<'a, str>>,
    body: Option<Body<'_, 'a>>,
) -> Result<(), Error> {
    raw::count(if body.is_some() { raw::Read::Line } else { raw::Read::Body });
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let r = de.deserialize_map(RawVisitor { raw, body }).and_then(|()| de.end());
    r.map_err(|e| {
        if e.classify() == serde_json::error::Category::Data {
            return Error::InvalidJson { reason: String::from("expected a JSON object") };
        }
        Error::InvalidJson { reason: e.to_string() }
    })
}

/// Where a line's `body` goes (only at the top level).
pub(super) struct Body<'r, 'a> {
    /// An object body's fields.
    pub(super) inner: &'r mut Raw<Cow<'a, str>>,
    /// A string body's text when serde_json had to unescape it (a borrowed one is kept as
    /// [`Val::Str`]); the caller's buffer, so a stream of such lines allocates nothing.
    pub(super) text: &'r mut Vec<u8>,
}

struct RawVisitor<'r, 'b, 'a> {
    raw: &'r mut Raw<Cow<'a, str>>,
    body: Option<Body<'b, 'a>>,
}

impl<'de> Visitor<'de> for RawVisitor<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeyVisitor)? {
            // An unknown key's value, or a repeated key's (remembered by `vacant`, reported
            // after the whole line is known to be JSON), is read only as JSON.
            let Ok(Some(slot)) = self.raw.vacant(key) else {
                map.next_value_seed(Skip)?;
                continue;
            };
            let body =
                nested(key, self.body.as_mut()).map(|b| Body { inner: &mut *b.inner, text: &mut *b.text });
            *slot = Some(map.next_value_seed(ValSeed { body })?);
        }
        Ok(())
    }
}

/// Reads a key as a checked string.
struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(Key::of(v.as_bytes()))
    }
}

impl<'de> DeserializeSeed<'de> for KeyVisitor {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

/// Reads a known field's value; with `body`, the envelope's body.
struct ValSeed<'r, 'a> {
    body: Option<Body<'r, 'a>>,
}

impl<'de> DeserializeSeed<'de> for ValSeed<'_, 'de> {
    type Value = Val<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val<Cow<'de, str>>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValSeed<'_, 'de> {
    type Value = Val<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Val<Cow<'de, str>>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val<Cow<'de, str>>, E> {
        Ok(match self.body {
            Some(body) => {
                body.text.clear();
                body.text.extend_from_slice(v.as_bytes());
                Val::Unescaped
            }
            None => Val::Str(Cow::Owned(String::from(v))),
        })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val<Cow<'de, str>>, E> {
        Ok(Val::Uint(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val<Cow<'de, str>>, E> {
        Ok(if v >= 0 { Val::Uint(v as u64) } else { Val::Negative })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Val<Cow<'de, str>>, E> {
        Ok(Val::Float(v))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Val<Cow<'de, str>>, E> {
        Ok(Val::Bool)
    }
    fn visit_unit<E>(self) -> Result<Val<Cow<'de, str>>, E> {
        Ok(Val::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<Cow<'de, str>>, A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(Val::Compound)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Val<Cow<'de, str>>, A::Error> {
        match self.body {
            Some(body) => RawVisitor { raw: body.inner, body: None }.visit_map(map).map(|()| Val::Object),
            None => Skip.visit_map(map).map(|()| Val::Compound),
        }
    }
}

/// Skips one value through `deserialize_any`, unlike `IgnoredAny`, so that serde_json's nesting
/// limit (128) and UTF-8 validation apply to ignored values too (`invalid_json`, never a deep
/// recursion).
pub(super) struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}
