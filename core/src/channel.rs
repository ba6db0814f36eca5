//! One channel's record and the per-channel half of the judgment.
//!
//! A channel keeps, per event type, the smallest time seen (so redeliveries with other values
//! resolve the same way in any order) and the address of its first-ranked event type present
//! (connect before disconnect before tcpclean).

use crate::ids::{ChannelKey, Ip};
use crate::{ChannelState, ChannelStatus, Config, EventType};

/// Marks an event type not seen on this channel.
pub(crate) const NONE: u64 = u64::MAX;

/// What is remembered of one TCP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Channel {
    pub(crate) key: ChannelKey,
    /// Smallest time per event type (indexed by [`EventType::index`]), [`NONE`] if unseen.
    pub(crate) times: [u64; 3],
    /// Address carried by the first-ranked event type present.
    pub(crate) ip: Option<Ip>,
}

fn ip_lt(a: Option<&Ip>, b: Option<&Ip>) -> bool {
    // `None` sorts first, so "smallest (time, value)" is well defined without an address.
    a < b
}

impl Channel {
    pub(crate) fn new(key: ChannelKey) -> Self {
        Channel { key, times: [NONE; 3], ip: None }
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
            self.ip = ip();
            return true;
        }
        if i == primary {
            if time == old {
                let ip = ip();
                // A redelivery carries the same address: telling that needs no ordering by text.
                if ip != self.ip && ip_lt(ip.as_ref(), self.ip.as_ref()) {
                    self.ip = ip;
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
                let ip = if i == primary { other.ip.as_ref() } else { None };
                changed |= self.apply(EventType::from_index(i), other.times[i], || ip.cloned());
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

    /// Connect seen and no close: open unless a newer connect took over.
    pub(crate) fn live(&self, config: &Config) -> bool {
        self.connect_time().is_some() && self.close_time(config).is_none()
    }

    /// Latest event time on this channel: its age for compaction.
    pub(crate) fn end_time(&self) -> u64 {
        self.times.iter().copied().filter(|&t| t != NONE).max().unwrap_or(0)
    }

    /// Sort key of "newest connect" for takeover: event time, then channelId.
    pub(crate) fn connect_key(&self) -> Option<(u64, &ChannelKey)> {
        self.connect_time().map(|t| (t, &self.key))
    }

    pub(crate) fn state(&self, config: &Config, open: bool) -> ChannelState {
        if open {
            ChannelState::Open
        } else if self.live(config) {
            ChannelState::Superseded
        } else {
            ChannelState::Closed
        }
    }

    pub(crate) fn status(&self, config: &Config, open: bool) -> ChannelStatus {
        let get = |k: EventType| {
            let t = self.times[k.index()];
            (t != NONE).then_some(t)
        };
        ChannelStatus {
            channel_id: self.key.to_text(),
            state: self.state(config, open),
            connect_time: get(EventType::Connect),
            disconnect_time: get(EventType::Disconnect),
            close_time: self.close_time(config),
            client_ip: self.ip.as_ref().map(Ip::to_text),
        }
    }
}
