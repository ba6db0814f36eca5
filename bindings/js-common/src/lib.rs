//! Host-independent pieces of the two JavaScript bindings (`bindings/node`, `bindings/wasm`).
//!
//! A batch report can hold a transition per event. Building one JS object per transition from
//! native code costs a boundary crossing per property (napi) or per string (wasm), several times
//! what the engine spends on the event. So the bindings hand JavaScript a [`PackedReport`]: the
//! counters and errors as JSON, every id in one string, and the rest as numbers in one
//! `Float64Array`; `pkg/report.cjs` rebuilds the plain objects in JavaScript, where creating them
//! is cheap. Nothing here judges anything: it only re-encodes the core's `BatchReport`.
#![forbid(unsafe_code)]

use mqtt_status::{BatchError, BatchReport, EventType, Transition};
use serde::Serialize;

/// Event type names in the order of their codes in [`PackedReport::cols`].
pub const EVENT_TYPES: [EventType; 3] = [EventType::Connect, EventType::Disconnect, EventType::TcpClean];

/// Numbers per transition in [`PackedReport::cols`].
pub const COLS_PER_TRANSITION: usize = 4;

/// A batch report in the form `pkg/report.cjs` unpacks.
///
/// Transition `i` is `cols[4i..4i+4] = [clientIdEnd, channelIdEnd, time, flags]`: its client id
/// is `text[previous channelIdEnd .. clientIdEnd]` and its channel id
/// `text[clientIdEnd .. channelIdEnd]`, offsets counted in UTF-16 code units as JavaScript
/// strings are; `flags = online as u8 | event type code << 1` (codes from [`EVENT_TYPES`]).
/// Times are at most 2^53 − 1 (the core refuses larger ones), so `f64` holds them exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedReport {
    /// `{"applied","duplicates","late","errors"}` as JSON (the report without transitions).
    pub head: String,
    /// Client id and channel id of every transition, back to back.
    pub text: String,
    /// Four numbers per transition (see above).
    pub cols: Vec<f64>,
}

#[derive(Serialize)]
struct Head<'a> {
    applied: u64,
    duplicates: u64,
    late: u64,
    errors: &'a [BatchError],
}

/// Length of `s` in UTF-16 code units (what `String.prototype.length` says).
fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

fn event_code(t: EventType) -> f64 {
    EVENT_TYPES.iter().position(|&e| e == t).unwrap_or(0) as f64
}

/// Appends one transition to `text` and `cols`; `end` is the UTF-16 length of `text` so far.
fn push(t: &Transition, text: &mut String, cols: &mut Vec<f64>, end: &mut usize) {
    text.push_str(&t.client_id);
    *end += utf16_len(&t.client_id);
    cols.push(*end as f64);
    text.push_str(&t.channel_id);
    *end += utf16_len(&t.channel_id);
    cols.push(*end as f64);
    cols.push(t.time as f64);
    cols.push(f64::from(u8::from(t.online)) + 2.0 * event_code(t.event_type));
}

/// One transition packed as `(text, [clientIdEnd, time, flags])`: the two ids back to back, and the
/// numbers as in [`PackedReport::cols`] (the channel id ends where `text` does).
pub fn pack_transition(t: &Transition) -> (String, [f64; 3]) {
    let mut text = String::with_capacity(t.client_id.len() + t.channel_id.len());
    let mut cols = Vec::with_capacity(COLS_PER_TRANSITION);
    push(t, &mut text, &mut cols, &mut 0);
    (text, [cols[0], cols[2], cols[3]])
}

/// Packs a batch report.
pub fn pack(report: &BatchReport) -> PackedReport {
    let head = Head {
        applied: report.applied,
        duplicates: report.duplicates,
        late: report.late,
        errors: &report.errors,
    };
    // Plain integers and strings: serializing cannot fail.
    let head = serde_json::to_string(&head).unwrap_or_default();
    let ids: usize = report.transitions.iter().map(|t| t.client_id.len() + t.channel_id.len()).sum();
    let mut text = String::with_capacity(ids);
    let mut cols = Vec::with_capacity(report.transitions.len() * COLS_PER_TRANSITION);
    let mut end = 0;
    for t in &report.transitions {
        push(t, &mut text, &mut cols, &mut end);
    }
    PackedReport { head, text, cols }
}

/// A body's bytes; or, when `JSON.stringify` refuses the value, the reason, and empty bytes for
/// the core (which rejects them as `invalid_json` and counts the rejection like any other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    /// The body's bytes.
    Bytes(Vec<u8>),
    /// Why `JSON.stringify` gave no text.
    Failed(String),
}

impl Owned {
    /// The bytes the core sees (empty for [`Owned::Failed`]).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Owned::Bytes(b) => b,
            Owned::Failed(_) => b"",
        }
    }
}

/// The core error for a body `JSON.stringify` refused.
pub fn unserializable(reason: &str) -> mqtt_status::Error {
    mqtt_status::Error::InvalidJson {
        reason: format!("body cannot be serialized with JSON.stringify: {reason}"),
    }
}

/// Replaces the messages of batch errors caused by bodies `JSON.stringify` refused, so they say
/// why instead of "empty input".
pub fn explain_failed(report: &mut BatchReport, items: &[Owned]) {
    for e in &mut report.errors {
        if let Some(Owned::Failed(reason)) = items.get(e.index as usize) {
            e.message = unserializable(reason).to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transition(client: &str, channel: &str, online: bool, event_type: EventType) -> Transition {
        let (client_id, channel_id) = (client.to_string(), channel.to_string());
        Transition { client_id, online, time: (1 << 53) - 1, channel_id, event_type }
    }

    #[test]
    fn offsets_count_utf16_units() {
        let report = BatchReport {
            applied: 2,
            transitions: vec![
                transition("G@@@d", "c1", true, EventType::Connect),
                transition("G@@@é😀", "c2", false, EventType::TcpClean),
            ],
            ..BatchReport::default()
        };
        let p = pack(&report);
        assert_eq!(p.head, r#"{"applied":2,"duplicates":0,"late":0,"errors":[]}"#);
        assert_eq!(p.text, "G@@@dc1G@@@é😀c2");
        let max = ((1u64 << 53) - 1) as f64;
        // "G@@@é😀" is 7 UTF-16 units (é one, 😀 two).
        assert_eq!(p.cols, vec![5.0, 7.0, max, 1.0, 14.0, 16.0, max, 4.0]);
    }

    #[test]
    fn one_transition_packs_like_a_batch_row() {
        let t = transition("G@@@é😀", "ç2", false, EventType::Disconnect);
        let max = ((1u64 << 53) - 1) as f64;
        assert_eq!(pack_transition(&t), ("G@@@é😀ç2".to_string(), [7.0, max, 2.0]));
    }

    #[test]
    fn event_codes_follow_event_types() {
        for (i, &t) in EVENT_TYPES.iter().enumerate() {
            assert_eq!(event_code(t), i as f64);
        }
    }
}
