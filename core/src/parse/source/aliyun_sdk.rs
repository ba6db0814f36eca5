//! The ApsaraMQ for MQTT cloud SDK's `StatusNotice` (`StatusListener.process`), as the SDK's
//! demo prints it: `clientId`, `channelId`, `statusType` (`ONLINE` / `OFFLINE`), `time`
//! (milliseconds), `clientIp`. `channelId` is the TCP connection, as in the RocketMQ
//! notifications; `OFFLINE` is its close.

use super::super::raw::Val;
use super::check::{id, optional, text, uint, unknown};
use super::{Rec, F};
use crate::{Error, EventType, Notification, MAX_TIME};

/// The notification of a `StatusNotice`; faults in the order clientId, channelId,
/// statusType, time, clientIp.
pub(super) fn resolve<S: AsRef<str>>(rec: &Rec<S>, max: u32) -> Result<Notification<'_>, Error> {
    let client_id = id(rec.field(F::ClientId)?, "clientId", max)?;
    let channel_id = id(rec.field(F::ChannelId)?, "channelId", max)?;
    let event_type = match text(rec.field(F::StatusType)?, "statusType")? {
        "ONLINE" => EventType::Connect,
        "OFFLINE" => EventType::TcpClean,
        other => return Err(unknown("statusType", other)),
    };
    let time = match rec.field(F::Time)? {
        // A Java `long` as the demo prints it; a string of digits too, as in the RocketMQ body.
        Some(Val::Str(s)) => digits(s.as_ref())?,
        v => uint(v, "time")?,
    };
    let client_ip = optional(rec.field(F::ClientIp)?, "clientIp", max)?;
    Ok(Notification { client_id, channel_id, event_type, time, client_ip, reason: None })
}

fn digits(s: &str) -> Result<u64, Error> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(Error::invalid("time", "must be an integer or a string of digits"));
    }
    let d = s.trim_start_matches('0');
    let t = if d.len() > 16 { u64::MAX } else { d.bytes().fold(0u64, |v, c| v * 10 + u64::from(c - b'0')) };
    if t > MAX_TIME {
        return Err(Error::invalid("time", "larger than 2^53 - 1"));
    }
    Ok(t)
}
