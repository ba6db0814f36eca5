//! The engine: the client table and ingestion (one event, a JSONL batch, a list of items).

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::cmp::Reverse;
use hashbrown::HashTable;

use crate::channel::{Channel, NONE};
use crate::client::Client;
use crate::grace::{Flip, Rep};
use crate::hash::{hash_keyed, IndexKey};
use crate::ids::{ChannelKey, Ip};
use crate::index::ClientIndex;
use crate::scan::find_byte;
use crate::{parse, Config, Error, Notification, Outcome, Transition};

/// Marks a client whose id has no `@@@` group part.
pub(crate) const NO_GROUP: u32 = u32::MAX;

/// Online / known counts of one group; its name is a prefix of a client id in the arena.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    pub(crate) name_off: u32,
    pub(crate) name_len: u16,
    pub(crate) online: u64,
    pub(crate) known: u64,
}

impl Group {
    /// The group's name: its bytes in the id arena `ids`.
    fn name<'a>(&self, ids: &'a [u8]) -> &'a [u8] {
        &ids[self.name_off as usize..self.name_off as usize + self.name_len as usize]
    }
}

/// What this engine instance was fed (kept in snapshots, not part of merged state).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub(crate) events: u64,
    pub(crate) applied: u64,
    pub(crate) duplicates: u64,
    pub(crate) late: u64,
    pub(crate) rejected: u64,
    pub(crate) went_online: u64,
    pub(crate) went_offline: u64,
}

/// The online-status engine: feed it notifications, ask it who is online.
///
/// ```
/// use mqtt_status::StatusEngine;
/// let mut engine = StatusEngine::default();
/// let body = br#"{"clientId":"GID_meter@@@dev42","channelId":"c1","eventType":"connect","time":1000}"#;
/// let t = engine.ingest_json(body, None).unwrap().expect("went online");
/// assert!(t.online);
/// assert!(engine.is_online("GID_meter@@@dev42"));
/// // A tcpclean that arrives before its connect still closes the channel.
/// engine.ingest_json(br#"{"clientId":"GID_meter@@@dev42","channelId":"c1","time":1500}"#, Some("tcpclean")).unwrap();
/// assert!(!engine.is_online("GID_meter@@@dev42"));
/// ```
#[derive(Debug, Clone)]
pub struct StatusEngine {
    pub(crate) config: Config,
    /// Every client id once, back to back; clients and groups point into it.
    pub(crate) ids: Vec<u8>,
    pub(crate) clients: Vec<Client>,
    pub(crate) index: ClientIndex,
    /// The key of the client and group indexes' hash (`hash.rs`: why a host picks one at random).
    pub(crate) key: IndexKey,
    pub(crate) groups: Vec<Group>,
    pub(crate) group_index: HashTable<u32>,
    pub(crate) online: u64,
    pub(crate) counters: Counters,
    /// The host's latest [`advance`](Self::advance) time ([`NONE`] before any).
    pub(crate) advanced_to: u64,
    /// Pending offlines by deadline, earliest first (`grace.rs`): derived from the state; an
    /// entry whose client is no longer pending with that deadline is stale, skipped when popped.
    pub(crate) pending_index: BinaryHeap<Reverse<(u64, u32)>>,
    /// Clients whose offline is pending.
    pub(crate) pending_count: u64,
    /// Client indices sorted by id, extended lazily by sorted queries (a cache, not state).
    pub(crate) order: RefCell<Vec<u32>>,
    /// Reused buffer for envelope bodies sent as JSON strings (a cache, not state).
    scratch: Vec<u8>,
}

impl Default for StatusEngine {
    fn default() -> Self {
        Self::empty(Config::default())
    }
}

/// Where the first `@@@` starts (the end of the id's group part), as `str::find` would say,
/// a word at a time (a general substring search took ~400 instructions, nearly as many as the
/// rest of adding a client).
fn group_end(id: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let at = from + find_byte(&id[from..], b'@')?;
        if id[at..].starts_with(b"@@@") {
            return Some(at);
        }
        from = at + 1;
    }
}

impl StatusEngine {
    /// An engine with the given policies; `invalid_field` if an option is out of range.
    pub fn new(config: Config) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self::empty(config))
    }

    pub(crate) fn empty(config: Config) -> Self {
        StatusEngine {
            config,
            ids: Vec::new(),
            clients: Vec::new(),
            index: ClientIndex::default(),
            key: IndexKey::FIXED,
            groups: Vec::new(),
            group_index: HashTable::new(),
            online: 0,
            counters: Counters::default(),
            advanced_to: NONE,
            pending_index: BinaryHeap::new(),
            pending_count: 0,
            order: RefCell::new(Vec::new()),
            scratch: Vec::new(),
        }
    }

    /// This engine with its client index hashed under `key` (the index is rebuilt if it holds
    /// clients). Hosts that ingest ids chosen by devices should give a key drawn at random once
    /// per process, so that nobody can craft ids that share index slots (`IndexKey`); the
    /// bindings, the CLI and the store do. Answers and snapshot bytes do not depend on the key.
    pub fn with_index_key(mut self, key: IndexKey) -> Self {
        if key != self.key {
            self.key = key;
            self.reindex();
        }
        self
    }

    /// Rebuilds the client and group indexes under the current key.
    fn reindex(&mut self) {
        let mut index = ClientIndex::default();
        for idx in 0..self.clients.len() as u32 {
            index.insert_unique(hash_keyed(&self.key, self.id_bytes(idx)), idx);
        }
        self.index = index;
        let (ids, groups, key) = (&self.ids, &self.groups, &self.key);
        let mut group_index = HashTable::with_capacity(groups.len());
        for (g, group) in groups.iter().enumerate() {
            let rehash = |&i: &u32| hash_keyed(key, groups[i as usize].name(ids));
            group_index.insert_unique(hash_keyed(key, group.name(ids)), g as u32, rehash);
        }
        self.group_index = group_index;
    }

    /// The policies this engine judges by.
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn id_bytes(&self, idx: u32) -> &[u8] {
        let c = &self.clients[idx as usize];
        &self.ids[c.id_off as usize..c.id_off as usize + c.id_len as usize]
    }

    pub(crate) fn client_id(&self, idx: u32) -> &str {
        core::str::from_utf8(self.id_bytes(idx)).unwrap_or_default()
    }

    pub(crate) fn group_name(&self, g: u32) -> &str {
        let g = &self.groups[g as usize];
        let bytes = g.name(&self.ids);
        core::str::from_utf8(bytes).unwrap_or_default()
    }

    pub(crate) fn find_client(&self, id: &str) -> Option<u32> {
        let (ids, clients) = (&self.ids, &self.clients);
        let eq = |i: u32| {
            let c = &clients[i as usize];
            &ids[c.id_off as usize..c.id_off as usize + c.id_len as usize] == id.as_bytes()
        };
        self.index.find(hash_keyed(&self.key, id.as_bytes()), eq)
    }

    pub(crate) fn find_group(&self, name: &str) -> Option<u32> {
        let (ids, groups) = (&self.ids, &self.groups);
        let eq = |&i: &u32| {
            let g = &groups[i as usize];
            g.name(ids) == name.as_bytes()
        };
        self.group_index.find(hash_keyed(&self.key, name.as_bytes()), eq).copied()
    }

    /// Adds a client (known not to exist) and its group.
    pub(crate) fn insert_client(&mut self, id: &str) -> Result<u32, Error> {
        let off = u32::try_from(self.ids.len()).ok().filter(|o| o.checked_add(id.len() as u32).is_some());
        // Ids are never empty, so a full id store comes before a full client table.
        let idx = u32::try_from(self.clients.len()).ok().filter(|&i| i <= ClientIndex::MAX_CLIENTS);
        let (Some(off), Ok(len), Some(idx)) = (off, u16::try_from(id.len()), idx) else {
            return Err(Error::invalid("clientId", "the engine's id storage is full (4 GiB)"));
        };
        self.ids.extend_from_slice(id.as_bytes());
        let group = match group_end(id.as_bytes()) {
            None => NO_GROUP,
            Some(n) => self.group_for(&id[..n], off),
        };
        self.clients.push(Client::new(off, len, group));
        if group != NO_GROUP {
            self.groups[group as usize].known += 1;
        }
        self.index.insert_unique(hash_keyed(&self.key, id.as_bytes()), idx);
        Ok(idx)
    }

    fn group_for(&mut self, name: &str, off: u32) -> u32 {
        if let Some(g) = self.find_group(name) {
            return g;
        }
        let g = self.groups.len() as u32;
        self.groups.push(Group { name_off: off, name_len: name.len() as u16, online: 0, known: 0 });
        let (ids, groups, key) = (&self.ids, &self.groups, &self.key);
        let rehash = |&i: &u32| {
            let g = &groups[i as usize];
            hash_keyed(key, g.name(ids))
        };
        self.group_index.insert_unique(hash_keyed(key, name.as_bytes()), g, rehash);
        g
    }

    /// Records a flip of client `idx` from `was` to its current status; returns whether it flipped.
    pub(crate) fn settle(&mut self, idx: u32, was: bool) -> bool {
        let client = &mut self.clients[idx as usize];
        let now = client.judge(&self.config);
        client.online = now;
        if now == was {
            return false;
        }
        let group = client.group;
        let delta = |n: &mut u64| if now { *n += 1 } else { *n = n.saturating_sub(1) };
        delta(&mut self.online);
        if group != NO_GROUP {
            delta(&mut self.groups[group as usize].online);
        }
        true
    }

    /// What a settled change of client `idx` (online `was`, reported `before`) reports: with no
    /// grace, the exact flip; with one, see [`grace_flip`](Self::grace_flip).
    #[inline(always)]
    pub(crate) fn flip(&mut self, idx: u32, was: bool, flipped: bool, before: Rep, time: u64) -> Flip {
        if self.config.offline_grace_ms == 0 {
            return if flipped { Flip::Event { online: !was, since: None } } else { Flip::None };
        }
        self.grace_flip(idx, before, time)
    }

    /// Applies one validated notification; what it reports.
    pub(crate) fn apply(&mut self, n: &Notification<'_>) -> Result<(Outcome, Flip), Error> {
        let idx = match self.find_client(n.client_id) {
            Some(i) => i,
            None => self.insert_client(n.client_id)?,
        };
        // Without a grace the reported status is the exact one: nothing to read ahead.
        let before = if self.config.offline_grace_ms == 0 { Rep::Offline } else { self.rep(idx) };
        let config = self.config;
        let client = &mut self.clients[idx as usize];
        let was = client.online;
        // "" is no address, as in JSON; kept as an empty text it would make the snapshot
        // unrestorable (restore rejects empty strings) and differ from the parsed path.
        let ip = || n.client_ip.filter(|ip| !ip.is_empty()).map(Ip::new);
        let changed = match client.find(n.channel_id) {
            Some(i) => client.channels.as_mut_slice()[i].apply(n.event_type, n.time, ip, n.reason),
            None if client.is_late(n.time) => return Ok((Outcome::Late, Flip::None)),
            None => {
                let mut ch = Channel::new(ChannelKey::new(n.channel_id));
                ch.apply(n.event_type, n.time, ip, n.reason);
                client.channels.push(ch);
                true
            }
        };
        if !changed {
            return Ok((Outcome::Duplicate, Flip::None));
        }
        client.compact(&config);
        let flipped = self.settle(idx, was);
        Ok((Outcome::Applied, self.flip(idx, was, flipped, before, n.time)))
    }

    /// Counts one ingested item: `None` if it was rejected, else its outcome and flip.
    pub(crate) fn count(&mut self, result: Option<(Outcome, Option<bool>)>) {
        let c = &mut self.counters;
        c.events += 1;
        match result {
            None => c.rejected += 1,
            Some((Outcome::Applied, flip)) => {
                c.applied += 1;
                match flip {
                    Some(true) => c.went_online += 1,
                    Some(false) => c.went_offline += 1,
                    None => {}
                }
            }
            Some((Outcome::Duplicate, _)) => c.duplicates += 1,
            Some((Outcome::Late, _)) => c.late += 1,
        }
    }

    /// Applies and counts a validated notification; the owned transition if it flipped.
    fn ingest_checked(&mut self, n: &Notification<'_>) -> Result<(Outcome, Option<Transition>), Error> {
        let r = self.apply(n);
        self.count(r.as_ref().ok().map(|&(o, f)| (o, f.online())));
        let (outcome, flip) = r?;
        let mut out = None;
        self.emit(flip, n, |t| out = Some(t.to_transition()));
        Ok((outcome, out))
    }

    /// Ingests a decoded notification. Returns the transition if the client's status flipped.
    pub fn ingest(&mut self, n: Notification<'_>) -> Result<Option<Transition>, Error> {
        self.ingest_detailed(n).map(|(_, t)| t)
    }

    /// Like [`ingest`](Self::ingest), also telling whether the event was applied, a duplicate
    /// or late.
    pub fn ingest_detailed(&mut self, n: Notification<'_>) -> Result<(Outcome, Option<Transition>), Error> {
        if let Err(e) = parse::check(&n, self.config.max_id_len) {
            self.count(None);
            return Err(e);
        }
        self.ingest_checked(&n)
    }

    /// Ingests one notification body (or an envelope `{"tag": …, "body": …}`, or an
    /// observation `{"observe": {…}}`, see [`observe`](Self::observe)) given as JSON bytes,
    /// with the RocketMQ message tag if the caller has one (an observation takes none).
    pub fn ingest_json(&mut self, body: &[u8], tag: Option<&str>) -> Result<Option<Transition>, Error> {
        self.ingest_json_detailed(body, tag).map(|(_, t)| t)
    }

    /// Like [`ingest_json`](Self::ingest_json), also telling what happened to a valid event.
    pub fn ingest_json_detailed(
        &mut self,
        body: &[u8],
        tag: Option<&str>,
    ) -> Result<(Outcome, Option<Transition>), Error> {
        let (max, source) = (self.config.max_id_len, self.config.source);
        if crate::observe::is_observation(body) {
            return self.ingest_observation(body, tag);
        }
        let mut scratch = core::mem::take(&mut self.scratch);
        let r = parse::with_source_notification(source, body, tag, max, &mut scratch, |n| {
            self.ingest_checked(&n)
        });
        self.scratch = scratch;
        match r {
            Ok(r) => r,
            Err(e) => {
                self.count(None);
                Err(e)
            }
        }
    }

    /// Lends the reusable body buffer to a batch (see `batch.rs`).
    pub(crate) fn take_scratch(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.scratch)
    }

    /// Takes the body buffer back after a batch.
    pub(crate) fn put_scratch(&mut self, scratch: Vec<u8>) {
        self.scratch = scratch;
    }
}

#[cfg(test)]
mod tests {
    use super::group_end;

    #[test]
    fn group_end_finds_what_str_find_finds() {
        let ids = ["GID_a@@@d1", "@@@", "a@@b@@@c@@@", "no group", "@", "@@", "x@@", "@@@@", "é@@@ü", ""];
        for id in ids {
            assert_eq!(group_end(id.as_bytes()), id.find("@@@"), "{id}");
        }
    }
}
