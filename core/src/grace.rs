//! Flap suppression (SPEC §9, `docs/semantics.md` "Grace"): the *reported* status.
//!
//! The exact judgment (`online`) never changes with a grace. What a grace adds is derived from
//! the state, never kept as a free-standing flag:
//! - a client exactly offline is offline *since* its newest close ([`Client::last_close`]);
//! - its *watermark* is the later of the host's [`advance`](StatusEngine::advance) time and the
//!   client's own latest event (not other clients': a store's atomic step touches one client);
//! - its offline is *pending* (still reported online) while `since + grace > watermark`.
//!
//! Transitions are the differences of the reported status that one call causes (see
//! [`StatusEngine::grace_flip`]). A pending client sits in an index ordered by deadline
//! (`since + grace`), so `advance` reads only the clients it confirms.

use alloc::vec::Vec;
use core::cmp::Reverse;

use alloc::collections::BinaryHeap;

use crate::channel::{Channel, NONE};
use crate::client::Client;
use crate::ids::{hex_text, KeyRef};
use crate::{Config, Error, EventType, Notification, StatusEngine, Transition, TransitionRef, MAX_TIME};

/// A pending time that is not known: differs from every real one.
const UNKNOWN: u64 = NONE - 1;

/// A client's reported status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rep {
    Offline,
    Online,
    /// Exactly offline since this time, still reported online.
    Pending(u64),
}

/// What a change reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flip {
    None,
    /// The causing event's transition to `online`; `since` on an online flip that ends an
    /// offline period that was never reported.
    Event {
        online: bool,
        since: Option<u64>,
    },
    /// An offline transition described by the client's close ([`Client::last_close`]).
    Close(u32),
}

impl Flip {
    /// The new reported status, if it flipped (for the counters).
    #[inline]
    pub(crate) fn online(self) -> Option<bool> {
        match self {
            Flip::None => None,
            Flip::Event { online, .. } => Some(online),
            Flip::Close(_) => Some(false),
        }
    }
}

/// The close a client is offline since: a channel's (genuine) or an observation's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Close {
    pub(crate) time: u64,
    /// The channel, `None` for an offline observation.
    pub(crate) channel: Option<usize>,
    pub(crate) kind: EventType,
}

/// The greatest close (by time, ties by the smallest channelId) among `chans` that pass `keep`:
/// one pass, ids compared only between equal times (this runs for every event of an offline
/// client).
fn newest_close(chans: &[Channel], config: &Config, keep: impl Fn(&Channel) -> bool) -> Option<usize> {
    let mut best: Option<(u64, usize)> = None;
    for (i, c) in chans.iter().enumerate() {
        let Some(t) = c.close_time(config).filter(|_| keep(c)) else { continue };
        let better = match best {
            None => true,
            Some((bt, bi)) => t > bt || (t == bt && c.key() < chans[bi].key()),
        };
        if better {
            best = Some((t, i));
        }
    }
    best.map(|(_, i)| i)
}

impl Client {
    /// The channels holding the newest genuine close among connected channels, and among all:
    /// what the client is offline since, and what ends an online observation. Compaction keeps
    /// both while a grace or an observation needs them.
    pub(crate) fn closers(&self, config: &Config) -> [Option<usize>; 2] {
        let chans = self.channels.as_slice();
        let connected = newest_close(chans, config, |c| c.connect_time().is_some());
        let any = if self.obs_on() == NONE { None } else { newest_close(chans, config, |_| true) };
        [connected, any]
    }

    /// What a client that is exactly offline is offline since: the newest of the closes of
    /// connected channels, of a close that ended an online observation, and of an offline
    /// observation that closed a channel or ended an online one. Ties go to a channel (smallest
    /// channelId), which says more than an observation. `None` if the client was never online.
    pub(crate) fn last_close(&self, config: &Config) -> Option<Close> {
        let chans = self.channels.as_slice();
        let close_of = |i: usize| {
            let time = chans[i].close_time(config).unwrap_or_default();
            let by_disconnect = config.close_on_disconnect && chans[i].times[1] == time;
            let kind = if by_disconnect { EventType::Disconnect } else { EventType::TcpClean };
            Close { time, channel: Some(i), kind }
        };
        // The usual client has no observation: its newest connected close, one pass.
        if self.obs.is_none() {
            return newest_close(chans, config, |c| c.connect_time().is_some()).map(close_of);
        }
        let (obs_off, obs_on) = (self.obs_off(), self.obs_on());
        let [connected, any] = self.closers(config);
        let any = any.filter(|&i| chans[i].close_time(config).is_some_and(|t| t > obs_on));
        let channel = [connected, any]
            .into_iter()
            .flatten()
            .max_by_key(|&i| (chans[i].close_time(config), Reverse(chans[i].key())))
            .map(close_of);
        let observed = obs_off != NONE
            && (obs_on != NONE
                || chans.iter().any(|c| {
                    c.close_time(config).is_none() && c.connect_time().is_some_and(|t| t <= obs_off)
                }));
        let observation =
            observed.then_some(Close { time: obs_off, channel: None, kind: EventType::Observe });
        match (channel, observation) {
            (Some(c), Some(o)) if o.time > c.time => Some(o),
            (Some(c), _) => Some(c),
            (None, o) => o,
        }
    }
}

impl StatusEngine {
    /// The reported status of client `idx` as last settled.
    pub(crate) fn rep(&self, idx: u32) -> Rep {
        let c = &self.clients[idx as usize];
        match (c.online, self.pending_of(idx)) {
            (true, _) => Rep::Online,
            (false, NONE) => Rep::Offline,
            (false, since) => Rep::Pending(since),
        }
    }

    /// The time client `idx` is offline since while that offline is pending, else [`NONE`]:
    /// its close, found again (the client's few channels are at hand when this is asked).
    pub(crate) fn pending_of(&self, idx: u32) -> u64 {
        let c = &self.clients[idx as usize];
        match c.pending {
            true => c.last_close(&self.config).map_or(NONE, |close| close.time),
            false => NONE,
        }
    }

    /// Records that client `idx`'s offline is pending since `since` (`NONE`: not pending).
    fn set_pending(&mut self, idx: u32, since: u64) {
        let c = &mut self.clients[idx as usize];
        let now = since != NONE;
        match (c.pending, now) {
            (false, true) => self.pending_count += 1,
            (true, false) => self.pending_count -= 1,
            _ => {}
        }
        c.pending = now;
        if now {
            // The entry of an earlier pending time, or of one that ended, stays behind: skipped
            // when popped, and swept once stale entries outnumber the live ones.
            self.pending_index.push(Reverse((since + self.config.offline_grace_ms, idx)));
            if self.pending_index.len() as u64 > 2 * self.pending_count + 1024 {
                self.sweep_pending();
            }
        }
    }

    /// Whether `deadline` is client `idx`'s current one.
    fn due_entry(&self, deadline: u64, idx: u32) -> bool {
        let since = self.pending_of(idx);
        since != NONE && since + self.config.offline_grace_ms == deadline
    }

    /// Drops the stale entries of the deadline index (linear in its length, so amortized
    /// constant per entry pushed).
    fn sweep_pending(&mut self) {
        let mut live: Vec<Reverse<(u64, u32)>> = core::mem::take(&mut self.pending_index).into_vec();
        // A client pending twice with one deadline (rare) keeps two entries: the second is
        // skipped when popped, so no sort is needed to drop it; rebuilding the heap is linear.
        live.retain(|&Reverse((deadline, idx))| self.due_entry(deadline, idx));
        self.pending_index = BinaryHeap::from(live);
    }

    /// The client's watermark: the host's `advance` time or its own latest event.
    fn watermark(&self, c: &Client) -> u64 {
        let own = c.last_event_time().unwrap_or(0);
        if self.advanced_to == NONE {
            own
        } else {
            own.max(self.advanced_to)
        }
    }

    /// Recomputes whether client `idx`'s offline is pending (after `settle`), keeping the
    /// deadline index; returns its reported status. Only with a grace.
    /// For a change whose pending time before is not known (a merge, a restore, a loaded
    /// record): a pending client gets a fresh deadline entry whatever it was.
    pub(crate) fn settle_pending(&mut self, idx: u32) -> Rep {
        let old = if self.clients[idx as usize].pending { UNKNOWN } else { NONE };
        self.settle_pending_from(idx, old).0
    }

    /// [`settle_pending`](Self::settle_pending) knowing the old pending time; also the close
    /// found for a client exactly offline.
    fn settle_pending_from(&mut self, idx: u32, old: u64) -> (Rep, Option<Close>) {
        let grace = self.config.offline_grace_ms;
        let c = &self.clients[idx as usize];
        if c.online {
            if old != NONE {
                self.set_pending(idx, NONE);
            }
            return (Rep::Online, None);
        }
        let close = c.last_close(&self.config);
        let since = match close {
            Some(close) if close.time + grace > self.watermark(c) => close.time,
            _ => NONE,
        };
        if since != old {
            self.set_pending(idx, since);
        }
        (if since == NONE { Rep::Offline } else { Rep::Pending(since) }, close)
    }

    /// What a change of client `idx` (reported `before` it, caused by an event at `time`)
    /// reports, given the state after it has been settled.
    ///
    /// - offline → online or pending: the causing event's online transition;
    /// - online → pending, pending → pending: nothing;
    /// - online or pending → offline: an offline transition with the close's time, channel
    ///   and type (the causing event's if no close is known);
    /// - pending → online: nothing (a flap) if the event came before `since + grace`, else the
    ///   causing event's online transition with `offline_since`, since the event itself confirms
    ///   an offline period that nobody reported.
    pub(crate) fn grace_flip(&mut self, idx: u32, before: Rep, time: u64) -> Flip {
        let old = if let Rep::Pending(since) = before { since } else { NONE };
        let (after, close) = self.settle_pending_from(idx, old);
        let grace = self.config.offline_grace_ms;
        match (before, after) {
            (Rep::Offline, Rep::Online | Rep::Pending(_)) => Flip::Event { online: true, since: None },
            (Rep::Pending(since), Rep::Online) if time >= since + grace => {
                Flip::Event { online: true, since: Some(since) }
            }
            (Rep::Online | Rep::Pending(_), Rep::Offline) if close.is_some() => Flip::Close(idx),
            (Rep::Online | Rep::Pending(_), Rep::Offline) => Flip::Event { online: false, since: None },
            _ => Flip::None,
        }
    }

    /// Hands the transition `flip` describes to `f`; `cause` is the event that caused it.
    #[inline(always)]
    pub(crate) fn emit(&self, flip: Flip, cause: &Notification<'_>, mut f: impl FnMut(TransitionRef<'_>)) {
        match flip {
            Flip::None => {}
            Flip::Event { online, since: None } => f(TransitionRef::new(cause, online)),
            Flip::Event { online, since } => {
                f(TransitionRef { offline_since: since, ..TransitionRef::new(cause, online) })
            }
            Flip::Close(idx) => self.with_close(idx, cause.time, f),
        }
    }

    /// Hands client `idx`'s offline transition (its close's; at `fallback` if none is known) to
    /// `f`, borrowing the ids (a broker channel id is spelled out on the stack): no allocation.
    fn with_close<R>(&self, idx: u32, fallback: u64, f: impl FnOnce(TransitionRef<'_>) -> R) -> R {
        let c = &self.clients[idx as usize];
        let close = c.last_close(&self.config).unwrap_or(Close {
            time: fallback,
            channel: None,
            kind: EventType::Observe,
        });
        let hex;
        let channel_id = match close.channel.map(|i| c.channels.as_slice()[i].key()) {
            None => "",
            Some(KeyRef::Text(t)) => t,
            Some(KeyRef::Hex(h)) => {
                hex = hex_text(h);
                core::str::from_utf8(&hex).unwrap_or_default()
            }
        };
        f(TransitionRef {
            client_id: self.client_id(idx),
            online: false,
            time: close.time,
            channel_id,
            event_type: close.kind,
            offline_since: None,
        })
    }

    /// Pops the pending clients whose deadline the `advance` watermark has reached: their
    /// offline is confirmed.
    pub(crate) fn confirm_due(&mut self) -> Vec<(u32, u64)> {
        let mut due = Vec::new();
        while let Some(&Reverse((deadline, idx))) = self.pending_index.peek() {
            if self.advanced_to == NONE || deadline > self.advanced_to {
                break;
            }
            self.pending_index.pop();
            if self.due_entry(deadline, idx) {
                due.push((idx, deadline - self.config.offline_grace_ms));
                self.set_pending(idx, NONE);
            }
        }
        due
    }

    /// Tells the engine the host's time is now `now_ms` (the core reads no clock): every
    /// pending offline whose `close + offline_grace_ms` it reaches is confirmed, and returned as
    /// an offline transition (the close's time, channelId and type), sorted by (time,
    /// clientId). Monotone: an earlier `now_ms` than before changes nothing and returns none.
    /// Kept in snapshots; merged by max. With no grace it does nothing. `invalid_field` (`now`)
    /// beyond 2^53 − 1.
    pub fn advance(&mut self, now_ms: u64) -> Result<Vec<Transition>, Error> {
        if now_ms > MAX_TIME {
            return Err(Error::invalid("now", "larger than 2^53 - 1"));
        }
        // With no grace nothing is ever pending: the watermark is not even kept, so the state
        // (and its snapshot) stays what it was without `advance`.
        if self.config.offline_grace_ms == 0 || (self.advanced_to != NONE && now_ms <= self.advanced_to) {
            return Ok(Vec::new());
        }
        self.advanced_to = now_ms;
        let due = self.confirm_due();
        let mut out: Vec<Transition> =
            due.iter().map(|&(idx, since)| self.with_close(idx, since, |t| t.to_transition())).collect();
        self.counters.went_offline += out.len() as u64;
        out.sort_by(|a, b| (a.time, &a.client_id).cmp(&(b.time, &b.client_id)));
        Ok(out)
    }

    /// The time the client's offline is pending since (as `client()`'s `pendingOfflineSince`),
    /// without building its status: for stores that index pending deadlines.
    pub fn pending_offline_since(&self, client_id: &str) -> Option<u64> {
        let since = self.pending_of(self.find_client(client_id)?);
        (since != NONE).then_some(since)
    }

    /// The latest `advance` time, if any.
    pub fn advanced_to(&self) -> Option<u64> {
        (self.advanced_to != NONE).then_some(self.advanced_to)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, EventType, Notification, StatusEngine, MAX_TIME};

    #[test]
    fn a_client_record_takes_80_bytes() {
        // 72 before issue 17: the observation pointer adds 8, the pending flag fits in padding.
        assert_eq!(core::mem::size_of::<crate::client::Client>(), 80);
    }

    #[test]
    fn the_deadline_index_stays_bounded_without_advance() {
        // One client flapping 10 000 times, nobody advancing: each close pends anew (a new
        // entry), each reconnect ends it (a stale entry left behind).
        let mut e = StatusEngine::new(Config { offline_grace_ms: 1_000_000, ..Config::default() }).unwrap();
        let ids: alloc::vec::Vec<alloc::string::String> =
            (0..10_000).map(|k| alloc::format!("c{k}")).collect();
        for (k, channel_id) in ids.iter().enumerate() {
            for (event_type, time) in
                [(EventType::Connect, k as u64 * 10), (EventType::TcpClean, k as u64 * 10 + 5)]
            {
                e.ingest(Notification {
                    client_id: "a",
                    channel_id,
                    event_type,
                    time,
                    client_ip: None,
                    reason: None,
                })
                .unwrap();
            }
            // Twice the one live entry, plus the slack a sweep waits for.
            assert!(e.pending_index.len() <= 2 + 1024 + 1, "{} entries", e.pending_index.len());
        }
        assert_eq!(e.stats().pending_offline, Some(1));
        let confirmed = e.advance(MAX_TIME).unwrap();
        assert_eq!(
            confirmed.iter().map(|t| (t.time, t.channel_id.as_str())).collect::<alloc::vec::Vec<_>>(),
            [(99_995, "c9999")]
        );
        assert!(e.pending_index.is_empty());
    }
}
