//! Per-client records: one client's state as bytes, for stores that keep each client apart
//! (SPEC §8), and owned, pre-validated event batches to apply to them.
//!
//! A record is the version byte [`RECORD_VERSION`], then the client's part of the snapshot
//! encoding (horizon, dropped connects, channels: `snapshot.rs` writes and reads both, so a client
//! has one encoding), then 8 bytes LE: the snapshot checksum of (id length, id, everything
//! before). The id is not stored (the store's key is the id), but the checksum covers it, so a
//! record filed under another client's key is refused like a corrupt one. Equal client states
//! give equal bytes in every language.
//!
//! A store applies a batch to the clients it touches: parse once ([`EventBatch`]), read those
//! clients' records, [`load_record`](StatusEngine::load_record) them into a scratch engine,
//! ingest the events, write back [`client_record`](StatusEngine::client_record). The scratch
//! engine's transitions are then relative to the stored state, and its counts (online, groups,
//! channels) before and after give the index deltas.

use alloc::string::String;
use alloc::vec::Vec;

use crate::client::Client;
use crate::engine::NO_GROUP;
use crate::hash::hash_bytes;
use crate::snapshot::{put_bytes, read_client, write_client, Reader};
use crate::{parse, BatchError, Config, Error, EventType, Notification, StatusEngine};

/// Newest version of the per-client record layout written by this crate: version 2 adds the
/// client's observations (two optional times after the dropped connects, as in a version 2
/// snapshot), version 3 also each channel's close reason (as in a version 3 snapshot). Each is
/// written only for a client that needs it (version 3: a reason; else 2: an observation), so
/// other records keep their version 1 bytes; all load.
pub const RECORD_VERSION: u8 = 3;

/// The oldest record version that holds `client`.
fn needed_version(client: &Client) -> u8 {
    if client.has_reason() {
        RECORD_VERSION
    } else if client.obs.is_some() {
        2
    } else {
        1
    }
}

fn corrupt(client_id: &str, reason: &dyn core::fmt::Display) -> Error {
    Error::snapshot(alloc::format!("record of client {client_id:?}: {reason}"))
}

/// The checksummed prefix: id length and id, which the record itself leaves out.
pub(crate) fn id_prefix(client_id: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(client_id.len() + 64);
    put_bytes(&mut buf, client_id.as_bytes());
    buf
}

/// Which of `shards` shards a client belongs to: the core's fixed hash of its id (pinned by a
/// test, so every language and version agrees), modulo `shards` (0 is taken as 1).
pub fn record_shard(client_id: &str, shards: u32) -> u32 {
    (hash_bytes(client_id.as_bytes()) % u64::from(shards.max(1))) as u32
}

impl StatusEngine {
    /// The client's record (see the module docs), or `None` if the client is unknown.
    pub fn client_record(&self, client_id: &str) -> Option<Vec<u8>> {
        let idx = self.find_client(client_id)?;
        let mut buf = id_prefix(client_id);
        let start = buf.len();
        let client = &self.clients[idx as usize];
        let version = needed_version(client);
        buf.push(version);
        write_client(&mut buf, client, &mut Vec::new(), version);
        let sum = hash_bytes(&buf);
        buf.extend_from_slice(&sum.to_le_bytes());
        buf.drain(..start);
        Some(buf)
    }

    /// Replaces the client's state by `record` (adding the client if unknown), keeping the
    /// online and group counts right. A corrupt, truncated or foreign record, or one filed under
    /// another id, gives `invalid_snapshot` naming the client, and changes nothing.
    pub fn load_record(&mut self, client_id: &str, record: &[u8]) -> Result<(), Error> {
        let client = self.decode_record(client_id, record)?;
        let idx = match self.find_client(client_id) {
            Some(i) => i,
            None => self.insert_client(client_id).map_err(|e| corrupt(client_id, &e))?,
        };
        let slot = &mut self.clients[idx as usize];
        let was = slot.online;
        slot.horizon = client.horizon;
        slot.dropped_connects = client.dropped_connects;
        slot.channels = client.channels;
        slot.obs = client.obs;
        self.settle(idx, was);
        if self.config.offline_grace_ms > 0 {
            self.settle_pending(idx);
        }
        Ok(())
    }

    fn decode_record(&self, client_id: &str, record: &[u8]) -> Result<Client, Error> {
        if client_id.is_empty() || client_id.len() > self.config.max_id_len as usize {
            return Err(corrupt(client_id, &"client id length out of range"));
        }
        if record.len() < 1 + 8 {
            return Err(corrupt(client_id, &"truncated"));
        }
        if !(1..=RECORD_VERSION).contains(&record[0]) {
            return Err(corrupt(client_id, &alloc::format!("unsupported record version {}", record[0])));
        }
        let (body, sum) = record.split_at(record.len() - 8);
        let mut buf = id_prefix(client_id);
        buf.extend_from_slice(body);
        let mut want = [0u8; 8];
        want.copy_from_slice(sum);
        if hash_bytes(&buf) != u64::from_le_bytes(want) {
            return Err(corrupt(client_id, &"checksum mismatch (corrupt, truncated or another client's)"));
        }
        let mut r = Reader { bytes: body, pos: 1 };
        let base = Client::new(0, 0, NO_GROUP);
        let version = record[0];
        let client = read_client(&mut r, &self.config, &base, version).map_err(|e| corrupt(client_id, &e))?;
        if r.pos != body.len() {
            return Err(corrupt(client_id, &"trailing bytes"));
        }
        let needed = needed_version(&client);
        if needed != version {
            // One state, one encoding.
            let why = alloc::format!("version {version} record of a state version {needed} holds");
            return Err(corrupt(client_id, &why));
        }
        Ok(client)
    }

    /// Every known client id, sorted (to walk an engine record by record).
    pub fn client_ids(&self) -> Vec<&str> {
        self.sorted().iter().map(|&i| self.client_id(i)).collect()
    }

    /// The join of two records of one client: the record that ingesting both records' events
    /// would give (a merge of two one-client engines). Errors as [`load_record`](Self::load_record).
    pub fn join_records(config: Config, client_id: &str, a: &[u8], b: &[u8]) -> Result<Vec<u8>, Error> {
        let mut mine = StatusEngine::new(config)?;
        mine.load_record(client_id, a)?;
        let mut theirs = StatusEngine::new(config)?;
        theirs.load_record(client_id, b)?;
        mine.merge(&theirs)?;
        Ok(mine.client_record(client_id).unwrap_or_default())
    }
}

/// One validated event of an [`EventBatch`]: offsets into the batch's text.
#[derive(Debug, Clone)]
struct Ev {
    index: u64,
    client: (u32, u32),
    channel: (u32, u32),
    ip: Option<(u32, u32)>,
    reason: Option<(u32, u32)>,
    event_type: EventType,
    time: u64,
    /// For an observation (`event_type` [`EventType::Observe`], no channel): its answer.
    online: bool,
}

/// A batch parsed and validated once, owning its events, so a store can apply it to records as
/// often as compare-and-set retries need without parsing again.
#[derive(Debug, Clone, Default)]
pub struct EventBatch {
    text: String,
    events: Vec<Ev>,
    errors: Vec<BatchError>,
    rejected: u64,
    items: u64,
}

impl EventBatch {
    /// JSONL as [`StatusEngine::ingest_many`] reads it (blank lines skipped, keeping their index).
    pub fn from_jsonl(jsonl: &[u8], max_id_len: u32) -> Self {
        let mut batch = EventBatch::default();
        for (i, line) in jsonl.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.iter().all(u8::is_ascii_whitespace) {
                batch.push(i as u64, line, None, max_id_len);
            }
        }
        batch
    }

    /// Adds one body or envelope (with its message tag, if any) as item `index`: a valid event
    /// is kept, a bad one recorded as a [`BatchError`] and returned.
    pub fn push(&mut self, index: u64, item: &[u8], tag: Option<&str>, max_id_len: u32) -> Option<Error> {
        self.items += 1;
        if crate::observe::is_observation(item) {
            return self.push_observation(index, item, tag, max_id_len);
        }
        let text = &mut self.text;
        let r = parse::with_notification(item, tag, max_id_len, |n| {
            let mut span = |s: &str| {
                let start = text.len() as u32;
                text.push_str(s);
                (start, s.len() as u32)
            };
            let (client, channel) = (span(n.client_id), span(n.channel_id));
            let ip = n.client_ip.filter(|ip| !ip.is_empty()).map(&mut span);
            let reason = n.reason.filter(|r| !r.is_empty()).map(span);
            Ev { index, client, channel, ip, reason, event_type: n.event_type, time: n.time, online: false }
        });
        match r {
            Ok(ev) => {
                self.events.push(ev);
                None
            }
            Err(e) => {
                crate::batch::reject_into(&mut self.errors, &mut self.rejected, index, &e);
                Some(e)
            }
        }
    }

    /// An observation line or body (`{"observe": {…}}`, read as the engine reads it: a tag is
    /// `tag_mismatch`), kept as an event of type [`EventType::Observe`].
    fn push_observation(&mut self, index: u64, item: &[u8], tag: Option<&str>, max: u32) -> Option<Error> {
        let r = crate::observe::parse_line(item, max).and_then(|parsed| match tag {
            Some(tag) => {
                Err(Error::TagMismatch { tag: String::from(tag), event_type: String::from("observe") })
            }
            None => Ok(parsed),
        });
        self.push_observed(index, r)
    }

    /// Adds an observation given as arguments (`observe(client_id, online, time_ms)` on a store),
    /// checked as the engine checks them: a bad one is recorded as a [`BatchError`] and returned.
    pub fn push_observation_args(
        &mut self,
        index: u64,
        client_id: &str,
        online: bool,
        time_ms: u64,
        max_id_len: u32,
    ) -> Option<Error> {
        self.items += 1;
        let r = crate::observe::check_observation(client_id, time_ms, max_id_len)
            .map(|()| (String::from(client_id), online, time_ms));
        self.push_observed(index, r)
    }

    fn push_observed(&mut self, index: u64, r: Result<(String, bool, u64), Error>) -> Option<Error> {
        match r {
            Ok((id, online, time)) => {
                let start = self.text.len() as u32;
                self.text.push_str(&id);
                let client = (start, id.len() as u32);
                let channel = (start, 0);
                let (event_type, ip, reason) = (EventType::Observe, None, None);
                self.events.push(Ev { index, client, channel, ip, reason, event_type, time, online });
                None
            }
            Err(e) => {
                crate::batch::reject_into(&mut self.errors, &mut self.rejected, index, &e);
                Some(e)
            }
        }
    }

    /// Event `i`'s observation `(online, time)` if it is one (`{"observe": …}`), to apply with
    /// [`StatusEngine::observe_detailed`] rather than as a notification.
    pub fn observation(&self, i: usize) -> Option<(bool, u64)> {
        let e = &self.events[i];
        (e.event_type == EventType::Observe).then_some((e.online, e.time))
    }

    /// Appends `other`'s items after this batch's, their item indices shifted by `offset`: a
    /// store commits several callers' batches as one (group commit) and tells each caller's
    /// events apart by their indices. Errors beyond
    /// [`MAX_REPORTED_ERRORS`](crate::MAX_REPORTED_ERRORS) are counted, not listed, as by `push`.
    pub fn append(&mut self, other: &EventBatch, offset: u64) {
        let base = self.text.len() as u32;
        self.text.push_str(&other.text);
        let shift = |(start, len): (u32, u32)| (start + base, len);
        self.events.extend(other.events.iter().map(|e| Ev {
            index: e.index + offset,
            client: shift(e.client),
            channel: shift(e.channel),
            ip: e.ip.map(shift),
            reason: e.reason.map(shift),
            event_type: e.event_type,
            time: e.time,
            online: e.online,
        }));
        let room = crate::MAX_REPORTED_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(
            other.errors.iter().take(room).map(|e| BatchError { index: e.index + offset, ..e.clone() }),
        );
        self.rejected += other.rejected;
        self.items += other.items;
    }

    fn span(&self, (start, len): (u32, u32)) -> &str {
        &self.text[start as usize..(start + len) as usize]
    }

    /// Number of valid events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there is no valid event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Items offered (valid or not; blank JSONL lines are not items).
    pub fn items(&self) -> u64 {
        self.items
    }

    /// Event `i` (in input order) and its item index. An observation (see
    /// [`observation`](Self::observation)) comes out as a notification of type `observe` with an
    /// empty channel id, which [`StatusEngine::ingest`] refuses.
    pub fn event(&self, i: usize) -> (u64, Notification<'_>) {
        let e = &self.events[i];
        let n = Notification {
            client_id: self.span(e.client),
            channel_id: self.span(e.channel),
            event_type: e.event_type,
            time: e.time,
            client_ip: e.ip.map(|s| self.span(s)),
            reason: e.reason.map(|s| self.span(s)),
        };
        (e.index, n)
    }

    /// The client id of event `i`.
    pub fn client_id(&self, i: usize) -> &str {
        self.span(self.events[i].client)
    }

    /// The first rejected items (at most [`MAX_REPORTED_ERRORS`](crate::MAX_REPORTED_ERRORS)),
    /// in input order.
    pub fn errors(&self) -> &[BatchError] {
        &self.errors
    }

    /// Every rejected item, listed in [`errors`](Self::errors) or not.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_is_pinned() {
        // Changing these moves every client of every deployed store: a deliberate act only.
        let got: Vec<u32> =
            ["GID_a@@@d1", "GID_a@@@d2", "solo", "é"].iter().map(|c| record_shard(c, 16)).collect();
        assert_eq!(got, alloc::vec![PINNED[0], PINNED[1], PINNED[2], PINNED[3]]);
        assert_eq!(record_shard("x", 0), 0);
    }

    const PINNED: [u32; 4] = [11, 0, 10, 10];

    #[test]
    fn append_shifts_indices_and_spans() {
        let a = br#"{"clientId":"GID_a@@@d1","channelId":"c1","eventType":"connect","time":1}"#;
        let b = br#"{"clientId":"GID_b@@@d2","channelId":"c2","eventType":"tcpclean","time":2,"clientIp":"1.2.3.4"}"#;
        let mut first = EventBatch::default();
        first.push(0, a, None, 128);
        first.push(1, b"not json", None, 128);
        let mut second = EventBatch::default();
        second.push(0, b"{}", None, 128);
        second.push(1, b, None, 128);
        let mut all = EventBatch::default();
        all.append(&first, 0);
        all.append(&second, 10);
        assert_eq!((all.len(), all.items(), all.rejected()), (2, 4, 2));
        let idx: alloc::vec::Vec<u64> = all.errors().iter().map(|e| e.index).collect();
        assert_eq!(idx, alloc::vec![1, 10]);
        let (i, n) = all.event(1);
        assert_eq!(
            (i, n.client_id, n.channel_id, n.client_ip, n.time),
            (11, "GID_b@@@d2", "c2", Some("1.2.3.4"), 2)
        );
        assert_eq!((all.event(0).0, all.client_id(0)), (0, "GID_a@@@d1"));
    }
}
