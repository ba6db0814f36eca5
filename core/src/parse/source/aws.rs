//! AWS IoT Core lifecycle events (`$aws/events/presence/connected|disconnected/<clientId>`).
//!
//! `sessionIdentifier` names the connection (a new one per connect, the same in its
//! disconnect); `connected` opens it, `disconnected` (any `disconnectReason`) closes it;
//! `timestamp` is in milliseconds. AWS documents that these messages may arrive out of order
//! and duplicated, which is what the channel judgment absorbs.

use super::check::{id, optional, text, uint, unknown};
use super::{Rec, F};
use crate::{Error, EventType, Notification};

/// The notification of an AWS lifecycle event; faults in the order clientId,
/// sessionIdentifier, eventType, timestamp, ipAddress, disconnectReason, versionNumber.
pub(super) fn resolve<S: AsRef<str>>(rec: &Rec<S>, max: u32) -> Result<Notification<'_>, Error> {
    let client_id = id(rec.get(F::ClientId), "clientId", max)?;
    let channel_id = id(rec.get(F::SessionIdentifier), "sessionIdentifier", max)?;
    let event_type = match text(rec.get(F::EventType), "eventType")? {
        "connected" => EventType::Connect,
        "disconnected" => EventType::TcpClean,
        other => return Err(unknown("eventType", other)),
    };
    let time = uint(rec.get(F::Timestamp), "timestamp")?;
    let client_ip = optional(rec.get(F::IpAddress), "ipAddress", max)?;
    // Read and checked, not yet kept (docs/sources.md).
    if rec.has(F::DisconnectReason) {
        text(rec.get(F::DisconnectReason), "disconnectReason")?;
    }
    if rec.has(F::VersionNumber) {
        uint(rec.get(F::VersionNumber), "versionNumber")?;
    }
    Ok(Notification { client_id, channel_id, event_type, time, client_ip })
}
