//! Envelopes: a RocketMQ message dump `{"tag": …, "body": …}` around a body, given as an object
//! or as a string holding one. The envelope's rules live here once, whichever reader decoded
//! the line: a `body` key makes the line an envelope, its `tag` must be a string or `null` and
//! agree with the caller's, its body must be an object or a string holding one, and that body
//! may not be an envelope itself. A repeated `tag` or `body` is reported where that key is
//! checked; the envelope's other keys are unknown ones, so their repeats are ignored.

use super::raw::{Key, Line, Raw, Val};
use super::{de, validate::resolve};
use crate::{Error, Notification};

/// Validates a decoded line (a bare body or an envelope) and hands the notification to `f`.
/// `text` holds a string body's unescaped text when the reader left [`Val::Unescaped`]; `tag`
/// is the caller's.
pub(super) fn finish<R, S: AsRef<str>>(
    line: &Line<S>,
    text: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    let outer = &line.outer;
    let Some(body) = &outer.body else {
        // A `tag` key without `body` is an unknown field of a bare body: ignored.
        return resolve(outer, tag, max_id_len).map(f);
    };
    outer.repeated(Key::Tag)?;
    let env_tag = match &outer.tag {
        None | Some(Val::Null) => None,
        Some(Val::Str(s)) => Some(s.as_ref()),
        Some(_) => return Err(Error::invalid("tag", "must be a string")),
    };
    let tag = agree(tag, env_tag)?;
    outer.repeated(Key::Body)?;
    let body_text = match body {
        Val::Object => return inner(&line.inner, tag, max_id_len, f),
        Val::Str(s) => s.as_ref().as_bytes(),
        Val::Unescaped => text,
        Val::Null => return Err(Error::MissingField { field: "body" }),
        _ => return Err(Error::invalid("body", "must be a JSON object or a string holding one")),
    };
    // A body string the reader could not read in place: decoded now, after the envelope's own
    // faults, with error positions counted in the body's text.
    let mut raw = Raw::default();
    de::decode(body_text, &mut raw, None)?;
    inner(&raw, tag, max_id_len, f)
}

/// An envelope's body: any body but an envelope.
fn inner<R, S: AsRef<str>>(
    raw: &Raw<S>,
    tag: Option<&str>,
    max_id_len: u32,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    if raw.body.is_some() {
        return Err(Error::invalid("body", "an envelope inside an envelope"));
    }
    resolve(raw, tag, max_id_len).map(f)
}

/// The caller's tag and the envelope's must agree; the result is whichever is given.
fn agree<'t>(caller: Option<&'t str>, envelope: Option<&'t str>) -> Result<Option<&'t str>, Error> {
    match (caller, envelope) {
        (Some(a), Some(b)) if a != b => Err(Error::TagMismatch { tag: a.into(), event_type: b.into() }),
        (a, b) => Ok(a.or(b)),
    }
}
