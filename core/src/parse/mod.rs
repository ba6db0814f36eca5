//! Decoding one notification body or envelope, borrowed from the input bytes.
//!
//! Known fields are read as loosely typed values and then validated, so a mistyped field gets
//! `invalid_field` naming that field instead of a generic parse error. Strings without escapes
//! are borrowed; no `serde_json::Value` is built.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::{Error, EventType, Notification};

mod fast;
#[cfg(test)]
mod tests;

use fast::{fast_envelope, flat};
pub(crate) use fast::{find_byte, find_special};

/// Largest accepted event time: 2^53 − 1, the largest integer every binding's number holds.
pub const MAX_TIME: u64 = (1 << 53) - 1;

/// A field value before validation.
enum Val<'a> {
    Str(Cow<'a, str>),
    Uint(u64),
    Negative,
    Float(f64),
    Bool,
    Null,
    Compound,
    Object(alloc::boxed::Box<Raw<'a>>),
}

/// The known fields of a body, or of an envelope (`tag` + `body`).
#[derive(Default)]
struct Raw<'a> {
    client_id: Option<Val<'a>>,
    channel_id: Option<Val<'a>>,
    event_type: Option<Val<'a>>,
    time: Option<Val<'a>>,
    client_ip: Option<Val<'a>>,
    tag: Option<Val<'a>>,
    body: Option<Val<'a>>,
}

struct ValSeed {
    /// Objects are decoded as nested bodies (only for an envelope's `body`).
    nested: bool,
}

impl<'de> DeserializeSeed<'de> for ValSeed {
    type Value = Val<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Val<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValSeed {
    type Value = Val<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(String::from(v))))
    }
    fn visit_string<E>(self, v: String) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val<'de>, E> {
        Ok(Val::Uint(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val<'de>, E> {
        Ok(if v >= 0 { Val::Uint(v as u64) } else { Val::Negative })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Val<'de>, E> {
        Ok(Val::Float(v))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Val<'de>, E> {
        Ok(Val::Bool)
    }
    fn visit_unit<E>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(Val::Compound)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Val<'de>, A::Error> {
        if self.nested {
            RawVisitor { envelope_allowed: false, byte_keys: false }
                .visit_map(map)
                .map(|r| Val::Object(alloc::boxed::Box::new(r)))
        } else {
            Skip.visit_map(map).map(|()| Val::Compound)
        }
    }
}

/// Skips one value through `deserialize_any`, unlike `IgnoredAny`, so that serde_json's nesting
/// limit (128) and UTF-8 validation apply to ignored values too (`invalid_json`, never a deep
/// recursion).
struct Skip;

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

enum Key {
    ClientId,
    ChannelId,
    EventType,
    Time,
    ClientIp,
    Tag,
    Body,
    Other,
}

/// Reads a key; with `bytes`, as raw bytes without serde_json's UTF-8 validation (the fast
/// envelope path: an unknown key is then checked here, and one this cannot vouch for fails the
/// decode, which sends the line down the general path).
struct KeyVisitor {
    bytes: bool,
}

#[inline(always)]
fn key(v: &[u8]) -> Key {
    match v {
        b"clientId" => Key::ClientId,
        b"channelId" => Key::ChannelId,
        b"eventType" => Key::EventType,
        b"time" => Key::Time,
        b"clientIp" => Key::ClientIp,
        b"tag" => Key::Tag,
        b"body" => Key::Body,
        _ => Key::Other,
    }
}

impl Visitor<'_> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(key(v.as_bytes()))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key, E> {
        match key(v) {
            // Raw control characters and lone surrogates (serde_json does not check either when
            // reading bytes) leave a control byte or invalid UTF-8 behind.
            Key::Other if v.iter().any(|&b| b < 0x20) || core::str::from_utf8(v).is_err() => {
                Err(E::custom("unchecked key"))
            }
            k => Ok(k),
        }
    }
}

impl<'de> DeserializeSeed<'de> for KeyVisitor {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        if self.bytes {
            d.deserialize_bytes(self)
        } else {
            d.deserialize_str(self)
        }
    }
}

struct RawVisitor {
    envelope_allowed: bool,
    /// Keys as unvalidated bytes (see [`KeyVisitor`]); only for the fast envelope path.
    byte_keys: bool,
}

/// Marker message for a repeated key, recognised when mapping serde errors.
const DUPLICATE: &str = "duplicate field ";

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw<'de>, A::Error> {
        let mut raw = Raw::default();
        while let Some(key) = map.next_key_seed(KeyVisitor { bytes: self.byte_keys })? {
            let (slot, name) = match key {
                Key::ClientId => (&mut raw.client_id, "clientId"),
                Key::ChannelId => (&mut raw.channel_id, "channelId"),
                Key::EventType => (&mut raw.event_type, "eventType"),
                Key::Time => (&mut raw.time, "time"),
                Key::ClientIp => (&mut raw.client_ip, "clientIp"),
                Key::Tag => (&mut raw.tag, "tag"),
                Key::Body => (&mut raw.body, "body"),
                Key::Other => {
                    map.next_value_seed(Skip)?;
                    continue;
                }
            };
            if slot.is_some() {
                return Err(de::Error::custom(format_args!("{DUPLICATE}{name}")));
            }
            let nested = matches!(key, Key::Body) && self.envelope_allowed;
            *slot = Some(map.next_value_seed(ValSeed { nested })?);
        }
        Ok(raw)
    }
}

fn decode(bytes: &[u8], envelope_allowed: bool) -> Result<Raw<'_>, Error> {
    decode_with(bytes, RawVisitor { envelope_allowed, byte_keys: false })
}

fn decode_with(bytes: &[u8], visitor: RawVisitor) -> Result<Raw<'_>, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let raw = de.deserialize_map(visitor).and_then(|raw| de.end().map(|()| raw));
    raw.map_err(|e| {
        let msg = alloc::string::ToString::to_string(&e);
        if let Some(rest) = msg.strip_prefix(DUPLICATE) {
            let field = FIELDS.iter().copied().find(|f| rest.starts_with(f)).unwrap_or("body");
            return Error::invalid(field, "field appears twice");
        }
        if e.classify() == serde_json::error::Category::Data {
            return Error::InvalidJson { reason: String::from("expected a JSON object") };
        }
        Error::InvalidJson { reason: msg }
    })
}

const FIELDS: [&str; 7] = ["clientId", "channelId", "eventType", "time", "clientIp", "tag", "body"];

fn id<'v, 'a>(v: &'v Option<Val<'a>>, field: &'static str, max_len: u32) -> Result<&'v str, Error> {
    match v {
        None | Some(Val::Null) => Err(Error::MissingField { field }),
        Some(Val::Str(s)) if s.is_empty() => Err(Error::invalid(field, "must not be empty")),
        Some(Val::Str(s)) if s.len() > max_len as usize => {
            Err(Error::invalid(field, alloc::format!("longer than {max_len} bytes")))
        }
        Some(Val::Str(s)) => Ok(s),
        Some(_) => Err(Error::invalid(field, "must be a string")),
    }
}

fn event_type(v: &str, field: &'static str) -> Result<EventType, Error> {
    EventType::parse(v).ok_or_else(|| {
        let mut end = v.len().min(64);
        while !v.is_char_boundary(end) {
            end -= 1;
        }
        Error::UnknownEventType { field, value: String::from(&v[..end]) }
    })
}

fn time(v: &Option<Val<'_>>) -> Result<u64, Error> {
    let out_of_range = || Error::invalid("time", "larger than 2^53 - 1");
    let t = match v {
        None | Some(Val::Null) => return Err(Error::MissingField { field: "time" }),
        Some(Val::Uint(t)) => *t,
        Some(Val::Negative) => return Err(Error::invalid("time", "must not be negative")),
        Some(Val::Float(f)) if *f < 0.0 => return Err(Error::invalid("time", "must not be negative")),
        Some(Val::Float(f)) if *f > MAX_TIME as f64 => return Err(out_of_range()),
        Some(Val::Float(_)) => return Err(Error::invalid("time", "must be an integer")),
        Some(Val::Str(s)) => {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(Error::invalid("time", "must be an integer or a string of digits"));
            }
            let digits = s.trim_start_matches('0');
            if digits.len() > 16 {
                return Err(out_of_range());
            }
            digits.bytes().fold(0u64, |acc, c| acc * 10 + u64::from(c - b'0'))
        }
        Some(_) => return Err(Error::invalid("time", "must be an integer or a string of digits")),
    };
    if t > MAX_TIME {
        return Err(out_of_range());
    }
    Ok(t)
}

fn optional_str<'v>(
    v: &'v Option<Val<'_>>,
    field: &'static str,
    max_len: u32,
) -> Result<Option<&'v str>, Error> {
    match v {
        None | Some(Val::Null) => Ok(None),
        Some(Val::Str(s)) if s.is_empty() => Ok(None),
        Some(Val::Str(s)) if s.len() > max_len as usize => {
            Err(Error::invalid(field, alloc::format!("longer than {max_len} bytes")))
        }
        Some(Val::Str(s)) => Ok(Some(s)),
        Some(_) => Err(Error::invalid(field, "must be a string")),
    }
}

/// Validates a decoded body into a notification, reporting the first fault in field order
/// (clientId, channelId, tag/eventType, time, clientIp).
fn resolve<'v>(raw: &'v Raw<'_>, tag: Option<&str>, max_len: u32) -> Result<Notification<'v>, Error> {
    let client_id = id(&raw.client_id, "clientId", max_len)?;
    let channel_id = id(&raw.channel_id, "channelId", max_len)?;
    let tag = tag.map(|t| event_type(t, "tag")).transpose()?;
    let body_type = match &raw.event_type {
        None | Some(Val::Null) => None,
        Some(Val::Str(s)) => Some(event_type(s, "eventType")?),
        Some(_) => return Err(Error::invalid("eventType", "must be a string")),
    };
    let event_type = match (tag, body_type) {
        (Some(t), Some(b)) if t != b => {
            return Err(Error::TagMismatch { tag: t.as_str().into(), event_type: b.as_str().into() })
        }
        (_, Some(b)) => b,
        (Some(t), None) => t,
        (None, None) => return Err(Error::MissingField { field: "eventType" }),
    };
    let time = time(&raw.time)?;
    let client_ip = optional_str(&raw.client_ip, "clientIp", max_len)?;
    Ok(Notification { client_id, channel_id, event_type, time, client_ip })
}

/// Validates `n` as if it had been parsed (ids non-empty and within `max_len`, time in range).
pub(crate) fn check(n: &Notification<'_>, max_len: u32) -> Result<(), Error> {
    for (v, field) in [(n.client_id, "clientId"), (n.channel_id, "channelId")] {
        if v.is_empty() {
            return Err(Error::invalid(field, "must not be empty"));
        }
        if v.len() > max_len as usize {
            return Err(Error::invalid(field, alloc::format!("longer than {max_len} bytes")));
        }
    }
    if n.time > MAX_TIME {
        return Err(Error::invalid("time", "larger than 2^53 - 1"));
    }
    if n.client_ip.is_some_and(|ip| ip.len() > max_len as usize) {
        return Err(Error::invalid("clientIp", alloc::format!("longer than {max_len} bytes")));
    }
    Ok(())
}

/// Parses a body or an envelope line and hands the validated notification to `f`.
///
/// `tag` is the RocketMQ message tag, if the caller has one; an envelope's own `tag` must agree.
pub fn with_notification<R>(
    bytes: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    with_notification_in(bytes, tag, max_id_len, &mut Vec::new(), f)
}

/// [`with_notification`] with a caller-owned buffer for an envelope's string `body`, so that a
/// stream of envelopes decodes without allocating.
pub(crate) fn with_notification_in<R>(
    bytes: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    scratch: &mut Vec<u8>,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    let mut inner = Raw::default();
    if let Some(env_tag) = fast_envelope(bytes, scratch, &mut inner) {
        let tag = agree(tag, Some(env_tag))?;
        return resolve(&inner, tag, max_id_len).map(f);
    }
    general(bytes, tag, max_id_len, f)
}

/// Any body or envelope, every error in its documented order.
fn general<R>(
    bytes: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    // Keys as unvalidated bytes first (see `KeyVisitor`); anything that fails is decoded again
    // the ordinary way, which reports the error, so both give the same result.
    let mut raw = Raw::default();
    if flat(bytes, &mut raw).is_some() {
        return finish(&raw, tag, max_id_len, f);
    }
    let raw = match decode_with(bytes, RawVisitor { envelope_allowed: true, byte_keys: true }) {
        Ok(raw) => raw,
        Err(_) => decode(bytes, true)?,
    };
    finish(&raw, tag, max_id_len, f)
}

/// Validates a decoded line (a bare body or an envelope).
fn finish<R>(
    raw: &Raw<'_>,
    tag: Option<&str>,
    max_id_len: u32,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    let Some(body) = &raw.body else {
        // A `tag` key without `body` is an unknown field of a bare body: ignored.
        return resolve(raw, tag, max_id_len).map(f);
    };
    let env_tag = match &raw.tag {
        None | Some(Val::Null) => None,
        Some(Val::Str(s)) => Some(&**s),
        Some(_) => return Err(Error::invalid("tag", "must be a string")),
    };
    let tag = agree(tag, env_tag)?;
    match body {
        Val::Object(inner) if inner.body.is_some() => {
            Err(Error::invalid("body", "an envelope inside an envelope"))
        }
        Val::Object(inner) => resolve(inner, tag, max_id_len).map(f),
        Val::Str(text) => {
            let inner = decode(text.as_bytes(), false)?;
            if inner.body.is_some() {
                return Err(Error::invalid("body", "an envelope inside an envelope"));
            }
            resolve(&inner, tag, max_id_len).map(f)
        }
        Val::Null => Err(Error::MissingField { field: "body" }),
        _ => Err(Error::invalid("body", "must be a JSON object or a string holding one")),
    }
}

/// The caller's tag and the envelope's must agree; the result is whichever is given.
fn agree<'t>(caller: Option<&'t str>, envelope: Option<&'t str>) -> Result<Option<&'t str>, Error> {
    match (caller, envelope) {
        (Some(a), Some(b)) if a != b => Err(Error::TagMismatch { tag: a.into(), event_type: b.into() }),
        (a, b) => Ok(a.or(b)),
    }
}
