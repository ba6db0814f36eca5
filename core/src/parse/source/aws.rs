//! AWS IoT Core lifecycle events (`$aws/events/presence/connected|disconnected/<clientId>`).
//!
//! `sessionIdentifier` names the connection (a new one per connect, the same in its
//! disconnect); `connected` opens it, `disconnected` (any `disconnectReason`, kept) closes it;
//! `timestamp` is in milliseconds. AWS documents that these messages may arrive out of order
//! and duplicated, which is what the channel judgment absorbs.

use super::super::raw::Val;
use super::check::{id, optional, text, uint, unknown};
use super::{Rec, F};
use crate::{Error, EventType, Notification};

/// The notification of an AWS lifecycle event; faults in the order clientId,
/// sessionIdentifier, eventType, timestamp, ipAddress, disconnectReason, versionNumber.
pub(super) fn resolve<S: AsRef<str>>(rec: &Rec<S>, max: u32) -> Result<Notification<'_>, Error> {
    let client_id = id(rec.field(F::ClientId)?, "clientId", max)?;
    let channel_id = id(rec.field(F::SessionIdentifier)?, "sessionIdentifier", max)?;
    let event_type = match text(rec.field(F::EventType)?, "eventType")? {
        "connected" => EventType::Connect,
        "disconnected" => EventType::TcpClean,
        other => return Err(unknown("eventType", other)),
    };
    let time = uint(rec.field(F::Timestamp)?, "timestamp")?;
    let client_ip = optional(rec.field(F::IpAddress)?, "ipAddress", max)?;
    let reason = optional(rec.field(F::DisconnectReason)?, "disconnectReason", max)?;
    let version = rec.field(F::VersionNumber)?;
    if !matches!(version, None | Some(Val::Null)) {
        uint(version, "versionNumber")?;
    }
    Ok(Notification { client_id, channel_id, event_type, time, client_ip, reason })
}
