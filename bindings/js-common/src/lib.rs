//! Host-independent pieces of the two JavaScript bindings (`bindings/node`, `bindings/wasm`).
//!
//! A batch report can hold a transition per event. Building one JS object per transition from
//! native code costs a boundary crossing per property (napi) or per string (wasm), several times
//! what the engine spends on the event. So the bindings hand JavaScript the packed format below
//! and `pkg/packed.cjs` rebuilds the plain objects in JavaScript, where creating them is cheap.
//! Nothing here judges anything: it only re-encodes the core's `Transition`s and `BatchReport`.
//!
//! # The packed format
//!
//! This section is the format's one description; the encoder is this crate, the decoder
//! `pkg/packed.cjs`, and both point here.
//!
//! - **A transition** (the raw `ingestPacked`, engine and store): `null` when nothing flipped,
//!   else the array `[text, clientIdEnd, time, flags]`, or `[text, clientIdEnd, time, flags,
//!   offlineSince]` when the transition carries one (flag 8): `text` is the client id and the
//!   channel id back to back, the client id is `text[0 .. clientIdEnd]` and the channel id the rest.
//! - **A batch report** (the raw `ingestManyPacked`): the array `[head, text, cols, since]`: `head` is
//!   the report without its transitions as JSON (`{"applied","duplicates","late","rejected",
//!   "errors"}`); `text` holds the client id and channel id of every transition, back to back;
//!   `cols` is a `Float64Array` with four numbers per transition, transition `i` being
//!   `cols[4i..4i+4] = [clientIdEnd, channelIdEnd, time, flags]`: its client id is
//!   `text[previous channelIdEnd .. clientIdEnd]` (the first starts at 0), its channel id
//!   `text[clientIdEnd .. channelIdEnd]`; `since` is a `Float64Array` with the `offlineSince` of
//!   every transition that has one (flag 8), in order (empty with no grace, SPEC §9).
//! - **Offsets** count UTF-16 code units, as JavaScript string indices do.
//! - **`flags`** is `online as u8 | event type code << 1 | has offlineSince << 3`; the codes
//!   (0 to 3) are the indices in [`EVENT_TYPES`], which both bindings export as the module
//!   function `eventTypes()`.
//! - **Times** are at most 2^53 − 1 (the core refuses larger ones), so `f64` holds them exactly.
#![forbid(unsafe_code)]

use mqtt_status::{BatchError, BatchReport, EventType, TransitionRef, Transitions};
use serde::Serialize;

/// Event type names in the order of their codes in `flags` (crate docs, "The packed format").
pub const EVENT_TYPES: [EventType; 4] =
    [EventType::Connect, EventType::Disconnect, EventType::TcpClean, EventType::Observe];

/// The `flags` bit of a transition that carries `offlineSince` (crate docs, "The packed format").
pub const HAS_OFFLINE_SINCE: f64 = 8.0;

/// A batch report in the packed format (crate docs, "The packed format"): the host array is
/// `[head, text, cols]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedReport {
    /// `{"applied","duplicates","late","rejected","errors"}` as JSON (the report without transitions).
    pub head: String,
    /// Client id and channel id of every transition, back to back.
    pub text: String,
    /// Four numbers per transition: `[clientIdEnd, channelIdEnd, time, flags]`.
    pub cols: Vec<f64>,
    /// The `offlineSince` of each transition with flag 8, in order.
    pub since: Vec<f64>,
}

#[derive(Serialize)]
struct Head<'a> {
    applied: u64,
    duplicates: u64,
    late: u64,
    rejected: u64,
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

/// Collects transitions in packed form as a batch produces them (the sink given to
/// `StatusEngine::ingest_many_each`), then packs the report around them.
#[derive(Debug, Default)]
pub struct Packer {
    text: String,
    cols: Vec<f64>,
    since: Vec<f64>,
    /// UTF-16 length of `text` so far.
    end: usize,
}

impl Packer {
    /// An empty packer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reserves room for everything a JSONL batch of `jsonl_len` bytes can produce, so that the
    /// two buffers never move as they fill (growing in turn, they leapfrog each other in the
    /// heap and are copied at every doubling). Only for native hosts: WebAssembly memory never
    /// shrinks, so there a reservation would stay taken.
    pub fn reserve_for_jsonl(&mut self, jsonl_len: usize) {
        let (rows, text) = Transitions::most_for_jsonl(jsonl_len);
        // `try_`: an oversized hint costs nothing instead of aborting.
        let _ = self.cols.try_reserve_exact(rows.saturating_mul(4));
        let _ = self.text.try_reserve_exact(text);
    }

    /// Appends one transition.
    pub fn push(&mut self, t: TransitionRef<'_>) {
        self.text.push_str(t.client_id);
        self.end += utf16_len(t.client_id);
        self.cols.push(self.end as f64);
        self.text.push_str(t.channel_id);
        self.end += utf16_len(t.channel_id);
        self.cols.push(self.end as f64);
        self.cols.push(t.time as f64);
        let mut flags = f64::from(u8::from(t.online)) + 2.0 * event_code(t.event_type);
        if let Some(since) = t.offline_since {
            flags += HAS_OFFLINE_SINCE;
            self.since.push(since as f64);
        }
        self.cols.push(flags);
    }

    /// The packed report: `report`'s counters and errors with the transitions pushed here
    /// (`report.transitions` itself is not read: `ingest_many_each` leaves it empty).
    pub fn finish(self, report: &BatchReport) -> PackedReport {
        let head = Head {
            applied: report.applied,
            duplicates: report.duplicates,
            late: report.late,
            rejected: report.rejected,
            errors: &report.errors,
        };
        // Plain integers and strings: serializing cannot fail.
        let head = serde_json::to_string(&head).unwrap_or_default();
        let mut cols = self.cols;
        // The numbers may become the host's array as they are: no unused room kept with them.
        cols.shrink_to_fit();
        PackedReport { head, text: self.text, cols, since: self.since }
    }
}

/// One transition in the packed format (crate docs) as `(text, [clientIdEnd, time, flags],
/// offlineSince)`; the host array is `[text, clientIdEnd, time, flags]`, with `offlineSince`
/// appended when there is one.
pub fn pack_transition(t: TransitionRef<'_>) -> (String, [f64; 3], Option<f64>) {
    let mut p = Packer::new();
    p.push(t);
    (p.text, [p.cols[0], p.cols[2], p.cols[3]], p.since.first().copied())
}

/// `(code, message)` of the error a call on a freed engine throws (after `free()`), in both
/// backends. Not one of the core's codes (`ErrorCode`): it is about the JavaScript object, not
/// an input.
pub const FREED: (&str, &str) = ("engine_freed", "StatusEngine was freed");

/// `(code, message)` of the error a call on a closed status store handle rejects with (after
/// `close()`): like [`FREED`], about the JavaScript object, not an input.
pub const CLOSED: (&str, &str) = ("store_closed", "the StatusStore is closed");

/// `(code, message)` of the error a call made while the engine is running throws (from a
/// `toJSON` or getter the engine called), in both backends.
pub const BUSY: (&str, &str) = ("engine_busy", "StatusEngine is busy (re-entrant call)");

#[cfg(test)]
mod tests {
    use super::*;

    fn transition<'a>(
        client: &'a str,
        channel: &'a str,
        online: bool,
        event_type: EventType,
    ) -> TransitionRef<'a> {
        let time = (1 << 53) - 1;
        TransitionRef {
            client_id: client,
            online,
            time,
            channel_id: channel,
            event_type,
            offline_since: None,
        }
    }

    #[test]
    fn offsets_count_utf16_units() {
        let mut p = Packer::new();
        p.push(transition("G@@@d", "c1", true, EventType::Connect));
        p.push(transition("G@@@é😀", "c2", false, EventType::TcpClean));
        let p = p.finish(&BatchReport { applied: 2, ..BatchReport::default() });
        assert_eq!(p.head, r#"{"applied":2,"duplicates":0,"late":0,"rejected":0,"errors":[]}"#);
        assert_eq!(p.text, "G@@@dc1G@@@é😀c2");
        let max = ((1u64 << 53) - 1) as f64;
        // "G@@@é😀" is 7 UTF-16 units (é one, 😀 two).
        assert_eq!(p.cols, vec![5.0, 7.0, max, 1.0, 14.0, 16.0, max, 4.0]);
    }

    #[test]
    fn a_reserved_packer_packs_the_same_and_keeps_no_spare_numbers() {
        let pack = |p: &mut Packer| {
            p.push(transition("G@@@d", "c1", true, EventType::Connect));
            p.push(transition("G@@@é😀", "c2", false, EventType::TcpClean));
        };
        let (mut plain, mut reserved) = (Packer::new(), Packer::new());
        reserved.reserve_for_jsonl(1 << 20);
        pack(&mut plain);
        pack(&mut reserved);
        let report = BatchReport::default();
        let reserved = reserved.finish(&report);
        assert_eq!(reserved, plain.finish(&report));
        assert_eq!(reserved.cols.capacity(), reserved.cols.len());
        Packer::new().reserve_for_jsonl(usize::MAX); // refused quietly, not an abort
    }

    #[test]
    fn one_transition_packs_like_a_batch_row() {
        let t = transition("G@@@é😀", "ç2", false, EventType::Disconnect);
        let max = ((1u64 << 53) - 1) as f64;
        assert_eq!(pack_transition(t), ("G@@@é😀ç2".to_string(), [7.0, max, 2.0], None));
    }

    #[test]
    fn offline_since_sets_flag_8_and_goes_to_since_in_order() {
        let mut p = Packer::new();
        let with = |since| TransitionRef {
            offline_since: Some(since),
            ..transition("a", "c", true, EventType::Connect)
        };
        p.push(with(5));
        p.push(transition("b", "", true, EventType::Observe));
        p.push(with(7));
        let p = p.finish(&BatchReport::default());
        let flags: Vec<f64> = p.cols.chunks(4).map(|row| row[3]).collect();
        assert_eq!(flags, vec![9.0, 7.0, 9.0]);
        assert_eq!(p.since, vec![5.0, 7.0]);
        assert_eq!(pack_transition(with(3)).2, Some(3.0));
    }

    #[test]
    fn event_codes_follow_event_types() {
        for (i, &t) in EVENT_TYPES.iter().enumerate() {
            assert_eq!(event_code(t), i as f64);
        }
    }
}
