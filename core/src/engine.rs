//! The engine: the client table and ingestion (one event, a JSONL batch, a list of items).

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use hashbrown::HashTable;

use crate::channel::Channel;
use crate::client::Client;
use crate::hash::hash_bytes;
use crate::ids::{ChannelKey, Ip};
use crate::{parse, BatchError, BatchReport, Config, Error, Notification, Outcome, Transition};

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
    pub(crate) index: HashTable<u32>,
    pub(crate) groups: Vec<Group>,
    pub(crate) group_index: HashTable<u32>,
    pub(crate) online: u64,
    pub(crate) counters: Counters,
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
            index: HashTable::new(),
            groups: Vec::new(),
            group_index: HashTable::new(),
            online: 0,
            counters: Counters::default(),
            order: RefCell::new(Vec::new()),
            scratch: Vec::new(),
        }
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
        let bytes = &self.ids[g.name_off as usize..g.name_off as usize + g.name_len as usize];
        core::str::from_utf8(bytes).unwrap_or_default()
    }

    pub(crate) fn find_client(&self, id: &str) -> Option<u32> {
        let (ids, clients) = (&self.ids, &self.clients);
        let eq = |&i: &u32| {
            let c = &clients[i as usize];
            &ids[c.id_off as usize..c.id_off as usize + c.id_len as usize] == id.as_bytes()
        };
        self.index.find(hash_bytes(id.as_bytes()), eq).copied()
    }

    pub(crate) fn find_group(&self, name: &str) -> Option<u32> {
        let (ids, groups) = (&self.ids, &self.groups);
        let eq = |&i: &u32| {
            let g = &groups[i as usize];
            &ids[g.name_off as usize..g.name_off as usize + g.name_len as usize] == name.as_bytes()
        };
        self.group_index.find(hash_bytes(name.as_bytes()), eq).copied()
    }

    /// Adds a client (known not to exist) and its group.
    pub(crate) fn insert_client(&mut self, id: &str) -> Result<u32, Error> {
        let off = u32::try_from(self.ids.len()).ok().filter(|o| o.checked_add(id.len() as u32).is_some());
        let (Some(off), Ok(len)) = (off, u16::try_from(id.len())) else {
            return Err(Error::invalid("clientId", "the engine's id storage is full (4 GiB)"));
        };
        self.ids.extend_from_slice(id.as_bytes());
        let group = match id.find("@@@") {
            None => NO_GROUP,
            Some(n) => self.group_for(&id[..n], off),
        };
        let idx = self.clients.len() as u32;
        self.clients.push(Client::new(off, len, group));
        if group != NO_GROUP {
            self.groups[group as usize].known += 1;
        }
        let (ids, clients) = (&self.ids, &self.clients);
        let rehash = |&i: &u32| {
            let c = &clients[i as usize];
            hash_bytes(&ids[c.id_off as usize..c.id_off as usize + c.id_len as usize])
        };
        self.index.insert_unique(hash_bytes(id.as_bytes()), idx, rehash);
        Ok(idx)
    }

    fn group_for(&mut self, name: &str, off: u32) -> u32 {
        if let Some(g) = self.find_group(name) {
            return g;
        }
        let g = self.groups.len() as u32;
        self.groups.push(Group { name_off: off, name_len: name.len() as u16, online: 0, known: 0 });
        let (ids, groups) = (&self.ids, &self.groups);
        let rehash = |&i: &u32| {
            let g = &groups[i as usize];
            hash_bytes(&ids[g.name_off as usize..g.name_off as usize + g.name_len as usize])
        };
        self.group_index.insert_unique(hash_bytes(name.as_bytes()), g, rehash);
        g
    }

    /// Records a flip of client `idx` from `was` to its current status; returns whether it flipped.
    pub(crate) fn settle(&mut self, idx: u32, was: bool) -> bool {
        let now = self.clients[idx as usize].online(&self.config);
        if now == was {
            return false;
        }
        let group = self.clients[idx as usize].group;
        let delta = |n: &mut u64| if now { *n += 1 } else { *n = n.saturating_sub(1) };
        delta(&mut self.online);
        if group != NO_GROUP {
            delta(&mut self.groups[group as usize].online);
        }
        true
    }

    /// Applies one validated notification.
    fn apply(&mut self, n: Notification<'_>) -> Result<(Outcome, Option<Transition>), Error> {
        let idx = match self.find_client(n.client_id) {
            Some(i) => i,
            None => self.insert_client(n.client_id)?,
        };
        let config = self.config;
        let client = &mut self.clients[idx as usize];
        let was = client.online(&config);
        // "" is no address, as in JSON; kept as an empty text it would make the snapshot
        // unrestorable (restore rejects empty strings) and differ from the parsed path.
        let ip = n.client_ip.filter(|ip| !ip.is_empty()).map(Ip::new);
        let changed = match client.find(n.channel_id) {
            Some(i) => client.channels.as_mut_slice()[i].apply(n.event_type, n.time, ip.as_ref()),
            None if client.is_late(n.time) => return Ok((Outcome::Late, None)),
            None => {
                let mut ch = Channel::new(ChannelKey::new(n.channel_id));
                ch.apply(n.event_type, n.time, ip.as_ref());
                client.channels.push(ch);
                true
            }
        };
        if !changed {
            return Ok((Outcome::Duplicate, None));
        }
        client.compact(&config);
        let transition = self.settle(idx, was).then(|| Transition {
            client_id: String::from(n.client_id),
            online: !was,
            time: n.time,
            channel_id: String::from(n.channel_id),
            event_type: n.event_type,
        });
        Ok((Outcome::Applied, transition))
    }

    fn count(&mut self, result: &Result<(Outcome, Option<Transition>), Error>) {
        let c = &mut self.counters;
        c.events += 1;
        match result {
            Err(_) => c.rejected += 1,
            Ok((Outcome::Applied, t)) => {
                c.applied += 1;
                match t {
                    Some(t) if t.online => c.went_online += 1,
                    Some(_) => c.went_offline += 1,
                    None => {}
                }
            }
            Ok((Outcome::Duplicate, _)) => c.duplicates += 1,
            Ok((Outcome::Late, _)) => c.late += 1,
        }
    }

    /// Ingests a decoded notification. Returns the transition if the client's status flipped.
    pub fn ingest(&mut self, n: Notification<'_>) -> Result<Option<Transition>, Error> {
        self.ingest_detailed(n).map(|(_, t)| t)
    }

    /// Like [`ingest`](Self::ingest), also telling whether the event was applied, a duplicate
    /// or late.
    pub fn ingest_detailed(&mut self, n: Notification<'_>) -> Result<(Outcome, Option<Transition>), Error> {
        let r = parse::check(&n, self.config.max_id_len).and_then(|()| self.apply(n));
        self.count(&r);
        r
    }

    /// Ingests one notification body (or an envelope `{"tag": …, "body": …}`) given as JSON
    /// bytes, with the RocketMQ message tag if the caller has one.
    pub fn ingest_json(&mut self, body: &[u8], tag: Option<&str>) -> Result<Option<Transition>, Error> {
        self.ingest_json_detailed(body, tag).map(|(_, t)| t)
    }

    /// Like [`ingest_json`](Self::ingest_json), also telling what happened to a valid event.
    pub fn ingest_json_detailed(
        &mut self,
        body: &[u8],
        tag: Option<&str>,
    ) -> Result<(Outcome, Option<Transition>), Error> {
        let max = self.config.max_id_len;
        let mut scratch = core::mem::take(&mut self.scratch);
        let r = parse::with_notification_in(body, tag, max, &mut scratch, |n| self.apply(n)).and_then(|r| r);
        self.scratch = scratch;
        self.count(&r);
        r
    }

    /// Ingests JSONL bytes: one body or envelope per line. Blank lines are skipped (but keep
    /// their index); bad lines are reported and every good line is applied.
    pub fn ingest_many(&mut self, jsonl: &[u8]) -> BatchReport {
        self.ingest_many_until(jsonl, None)
    }

    /// Like [`ingest_many`](Self::ingest_many), but events with a time after `until` are
    /// skipped without counting (to answer "as of" a time). Bad lines are still reported.
    pub fn ingest_many_until(&mut self, jsonl: &[u8], until: Option<u64>) -> BatchReport {
        let lines = Lines(Some(jsonl)).map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let lines = lines.enumerate().filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace));
        self.ingest_indexed(lines, until)
    }

    /// Ingests a list of bodies or envelopes (each one JSON document), reporting by position.
    pub fn ingest_items<I, B>(&mut self, items: I) -> BatchReport
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        self.ingest_indexed(items.into_iter().enumerate(), None)
    }

    /// Like [`ingest_items`](Self::ingest_items), skipping (without counting) events with a
    /// time after `until`.
    pub fn ingest_items_until<I, B>(&mut self, items: I, until: Option<u64>) -> BatchReport
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        self.ingest_indexed(items.into_iter().enumerate(), until)
    }

    fn ingest_indexed<I, B>(&mut self, items: I, until: Option<u64>) -> BatchReport
    where
        I: Iterator<Item = (usize, B)>,
        B: AsRef<[u8]>,
    {
        let mut report = BatchReport::default();
        let max = self.config.max_id_len;
        let mut scratch = core::mem::take(&mut self.scratch);
        for (index, item) in items {
            let r = parse::with_notification_in(item.as_ref(), None, max, &mut scratch, |n| match until {
                Some(u) if n.time > u => None,
                _ => Some(self.apply(n)),
            });
            let r = match r {
                Ok(None) => continue,
                Ok(Some(r)) => r,
                Err(e) => Err(e),
            };
            self.count(&r);
            match r {
                Ok((Outcome::Applied, t)) => {
                    report.applied += 1;
                    report.transitions.extend(t);
                }
                Ok((Outcome::Duplicate, _)) => report.duplicates += 1,
                Ok((Outcome::Late, _)) => report.late += 1,
                Err(e) => report.errors.push(BatchError::new(index as u64, &e)),
            }
        }
        self.scratch = scratch;
        report
    }
}

/// The pieces of a byte string between `\n`s, as `<[u8]>::split` gives them, found a word at a
/// time (a JSONL batch spends no longer finding its lines than reading them once).
struct Lines<'a>(Option<&'a [u8]>);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.0?;
        match find_newline(rest) {
            Some(i) => {
                self.0 = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => self.0.take(),
        }
    }
}

/// Position of the first `\n`, eight bytes a step (the classic "has zero byte" bit trick).
#[inline(always)]
fn find_newline(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w) ^ NL;
        // The lowest set bit marks the first zero byte of `x` exactly (false positives only
        // appear above a true one).
        let z = x.wrapping_sub(LO) & !x & HI;
        if z != 0 {
            return Some(at + (z.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&b| b == b'\n').map(|p| at + p)
}

#[cfg(test)]
mod tests {
    use super::{find_newline, Lines};

    #[test]
    fn lines_split_as_slice_split_does() {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\n",
            b"a",
            b"a\n",
            b"\n\na\n\nbb",
            b"0123456789abcdef\n",
            b"0123456\n89\n",
            b"\x8a\x0a\xff\n\x80",
        ];
        for input in inputs {
            let ours: alloc::vec::Vec<&[u8]> = Lines(Some(input)).collect();
            let std: alloc::vec::Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
            assert_eq!(ours, std, "{input:?}");
        }
        for len in 0..40 {
            for at in 0..len {
                let mut v = alloc::vec![b'x'; len];
                v[at] = b'\n';
                assert_eq!(find_newline(&v), Some(at));
                v[at] = 0x8a;
                assert_eq!(find_newline(&v), None);
            }
        }
    }
}
