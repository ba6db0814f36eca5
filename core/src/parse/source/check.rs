//! The value checks every vendor format shares, named by the vendor's own field names.

use super::super::raw::Val;
use super::super::validate::MAX_TIME;
use crate::Error;

/// A required id string: present, non-empty, at most `max_len` bytes.
pub(super) fn id<'v, S: AsRef<str>>(
    v: &'v Option<Val<S>>,
    field: &'static str,
    max_len: u32,
) -> Result<&'v str, Error> {
    match v {
        None | Some(Val::Null) => Err(Error::MissingField { field }),
        Some(Val::Str(s)) if s.as_ref().is_empty() => Err(Error::invalid(field, "must not be empty")),
        Some(Val::Str(s)) if s.as_ref().len() > max_len as usize => {
            Err(Error::invalid(field, alloc::format!("longer than {max_len} bytes")))
        }
        Some(Val::Str(s)) => Ok(s.as_ref()),
        Some(_) => Err(Error::invalid(field, "must be a string")),
    }
}

/// An optional string (an address): absent, `null` and `""` are none.
pub(super) fn optional<'v, S: AsRef<str>>(
    v: &'v Option<Val<S>>,
    field: &'static str,
    max_len: u32,
) -> Result<Option<&'v str>, Error> {
    match v {
        None | Some(Val::Null) => Ok(None),
        Some(Val::Str(s)) if s.as_ref().is_empty() => Ok(None),
        _ => id(v, field, max_len).map(Some),
    }
}

/// A required string whose value is checked by the caller (an event type, a reason).
pub(super) fn text<'v, S: AsRef<str>>(v: &'v Option<Val<S>>, field: &'static str) -> Result<&'v str, Error> {
    match v {
        None | Some(Val::Null) => Err(Error::MissingField { field }),
        Some(Val::Str(s)) => Ok(s.as_ref()),
        Some(_) => Err(Error::invalid(field, "must be a string")),
    }
}

/// An optional string (a reason): absent and `null` are none; anything else must be a string.
pub(super) fn optional_text<S: AsRef<str>>(v: &Option<Val<S>>, field: &'static str) -> Result<(), Error> {
    match v {
        None | Some(Val::Null) => Ok(()),
        _ => text(v, field).map(drop),
    }
}

/// A required unsigned integer of at most 2^53 − 1 (milliseconds, a sequence number).
pub(super) fn uint<S>(v: &Option<Val<S>>, field: &'static str) -> Result<u64, Error> {
    match v {
        None | Some(Val::Null) => Err(Error::MissingField { field }),
        Some(Val::Uint(t)) if *t <= MAX_TIME => Ok(*t),
        Some(Val::Uint(_)) => Err(Error::invalid(field, "larger than 2^53 - 1")),
        Some(Val::Negative) => Err(Error::invalid(field, "must not be negative")),
        Some(Val::Float(f)) if *f > MAX_TIME as f64 => Err(Error::invalid(field, "larger than 2^53 - 1")),
        Some(_) => Err(Error::invalid(field, "must be a non-negative integer")),
    }
}

/// An unknown event type named by `field`, its value cut to 64 bytes as the core does.
pub(super) fn unknown(field: &'static str, v: &str) -> Error {
    let mut end = v.len().min(64);
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    Error::UnknownEventType { field, value: alloc::string::String::from(&v[..end]) }
}
