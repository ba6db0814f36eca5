//! Public input and output types. All outputs serialize with camelCase keys and `null` for
//! unknown values, which is the shape every binding hands to its users.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// The three notification types the broker emits (also the RocketMQ message tag), and
/// [`Observe`](EventType::Observe), which only a transition carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// A channel (TCP connection) opened.
    Connect,
    /// The client sent an MQTT DISCONNECT packet (may be missing when a client dies).
    Disconnect,
    /// The TCP connection is really gone: the authoritative close, always sent.
    #[serde(rename = "tcpclean")]
    TcpClean,
    /// Not a notification: a transition caused by [`StatusEngine::observe`] (an answer of the
    /// broker's query API) says `observe`. Never accepted as a notification's type.
    ///
    /// [`StatusEngine::observe`]: crate::StatusEngine::observe
    Observe,
}

impl EventType {
    /// The wire name: `connect`, `disconnect`, `tcpclean` (or `observe`).
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::Connect => "connect",
            EventType::Disconnect => "disconnect",
            EventType::TcpClean => "tcpclean",
            EventType::Observe => "observe",
        }
    }

    /// Parses a notification's type (case-sensitive): `observe` is not one.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "connect" => Some(EventType::Connect),
            "disconnect" => Some(EventType::Disconnect),
            "tcpclean" => Some(EventType::TcpClean),
            _ => None,
        }
    }

    /// The slot of a channel's time for this type (3, out of a channel's range, for
    /// [`Observe`](EventType::Observe): no channel records one, and validation keeps it out).
    pub(crate) const fn index(self) -> usize {
        match self {
            EventType::Connect => 0,
            EventType::Disconnect => 1,
            EventType::TcpClean => 2,
            EventType::Observe => 3,
        }
    }

    pub(crate) const fn from_index(i: usize) -> Self {
        match i {
            0 => EventType::Connect,
            1 => EventType::Disconnect,
            _ => EventType::TcpClean,
        }
    }
}

impl core::fmt::Display for EventType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One status notification, already decoded (for callers that parse JSON themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification<'a> {
    /// `GroupID@@@DeviceID`, or an id without group.
    pub client_id: &'a str,
    /// The TCP connection this event belongs to.
    pub channel_id: &'a str,
    /// What happened.
    pub event_type: EventType,
    /// Event time in milliseconds (at most 2^53 − 1, so every language holds it exactly).
    pub time: u64,
    /// `ip:port` of the client, when the broker sent one (`Some("")` counts as absent).
    pub client_ip: Option<&'a str>,
    /// Why the connection closed, as the broker says (AWS `disconnectReason`, EMQX `reason`,
    /// Azure `disconnectionReason`; ApsaraMQ gives none): kept by a `tcpclean` only, at most
    /// `max_id_len` bytes (`Some("")` counts as absent).
    pub reason: Option<&'a str>,
}

/// A client's online status flipped; returned by the ingest call whose event caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    /// The client that flipped.
    pub client_id: String,
    /// Its new status.
    pub online: bool,
    /// Time of the causing event.
    pub time: u64,
    /// Channel of the causing event.
    pub channel_id: String,
    /// Type of the causing event.
    pub event_type: EventType,
    /// Only with `offline_grace_ms`: this online flip ends an offline period that began at this
    /// time (the close's), lasted at least the grace and was never reported (nobody called
    /// `advance` in time). Absent otherwise (`offlineSince` in JSON, omitted when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_since: Option<u64>,
}

/// A [`Transition`] borrowing its ids from the input, as
/// [`StatusEngine::ingest_many_each`](crate::StatusEngine::ingest_many_each) hands them over
/// (no allocation per transition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransitionRef<'a> {
    /// The client that flipped.
    pub client_id: &'a str,
    /// Its new status.
    pub online: bool,
    /// Time of the causing event.
    pub time: u64,
    /// Channel of the causing event.
    pub channel_id: &'a str,
    /// Type of the causing event.
    pub event_type: EventType,
    /// See [`Transition::offline_since`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_since: Option<u64>,
}

impl<'a> TransitionRef<'a> {
    /// The transition `n` caused, flipping its client to `online`.
    pub(crate) fn new(n: &Notification<'a>, online: bool) -> Self {
        let (client_id, channel_id) = (n.client_id, n.channel_id);
        TransitionRef {
            client_id,
            online,
            time: n.time,
            channel_id,
            event_type: n.event_type,
            offline_since: None,
        }
    }

    /// The owned [`Transition`].
    pub fn to_transition(&self) -> Transition {
        Transition {
            client_id: String::from(self.client_id),
            online: self.online,
            time: self.time,
            channel_id: String::from(self.channel_id),
            event_type: self.event_type,
            offline_since: self.offline_since,
        }
    }
}

impl<'a> From<&'a Transition> for TransitionRef<'a> {
    fn from(t: &'a Transition) -> Self {
        let (client_id, channel_id) = (t.client_id.as_str(), t.channel_id.as_str());
        let (online, time, event_type, offline_since) = (t.online, t.time, t.event_type, t.offline_since);
        TransitionRef { client_id, online, time, channel_id, event_type, offline_since }
    }
}

/// State of one channel in a client's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelState {
    /// Connect seen, no close (and, under `takeover`, the client's newest connect).
    Open,
    /// A close was seen (`tcpclean`, or `disconnect` under `close_on_disconnect`), or only a close.
    Closed,
    /// Under `takeover`: connect seen, no close, but a newer connect of the client exists.
    Superseded,
}

/// One row of a client's channel table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelStatus {
    /// The channel id as received.
    pub channel_id: String,
    /// Open, closed or superseded.
    pub state: ChannelState,
    /// Time of its `connect`, if seen.
    pub connect_time: Option<u64>,
    /// Time of its `disconnect`, if seen.
    pub disconnect_time: Option<u64>,
    /// Time it closed under the configured policy (`tcpclean`, or the earlier of `tcpclean` and
    /// `disconnect` under `close_on_disconnect`), if closed by an event.
    pub close_time: Option<u64>,
    /// `ip:port` of the connection, if any event carried one.
    pub client_ip: Option<String>,
    /// Why it closed, if its close (`tcpclean`) carried a reason: that of the earliest close,
    /// the smallest at equal times. Omitted when absent (`reason` in JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Everything known about one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientStatus {
    /// The full client id.
    pub client_id: String,
    /// The part before `@@@`, or `None` for an id without group.
    pub group_id: Option<String>,
    /// The part after `@@@` (the whole id when there is no group).
    pub device_id: String,
    /// Whether some channel is open.
    pub online: bool,
    /// Time of the latest applied event of this client.
    pub last_event_time: Option<u64>,
    /// `ip:port` of the most recently active channel that reported one (by latest event time).
    pub last_ip: Option<String>,
    /// Number of distinct channels whose `connect` was seen (compacted ones included).
    pub connects: u64,
    /// Events for unknown channels at or before this time are late (see SPEC §4).
    pub horizon: Option<u64>,
    /// Remembered channels, sorted by channelId.
    pub channels: Vec<ChannelStatus>,
    /// Only with `offline_grace_ms`: the client is exactly offline since this time (its
    /// close's) but still reported online, the offline not yet confirmed. Omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_offline_since: Option<u64>,
}

/// Online and known client counts of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupCount {
    /// The group id (the part of clientId before `@@@`).
    pub group_id: String,
    /// Clients of the group online now.
    pub online: u64,
    /// Clients of the group ever seen.
    pub known: u64,
}

/// Engine-wide counters and gauges.
///
/// `events … wentOffline` count what this engine instance was fed (they survive snapshots but are
/// not part of the merged state); `clients … maxTime` describe the state itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Inputs offered to ingest (each line of a batch counts).
    pub events: u64,
    /// Events that changed the state.
    pub applied: u64,
    /// Valid events that changed nothing (redeliveries).
    pub duplicates: u64,
    /// Events for an unknown channel at or before its client's horizon: ignored.
    pub late: u64,
    /// Inputs rejected with an error.
    pub rejected: u64,
    /// Known clients.
    pub clients: u64,
    /// Clients online now.
    pub online: u64,
    /// Open channels.
    pub open_channels: u64,
    /// Remembered channels that are not open.
    pub tombstones: u64,
    /// Transitions to online returned so far.
    pub went_online: u64,
    /// Transitions to offline returned so far.
    pub went_offline: u64,
    /// Largest applied event time.
    pub max_time: Option<u64>,
    /// Only with `offline_grace_ms` (else `None`, omitted in JSON): clients exactly offline
    /// whose offline is pending (still reported online).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_offline: Option<u64>,
}

/// An online client worth verifying (see
/// [`StatusEngine::stale_online`](crate::StatusEngine::stale_online)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaleClient {
    /// The client.
    pub client_id: String,
    /// Its last sign of life: the latest time of its events and observations.
    pub last_seen: u64,
}

/// One rejected item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchError {
    /// 0-based index of the item (for JSONL: the line, blank lines included).
    pub index: u64,
    /// Stable error code.
    pub code: String,
    /// Field at fault, if any.
    pub field: Option<String>,
    /// Human-readable reason.
    pub message: String,
}

impl BatchError {
    /// Builds the report entry for an error at `index`.
    pub fn new(index: u64, error: &crate::Error) -> Self {
        BatchError {
            index,
            code: String::from(error.code().as_str()),
            field: error.field().map(String::from),
            message: alloc::string::ToString::to_string(error),
        }
    }
}

/// Most errors a [`BatchReport`] keeps (the first ones, in input order); [`BatchReport::rejected`]
/// counts them all. A batch of millions of bad lines would otherwise hold a message per line
/// (gigabytes, and more than a host string can take): the first thousand say what is wrong with
/// a file, and the count says how much.
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// Result of a batch ingest: good items are all applied, bad ones counted and the first
/// [`MAX_REPORTED_ERRORS`] of them reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    /// Items that changed the state.
    pub applied: u64,
    /// Valid items that changed nothing.
    pub duplicates: u64,
    /// Items ignored as late.
    pub late: u64,
    /// Items rejected with an error: all of them, also those beyond the ones kept in `errors`.
    pub rejected: u64,
    /// The first [`MAX_REPORTED_ERRORS`] rejected items, in input order.
    pub errors: Vec<BatchError>,
    /// Transitions in the order they happened.
    pub transitions: crate::Transitions,
}

/// What an ingest did with a valid event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The state changed.
    Applied,
    /// Nothing changed: a redelivery.
    Duplicate,
    /// Ignored: an unknown channel at or before the client's horizon.
    Late,
}
