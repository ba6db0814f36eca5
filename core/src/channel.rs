//! One channel's record and the per-channel half of the judgment.
//!
//! A channel keeps, per event type, the smallest time seen (so redeliveries with other values
//! resolve the same way in any order) and the address of its first-ranked event type present
//! (connect before disconnect before tcpclean).

use alloc::boxed::Box;
use alloc::string::String;

use crate::ids::{ChannelKey, Ip, IpRef, KeyRef};
use crate::reason;
use crate::{ChannelState, ChannelStatus, Config, EventType};

/// Marks an event type not seen on this channel.
pub(crate) const NONE: u64 = u64::MAX;

/// A channel's id, address and close reason: a broker's id (32 hex digits) and an IPv4
/// address or none, with a known reason code or none, kept inline; anything else boxed (a
/// reason not among the known codes in a box of its own). Always in the first form that fits,
/// so equal channels are equal values.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    /// With the reason's code (`reason.rs`: 0 none, else a known code, never `TEXT`).
    Hex([u8; 16], u8),
    /// With `a.b.c.d` and the port (little-endian) packed in six bytes, and the reason's code.
    HexV4([u8; 16], [u8; 6], u8),
    Other(Box<(ChannelKey, Option<Ip>)>, u8),
    /// Any id and address, with a reason that is not a known code.
    Spilled(Box<(ChannelKey, Option<Ip>, Box<str>)>),
}

/// A close's reason, owned: a code (`reason.rs`, never `TEXT`) or other text.
enum Why {
    Code(u8),
    Text(Box<str>),
}

impl Why {
    fn new(reason: Option<&str>) -> Self {
        match reason::code(reason) {
            reason::TEXT => Why::Text(reason.unwrap_or_default().into()),
            c => Why::Code(c),
        }
    }
}

impl Ident {
    fn new(key: ChannelKey, ip: Option<Ip>, why: Why) -> Self {
        match (key, ip, why) {
            (key, ip, Why::Text(t)) => Ident::Spilled(Box::new((key, ip, t))),
            (ChannelKey::Hex(h), None, Why::Code(c)) => Ident::Hex(h, c),
            (ChannelKey::Hex(h), Some(Ip::V4(a, p)), Why::Code(c)) => {
                let [p0, p1] = p.to_le_bytes();
                Ident::HexV4(h, [a[0], a[1], a[2], a[3], p0, p1], c)
            }
            (key, ip, Why::Code(c)) => Ident::Other(Box::new((key, ip)), c),
        }
    }

    /// The id, address and reason, to build the form that fits after a change.
    fn into_parts(self) -> (ChannelKey, Option<Ip>, Why) {
        match self {
            Ident::Hex(h, c) => (ChannelKey::Hex(h), None, Why::Code(c)),
            Ident::HexV4(h, v, c) => (
                ChannelKey::Hex(h),
                Some(Ip::V4([v[0], v[1], v[2], v[3]], u16::from_le_bytes([v[4], v[5]]))),
                Why::Code(c),
            ),
            Ident::Other(b, c) => {
                let (key, ip) = *b;
                (key, ip, Why::Code(c))
            }
            Ident::Spilled(b) => {
                let (key, ip, t) = *b;
                (key, ip, Why::Text(t))
            }
        }
    }

    fn key(&self) -> KeyRef<'_> {
        match self {
            Ident::Hex(h, _) | Ident::HexV4(h, _, _) => KeyRef::Hex(h),
            Ident::Other(b, _) => b.0.as_ref(),
            Ident::Spilled(b) => b.0.as_ref(),
        }
    }

    fn ip(&self) -> Option<IpRef<'_>> {
        match self {
            Ident::Hex(..) => None,
            Ident::HexV4(_, v, _) => {
                Some(IpRef::V4([v[0], v[1], v[2], v[3]], u16::from_le_bytes([v[4], v[5]])))
            }
            Ident::Other(b, _) => b.1.as_ref().map(Ip::as_ref),
            Ident::Spilled(b) => b.1.as_ref().map(Ip::as_ref),
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            Ident::Hex(_, c) | Ident::HexV4(_, _, c) | Ident::Other(_, c) => reason::known(*c),
            Ident::Spilled(b) => Some(&b.2),
        }
    }

    fn set_ip(&mut self, ip: Option<Ip>) {
        match self {
            // A text id stays boxed whatever the address: change it in place, no new box.
            Ident::Other(b, _) if matches!(b.0, ChannelKey::Text(_)) => b.1 = ip,
            Ident::Spilled(b) => b.1 = ip,
            _ => {
                let (key, _, why) = core::mem::replace(self, Ident::Hex([0; 16], 0)).into_parts();
                *self = Ident::new(key, ip, why);
            }
        }
    }

    fn set_reason(&mut self, reason: Option<&str>) {
        let why = Why::new(reason);
        match (&mut *self, why) {
            // A code changes in place.
            (Ident::Hex(_, c) | Ident::HexV4(_, _, c) | Ident::Other(_, c), Why::Code(new)) => *c = new,
            (_, why) => {
                let (key, ip, _) = core::mem::replace(self, Ident::Hex([0; 16], 0)).into_parts();
                *self = Ident::new(key, ip, why);
            }
        }
    }
}

/// What is remembered of one TCP connection: 48 bytes, plus a boxed copy of an id or address
/// that is not in the broker's form, or of a reason that is not a known code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Channel {
    /// Smallest time per event type (indexed by [`EventType::index`]), [`NONE`] if unseen.
    pub(crate) times: [u64; 3],
    /// Its id, and the address carried by the first-ranked event type present.
    ident: Ident,
}

fn ip_lt(a: Option<IpRef<'_>>, b: Option<IpRef<'_>>) -> bool {
    // `None` sorts first, so "smallest (time, value)" is well defined without an address.
    a < b
}

impl Channel {
    pub(crate) fn new(key: ChannelKey) -> Self {
        Channel { times: [NONE; 3], ident: Ident::new(key, None, Why::Code(0)) }
    }

    /// The channel id.
    pub(crate) fn key(&self) -> KeyRef<'_> {
        self.ident.key()
    }

    /// The address of the first-ranked event type present, if it carried one.
    pub(crate) fn ip(&self) -> Option<IpRef<'_>> {
        self.ident.ip()
    }

    pub(crate) fn set_ip(&mut self, ip: Option<Ip>) {
        self.ident.set_ip(ip);
    }

    pub(crate) fn connect_time(&self) -> Option<u64> {
        let t = self.times[EventType::Connect.index()];
        (t != NONE).then_some(t)
    }

    /// Index of the first event type present (the one whose address is kept).
    fn primary(&self) -> usize {
        self.times.iter().position(|&t| t != NONE).unwrap_or(3)
    }

    /// The reason of its close (`tcpclean`), if the close carried one.
    pub(crate) fn reason(&self) -> Option<&str> {
        self.ident.reason()
    }

    /// Sets the close's reason (none for `None` or `""`): a snapshot's, a record's.
    pub(crate) fn set_reason(&mut self, reason: Option<&str>) {
        self.ident.set_reason(reason);
    }

    /// Records one event; returns whether anything changed. The address is asked for only when
    /// it can matter (most events are not their channel's first-ranked type, and reading an
    /// address costs more than the rest of this). A close (`tcpclean`) keeps its reason as the
    /// address is kept: that of the smallest (time, reason), no reason smallest, so duplicates
    /// with other reasons give the same channel in any order.
    pub(crate) fn apply(
        &mut self,
        kind: EventType,
        time: u64,
        ip: impl FnOnce() -> Option<Ip>,
        reason: Option<&str>,
    ) -> bool {
        let i = kind.index();
        let old = self.times[i];
        let changed = self.apply_time(i, time, ip);
        if kind == EventType::TcpClean {
            let reason = reason.filter(|r| !r.is_empty());
            // The smallest close time's reason; at equal times the smallest reason.
            let keep =
                if time < old { reason != self.reason() } else { time == old && reason < self.reason() };
            if keep {
                self.set_reason(reason);
                return true;
            }
        }
        changed
    }

    /// [`apply`](Self::apply) without the reason: the time of type `i`, and the address.
    #[inline(always)]
    fn apply_time(&mut self, i: usize, time: u64, ip: impl FnOnce() -> Option<Ip>) -> bool {
        let primary = self.primary();
        let old = self.times[i];
        if i < primary || (i == primary && time < old) {
            self.times[i] = time;
            self.set_ip(ip());
            return true;
        }
        if i == primary {
            if time == old {
                let ip = ip();
                let new = ip.as_ref().map(Ip::as_ref);
                // A redelivery carries the same address: telling that needs no ordering by text.
                if new != self.ip() && ip_lt(new, self.ip()) {
                    self.set_ip(ip);
                    return true;
                }
            }
            return false;
        }
        if time < old {
            self.times[i] = time;
            return true;
        }
        false
    }

    /// Joins another record of the same channel into this one (as if its events were applied).
    pub(crate) fn join(&mut self, other: &Channel) -> bool {
        let primary = other.primary();
        let mut changed = false;
        for i in primary..3 {
            if other.times[i] != NONE {
                let ip = if i == primary { other.ip() } else { None };
                let kind = EventType::from_index(i);
                changed |= self.apply(kind, other.times[i], || ip.map(IpRef::to_owned), other.reason());
            }
        }
        changed
    }

    /// When the channel closed under `config`, if an event closed it.
    pub(crate) fn close_time(&self, config: &Config) -> Option<u64> {
        let mut t = self.times[EventType::TcpClean.index()];
        if config.close_on_disconnect {
            t = t.min(self.times[EventType::Disconnect.index()]);
        }
        (t != NONE).then_some(t)
    }

    /// Connect seen and no close, by an event or by the client's latest offline observation
    /// `obs_off` ([`NONE`] if none) at or after the connect: open unless newer connects
    /// supersede it.
    pub(crate) fn live(&self, config: &Config, obs_off: u64) -> bool {
        match self.connect_time() {
            Some(c) => self.close_time(config).is_none() && (obs_off == NONE || c > obs_off),
            None => false,
        }
    }

    /// When the channel closed: by an event ([`close_time`](Self::close_time)), which wins
    /// whether earlier or later, else by the offline observation `obs_off` if it was connected
    /// by then.
    pub(crate) fn effective_close(&self, config: &Config, obs_off: u64) -> Option<u64> {
        self.close_time(config)
            .or_else(|| self.connect_time().filter(|&c| c <= obs_off && obs_off != NONE).map(|_| obs_off))
    }

    /// Latest event time on this channel: its age for compaction.
    pub(crate) fn end_time(&self) -> u64 {
        self.times.iter().copied().filter(|&t| t != NONE).max().unwrap_or(0)
    }

    /// Sort key of "newest connect" for takeover: event time, then channelId.
    pub(crate) fn connect_key(&self) -> Option<(u64, KeyRef<'_>)> {
        self.connect_time().map(|t| (t, self.key()))
    }

    pub(crate) fn state(&self, config: &Config, obs_off: u64, open: bool) -> ChannelState {
        if open {
            ChannelState::Open
        } else if self.live(config, obs_off) {
            ChannelState::Superseded
        } else {
            ChannelState::Closed
        }
    }

    pub(crate) fn status(&self, config: &Config, obs_off: u64, open: bool) -> ChannelStatus {
        let get = |k: EventType| {
            let t = self.times[k.index()];
            (t != NONE).then_some(t)
        };
        ChannelStatus {
            channel_id: self.key().to_text(),
            state: self.state(config, obs_off, open),
            connect_time: get(EventType::Connect),
            disconnect_time: get(EventType::Disconnect),
            close_time: self.effective_close(config, obs_off),
            client_ip: self.ip().map(IpRef::to_text),
            reason: self.reason().map(String::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_channel_takes_48_bytes() {
        assert_eq!(core::mem::size_of::<Channel>(), 48);
    }

    #[test]
    fn each_id_address_and_reason_has_one_form_and_reads_back() {
        let hex = "2b9b1281046046faafe5e0b458e4abcd";
        let keys = [hex, "ch-1"];
        let ips = [None, Some("10.0.0.1:1883"), Some("192.168.XX.XX:133XX")];
        let reasons = [None, Some("takenover"), Some("made-up"), Some("")];
        for key in keys {
            for first in ips {
                for second in ips {
                    for why in reasons {
                        for why2 in reasons {
                            let mut ch = Channel::new(ChannelKey::new(key));
                            ch.set_ip(first.map(Ip::new));
                            ch.set_reason(why);
                            ch.set_ip(second.map(Ip::new));
                            ch.set_reason(why2);
                            let mut fresh = Channel::new(ChannelKey::new(key));
                            fresh.set_reason(why2);
                            fresh.set_ip(second.map(Ip::new));
                            assert_eq!(ch, fresh, "{key} {first:?} {second:?} {why:?} {why2:?}");
                            assert_eq!(ch.key().to_text(), key);
                            assert_eq!(ch.ip().map(IpRef::to_text).as_deref(), second);
                            assert_eq!(ch.reason(), why2.filter(|r| !r.is_empty()));
                            let inline = key == hex && second != ips[2] && why2 != Some("made-up");
                            let boxed = matches!(ch.ident, Ident::Other(..) | Ident::Spilled(_));
                            assert_eq!(!boxed, inline, "{key} {second:?} {why2:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_close_keeps_the_smallest_time_and_reason_in_any_order() {
        // (time, reason) of three copies of one close: the earliest wins, then the smallest
        // reason, no reason smallest.
        let copies = [(5, Some("normal")), (5, Some("kicked")), (5, None), (7, Some("a")), (5, Some("zz"))];
        for n in 1..=copies.len() {
            let set = &copies[..n];
            let want = set.iter().min_by(|a, b| a.cmp(b)).copied();
            let mut orders = alloc::vec![set.to_vec()];
            orders.push(set.iter().rev().copied().collect());
            for order in orders {
                let mut ch = Channel::new(ChannelKey::new("c"));
                for (t, r) in order {
                    ch.apply(EventType::TcpClean, t, || None, r);
                }
                assert_eq!(Some((ch.times[2], ch.reason())), want, "{set:?}");
                // A reason on another type is not kept.
                ch.apply(EventType::Connect, 1, || None, Some("normal"));
                assert_eq!(Some((ch.times[2], ch.reason())), want);
            }
        }
    }
}
