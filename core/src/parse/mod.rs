//! Decoding one notification body or envelope, borrowed from the input bytes.
//!
//! A line is read at most twice: first by the flat reader (`flat.rs`), which takes the shapes
//! nearly every line has and declines anything else without judging it; then, only if it
//! declined, by serde_json (`de.rs`), which takes any JSON and reports every error. Both fill
//! the same loosely typed record (`raw.rs`, where the rules they share are stated once); the
//! envelope's rules (`envelope.rs`) and the field checks (`validate.rs`) then run on it the
//! same way whichever reader filled it, so a line gives the same result either way.

use alloc::vec::Vec;

use crate::{Error, Notification};

mod de;
mod envelope;
mod flat;
mod lex;
mod raw;
mod source;
#[cfg(test)]
mod tests;
mod validate;

use raw::Line;
pub(crate) use source::with_source_notification;
pub use source::{rfc3339_ms, Source};
pub(crate) use validate::check;
pub use validate::MAX_TIME;

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

/// [`with_notification`] for a line in `source`'s format (option `source`, SPEC §10): what an
/// engine configured with that source reads, without an engine (`mqtt-status check --source`).
pub fn with_notification_as<R>(
    source: Source,
    bytes: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    with_source_notification(source, bytes, tag, max_id_len, &mut Vec::new(), f)
}

/// [`with_notification`] with a caller-owned buffer for the text of an envelope's string `body`
/// when serde_json had to unescape it (the flat reader reads such a body in place when its only
/// escapes are its quotes), so that text is not allocated again for every line.
pub(crate) fn with_notification_in<R>(
    bytes: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    scratch: &mut Vec<u8>,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    let mut line = Line::default();
    if flat::read(bytes, &mut line).is_some() {
        return envelope::finish(&line, &[], tag, max_id_len, f);
    }
    exact(bytes, tag, max_id_len, scratch, f)
}

/// The second read: serde_json, for anything the flat reader declined; every error as
/// documented.
fn exact<R>(
    bytes: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    scratch: &mut Vec<u8>,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    let mut line = Line::default();
    let body = de::Body { inner: &mut line.inner, text: scratch };
    de::decode(bytes, &mut line.outer, Some(body))?;
    envelope::finish(&line, scratch, tag, max_id_len, f)
}
