//! `mqtt-status generate`: a deterministic simulator of a fleet's status notifications, with
//! the ground truth computed from its own session model (never by running the engine).
//!
//! [`model`] simulates sessions in event time, [`emit`] decides delivery (jitter,
//! redeliveries, malformed extras) and writes lines, [`rng`] is the seeded PRNG. The same
//! arguments always give the same bytes.

pub mod emit;
pub mod model;
pub mod rng;
pub mod vendor;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};

use serde::Serialize;

use crate::args::GenerateArgs;
use crate::error::{CliError, EXIT_OK};
use emit::{DeliveryParams, Item};
use model::{FleetParams, GROUPS};
use mqtt_status::Source;
use rng::Rng;

/// Parses `--events-per-client`: `N` or `MIN..MAX`, each at least 1.
pub fn parse_events_range(text: &str) -> Result<(u32, u32), CliError> {
    let bad = || {
        CliError::usage(format!("--events-per-client `{text}`: give N or MIN..MAX (e.g. 4..24), each >= 1"))
    };
    let num = |s: &str| s.trim().parse::<u32>().ok().filter(|&n| n >= 1);
    let (lo, hi) = match text.split_once("..") {
        Some((a, b)) => (num(a).ok_or_else(bad)?, num(b).ok_or_else(bad)?),
        None => {
            let n = num(text).ok_or_else(bad)?;
            (n, n)
        }
    };
    if lo > hi || hi > 1_000_000 {
        return Err(bad());
    }
    Ok((lo, hi))
}

fn fraction(name: &str, p: f64) -> Result<f64, CliError> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(CliError::usage(format!("--{name} {p}: must be a fraction between 0 and 1")))
    }
}

/// The truth file: the true final status of every client under the simulator's model.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Truth {
    /// The arguments that produced the log.
    pub generator: GeneratorInfo,
    /// Original events (each connect / disconnect / tcpclean once; a vendor format has no
    /// disconnect before its close).
    pub events: u64,
    /// Redelivered copies in the log.
    pub duplicates: u64,
    /// Malformed lines in the log (the engine rejects them).
    pub invalid: u64,
    /// Lines in the log.
    pub lines: u64,
    /// Earliest and latest event time.
    pub first_event_time: Option<u64>,
    /// Latest event time: replaying with `--at` this or later answers the final status.
    pub last_event_time: Option<u64>,
    /// Clients online at the end.
    pub online_count: u64,
    /// Every client: `true` iff its last session is still open.
    pub status: BTreeMap<String, bool>,
}

/// The generator's arguments, as recorded in the truth file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratorInfo {
    /// `--clients`.
    pub clients: u32,
    /// `--seed`.
    pub seed: u64,
    /// `--duplicates`.
    pub duplicates: f64,
    /// `--jitter` (ms).
    pub jitter: u64,
    /// `--events-per-client`.
    pub events_per_client: String,
    /// `--groups`.
    pub groups: u32,
    /// `--online`.
    pub online: f64,
    /// `--invalid`.
    pub invalid: f64,
    /// `--flap` (absent when 0, so truth files written before it are unchanged).
    #[serde(skip_serializing_if = "is_zero")]
    pub flap: f64,
    /// `--start` (epoch ms).
    pub start: u64,
    /// `--source`, when not `aliyun` (the truth files of ApsaraMQ logs stay as they were).
    #[serde(skip_serializing_if = "Source::is_default")]
    pub source: Source,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The log's bytes and its truth, for the given arguments.
pub fn generate(args: &GenerateArgs) -> Result<(Vec<u8>, Truth), CliError> {
    let events = parse_events_range(&args.events_per_client)?;
    if args.clients == 0 || args.clients > 50_000_000 {
        return Err(CliError::usage("--clients must be between 1 and 50000000"));
    }
    if args.groups == 0 || args.groups as usize > GROUPS.len() {
        return Err(CliError::usage(format!("--groups must be between 1 and {}", GROUPS.len())));
    }
    if args.jitter > 3_600_000 {
        return Err(CliError::usage("--jitter must be at most 3600000 ms (one hour)"));
    }
    let fleet_params = FleetParams {
        clients: args.clients,
        events,
        groups: args.groups,
        online: fraction("online", args.online)?,
        flap: fraction("flap", args.flap)?,
        jitter: args.jitter,
        start: args.start,
    };
    let delivery = DeliveryParams {
        jitter: args.jitter,
        duplicates: fraction("duplicates", args.duplicates)?,
        invalid: fraction("invalid", args.invalid)?,
    };
    let mut rng = Rng::new(args.seed);
    let fleet = model::simulate(&mut rng, &fleet_params);
    let deliveries = emit::schedule(&mut rng, &fleet, &delivery, args.source);
    let mut log = Vec::with_capacity(deliveries.len() * 200);
    emit::write_log(&mut log, &fleet, &deliveries, args.source).map_err(|e| CliError::Io(e.to_string()))?;
    let count = |f: fn(&Item) -> bool| deliveries.iter().filter(|d| f(&d.item)).count() as u64;
    let status: BTreeMap<String, bool> =
        fleet.client_ids.iter().cloned().zip(fleet.online.iter().copied()).collect();
    let truth = Truth {
        generator: GeneratorInfo {
            clients: args.clients,
            seed: args.seed,
            duplicates: args.duplicates,
            jitter: args.jitter,
            events_per_client: args.events_per_client.clone(),
            groups: args.groups,
            online: args.online,
            invalid: args.invalid,
            flap: args.flap,
            start: args.start,
            source: args.source,
        },
        events: count(|i| matches!(i, Item::Original(_))),
        duplicates: count(|i| matches!(i, Item::Duplicate(_))),
        invalid: count(|i| matches!(i, Item::Invalid(..))),
        lines: deliveries.len() as u64,
        first_event_time: fleet.events.iter().map(|e| e.time).min(),
        last_event_time: fleet.events.iter().map(|e| e.time).max(),
        online_count: status.values().filter(|&&o| o).count() as u64,
        status,
    };
    Ok((log, truth))
}

/// Runs `mqtt-status generate`.
pub fn run(args: &GenerateArgs) -> Result<u8, CliError> {
    let (log, truth) = generate(args)?;
    if let Some(path) = &args.truth {
        let mut json = serde_json::to_vec_pretty(&truth).map_err(|e| CliError::Io(e.to_string()))?;
        json.push(b'\n');
        std::fs::write(path, json).map_err(|e| CliError::writing(path, &e))?;
    }
    match &args.output {
        Some(path) => {
            let file = File::create(path).map_err(|e| CliError::writing(path, &e))?;
            let mut out = BufWriter::new(file);
            out.write_all(&log).and_then(|()| out.flush()).map_err(|e| CliError::writing(path, &e))?;
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&log).and_then(|()| out.flush()).map_err(|e| CliError::stdout(&e))?;
        }
    }
    Ok(EXIT_OK)
}
