//! One channel's record and the per-channel half of the judgment.
//!
//! A channel keeps, per event type, the smallest time seen (so redeliveries with other values
//! resolve the same way in any order) and the address of its first-ranked event type present
//! (connect before disconnect before tcpclean).

use alloc::boxed::Box;

use crate::ids::{ChannelKey, Ip, IpRef, KeyRef};
use crate::{ChannelState, ChannelStatus, Config, EventType};

/// Marks an event type not seen on this channel.
pub(crate) const NONE: u64 = u64::MAX;

/// A channel's id and address: a broker's (32 hex digits, and an IPv4 address or none) kept
/// inline, anything else boxed. Always in the first form that fits, so equal channels are
/// equal values.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Hex([u8; 16]),
    /// With `a.b.c.d` and the port (little-endian) packed in six bytes.
    HexV4([u8; 16], [u8; 6]),
    Other(Box<(ChannelKey, Option<Ip>)>),
}

impl Ident {
    fn new(key: ChannelKey, ip: Option<Ip>) -> Self {
        match (key, ip) {
            (ChannelKey::Hex(h), None) => Ident::Hex(h),
            (ChannelKey::Hex(h), Some(Ip::V4(a, p))) => {
                let [p0, p1] = p.to_le_bytes();
                Ident::HexV4(h, [a[0], a[1], a[2], a[3], p0, p1])
            }
            (key, ip) => Ident::Other(Box::new((key, ip))),
        }
    }

    fn key(&self) -> KeyRef<'_> {
        match self {
            Ident::Hex(h) | Ident::HexV4(h, _) => KeyRef::Hex(h),
            Ident::Other(b) => b.0.as_ref(),
        }
    }

    fn ip(&self) -> Option<IpRef<'_>> {
        match self {
            Ident::Hex(_) => None,
            Ident::HexV4(_, v) => Some(IpRef::V4([v[0], v[1], v[2], v[3]], u16::from_le_bytes([v[4], v[5]]))),
            Ident::Other(b) => b.1.as_ref().map(Ip::as_ref),
        }
    }

    fn set_ip(&mut self, ip: Option<Ip>) {
        *self = match core::mem::replace(self, Ident::Hex([0; 16])) {
            Ident::Hex(h) | Ident::HexV4(h, _) => Ident::new(ChannelKey::Hex(h), ip),
            // A text id stays boxed whatever the address: change it in place, no new box.
            Ident::Other(mut b) if matches!(b.0, ChannelKey::Text(_)) => {
                b.1 = ip;
                Ident::Other(b)
            }
            Ident::Other(b) => Ident::new(b.0, ip),
        }
    }
}

/// What is remembered of one TCP connection: 48 bytes, plus a boxed copy of an id or address
/// that is not in the broker's form.
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
        Channel { times: [NONE; 3], ident: Ident::new(key, None) }
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

    /// Records one event; returns whether anything changed. The address is asked for only when
    /// it can matter (most events are not their channel's first-ranked type, and reading an
    /// address costs more than the rest of this).
    pub(crate) fn apply(&mut self, kind: EventType, time: u64, ip: impl FnOnce() -> Option<Ip>) -> bool {
        let i = kind.index();
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
                changed |= self.apply(EventType::from_index(i), other.times[i], || ip.map(IpRef::to_owned));
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
    fn each_id_and_address_has_one_form_and_reads_back() {
        let hex = "2b9b1281046046faafe5e0b458e4abcd";
        let keys = [hex, "ch-1"];
        let ips = [None, Some("10.0.0.1:1883"), Some("192.168.XX.XX:133XX")];
        for key in keys {
            for first in ips {
                for second in ips {
                    let mut ch = Channel::new(ChannelKey::new(key));
                    ch.set_ip(first.map(Ip::new));
                    ch.set_ip(second.map(Ip::new));
                    let mut fresh = Channel::new(ChannelKey::new(key));
                    fresh.set_ip(second.map(Ip::new));
                    assert_eq!(ch, fresh, "{key} {first:?} {second:?}");
                    assert_eq!(ch.key().to_text(), key);
                    assert_eq!(ch.ip().map(IpRef::to_text).as_deref(), second);
                    let inline = key == hex && second != ips[2];
                    assert_eq!(!matches!(ch.ident, Ident::Other(_)), inline, "{key} {second:?}");
                }
            }
        }
    }
}
