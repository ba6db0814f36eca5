//! Other brokers' lifecycle events (SPEC §10): the option [`Source`] and one reader per format.
//!
//! Every vendor format is read the same way: one pass of the vendor flat reader (`walk.rs`)
//! puts the line's known keys into a [`Rec`], declining anything unusual (escapes, deep
//! nesting, a repeated key) to the exact serde_json reader (`de.rs`), which fills the same
//! record and reports every JSON error (a repeated key is remembered and reported by the
//! format's field checks, as in the ApsaraMQ format: `raw.rs`, [`Repeats`]). Then the format's rules (`aws.rs`, `emqx.rs`, `azure.rs`,
//! `aliyun_sdk.rs`) map the record to the core's [`Notification`]: the vendor's
//! connection or session identity becomes the channel, its connected event the `connect`, its
//! disconnected event the close (`tcpclean`). How each vendor names a connection, and why, is
//! in `docs/sources.md`.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::raw::{Repeated, Repeats, Val};
use crate::{Error, Notification};

mod aliyun_sdk;
mod aws;
mod azure;
mod check;
mod de;
mod emqx;
#[cfg(test)]
mod skip_tests;
#[cfg(test)]
mod tests;
mod time;

pub use time::rfc3339_ms;
mod walk;
mod word;

/// Which broker's notification format the engine reads (option `source`, default `aliyun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// ApsaraMQ for MQTT `connect` / `disconnect` / `tcpclean` bodies and envelopes (SPEC §1).
    #[default]
    Aliyun,
    /// AWS IoT Core lifecycle events (`connected` / `disconnected`).
    Aws,
    /// EMQX `client.connected` / `client.disconnected` rule-engine events and `$SYS` messages.
    Emqx,
    /// Azure Event Grid MQTT broker `MQTTClientSessionConnected` / `Disconnected` events.
    AzureMqtt,
    /// The ApsaraMQ cloud SDK's `StatusNotice` (`ONLINE` / `OFFLINE`).
    AliyunSdk,
    /// Each line's format recognised from its keys.
    Auto,
}

impl Source {
    /// Every source, in declaration order.
    pub const ALL: [Source; 6] =
        [Source::Aliyun, Source::Aws, Source::Emqx, Source::AzureMqtt, Source::AliyunSdk, Source::Auto];

    /// The option's value as written in every binding (`"aliyun"`, `"azure-mqtt"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Aliyun => "aliyun",
            Source::Aws => "aws",
            Source::Emqx => "emqx",
            Source::AzureMqtt => "azure-mqtt",
            Source::AliyunSdk => "aliyun-sdk",
            Source::Auto => "auto",
        }
    }

    /// Whether this is the default, `aliyun`.
    pub fn is_default(&self) -> bool {
        *self == Source::Aliyun
    }

    /// The source named `name`; anything else is `invalid_field` `source`.
    pub fn parse(name: &str) -> Result<Source, Error> {
        Source::ALL.into_iter().find(|s| s.as_str() == name).ok_or_else(|| {
            Error::invalid("source", "must be aliyun, aws, emqx, azure-mqtt, aliyun-sdk or auto")
        })
    }
}

/// One vendor's format (what `auto` resolves a line to, besides `aliyun`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Vendor {
    Aws,
    Emqx,
    Azure,
    Sdk,
}

/// The keys any vendor format reads, top level and (for Azure) inside `data`. Keys are
/// case-sensitive: AWS's `clientId` and EMQX's `clientid` are different slots.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum F {
    // Shared by several formats.
    ClientId,
    EventType,
    Time,
    Timestamp,
    ChannelId,
    ClientIp,
    // AWS.
    SessionIdentifier,
    IpAddress,
    DisconnectReason,
    VersionNumber,
    // ApsaraMQ SDK.
    StatusType,
    // EMQX.
    Clientid,
    Event,
    ConnectedAt,
    DisconnectedAt,
    Reason,
    Peername,
    Ipaddress,
    Ts,
    // Azure, top level.
    Type,
    EventTime,
    Data,
    // Azure, inside `data`.
    ClientSessionName,
    SequenceNumber,
    DisconnectionReason,
    // ApsaraMQ (`auto` only looks at whether they are there).
    Tag,
    Body,
}

/// Number of [`F`] slots.
const N: usize = F::Body as usize + 1;

/// The name of each slot, as `invalid_field` names it (inside `data` too: Azure's fields are
/// named as the vendor documents them).
const NAMES: [&str; N] = [
    "clientId",
    "eventType",
    "time",
    "timestamp",
    "channelId",
    "clientIp",
    "sessionIdentifier",
    "ipAddress",
    "disconnectReason",
    "versionNumber",
    "statusType",
    "clientid",
    "event",
    "connected_at",
    "disconnected_at",
    "reason",
    "peername",
    "ipaddress",
    "ts",
    "type",
    "eventTime",
    "data",
    "clientSessionName",
    "sequenceNumber",
    "disconnectionReason",
    "tag",
    "body",
];

impl F {
    /// The slot for key `name`, top level (`nested = false`) or inside Azure's `data`. Always
    /// inlined: called for every key of every vendor line, the call itself cost ~8 of its ~20
    /// instructions (measured: EMQX −1.5 %, Azure −0.7 %, AWS −0.7 %).
    #[inline(always)]
    fn of(name: &[u8], nested: bool) -> Option<F> {
        if nested {
            return Some(match name {
                b"clientSessionName" => F::ClientSessionName,
                b"sequenceNumber" => F::SequenceNumber,
                b"disconnectionReason" => F::DisconnectionReason,
                _ => return None,
            });
        }
        // One match: the compiler dispatches on the length first, then compares bytes.
        Some(match name {
            b"clientId" => F::ClientId,
            b"eventType" => F::EventType,
            b"time" => F::Time,
            b"timestamp" => F::Timestamp,
            b"channelId" => F::ChannelId,
            b"clientIp" => F::ClientIp,
            b"sessionIdentifier" => F::SessionIdentifier,
            b"ipAddress" => F::IpAddress,
            b"disconnectReason" => F::DisconnectReason,
            b"versionNumber" => F::VersionNumber,
            b"statusType" => F::StatusType,
            b"clientid" => F::Clientid,
            b"event" => F::Event,
            b"connected_at" => F::ConnectedAt,
            b"disconnected_at" => F::DisconnectedAt,
            b"reason" => F::Reason,
            b"peername" => F::Peername,
            b"ipaddress" => F::Ipaddress,
            b"ts" => F::Ts,
            b"type" => F::Type,
            b"eventTime" => F::EventTime,
            b"data" => F::Data,
            b"tag" => F::Tag,
            b"body" => F::Body,
            _ => return None,
        })
    }
}

/// A vendor line's known fields before validation; `S` is a string as its reader gives it.
struct Rec<S> {
    slots: [Option<Val<S>>; N],
    /// The known keys seen more than once (by slot; the rule: [`Repeats`]).
    repeats: Repeats,
    /// The decimal text of `connected_at` and `sequenceNumber` (the channel ids of EMQX and
    /// Azure) as the line writes them, when the flat reader read them as plain integers: the
    /// same text [`Digits`] would write (no sign, no leading zero), without writing it.
    decimal: [Option<S>; 2],
}

impl<S> Default for Rec<S> {
    fn default() -> Self {
        Rec { slots: core::array::from_fn(|_| None), repeats: Repeats::default(), decimal: [None, None] }
    }
}

/// Where [`Rec::decimal`] keeps `f`'s text, for the two integer channel ids.
#[inline(always)]
fn decimal_slot(f: F) -> Option<usize> {
    match f {
        F::ConnectedAt => Some(0),
        F::SequenceNumber => Some(1),
        _ => None,
    }
}

impl<S> Rec<S> {
    /// `f`'s first value, whether or not the key repeated (for recognising a line's format).
    fn get(&self, f: F) -> &Option<Val<S>> {
        &self.slots[f as usize]
    }
    fn has(&self, f: F) -> bool {
        !matches!(self.get(f), None | Some(Val::Null))
    }
    /// `f`'s value where the format checks that field: `invalid_field` naming it if the key
    /// appeared twice ([`Repeats`]: reported at the field's place in the field order).
    #[inline]
    fn field(&self, f: F) -> Result<&Option<Val<S>>, Error> {
        self.repeats.first(1 << f as u32, &NAMES)?;
        Ok(self.get(f))
    }
    /// The slot for `f` if it is still empty; a repeat is remembered ([`Repeats::take`]).
    #[inline]
    fn vacant(&mut self, f: F) -> Result<&mut Option<Val<S>>, Repeated> {
        self.repeats.take(f as u32, &mut self.slots[f as usize])
    }
}

impl<S: AsRef<str>> Rec<S> {
    /// The channel id written from the integer `v` read from `f`: the line's own text when
    /// the flat reader kept it, else `v` written in decimal into `digits`.
    fn decimal<'v>(&'v self, f: F, v: u64, digits: &'v mut Digits) -> &'v str {
        match decimal_slot(f).and_then(|k| self.decimal[k].as_ref()) {
            Some(text) => text.as_ref(),
            None => digits.of(v),
        }
    }

    /// The string in `f`, if it holds one.
    fn str(&self, f: F) -> Option<&str> {
        match self.get(f) {
            Some(Val::Str(s)) => Some(s.as_ref()),
            _ => None,
        }
    }
}

/// Room for a channel id written from a number (`u64` has at most 20 digits).
struct Digits {
    buf: [u8; 20],
}

impl Digits {
    fn new() -> Self {
        Digits { buf: [0; 20] }
    }
    /// `v` in decimal.
    fn of(&mut self, mut v: u64) -> &str {
        let mut i = self.buf.len();
        loop {
            i -= 1;
            self.buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        // Only ASCII digits were written.
        core::str::from_utf8(&self.buf[i..]).unwrap_or("0")
    }
}

/// Parses one line in `source`'s format and hands the notification to `f`; `aliyun` (and an
/// `auto` line with none of the vendors' keys) goes to the ApsaraMQ parser.
pub(crate) fn with_source_notification<R>(
    source: Source,
    bytes: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    scratch: &mut Vec<u8>,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    let vendor = match source {
        Source::Aliyun => return super::with_notification_in(bytes, tag, max_id_len, scratch, f),
        Source::Aws => Some(Vendor::Aws),
        Source::Emqx => Some(Vendor::Emqx),
        Source::AzureMqtt => Some(Vendor::Azure),
        Source::AliyunSdk => Some(Vendor::Sdk),
        Source::Auto => None,
    };
    let mut rec = Rec::default();
    if walk::read(bytes, &mut rec).is_some() {
        if vendor.is_none() && rec.get(F::Body).is_none() && detect(&rec).is_none() && aliyun_like(&rec, tag)
        {
            return bare_body(rec, tag, max_id_len, f);
        }
        return finish(vendor, &rec, bytes, tag, max_id_len, scratch, f);
    }
    exact(vendor, bytes, tag, max_id_len, scratch, f)
}

/// `auto`: whether a line with no vendor's keys is read as ApsaraMQ (it has one of its keys,
/// or the caller gave a tag); any other such line is refused.
fn aliyun_like<S>(rec: &Rec<S>, tag: Option<&str>) -> bool {
    tag.is_some() || [F::ChannelId, F::EventType, F::Tag, F::Body].iter().any(|&f| rec.get(f).is_some())
}

/// `auto`, a bare ApsaraMQ body the vendor flat reader has read: its fields are exactly what
/// the ApsaraMQ flat reader would have read (same keys, same values, the same valid JSON), so
/// they are validated as that parser validates a bare body, without reading the line again.
fn bare_body<R>(
    mut rec: Rec<&str>,
    tag: Option<&str>,
    max_id_len: u32,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    let mut take = |f: F| rec.slots[f as usize].take();
    let raw = super::raw::Raw {
        client_id: take(F::ClientId),
        channel_id: take(F::ChannelId),
        event_type: take(F::EventType),
        time: take(F::Time),
        client_ip: take(F::ClientIp),
        ..Default::default()
    };
    super::validate::resolve(&raw, tag, max_id_len).map(f)
}

/// The second read: serde_json, for any line the vendor flat reader declined.
fn exact<R>(
    vendor: Option<Vendor>,
    bytes: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    scratch: &mut Vec<u8>,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    let mut rec = Rec::default();
    de::decode(bytes, &mut rec)?;
    finish(vendor, &rec, bytes, tag, max_id_len, scratch, f)
}

/// Resolves `auto`, then validates the record in its vendor's format.
fn finish<R, S: AsRef<str>>(
    vendor: Option<Vendor>,
    rec: &Rec<S>,
    bytes: &[u8],
    tag: Option<&str>,
    max_id_len: u32,
    scratch: &mut Vec<u8>,
    f: impl FnOnce(Notification<'_>) -> R,
) -> Result<R, Error> {
    let vendor = match vendor.or_else(|| detect(rec)) {
        Some(v) => v,
        // An ApsaraMQ line (or a tagged body): read by its own parser, which reports its errors.
        None if aliyun_like(rec, tag) => {
            return super::with_notification_in(bytes, tag, max_id_len, scratch, f);
        }
        None => {
            return Err(Error::invalid("source", "auto: the line has none of any known format's keys"));
        }
    };
    if tag.is_some() {
        // A RocketMQ tag only means something to the ApsaraMQ format.
        return Err(Error::invalid("tag", "only the aliyun source takes a tag"));
    }
    let mut digits = Digits::new();
    let n = match vendor {
        Vendor::Aws => aws::resolve(rec, max_id_len)?,
        Vendor::Emqx => emqx::resolve(rec, max_id_len, &mut digits)?,
        Vendor::Azure => azure::resolve(rec, max_id_len, &mut digits)?,
        Vendor::Sdk => aliyun_sdk::resolve(rec, max_id_len)?,
    };
    Ok(f(n))
}

/// `auto`: the vendor whose distinctive keys the line has, or `None` (ApsaraMQ, or nothing).
fn detect<S: AsRef<str>>(rec: &Rec<S>) -> Option<Vendor> {
    if rec.has(F::StatusType) {
        return Some(Vendor::Sdk);
    }
    if rec.has(F::SessionIdentifier)
        || rec.has(F::Timestamp) && matches!(rec.str(F::EventType), Some("connected" | "disconnected"))
    {
        return Some(Vendor::Aws);
    }
    if rec.has(F::Clientid) || rec.str(F::Event).is_some_and(|e| e.starts_with("client.")) {
        return Some(Vendor::Emqx);
    }
    let azure_type = |f| rec.str(f).is_some_and(|t: &str| t.starts_with(azure::TYPE_PREFIX));
    if rec.has(F::ClientSessionName) || azure_type(F::Type) || azure_type(F::EventType) {
        return Some(Vendor::Azure);
    }
    None
}
