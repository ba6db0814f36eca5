//! EMQX: rule-engine events `client.connected` / `client.disconnected` (field `event`) and the
//! `$SYS/brokers/<node>/clients/<clientid>/connected|disconnected` messages (no `event`: a
//! message with `disconnected_at` or `reason` is a disconnect).
//!
//! The session's `connected_at` (milliseconds) names the connection: a takeover or a
//! reconnect is a new `connected_at`, and its disconnected event carries the same one
//! (EMQX ≥ 5.8.6 in rule-engine events). So `takenover` and `discarded` close only their own
//! session. A disconnect without `connected_at` (older EMQX) cannot say which connection
//! ended and is refused with `missing_field` `connected_at` (why: docs/sources.md).

use super::check::{id, optional, text, uint, unknown};
use super::{Digits, Rec, F};
use crate::{Error, EventType, Notification};

/// The notification of an EMQX event; faults in the order clientid, connected_at, event,
/// time (connected_at / disconnected_at / timestamp / ts), peername / ipaddress, reason.
pub(super) fn resolve<'v, S: AsRef<str>>(
    rec: &'v Rec<S>,
    max: u32,
    digits: &'v mut Digits,
) -> Result<Notification<'v>, Error> {
    let client_id = id(rec.field(F::Clientid)?, "clientid", max)?;
    let connected_at = uint(rec.field(F::ConnectedAt)?, "connected_at")?;
    let event_type = match rec.field(F::Event)? {
        None => {
            if rec.has(F::DisconnectedAt) || rec.has(F::Reason) {
                EventType::TcpClean
            } else {
                EventType::Connect
            }
        }
        v => match text(v, "event")? {
            "client.connected" => EventType::Connect,
            "client.disconnected" => EventType::TcpClean,
            other => return Err(unknown("event", other)),
        },
    };
    let time = match event_type {
        EventType::Connect => connected_at,
        // The disconnect's own time; the event's time when a message lacks it. All three
        // are this place's keys, so a repeat of any of them is reported here.
        _ => {
            let chain = [(F::DisconnectedAt, "disconnected_at"), (F::Timestamp, "timestamp"), (F::Ts, "ts")];
            for (f, _) in chain {
                rec.field(f)?;
            }
            chain
                .into_iter()
                .find(|&(f, _)| rec.has(f))
                .map_or(Err(Error::MissingField { field: "disconnected_at" }), |(f, name)| {
                    uint(rec.get(f), name)
                })?
        }
    };
    let (peername, ipaddress) = (rec.field(F::Peername)?, rec.field(F::Ipaddress)?);
    let client_ip = match optional(peername, "peername", max)? {
        Some(ip) => Some(ip),
        None => optional(ipaddress, "ipaddress", max)?,
    };
    let reason = optional(rec.field(F::Reason)?, "reason", max)?;
    Ok(Notification {
        client_id,
        channel_id: rec.decimal(F::ConnectedAt, connected_at, digits),
        event_type,
        time,
        client_ip,
        reason,
    })
}
