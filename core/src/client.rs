//! One client's record: its channels, horizon and the client half of the judgment (online iff
//! some channel is open; tombstone compaction and the horizon rule of SPEC §4).

use alloc::vec::Vec;

use crate::channel::{Channel, NONE};
use crate::Config;

/// A client's channels. Most clients have one channel, kept inline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Channels {
    Empty,
    One(Channel),
    Many(Vec<Channel>),
}

impl Channels {
    pub(crate) fn as_slice(&self) -> &[Channel] {
        match self {
            Channels::Empty => &[],
            Channels::One(c) => core::slice::from_ref(c),
            Channels::Many(v) => v,
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [Channel] {
        match self {
            Channels::Empty => &mut [],
            Channels::One(c) => core::slice::from_mut(c),
            Channels::Many(v) => v,
        }
    }

    pub(crate) fn push(&mut self, ch: Channel) {
        *self = match core::mem::replace(self, Channels::Empty) {
            Channels::Empty => Channels::One(ch),
            Channels::One(a) => Channels::Many(alloc::vec![a, ch]),
            Channels::Many(mut v) => {
                v.push(ch);
                Channels::Many(v)
            }
        }
    }

    /// Removes channel `i` (`None`, and no change, if out of range).
    pub(crate) fn remove(&mut self, i: usize) -> Option<Channel> {
        if i >= self.as_slice().len() {
            return None;
        }
        match core::mem::replace(self, Channels::Empty) {
            Channels::Empty => None,
            Channels::One(a) => Some(a),
            Channels::Many(mut v) => {
                let out = v.remove(i);
                *self = match (v.len(), v.pop()) {
                    (1, Some(last)) => Channels::One(last),
                    (_, Some(last)) => {
                        v.push(last);
                        Channels::Many(v)
                    }
                    (_, None) => Channels::Empty,
                };
                Some(out)
            }
        }
    }
}

/// What the engine keeps per client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    /// Offset of the id in the engine's id arena.
    pub(crate) id_off: u32,
    pub(crate) id_len: u16,
    /// Index into the engine's group table, `u32::MAX` when the id has no group.
    pub(crate) group: u32,
    /// Events for unknown channels at or before this time are late ([`NONE`] = no horizon yet).
    pub(crate) horizon: u64,
    /// Connects of channels dropped by compaction (so `connects` stays a full count).
    pub(crate) dropped_connects: u32,
    /// The judgment of [`judge`](Self::judge), kept by `StatusEngine::settle` after every change
    /// (an event then reads one flag instead of every channel's times).
    pub(crate) online: bool,
    pub(crate) channels: Channels,
}

/// Position of the open channel, if any: the answer to "is this client online?".
pub(crate) fn open_channel(channels: &[Channel], config: &Config) -> Option<usize> {
    if !config.takeover {
        return channels.iter().position(|c| c.live(config));
    }
    // Only the newest connect can be open; everything older was taken over.
    let newest = newest_connect(channels)?;
    channels[newest].live(config).then_some(newest)
}

/// Position of the channel with the greatest (connect time, channelId).
pub(crate) fn newest_connect(channels: &[Channel]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, c) in channels.iter().enumerate() {
        if let Some(k) = c.connect_key() {
            if best.is_none_or(|b| channels[b].connect_key() < Some(k)) {
                best = Some(i);
            }
        }
    }
    best
}

/// Whether channel `i` counts as open (used for per-channel state in queries).
pub(crate) fn is_open(channels: &[Channel], i: usize, config: &Config) -> bool {
    if config.takeover {
        open_channel(channels, config) == Some(i)
    } else {
        channels[i].live(config)
    }
}

impl Client {
    pub(crate) fn new(id_off: u32, id_len: u16, group: u32) -> Self {
        Client {
            id_off,
            id_len,
            group,
            horizon: NONE,
            dropped_connects: 0,
            online: false,
            channels: Channels::Empty,
        }
    }

    /// Whether some channel is open (what the `online` flag caches).
    pub(crate) fn judge(&self, config: &Config) -> bool {
        open_channel(self.channels.as_slice(), config).is_some()
    }

    pub(crate) fn find(&self, channel_id: &str) -> Option<usize> {
        // Keys are unique, so the search order does not matter: newest first, as a redelivery
        // or a close usually concerns the latest channel.
        self.channels.as_slice().iter().rposition(|c| c.key().matches(channel_id))
    }

    /// Whether an event at `time` for a channel this client does not know is late.
    pub(crate) fn is_late(&self, time: u64) -> bool {
        self.horizon != NONE && time <= self.horizon
    }

    pub(crate) fn horizon(&self) -> Option<u64> {
        (self.horizon != NONE).then_some(self.horizon)
    }

    pub(crate) fn raise_horizon(&mut self, time: u64) {
        self.horizon = if self.horizon == NONE { time } else { self.horizon.max(time) };
    }

    pub(crate) fn tombstones(&self, config: &Config) -> usize {
        let chans = self.channels.as_slice();
        let open = if config.takeover {
            usize::from(open_channel(chans, config).is_some())
        } else {
            chans.iter().filter(|c| c.live(config)).count()
        };
        chans.len() - open
    }

    /// Drops the oldest tombstones beyond `tombstones_per_client`, raising the horizon to the
    /// latest event time of each dropped channel, so none of its redeliveries can count again.
    /// The newest connect is never dropped: takeover must stay decidable.
    pub(crate) fn compact(&mut self, config: &Config) {
        let keep = config.tombstones_per_client as usize;
        let chans = self.channels.as_slice();
        if chans.len() <= keep {
            return;
        }
        loop {
            let chans = self.channels.as_slice();
            let open = open_channel(chans, config);
            let newest = newest_connect(chans);
            let mut count = 0usize;
            let mut oldest: Option<usize> = None;
            for (i, c) in chans.iter().enumerate() {
                let tomb = if config.takeover { open != Some(i) } else { !c.live(config) };
                if !tomb {
                    continue;
                }
                count += 1;
                if Some(i) == newest {
                    continue;
                }
                let key = (c.end_time(), c.key());
                if oldest.is_none_or(|o| (chans[o].end_time(), chans[o].key()) > key) {
                    oldest = Some(i);
                }
            }
            let Some(victim) = oldest.filter(|_| count > keep) else { return };
            let Some(dropped) = self.channels.remove(victim) else { return };
            self.raise_horizon(dropped.end_time());
            if dropped.connect_time().is_some() {
                self.dropped_connects = self.dropped_connects.saturating_add(1);
            }
        }
    }

    pub(crate) fn connects(&self) -> u64 {
        let live = self.channels.as_slice().iter().filter(|c| c.connect_time().is_some()).count();
        u64::from(self.dropped_connects) + live as u64
    }

    /// Latest event time over remembered channels and the horizon (the latest dropped time).
    pub(crate) fn last_event_time(&self) -> Option<u64> {
        let chans = self.channels.as_slice().iter().map(Channel::end_time);
        chans.chain(self.horizon()).max()
    }

    /// Address of the most recently active channel that reported one.
    pub(crate) fn last_ip(&self) -> Option<crate::ids::IpRef<'_>> {
        self.channels
            .as_slice()
            .iter()
            .filter(|c| c.ip().is_some())
            .max_by(|a, b| (a.end_time(), a.key()).cmp(&(b.end_time(), b.key())))
            .and_then(Channel::ip)
    }
}
