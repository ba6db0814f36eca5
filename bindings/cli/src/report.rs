//! What a replay found, ready to render: shared by [`crate::replay`], which fills it, and the
//! two renderers ([`crate::render_table`], [`crate::render_json`]), which only read it. Kept apart
//! so that data flows one way (replay → report and answers ← renderers) with no module importing its caller.

use std::time::Duration;

use serde::Serialize;

/// At most this many rejected lines are kept for the report (all are counted in the stats).
pub const MAX_REJECTED: usize = 10_000;

/// One rejected input line, as both renderers show it (the JSON document serializes it as is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    /// The input's name (`<stdin>` for standard input).
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Stable error code (`invalid_json`, …).
    pub code: String,
    /// The field at fault, if any (`null` in JSON).
    pub field: Option<String>,
    /// The core's message.
    pub message: String,
}

/// What a replay read, ready to render (the state's answers are an [`crate::answers::Answers`]).
#[derive(Debug)]
pub struct Replay {
    /// Input names, in replay order.
    pub inputs: Vec<String>,
    /// The snapshot the engine started from, if any.
    pub restored_from: Option<String>,
    /// The `--at` time, if any.
    pub at: Option<u64>,
    /// Valid events skipped because their time is after `--at` (counted only with `--at`).
    pub skipped: u64,
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Input bytes read (decompressed).
    pub bytes: u64,
    /// Wall time of the ingestion.
    pub elapsed: Duration,
    /// Rejected lines, at most [`MAX_REJECTED`].
    pub rejected: Vec<Rejected>,
    /// Lines rejected in this replay (all of them, kept or not).
    pub rejected_total: u64,
    /// With `--grace`: online transitions that carry `offlineSince` (each ends an offline period
    /// that lasted at least the grace, reported with the reconnect that ended it).
    pub unreported_offlines: u64,
    /// With `--grace`: offlines confirmed at the end of the input (the replay's `advance`).
    pub confirmed_at_end: u64,
}
