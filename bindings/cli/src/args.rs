//! Command-line arguments (clap derive). `docs/cli.md` describes each option.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use mqtt_status::Source;

use crate::timefmt::parse_time;

/// Is this MQTT device online? Replays ApsaraMQ for MQTT status notifications
/// (connect / disconnect / tcpclean) through the mqtt-status engine.
#[derive(Debug, Parser)]
#[command(name = "mqtt-status", version, propagate_version = true)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay JSONL notification logs into one engine and report who is online.
    Replay(ReplayArgs),
    /// Validate every line of JSONL notification logs; exit 1 if any is bad.
    Check(CheckArgs),
    /// Simulate realistic, deterministic notification traffic (with its ground truth).
    Generate(GenerateArgs),
    /// Query a live status store (`replay --store` fills one): who is online, a client, the feed.
    Status(StatusArgs),
}

/// The engine's policies, as flags. Omitted flags take the engine's defaults (or, with
/// `--restore`, the snapshot's configuration).
#[derive(Debug, Clone, Default, Args)]
pub struct PolicyArgs {
    /// Only a client's newest connect can be open (a newer connect supersedes older channels).
    #[arg(long)]
    pub takeover: bool,
    /// A `disconnect` closes its channel too (by default only `tcpclean` closes).
    #[arg(long)]
    pub close_on_disconnect: bool,
    /// Closed channels remembered per client to absorb redeliveries [default: 8].
    #[arg(long, value_name = "N")]
    pub tombstones_per_client: Option<u32>,
    /// Longest accepted clientId / channelId / clientIp, in bytes [default: 256].
    #[arg(long, value_name = "N")]
    pub max_id_len: Option<u32>,
    /// Flap suppression: an offline is reported only once it lasted MS milliseconds (confirmed
    /// by a later event of the client, or by the end of the replay); a shorter offline/online
    /// flap gives no transitions [default: 0, off]. The online answers stay exact.
    #[arg(long = "grace", value_name = "MS")]
    pub offline_grace_ms: Option<u64>,
    /// The broker's notification format (docs/sources.md) [default: aliyun].
    #[arg(long, value_name = "FORMAT", value_parser = parse_source)]
    pub source: Option<Source>,
}

/// The value of `--source`: aliyun, aws, emqx, azure-mqtt, aliyun-sdk or auto.
pub fn parse_source(text: &str) -> Result<Source, String> {
    Source::parse(text).map_err(|_| "must be aliyun, aws, emqx, azure-mqtt, aliyun-sdk or auto".to_string())
}

/// How `replay` prints its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for people.
    Table,
    /// One JSON document for scripts (schema in docs/cli.md).
    Json,
}

/// `mqtt-status replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// JSONL files (bare bodies or {tag, body} envelopes; .gz is detected); `-` reads stdin.
    /// Replayed in the given order into one engine.
    #[arg(value_name = "FILE")]
    pub files: Vec<OsString>,
    /// Show this client's channel table (repeatable).
    #[arg(long = "client", value_name = "ID")]
    pub clients: Vec<String>,
    /// Restrict the online listing and count to one group (the part of clientId before @@@).
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Answer as of this event time: only events with time <= TIME count
    /// (epoch ms or ISO-8601, e.g. 2024-05-01T08:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// List at most N online clients (0 = all) [default: 20 for table, all for json].
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Start from this engine snapshot (its configuration wins; conflicting policy flags are
    /// an error).
    #[arg(long, value_name = "FILE")]
    pub restore: Option<PathBuf>,
    /// Write the engine snapshot to FILE after the replay.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Never draw the progress bar (it is drawn only when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Longest line read, in bytes: a longer one is rejected (`invalid_json`) and skipped
    /// unread.
    #[arg(long, value_name = "N", default_value_t = crate::input::DEFAULT_MAX_LINE)]
    pub max_line_bytes: usize,
    /// Replay into this status store (redis://…, redis+cluster://…, file:PATH) instead of
    /// memory, and answer from it; the policy flags are the store's configuration.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Engine policies.
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// `mqtt-status status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The store to query (redis://…, redis+cluster://…, file:PATH); it must exist: `status`
    /// never creates one (a URL naming no store is an error, exit 2).
    #[arg(long, value_name = "URL", required = true)]
    pub store: String,
    /// Show this client's channel table (repeatable).
    #[arg(long = "client", value_name = "ID")]
    pub clients: Vec<String>,
    /// Restrict the online listing and count to one group.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// List at most N online clients, or feed entries (0 = all clients) [default: 20 for
    /// table, all for json; 100 feed entries].
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// List the online clients after this id (the last one of the previous page), or with
    /// --feed the entries after this cursor.
    #[arg(long, value_name = "ID|CURSOR")]
    pub after: Option<String>,
    /// Print the transition feed (each flip of a client's shared status) instead.
    #[arg(long, conflicts_with_all = ["clients", "group"])]
    pub feed: bool,
    /// The store's policies: the ones it was created with (by default the engine's defaults).
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// `mqtt-status check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// JSONL files to validate (`.gz` is detected); `-` reads stdin.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<OsString>,
    /// Longest accepted clientId / channelId / clientIp, in bytes.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_id_len: u32,
    /// The broker's notification format (docs/sources.md).
    #[arg(long, value_name = "FORMAT", value_parser = parse_source, default_value = "aliyun")]
    pub source: Source,
    /// Print only the bad lines, not the closing summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Longest line read, in bytes: a longer one is rejected (`invalid_json`) and skipped
    /// unread.
    #[arg(long, value_name = "N", default_value_t = crate::input::DEFAULT_MAX_LINE)]
    pub max_line_bytes: usize,
}

/// `mqtt-status generate`.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Number of simulated devices.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub clients: u32,
    /// PRNG seed: the same arguments always give the same bytes.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Fraction of events redelivered once more (0..=1); a quarter of them hours later.
    #[arg(long, value_name = "P", default_value_t = 0.05)]
    pub duplicates: f64,
    /// Delivery jitter: each event is delivered up to MS milliseconds after its time, which
    /// reorders events within that window.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub jitter: u64,
    /// Events per client: `N`, or `MIN..MAX` drawn per client.
    #[arg(long, value_name = "N|MIN..MAX", default_value = "4..24")]
    pub events_per_client: String,
    /// Number of device groups (GID_meter, GID_lamp, ...), 1..=12.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub groups: u32,
    /// Fraction of clients left online at the end (0..=1).
    #[arg(long, value_name = "P", default_value_t = 0.4)]
    pub online: f64,
    /// Fraction of session ends followed by a flap (0..=1): the device is back within 1–20 s,
    /// a short offline/online pair (`replay --grace 30000` suppresses it). The truth is still
    /// the final status.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub flap: f64,
    /// Fraction of extra malformed lines mixed in (0..=1); they never change the truth.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub invalid: f64,
    /// Time of the first event (epoch ms or ISO-8601).
    #[arg(long, value_name = "TIME", value_parser = parse_time, default_value = "2024-05-01T00:00:00Z")]
    pub start: u64,
    /// The broker format to write (docs/sources.md): `auto` mixes every format, line by line.
    #[arg(long, value_name = "FORMAT", value_parser = parse_source, default_value = "aliyun")]
    pub source: Source,
    /// Also write the true final status of every client (JSON) to FILE.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Write the log to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}
