//! # mqtt-status
//!
//! Is this MQTT device online right now? This crate answers from the `connect`, `disconnect`
//! and `tcpclean` notifications that ApsaraMQ for MQTT emits (through RocketMQ), and stays right
//! when they arrive out of order, duplicated hours later, interleaved across flash reconnects,
//! and after a restart from a snapshot.
//!
//! The rule: a **channel** (one TCP connection) is open iff its `connect` was seen and its close
//! was not; a **client** is online iff one of its channels is open. See `docs/semantics.md` for
//! the reasoning, and [`Config`] for the policies.
//!
//! The core does no I/O, reads no clock and uses no randomness: the same inputs give the same
//! answers and byte-identical snapshots, here and in the Python, Node and WebAssembly bindings.
//! It is `#![no_std]` + `alloc` (the default `std` feature only adds std's error integration).
//!
//! ```
//! use mqtt_status::{Config, StatusEngine};
//!
//! let mut engine = StatusEngine::new(Config { takeover: true, ..Config::default() })?;
//! let log = br#"{"tag":"connect","body":{"clientId":"GID_a@@@d1","channelId":"c1","time":1}}
//! {"clientId":"GID_a@@@d1","channelId":"c2","eventType":"connect","time":5}
//! {"clientId":"GID_a@@@d1","channelId":"c1","eventType":"tcpclean","time":6}
//! "#;
//! let report = engine.ingest_many(log);
//! assert_eq!(report.transitions.len(), 1); // the flash reconnect to c2 gave no transition
//! assert_eq!(engine.online_clients(None, None, None), vec!["GID_a@@@d1".to_string()]);
//!
//! let copy = mqtt_status::StatusEngine::restore(&engine.snapshot())?;
//! assert_eq!(copy.snapshot(), engine.snapshot());
//! # Ok::<(), mqtt_status::Error>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod batch;
mod channel;
mod client;
mod config;
mod engine;
mod error;
mod grace;
mod hash;
mod ids;
mod index;
#[cfg(test)]
mod index_key_tests;
mod merge;
mod observe;
mod options;
mod parse;
mod query;
mod reason;
mod record;
mod scan;
mod seal;
mod snapshot;
mod stale;
mod transitions;
mod types;
mod warm;

pub use config::{Config, MAX_GRACE_MS, MAX_ID_LEN_LIMIT, MAX_OPEN_CHANNELS_LIMIT, MAX_TOMBSTONES_LIMIT};
pub use engine::StatusEngine;
pub use error::{Error, ErrorCode};
pub use hash::IndexKey;
pub use observe::{check_observation, is_observation, parse_observation_line};
pub use options::{BatchOptions, ObserveArgs, OnlineQuery, OptionValue, OptionsArg};
pub use parse::{rfc3339_ms, with_notification, with_notification_as, Source, MAX_TIME};
pub use record::{record_shard, EventBatch, RECORD_VERSION};
#[doc(hidden)]
pub use seal::{__seal_record, __seal_snapshot};
pub use snapshot::SNAPSHOT_VERSION;
pub use transitions::{TransitionIter, Transitions};
pub use types::{
    BatchError, BatchReport, ChannelState, ChannelStatus, ClientStatus, EventType, GroupCount, Notification,
    Outcome, StaleClient, Stats, Transition, TransitionRef, MAX_REPORTED_ERRORS,
};
