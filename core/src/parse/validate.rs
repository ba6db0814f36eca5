//! Validation: a decoded body's loosely typed fields checked and turned into a
//! [`Notification`], and the same limits checked on a notification given whole. The first
//! fault is reported in field order (clientId, channelId, tag/eventType, time, clientIp), a
//! field that appears twice at that field's place, so every reader and every binding reports
//! the same error for the same body.

use alloc::string::String;

use super::raw::{Key, Raw, Val};
use crate::{Error, EventType, Notification};

/// Largest accepted event time: 2^53 − 1, the largest integer every binding's number holds.
pub const MAX_TIME: u64 = (1 << 53) - 1;

fn too_long(field: &'static str, max_len: u32) -> Error {
    Error::invalid(field, alloc::format!("longer than {max_len} bytes"))
}

/// A required id string: present, non-empty, at most `max_len` bytes (ApsaraMQ's ids and every
/// vendor's, through `source/check.rs`).
pub(super) fn id<'v, S: AsRef<str>>(
    v: &'v Option<Val<S>>,
    field: &'static str,
    max_len: u32,
) -> Result<&'v str, Error> {
    match v {
        None | Some(Val::Null) => Err(Error::MissingField { field }),
        Some(Val::Str(s)) if s.as_ref().is_empty() => Err(Error::invalid(field, "must not be empty")),
        Some(Val::Str(s)) if s.as_ref().len() > max_len as usize => Err(too_long(field, max_len)),
        Some(Val::Str(s)) => Ok(s.as_ref()),
        Some(_) => Err(Error::invalid(field, "must be a string")),
    }
}

/// An event type named by `field` (the envelope's `tag` or the body's `eventType`).
pub(super) fn event_type(v: &str, field: &'static str) -> Result<EventType, Error> {
    EventType::parse(v).ok_or_else(|| unknown_event_type(field, v))
}

/// An unknown event type named by `field`, its value cut to 64 bytes (at a char boundary).
pub(super) fn unknown_event_type(field: &'static str, v: &str) -> Error {
    let mut end = v.len().min(64);
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    Error::UnknownEventType { field, value: String::from(&v[..end]) }
}

fn time<S: AsRef<str>>(v: &Option<Val<S>>) -> Result<u64, Error> {
    let out_of_range = || Error::invalid("time", "larger than 2^53 - 1");
    let t = match v {
        None | Some(Val::Null) => return Err(Error::MissingField { field: "time" }),
        Some(Val::Uint(t)) => *t,
        Some(Val::Negative) => return Err(Error::invalid("time", "must not be negative")),
        Some(Val::Float(f)) if *f < 0.0 => return Err(Error::invalid("time", "must not be negative")),
        Some(Val::Float(f)) if *f > MAX_TIME as f64 => return Err(out_of_range()),
        Some(Val::Float(_)) => return Err(Error::invalid("time", "must be an integer")),
        Some(Val::Str(s)) => {
            let s = s.as_ref();
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

/// An optional string (an address): absent, `null` and `""` are none; anything else must be a
/// string of at most `max_len` bytes. ApsaraMQ's `clientIp` and every vendor's address.
pub(super) fn optional_str<'v, S: AsRef<str>>(
    v: &'v Option<Val<S>>,
    field: &'static str,
    max_len: u32,
) -> Result<Option<&'v str>, Error> {
    match v {
        None | Some(Val::Null) => Ok(None),
        Some(Val::Str(s)) if s.as_ref().is_empty() => Ok(None),
        Some(Val::Str(s)) if s.as_ref().len() > max_len as usize => Err(too_long(field, max_len)),
        Some(Val::Str(s)) => Ok(Some(s.as_ref())),
        Some(_) => Err(Error::invalid(field, "must be a string")),
    }
}

/// Validates a decoded body into a notification, reporting the first fault in field order;
/// `tag` is the event type the envelope or the caller gave, if any.
pub(super) fn resolve<'v, S: AsRef<str>>(
    raw: &'v Raw<S>,
    tag: Option<&str>,
    max_len: u32,
) -> Result<Notification<'v>, Error> {
    let r = fields(raw, tag, max_len);
    if !raw.any_repeated() {
        return r;
    }
    // A repeated field is that field's fault, ahead of any other fault at its place or later:
    // looked for only when there is one, so the usual line pays a single test for the rule.
    let place = match &r {
        Ok(_) => Key::ClientIp,
        Err(e) => match e.field() {
            Some("clientId") => Key::ClientId,
            Some("channelId") => Key::ChannelId,
            Some("tag" | "eventType") => Key::EventType,
            Some("time") => Key::Time,
            _ => Key::ClientIp,
        },
    };
    raw.repeated_up_to(place)?;
    r
}

/// The fields' own faults in field order, repeats aside (see [`resolve`]).
fn fields<'v, S: AsRef<str>>(
    raw: &'v Raw<S>,
    tag: Option<&str>,
    max_len: u32,
) -> Result<Notification<'v>, Error> {
    let client_id = id(&raw.client_id, "clientId", max_len)?;
    let channel_id = id(&raw.channel_id, "channelId", max_len)?;
    let tag = tag.map(|t| event_type(t, "tag")).transpose()?;
    let body_type = match &raw.event_type {
        None | Some(Val::Null) => None,
        Some(Val::Str(s)) => Some(event_type(s.as_ref(), "eventType")?),
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
    Ok(Notification { client_id, channel_id, event_type, time, client_ip, reason: None })
}

/// Validates `n` as if it had been parsed (ids non-empty and within `max_len`, time in range).
pub(crate) fn check(n: &Notification<'_>, max_len: u32) -> Result<(), Error> {
    for (v, field) in [(n.client_id, "clientId"), (n.channel_id, "channelId")] {
        if v.is_empty() {
            return Err(Error::invalid(field, "must not be empty"));
        }
        if v.len() > max_len as usize {
            return Err(too_long(field, max_len));
        }
    }
    if n.event_type == EventType::Observe {
        // Only a transition says `observe`: an observation is `StatusEngine::observe`.
        return Err(Error::UnknownEventType { field: "eventType", value: String::from("observe") });
    }
    if n.time > MAX_TIME {
        return Err(Error::invalid("time", "larger than 2^53 - 1"));
    }
    if n.client_ip.is_some_and(|ip| ip.len() > max_len as usize) {
        return Err(too_long("clientIp", max_len));
    }
    if n.reason.is_some_and(|r| r.len() > max_len as usize) {
        return Err(too_long("reason", max_len));
    }
    Ok(())
}
