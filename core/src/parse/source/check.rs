//! The value checks every vendor format shares, named by the vendor's own field names.

use super::super::raw::Val;
use super::super::validate::MAX_TIME;
use crate::Error;

// Ids, optional strings (addresses, reasons) and unknown event types are checked as ApsaraMQ's fields are: one
// statement of each rule, in `validate.rs`.
pub(super) use super::super::validate::{id, optional_str as optional, unknown_event_type as unknown};

/// A required string whose value is checked by the caller (an event type).
pub(super) fn text<'v, S: AsRef<str>>(v: &'v Option<Val<S>>, field: &'static str) -> Result<&'v str, Error> {
    match v {
        None | Some(Val::Null) => Err(Error::MissingField { field }),
        Some(Val::Str(s)) => Ok(s.as_ref()),
        Some(_) => Err(Error::invalid(field, "must be a string")),
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
