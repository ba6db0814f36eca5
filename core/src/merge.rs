//! Joining two engines' states (SPEC §4): the state that ingesting both event sets would give.
//!
//! Per channel the records join field by field. A channel only one side knows is dropped when
//! the other side's horizon already covers all its events (the other side would call them late),
//! so a merge never resurrects a channel either side has compacted away.

use alloc::vec::Vec;

use crate::channel::Channel;
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
        }
        Ok(())
    }
}

fn join_client(mine: &mut Client, theirs: &Client) {
    let their_chans = theirs.channels.as_slice();
    // Our channels they do not know and their horizon covers: they would call these late.
    let mut i = 0;
    while i < mine.channels.as_slice().len() {
        let ch = &mine.channels.as_slice()[i];
        if !their_chans.iter().any(|t| t.key() == ch.key()) && theirs.is_late(ch.end_time()) {
            mine.channels.remove(i);
        } else {
            i += 1;
        }
    }
    let mut added: Vec<Channel> = Vec::new();
    for t in their_chans {
        let late = mine.is_late(t.end_time());
        match mine.channels.as_mut_slice().iter_mut().find(|c| c.key() == t.key()) {
            Some(c) => {
                c.join(t);
            }
            None if late => {}
            None => added.push(t.clone()),
        }
    }
    for ch in added {
        mine.channels.push(ch);
    }
    if let Some(h) = theirs.horizon() {
        mine.raise_horizon(h);
    }
    mine.dropped_connects = mine.dropped_connects.max(theirs.dropped_connects);
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
    alloc::format!("{} differ", parts.join(", "))
}
