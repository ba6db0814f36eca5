//! Joining two engines' states (SPEC §4): the state that ingesting both event sets would give.
//!
//! Per channel the records join field by field. A channel only one side knows is dropped when
//! the other side's horizon already covers all its events (the other side would call them late),
//! so a merge never resurrects a channel either side has compacted away.

use alloc::vec::Vec;

use crate::channel::{Channel, NONE};
use crate::client::Client;
use crate::{Error, StatusEngine};

impl StatusEngine {
    /// Joins `other`'s state into this one. Commutative, associative and idempotent on the state
    /// (within the tombstone bound); the ingest counters of `stats()` stay this engine's own.
    pub fn merge(&mut self, other: &StatusEngine) -> Result<(), Error> {
        // The source is how lines are read, not how they are judged: engines that read
        // different formats merge (their snapshots do not even record it).
        let judged = |c: &crate::Config| crate::Config { source: crate::Source::Aliyun, ..*c };
        if judged(&self.config) != judged(&other.config) {
            return Err(Error::ConfigMismatch { reason: config_diff(&self.config, &other.config) });
        }
        // The `advance` watermark joins by max, before the clients settle against it.
        if other.advanced_to != NONE && (self.advanced_to == NONE || other.advanced_to > self.advanced_to) {
            self.advanced_to = other.advanced_to;
        }
        let grace = self.config.offline_grace_ms > 0;
        for (oi, theirs) in other.clients.iter().enumerate() {
            let id = other.client_id(oi as u32);
            let idx = match self.find_client(id) {
                Some(i) => i,
                None => self.insert_client(id)?,
            };
            let config = self.config;
            let mine = &mut self.clients[idx as usize];
            let was = mine.online;
            join_client(mine, theirs);
            mine.compact(&config);
            self.settle(idx, was);
            if grace {
                self.settle_pending(idx);
            }
        }
        // A merge reports no transitions: offlines the joined watermark confirms just stop
        // being pending.
        self.confirm_due();
        Ok(())
    }
}

/// Which channels the two sides share. Small clients (the usual case) are paired by scanning,
/// without allocating; a large one (up to `max_open_channels + tombstones_per_client` channels,
/// 2048) by sorting both sides by channelId, so a merge is never quadratic in a client's channels.
enum Pairs {
    Scan,
    Sorted { partner: Vec<Option<usize>>, matched: Vec<bool> },
}

impl Pairs {
    fn new(mine: &[Channel], theirs: &[Channel]) -> Self {
        if mine.len().saturating_mul(theirs.len()) <= 64 {
            return Pairs::Scan;
        }
        let sorted = |chans: &[Channel]| {
            let mut order: Vec<usize> = (0..chans.len()).collect();
            order.sort_unstable_by(|&a, &b| chans[a].key().cmp(&chans[b].key()));
            order
        };
        let (mo, to) = (sorted(mine), sorted(theirs));
        let (mut partner, mut matched) = (alloc::vec![None; theirs.len()], alloc::vec![false; mine.len()]);
        let (mut i, mut j) = (0, 0);
        while i < mo.len() && j < to.len() {
            match mine[mo[i]].key().cmp(&theirs[to[j]].key()) {
                core::cmp::Ordering::Less => i += 1,
                core::cmp::Ordering::Greater => j += 1,
                core::cmp::Ordering::Equal => {
                    partner[to[j]] = Some(mo[i]);
                    matched[mo[i]] = true;
                    (i, j) = (i + 1, j + 1);
                }
            }
        }
        Pairs::Sorted { partner, matched }
    }

    /// The position in `mine` of their channel `t` (at `ti` in `theirs`).
    fn partner(&self, mine: &[Channel], ti: usize, t: &Channel) -> Option<usize> {
        match self {
            Pairs::Scan => mine.iter().position(|c| c.key() == t.key()),
            Pairs::Sorted { partner, .. } => partner[ti],
        }
    }

    /// Whether our channel `c` (at `mi` in `mine`) is one of theirs too.
    fn matched(&self, theirs: &[Channel], mi: usize, c: &Channel) -> bool {
        match self {
            Pairs::Scan => theirs.iter().any(|t| t.key() == c.key()),
            Pairs::Sorted { matched, .. } => matched[mi],
        }
    }
}

fn join_client(mine: &mut Client, theirs: &Client) {
    let their_chans = theirs.channels.as_slice();
    let pairs = Pairs::new(mine.channels.as_slice(), their_chans);
    let mut added: Vec<Channel> = Vec::new();
    for (ti, t) in their_chans.iter().enumerate() {
        match pairs.partner(mine.channels.as_slice(), ti, t) {
            Some(mi) => {
                mine.channels.as_mut_slice()[mi].join(t);
            }
            // Our horizon covers it: we would call its events late.
            None if mine.is_late(t.end_time()) => {}
            None => added.push(t.clone()),
        }
    }
    // Our channels they do not know and their horizon covers: they would call these late.
    mine.channels.retain(|mi, c| pairs.matched(their_chans, mi, c) || !theirs.is_late(c.end_time()));
    for ch in added {
        mine.channels.push(ch);
    }
    if let Some(h) = theirs.horizon() {
        mine.raise_horizon(h);
    }
    mine.dropped_connects = mine.dropped_connects.max(theirs.dropped_connects);
    if let Some(obs) = &theirs.obs {
        mine.join_obs(obs);
    }
}

fn config_diff(a: &crate::Config, b: &crate::Config) -> alloc::string::String {
    let mut parts = Vec::new();
    if a.close_on_disconnect != b.close_on_disconnect {
        parts.push("closeOnDisconnect");
    }
    if a.takeover != b.takeover {
        parts.push("takeover");
    }
    if a.tombstones_per_client != b.tombstones_per_client {
        parts.push("tombstonesPerClient");
    }
    if a.max_id_len != b.max_id_len {
        parts.push("maxIdLen");
    }
    if a.max_open_channels != b.max_open_channels {
        parts.push("maxOpenChannels");
    }
    if a.offline_grace_ms != b.offline_grace_ms {
        parts.push("offlineGraceMs");
    }
    alloc::format!("{} differ", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::Pairs;
    use crate::channel::Channel;
    use crate::ids::ChannelKey;
    use alloc::vec::Vec;

    #[test]
    fn sorted_pairing_finds_what_scanning_finds() {
        // Keys from a pool of text and broker ids; sides of every size up to 20, so that both
        // ways of pairing run on the same sides.
        let pool: Vec<alloc::string::String> = (0..30u32)
            .map(|k| if k % 3 == 0 { alloc::format!("{k:032x}") } else { alloc::format!("ch-{k}") })
            .collect();
        let mut seed = 7u64;
        let mut side = |n: usize| -> Vec<Channel> {
            let mut keys: Vec<usize> = Vec::new();
            while keys.len() < n {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let k = (seed >> 33) as usize % pool.len();
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            keys.iter().map(|&k| Channel::new(ChannelKey::new(&pool[k]))).collect()
        };
        for m in 0..=20 {
            for t in 0..=20 {
                let (mine, theirs) = (side(m), side(t));
                let sorted = Pairs::new(&mine, &theirs);
                assert_eq!(matches!(sorted, Pairs::Sorted { .. }), m * t > 64);
                for (ti, c) in theirs.iter().enumerate() {
                    assert_eq!(sorted.partner(&mine, ti, c), Pairs::Scan.partner(&mine, ti, c));
                }
                for (mi, c) in mine.iter().enumerate() {
                    assert_eq!(sorted.matched(&theirs, mi, c), Pairs::Scan.matched(&theirs, mi, c));
                }
            }
        }
    }
}
