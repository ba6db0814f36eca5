//! `replay --format json`: one stable JSON document for scripts (schema in `docs/cli.md`).
//! Keys are camelCase, clients and groups sorted; nothing in it depends on the clock, so the
//! same inputs give the same bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use mqtt_status::{ClientStatus, Config, GroupCount, Stats};
use serde::Serialize;

use crate::args::ReplayArgs;
use crate::report::{Rejected, Replay};

/// Version of the document's schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<'a> {
    /// [`SCHEMA_VERSION`].
    pub version: u32,
    /// Input names, in replay order (`<stdin>` for standard input).
    pub inputs: &'a [String],
    /// The `--restore` snapshot, if any.
    pub restored_from: Option<&'a str>,
    /// The `--at` time in epoch ms, if any.
    pub at: Option<u64>,
    /// The engine's policies.
    pub config: Config,
    /// The engine's counters and gauges after the replay.
    pub stats: Stats,
    /// Lines read by this replay (blank ones included).
    pub lines: u64,
    /// Valid events ignored because their time is after `--at`.
    pub skipped: u64,
    /// The online clients (restricted to `--group`).
    pub online: Online,
    /// Every group with its online and known counts.
    pub groups: Vec<GroupCount>,
    /// Each `--client` id: its status, or `null` if never seen.
    pub clients: BTreeMap<String, Option<ClientStatus>>,
    /// Lines rejected by this replay.
    pub rejected: RejectedLines<'a>,
}

/// The online listing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Online {
    /// The `--group` filter, if any.
    pub group: Option<String>,
    /// Online clients (in the group): the full count, however many are listed.
    pub count: u64,
    /// Their ids, sorted, at most `--limit`.
    pub clients: Vec<String>,
    /// Whether `--limit` cut the list.
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

/// Builds the document.
pub fn document<'a>(r: &'a Replay, args: &ReplayArgs) -> Document<'a> {
    let e = &r.engine;
    let group = args.group.as_deref();
    let limit = args.limit.filter(|&n| n > 0);
    let count = e.count_online(group);
    let clients = e.online_clients(group, None, limit);
    let truncated = (clients.len() as u64) < count;
    let rejected = RejectedLines {
        total: r.rejected_total,
        lines: &r.rejected,
        truncated: (r.rejected.len() as u64) < r.rejected_total,
    };
    Document {
        version: SCHEMA_VERSION,
        inputs: &r.inputs,
        restored_from: r.restored_from.as_deref(),
        at: r.at,
        config: *e.config(),
        stats: e.stats(),
        lines: r.lines,
        skipped: r.skipped,
        online: Online { group: group.map(String::from), count, clients, truncated },
        groups: e.groups(),
        clients: args.clients.iter().map(|id| (id.clone(), e.client(id))).collect(),
        rejected,
    }
}

/// Writes the document, pretty-printed, followed by a newline.
pub fn render(out: &mut impl Write, r: &Replay, args: &ReplayArgs) -> io::Result<()> {
    // `io::Error::from` hands back the writer's own error (a closed pipe stays `BrokenPipe`, which
    // ends the command quietly); `io::Error::other` hid it behind kind `Other` (exit 3).
    serde_json::to_writer_pretty(&mut *out, &document(r, args)).map_err(io::Error::from)?;
    writeln!(out)
}
