//! `replay --format json` and `status --format json`: one stable JSON document for scripts (schema in `docs/cli.md`).
//! Keys are camelCase, clients and groups sorted; nothing in it depends on the clock, so the
//! same inputs give the same bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use mqtt_status::{ClientStatus, Config, GroupCount, Stats};
use serde::Serialize;

use crate::answers::Answers;
use crate::report::{Rejected, Replay};

/// Version of the document's schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole document. `replay` fills every key; `status` (no replay) leaves out `inputs`,
/// `restoredFrom`, `at`, `lines`, `skipped` and `rejected`; `store` appears only when a store
/// answered, so an in-memory replay's document is what it always was.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<'a> {
    /// [`SCHEMA_VERSION`].
    pub version: u32,
    /// The store's URL, when a store answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<&'a str>,
    /// Input names, in replay order (`<stdin>` for standard input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<&'a [String]>,
    /// The `--restore` snapshot, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<Option<&'a str>>,
    /// The `--at` time in epoch ms, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Option<u64>>,
    /// The engine's policies.
    pub config: Config,
    /// The engine's counters and gauges after the replay.
    pub stats: &'a Stats,
    /// Lines read by this replay (blank ones included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<u64>,
    /// Valid events ignored because their time is after `--at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u64>,
    /// The online clients (restricted to `--group`).
    pub online: Online<'a>,
    /// Every group with its online and known counts.
    pub groups: &'a [GroupCount],
    /// Each `--client` id: its status, or `null` if never seen.
    pub clients: BTreeMap<&'a str, &'a Option<ClientStatus>>,
    /// Lines rejected by this replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<RejectedLines<'a>>,
    /// With `--grace` (a replay only): how the offline periods were reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace: Option<GraceReport>,
}

/// What a grace did to a replay's transitions (SPEC §9): every offline period that lasted the
/// grace is reported exactly once — as an offline transition (`stats.wentOffline`, confirmed
/// by a later event of the client or by the end of the input), or carried as `offlineSince` by
/// the reconnect that ended it (`unreportedOfflines`), or still pending at the end
/// (`stats.pendingOffline`); shorter ones (flaps) are not reported at all.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraceReport {
    /// The grace, ms.
    pub grace_ms: u64,
    /// Online transitions that carry `offlineSince`.
    pub unreported_offlines: u64,
    /// Offlines confirmed at the end of the input (`--at`, else its latest event time).
    pub confirmed_at_end: u64,
}

/// The online listing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Online<'a> {
    /// The `--group` filter, if any.
    pub group: Option<&'a str>,
    /// The `--after` cursor (`status` only), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<&'a str>,
    /// Online clients (in the group): the full count, however many are listed.
    pub count: u64,
    /// Their ids, sorted, at most `--limit`.
    pub clients: &'a [String],
    /// Whether more follow the listed ones (`--limit` cut the list).
    pub truncated: bool,
}

/// The rejected lines.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedLines<'a> {
    /// How many lines this replay rejected.
    pub total: u64,
    /// The first ones (up to 10 000), in input order.
    pub lines: &'a [Rejected],
    /// Whether `lines` is shorter than `total`.
    pub truncated: bool,
}

/// Builds the document from a replay's facts (none for `status`) and the state's answers.
pub fn document<'a>(r: Option<&'a Replay>, a: &'a Answers) -> Document<'a> {
    let rejected = r.map(|r| RejectedLines {
        total: r.rejected_total,
        lines: &r.rejected,
        truncated: (r.rejected.len() as u64) < r.rejected_total,
    });
    Document {
        version: SCHEMA_VERSION,
        store: a.store.as_deref(),
        inputs: r.map(|r| &r.inputs[..]),
        restored_from: r.map(|r| r.restored_from.as_deref()),
        at: r.map(|r| r.at),
        config: a.config,
        stats: &a.stats,
        lines: r.map(|r| r.lines),
        skipped: r.map(|r| r.skipped),
        online: Online {
            group: a.group.as_deref(),
            after: a.after.as_deref(),
            count: a.count,
            clients: &a.online,
            truncated: a.truncated,
        },
        groups: &a.groups,
        clients: a.clients.iter().map(|(id, st)| (id.as_str(), st)).collect(),
        rejected,
        grace: r.filter(|_| a.config.offline_grace_ms > 0).map(|r| GraceReport {
            grace_ms: a.config.offline_grace_ms,
            unreported_offlines: r.unreported_offlines,
            confirmed_at_end: r.confirmed_at_end,
        }),
    }
}

/// Writes the document, pretty-printed, followed by a newline.
pub fn render(out: &mut impl Write, r: Option<&Replay>, a: &Answers) -> io::Result<()> {
    write_pretty(out, &document(r, a))
}

/// Writes any value as pretty-printed JSON followed by a newline (also `status --feed`).
pub fn write_pretty(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    // `io::Error::from` hands back the writer's own error (a closed pipe stays `BrokenPipe`, which
    // ends the command quietly); `io::Error::other` hid it behind kind `Other` (exit 3).
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::from)?;
    writeln!(out)
}
