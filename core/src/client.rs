//! One client's record: its channels, horizon and the client half of the judgment (online iff
//! some channel is open; tombstone compaction and the horizon rule of SPEC §4).

use alloc::vec::Vec;

use crate::channel::{Channel, NONE};
use crate::ids::{ChannelKey, KeyRef};
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

    /// Keeps the channels for which `keep(position, channel)` holds, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(usize, &Channel) -> bool) {
        *self = match core::mem::replace(self, Channels::Empty) {
            Channels::Empty => Channels::Empty,
            Channels::One(a) => match keep(0, &a) {
                true => Channels::One(a),
                false => Channels::Empty,
            },
            Channels::Many(mut v) => {
                let mut i = 0;
                v.retain(|c| {
                    i += 1;
                    keep(i - 1, c)
                });
                match v.len() {
                    0 => Channels::Empty,
                    1 => Channels::One(v.swap_remove(0)),
                    _ => Channels::Many(v),
                }
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
    /// The latest offline and online observations (`observe.rs`), boxed: most clients have none.
    pub(crate) obs: Option<alloc::boxed::Box<crate::observe::Obs>>,
    /// With a grace: whether the client's offline is pending (its time is in the engine's
    /// pending table), kept by `StatusEngine::settle_pending` (`grace.rs`) like `online`.
    pub(crate) pending: bool,
}

/// How many of a client's newest connects can be open: 1 under `takeover`, else
/// `max_open_channels`.
pub(crate) fn open_limit(config: &Config) -> usize {
    if config.takeover {
        1
    } else {
        config.max_open_channels.max(1) as usize
    }
}

/// Which of a client's channels are open: live ones whose connect is among the client's
/// [`open_limit`] newest, by (connect time, channelId). A function of the channel set, so of
/// the event set, whatever the arrival order.
#[derive(Clone, Copy)]
pub(crate) struct Opening<'a> {
    config: &'a Config,
    /// The client's latest offline observation ([`NONE`] if none).
    obs_off: u64,
    /// The oldest connect key still among the newest; `None` when every connect is.
    cut: Option<(u64, KeyRef<'a>)>,
}

impl<'a> Opening<'a> {
    pub(crate) fn new(channels: &'a [Channel], config: &'a Config, obs_off: u64) -> Self {
        Opening { config, obs_off, cut: nth_newest(channels, open_limit(config)) }
    }

    /// Whether the channel is connected with no close (by an event or an observation).
    pub(crate) fn live(&self, c: &Channel) -> bool {
        c.live(self.config, self.obs_off)
    }

    /// Whether the channel's connect is among the client's newest (compaction keeps those
    /// while a superseded channel remains: dropping one would let that channel open).
    pub(crate) fn newest(&self, c: &Channel) -> bool {
        c.connect_key().is_some_and(|k| self.cut.is_none_or(|cut| k >= cut))
    }

    /// Whether the channel is open.
    pub(crate) fn open(&self, c: &Channel) -> bool {
        self.live(c) && self.newest(c)
    }
}

/// A tombstone's age for compaction: oldest first, ties by channelId.
fn age(c: &Channel) -> (u64, KeyRef<'_>) {
    (c.end_time(), c.key())
}

/// The oldest of some tombstones, and how many were seen.
#[derive(Default)]
struct Oldest {
    at: Option<usize>,
    count: usize,
}

impl Oldest {
    fn see(&mut self, chans: &[Channel], i: usize) {
        self.count += 1;
        if self.at.is_none_or(|o| age(&chans[o]) > age(&chans[i])) {
            self.at = Some(i);
        }
    }
}

/// The positions, ascending, of the `excess` tombstones [`Client::compact`] drops when it
/// drops more than one (a merge, a restore): oldest first, the closed channels among the newest
/// connects only once no superseded channel is left.
fn victims(
    chans: &[Channel],
    opening: &Opening<'_>,
    kept: [Option<usize>; 3],
    excess: usize,
    mut superseded: usize,
) -> Vec<usize> {
    let by_age = |v: &mut Vec<usize>| v.sort_unstable_by(|&a, &b| age(&chans[a]).cmp(&age(&chans[b])));
    let tomb = |i: &usize| !opening.open(&chans[*i]) && !kept.contains(&Some(*i));
    let (mut low, mut high): (Vec<usize>, Vec<usize>) =
        (0..chans.len()).filter(tomb).partition(|&i| !opening.newest(&chans[i]));
    by_age(&mut low);
    let mut out = Vec::with_capacity(excess);
    let mut taken = 0;
    while superseded > 0 && out.len() < excess {
        // Superseded channels are among `low`, so this never runs out.
        let Some(&i) = low.get(taken) else { break };
        superseded -= usize::from(opening.live(&chans[i]));
        out.push(i);
        taken += 1;
    }
    high.extend_from_slice(&low[taken..]);
    by_age(&mut high);
    let rest = excess - out.len();
    out.extend_from_slice(&high[..rest.min(high.len())]);
    out.sort_unstable();
    out
}

/// The `n`-th greatest connect key (`n` >= 1), or `None` if there are no more than `n` connects.
fn nth_newest(channels: &[Channel], n: usize) -> Option<(u64, KeyRef<'_>)> {
    // The common case: a client with few channels has all its connects among the newest.
    if channels.len() <= n {
        return None;
    }
    if n == 1 {
        return channels.iter().filter_map(Channel::connect_key).max();
    }
    // Select on (connect time, position) (a stack buffer for the usual sizes; channelIds are
    // compared only between equal times): the channels are bounded by `n +
    // tombstones_per_client`, so this is bounded work per event, not a sort.
    let mut stack = [(0u64, 0u32); 64];
    let mut heap = Vec::new();
    let idx: &mut [(u64, u32)] = if channels.len() <= stack.len() {
        &mut stack[..]
    } else {
        heap.resize(channels.len(), (0, 0));
        &mut heap[..]
    };
    let mut k = 0;
    for (i, c) in channels.iter().enumerate() {
        if let Some(t) = c.connect_time() {
            idx[k] = (t, i as u32);
            k += 1;
        }
    }
    if k <= n {
        return None;
    }
    let key = |i: u32| channels[i as usize].key();
    let (_, nth, _) =
        idx[..k].select_nth_unstable_by(k - n, |a, b| a.0.cmp(&b.0).then_with(|| key(a.1).cmp(&key(b.1))));
    channels[nth.1 as usize].connect_key()
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
            obs: None,
            pending: false,
        }
    }

    /// Whether some channel is open, or an online observation holds the client online (what
    /// the `online` flag caches).
    pub(crate) fn judge(&self, config: &Config) -> bool {
        self.judge_channels(config) || (self.obs.is_some() && self.held_by_observation(config))
    }

    fn judge_channels(&self, config: &Config) -> bool {
        let chans = self.channels.as_slice();
        let obs_off = self.obs_off();
        // Most clients are settled by their live channels alone, without ranking connects.
        let mut live = chans.iter().filter(|c| c.live(config, obs_off));
        let Some(first) = live.next() else { return false };
        if chans.len() <= open_limit(config) {
            return true;
        }
        // Online iff fewer than `open_limit` connects are newer than the newest live one: two
        // passes, no ranking.
        let newest_live = core::iter::once(first).chain(live).filter_map(Channel::connect_key).max();
        let limit = open_limit(config);
        chans.iter().filter(|c| c.connect_key() > newest_live).take(limit).count() < limit
    }

    pub(crate) fn find(&self, channel_id: &str) -> Option<usize> {
        // Keys are unique, so the search order does not matter: newest first, as a redelivery
        // or a close usually concerns the latest channel.
        let chans = self.channels.as_slice();
        // Many channels: pack a broker id once, then compare 16 bytes per channel instead of
        // up to 32 digits (ids sharing a long prefix made each miss cost the whole prefix).
        if chans.len() > 8 {
            if let Some(h) = ChannelKey::hex(channel_id) {
                return chans.iter().rposition(|c| c.key() == KeyRef::Hex(&h));
            }
        }
        chans.iter().rposition(|c| c.key().matches(channel_id))
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

    /// Channels that are not open (closed or superseded).
    pub(crate) fn tombstones(&self, config: &Config) -> usize {
        let chans = self.channels.as_slice();
        let opening = Opening::new(chans, config, self.obs_off());
        chans.iter().filter(|c| !opening.open(c)).count()
    }

    /// Drops the oldest tombstones (smallest latest event time, ties by channelId) beyond
    /// `tombstones_per_client`, raising the horizon to the latest event time of each dropped
    /// channel, so none of its redeliveries can count again. Two tombstones stay however old,
    /// so that which channels are open stays decidable:
    /// - the client's newest connect (what takeover is judged by), always;
    /// - a closed channel among the [`open_limit`] newest connects while a superseded channel
    ///   remains: dropping it would move that channel up among the newest, and open it;
    /// - with a grace or an observation, the newest closes (`grace.rs`, [`Self::closers`]): what
    ///   the client is offline since, and what ends an online observation.
    pub(crate) fn compact(&mut self, config: &Config) {
        let keep = config.tombstones_per_client as usize;
        let chans = self.channels.as_slice();
        if chans.len() <= keep {
            return;
        }
        let opening = Opening::new(chans, config, self.obs_off());
        let newest = (0..chans.len())
            .filter(|&i| chans[i].connect_time().is_some())
            .max_by(|&a, &b| chans[a].connect_key().cmp(&chans[b].connect_key()));
        let [closer, last_close] = match config.offline_grace_ms > 0 || self.obs.is_some() {
            true => self.closers(config),
            false => [None, None],
        };
        let kept = [newest, closer, last_close];
        // Tombstones below the newest connects (`low`, superseded ones among them) and closed
        // ones among them (`high`), each with its oldest.
        let (mut tombs, mut superseded) = (0usize, 0usize);
        let (mut low, mut high) = (Oldest::default(), Oldest::default());
        for (i, c) in chans.iter().enumerate() {
            if opening.open(c) {
                continue;
            }
            tombs += 1;
            if kept.contains(&Some(i)) {
                continue;
            }
            if opening.newest(c) {
                high.see(chans, i);
            } else {
                superseded += usize::from(opening.live(c));
                low.see(chans, i);
            }
        }
        let excess = tombs.saturating_sub(keep).min(low.count + high.count);
        if excess == 0 {
            return;
        }
        let mut many: Vec<usize> = Vec::new();
        let one = if excess > 1 {
            many = victims(chans, &opening, kept, excess, superseded);
            None
        } else if superseded > 0 {
            low.at
        } else {
            // An event adds at most one tombstone: the usual case, without sorting.
            [low.at, high.at].into_iter().flatten().min_by(|&a, &b| age(&chans[a]).cmp(&age(&chans[b])))
        };
        let victim = |i: usize| if excess == 1 { one == Some(i) } else { many.binary_search(&i).is_ok() };
        let (mut horizon, mut connects) = (None::<u64>, 0u32);
        self.channels.retain(|i, c| {
            if !victim(i) {
                return true;
            }
            horizon = horizon.max(Some(c.end_time()));
            connects += u32::from(c.connect_time().is_some());
            false
        });
        if let Some(h) = horizon {
            self.raise_horizon(h);
        }
        self.dropped_connects = self.dropped_connects.saturating_add(connects);
    }

    /// Whether some channel keeps a close's reason (what needs snapshot and record version 3).
    pub(crate) fn has_reason(&self) -> bool {
        self.channels.as_slice().iter().any(|c| c.reason().is_some())
    }

    pub(crate) fn connects(&self) -> u64 {
        let live = self.channels.as_slice().iter().filter(|c| c.connect_time().is_some()).count();
        u64::from(self.dropped_connects) + live as u64
    }

    /// Latest event time over remembered channels, the horizon (the latest dropped time) and
    /// the observations.
    pub(crate) fn last_event_time(&self) -> Option<u64> {
        let chans = self.channels.as_slice().iter().map(Channel::end_time);
        let obs = self.obs.as_ref().and_then(|o| o.latest());
        chans.chain(self.horizon()).chain(obs).max()
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
