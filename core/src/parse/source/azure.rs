//! Azure Event Grid MQTT broker client life-cycle events, in the CloudEvents schema (`type`,
//! `time`) or the Event Grid schema (`eventType`, `eventTime`), one event object per line (a
//! delivered batch array is split by the caller).
//!
//! The client is `data.clientSessionName` (the MQTT session, one connection at a time); the
//! connection is `data.sequenceNumber`, which the documentation's connected and disconnected
//! examples give the same value for one connection and which grows from one connection to the
//! next. Times are RFC 3339 strings, read to milliseconds.

use super::super::raw::Val;
use super::check::{id, optional, text, uint, unknown};
use super::time::rfc3339_ms;
use super::{Digits, Rec, F};
use crate::{Error, EventType, Notification};

/// What every Event Grid system event type of this broker starts with.
pub(super) const TYPE_PREFIX: &str = "Microsoft.EventGrid.";

/// The notification of an Event Grid MQTT session event; faults in the order data,
/// clientSessionName, sequenceNumber, type / eventType, time / eventTime, disconnectionReason.
pub(super) fn resolve<'v, S: AsRef<str>>(
    rec: &'v Rec<S>,
    max: u32,
    digits: &'v mut Digits,
) -> Result<Notification<'v>, Error> {
    match rec.field(F::Data)? {
        Some(Val::Object) => {}
        None | Some(Val::Null) => return Err(Error::MissingField { field: "data" }),
        Some(_) => return Err(Error::invalid("data", "must be a JSON object")),
    }
    let client_id = id(rec.field(F::ClientSessionName)?, "clientSessionName", max)?;
    let sequence = uint(rec.field(F::SequenceNumber)?, "sequenceNumber")?;
    // CloudEvents names it `type`, the Event Grid schema `eventType`.
    let (ty, ty_name) =
        if rec.get(F::Type).is_some() { (F::Type, "type") } else { (F::EventType, "eventType") };
    let event_type = match text(rec.field(ty)?, if rec.get(ty).is_some() { ty_name } else { "type" })? {
        "Microsoft.EventGrid.MQTTClientSessionConnected" => EventType::Connect,
        "Microsoft.EventGrid.MQTTClientSessionDisconnected" => EventType::TcpClean,
        other => return Err(unknown(ty_name, other)),
    };
    let (t, t_name) =
        if rec.get(F::Time).is_some() { (F::Time, "time") } else { (F::EventTime, "eventTime") };
    let time = match rec.field(t)? {
        None | Some(Val::Null) => return Err(Error::MissingField { field: "time" }),
        Some(Val::Str(s)) => rfc3339_ms(s.as_ref())
            .filter(|&ms| ms <= crate::MAX_TIME)
            .ok_or_else(|| Error::invalid(t_name, "must be an RFC 3339 time from 1970 on"))?,
        Some(_) => return Err(Error::invalid(t_name, "must be an RFC 3339 time string")),
    };
    let reason = optional(rec.field(F::DisconnectionReason)?, "disconnectionReason", max)?;
    Ok(Notification {
        client_id,
        channel_id: rec.decimal(F::SequenceNumber, sequence, digits),
        event_type,
        time,
        client_ip: None,
        reason,
    })
}
