//! Queries, served from the indexes (no scan of the records), plus snapshot export / import and
//! the transition feed.

use std::sync::atomic::Ordering;

use mqtt_status::{ClientStatus, Error, GroupCount, Stats, StatusEngine, Transition};
use redis::{cmd, Cmd, Value};

use super::conn::{bytes, check, int, items};
use super::ingest::Share;
use super::RedisStore;
use crate::{FeedEntry, FeedPage};

/// A flip read from the feed: (entry id, shard, its index in the entry, flips in the entry, flip).
type Flip = ((u64, u64), u32, u32, u32, Transition);

/// Page size of index walks when the caller gives no limit.
const PAGE: usize = 1000;

impl RedisStore {
    /// One command per shard, pipelined; the checked replies in shard order.
    pub(super) fn each_shard(&self, make: impl Fn(u32) -> Cmd) -> Result<Vec<Value>, Error> {
        let cmds: Vec<Cmd> = (0..self.shards).map(make).collect();
        self.conn.run(&cmds)?.into_iter().map(check).collect()
    }

    pub(crate) fn is_online(&self, client_id: &str) -> Result<bool, Error> {
        let z = self.key(self.shard_of(client_id), "o");
        Ok(!matches!(self.conn.one(cmd("ZSCORE").arg(z).arg(client_id).clone())?, Value::Nil))
    }

    pub(crate) fn client(&self, client_id: &str) -> Result<Option<ClientStatus>, Error> {
        let shard = self.shard_of(client_id);
        let reads = [
            cmd("HGET").arg(self.key(shard, "r")).arg(client_id).clone(),
            cmd("HGET").arg(self.key(shard, "n")).arg("a").clone(),
        ];
        let replies = self.conn.run(&reads)?.into_iter().map(check).collect::<Result<Vec<_>, _>>()?;
        let Some(rec) = replies.first().and_then(bytes) else { return Ok(None) };
        // Judged with the shard's advance time, for `pendingOfflineSince`.
        let adv = replies.get(1).and_then(bytes).map(|b| String::from_utf8_lossy(b).into_owned());
        let mut e = self.scratch(adv.as_deref())?;
        e.load_record(client_id, rec)?;
        Ok(e.client(client_id))
    }

    pub(crate) fn count_online(&self, group: Option<&str>) -> Result<u64, Error> {
        let field = group.map_or_else(|| "o".to_string(), |g| format!("go:{g}"));
        let replies = self.each_shard(|s| cmd("HGET").arg(self.key(s, "n")).arg(&field).clone())?;
        Ok(replies.iter().map(|v| int(v).max(0) as u64).sum())
    }

    /// Sorted online ids: a k-way merge of the shards' `ZRANGEBYLEX` pages. Only ids up to the
    /// smallest last id of the shards that may have more are final; the walk goes on from there.
    pub(crate) fn online_clients(
        &self,
        group: Option<&str>,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<String>, Error> {
        let limit = limit.unwrap_or(usize::MAX);
        let prefix = group.map(|g| format!("{g}@@@"));
        // Ids are UTF-8, so no id holds the byte 0xff: it bounds a prefix range.
        let max: Vec<u8> = prefix.as_ref().map_or(b"+".to_vec(), |p| [b"[", p.as_bytes(), b"\xff"].concat());
        let mut from: Option<String> = after.map(str::to_string);
        let mut out = Vec::new();
        while out.len() < limit {
            let page = (limit - out.len()).clamp(1, PAGE);
            let min: Vec<u8> = match (&from, &prefix) {
                (Some(a), Some(p)) if a.as_str() < p.as_str() => [b"[", p.as_bytes()].concat(),
                (Some(a), _) => [b"(", a.as_bytes()].concat(),
                (None, Some(p)) => [b"[", p.as_bytes()].concat(),
                (None, None) => b"-".to_vec(),
            };
            let replies = self.each_shard(|s| {
                cmd("ZRANGEBYLEX")
                    .arg(self.key(s, "o"))
                    .arg(&min)
                    .arg(&max)
                    .arg("LIMIT")
                    .arg(0)
                    .arg(page)
                    .clone()
            })?;
            let mut merged: Vec<String> = Vec::new();
            let mut bound: Option<String> = None;
            for r in &replies {
                let ids: Vec<String> = items(r)
                    .iter()
                    .filter_map(|v| bytes(v).map(|b| String::from_utf8_lossy(b).into_owned()))
                    .collect();
                if ids.len() == page {
                    let last = ids.last().cloned();
                    if bound.is_none() || last < bound {
                        bound = last;
                    }
                }
                merged.extend(ids);
            }
            merged.sort_unstable();
            let done = bound.is_none();
            if let Some(b) = &bound {
                merged.retain(|id| id <= b);
            }
            // A group is the part before the *first* `@@@`; the prefix range can hold others.
            let keep = |id: &String| group.is_none_or(|g| id.split_once("@@@").is_some_and(|(x, _)| x == g));
            from = merged.last().cloned();
            out.extend(merged.into_iter().filter(keep).take(limit - out.len()));
            if done {
                break;
            }
        }
        Ok(out)
    }

    pub(crate) fn groups(&self) -> Result<Vec<GroupCount>, Error> {
        let replies = self.each_shard(|s| cmd("HGETALL").arg(self.key(s, "n")).clone())?;
        let mut groups: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
        for r in &replies {
            for kv in items(r).chunks(2) {
                let (Some(k), Some(v)) = (kv.first().and_then(bytes), kv.get(1)) else { continue };
                let k = String::from_utf8_lossy(k);
                let n = int(v).max(0) as u64;
                if let Some(g) = k.strip_prefix("go:") {
                    groups.entry(g.to_string()).or_default().0 += n;
                } else if let Some(g) = k.strip_prefix("gk:") {
                    groups.entry(g.to_string()).or_default().1 += n;
                }
            }
        }
        Ok(groups
            .into_iter()
            .filter(|(_, (_, known))| *known > 0)
            .map(|(group_id, (online, known))| GroupCount { group_id, online, known })
            .collect())
    }

    pub(crate) fn stats(&self) -> Result<Stats, Error> {
        let fields = ["k", "o", "c", "t", "m", "p"];
        let replies = self.each_shard(|s| cmd("HMGET").arg(self.key(s, "n")).arg(&fields[..]).clone())?;
        let c = &self.counters;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let mut s = Stats {
            events: get(&c.events),
            applied: get(&c.applied),
            duplicates: get(&c.duplicates),
            late: get(&c.late),
            rejected: get(&c.rejected),
            went_online: get(&c.went_online),
            went_offline: get(&c.went_offline),
            ..Stats::default()
        };
        for r in &replies {
            let v = items(r);
            let n = |i: usize| v.get(i).map_or(0, |x| int(x).max(0) as u64);
            s.clients += n(0);
            s.online += n(1);
            s.open_channels += n(2);
            s.tombstones += n(3);
            if v.get(4).and_then(bytes).is_some() {
                s.max_time = s.max_time.max(Some(n(4)));
            }
            s.pending_offline = Some(s.pending_offline.unwrap_or(0) + n(5));
        }
        if self.config.offline_grace_ms == 0 {
            s.pending_offline = None;
        }
        Ok(s)
    }

    /// Every record, read shard by shard with `HSCAN`, in one engine (advanced to the latest
    /// shard's advance time first, as the whole-store engine is).
    pub(super) fn engine(&self) -> Result<StatusEngine, Error> {
        let times = self.each_shard(|s| cmd("HGET").arg(self.key(s, "n")).arg("a").clone())?;
        let latest =
            times.iter().filter_map(|v| String::from_utf8_lossy(bytes(v)?).parse::<u64>().ok()).max();
        let mut e = self.scratch(latest.map(|t| t.to_string()).as_deref())?;
        for s in 0..self.shards {
            let key = self.key(s, "r");
            let mut cursor = b"0".to_vec();
            loop {
                let r = self.conn.one(cmd("HSCAN").arg(&key).arg(&cursor).arg("COUNT").arg(PAGE).clone())?;
                let parts = items(&r);
                cursor = parts.first().and_then(bytes).unwrap_or(b"0").to_vec();
                for kv in parts.get(1).map_or(&[][..], items).chunks(2) {
                    if let (Some(id), Some(rec)) = (kv.first().and_then(bytes), kv.get(1).and_then(bytes)) {
                        e.load_record(&String::from_utf8_lossy(id), rec)?;
                    }
                }
                if cursor == b"0" {
                    break;
                }
            }
        }
        Ok(e)
    }

    pub(crate) fn snapshot(&self) -> Result<Vec<u8>, Error> {
        Ok(self.engine()?.snapshot())
    }

    /// Joins a snapshot's clients into the store, shard by shard with the same compare-and-set
    /// step as ingest (no transition is fed: a join has no causing event).
    pub(crate) fn load_snapshot(&self, bytes: &[u8]) -> Result<(), Error> {
        let theirs = crate::restore_engine(bytes)?;
        if theirs.config() != &self.config {
            let reason = format!("the snapshot has {:?}, the store {:?}", theirs.config(), self.config);
            return Err(Error::ConfigMismatch { reason });
        }
        // The advance time joins by max, before the clients settle against it (as the
        // engine's merge): offlines it confirms stop being pending, unreported.
        if let Some(t) = theirs.advanced_to() {
            self.advance_shards(t, false)?;
        }
        let mut shares: Vec<Share> =
            (0..self.shards).map(|shard| Share { shard, events: vec![], ids: vec![] }).collect();
        for id in theirs.client_ids() {
            shares[self.shard_of(id) as usize].ids.push(id.to_string());
        }
        shares.retain(|s| !s.ids.is_empty());
        // Bounded chunks keep each script call small.
        let chunks: Vec<Share> = shares
            .into_iter()
            .flat_map(|s| {
                let shard = s.shard;
                s.ids
                    .chunks(PAGE)
                    .map(|c| Share { shard, events: vec![], ids: c.to_vec() })
                    .collect::<Vec<_>>()
            })
            .collect();
        self.commit(chunks, |share, scratch| {
            for id in &share.ids {
                let mut one = crate::new_engine(self.config)?;
                if let Some(rec) = theirs.client_record(id) {
                    one.load_record(id, &rec)?;
                }
                scratch.merge(&one)?;
            }
            Ok(([0; 3], Vec::new()))
        })?;
        Ok(())
    }

    /// Up to `limit` flips after the cursor `after`: a merge of the shards' streams by entry id
    /// (each entry holds the flips of one commit, in order). The cursor holds every shard's
    /// position: the last entry read, and how many of its flips were read if not all.
    pub(crate) fn transitions(&self, after: Option<&str>, limit: Option<usize>) -> Result<FeedPage, Error> {
        let limit = limit.unwrap_or(PAGE).max(1);
        let mut pos = self.parse_cursor(after)?;
        let replies = self.each_shard(|s| {
            let (ms, seq, k) = pos[s as usize];
            let from = if k == 0 { format!("({ms}-{seq}") } else { format!("{ms}-{seq}") };
            cmd("XRANGE").arg(self.key(s, "f")).arg(from).arg("+").arg("COUNT").arg(limit).clone()
        })?;
        let mut all: Vec<Flip> = Vec::new();
        for (s, r) in replies.iter().enumerate() {
            for entry in items(r) {
                let e = items(entry);
                let (Some(id), Some(fields)) = (e.first().and_then(bytes), e.get(1)) else { continue };
                let id = parse_id(&String::from_utf8_lossy(id)).ok_or_else(|| bad_feed("entry id"))?;
                let (ms, seq, k) = pos[s];
                let skip = if (id.0, id.1) == (ms, seq) { k } else { 0 };
                let flips = items(fields);
                let count = (flips.len() / 2) as u32;
                for (j, kv) in flips.chunks(2).enumerate().skip(skip as usize) {
                    all.push((id, s as u32, j as u32, count, feed_transition(kv)?));
                }
            }
        }
        all.sort_by_key(|a| (a.0, a.1, a.2));
        let mut entries = Vec::new();
        for (id, s, j, count, transition) in all.into_iter().take(limit) {
            let done = if j + 1 == count { 0 } else { j + 1 };
            pos[s as usize] = (id.0, id.1, done);
            entries.push(FeedEntry { cursor: cursor_text(&pos), transition });
        }
        Ok(FeedPage { entries, next: cursor_text(&pos) })
    }

    fn parse_cursor(&self, after: Option<&str>) -> Result<Vec<(u64, u64, u32)>, Error> {
        let bad =
            || Error::InvalidField { field: "after", reason: "not a cursor of this store's feed".into() };
        match after.filter(|a| !a.is_empty()) {
            None => Ok(vec![(0, 0, 0); self.shards as usize]),
            Some(a) => {
                let pos: Vec<(u64, u64, u32)> =
                    a.split(',').map(parse_pos).collect::<Option<_>>().ok_or_else(bad)?;
                if pos.len() != self.shards as usize {
                    return Err(bad());
                }
                Ok(pos)
            }
        }
    }
}

/// A shard's cursor position: `ms[-seq][.k]`.
fn parse_pos(s: &str) -> Option<(u64, u64, u32)> {
    let (id, k) = s.split_once('.').unwrap_or((s, "0"));
    let (ms, seq) = parse_id(id)?;
    Some((ms, seq, k.parse().ok()?))
}

fn parse_id(s: &str) -> Option<(u64, u64)> {
    let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

fn cursor_text(pos: &[(u64, u64, u32)]) -> String {
    let parts: Vec<String> = pos
        .iter()
        .map(|&(ms, seq, k)| {
            let id = if seq == 0 { ms.to_string() } else { format!("{ms}-{seq}") };
            if k == 0 {
                id
            } else {
                format!("{id}.{k}")
            }
        })
        .collect();
    parts.join(",")
}

fn bad_feed(what: &str) -> Error {
    Error::InvalidSnapshot { reason: format!("transition feed: bad {what}") }
}

/// One flip of a feed entry: field the client id, value `online,eventType,time,channelId`.
fn feed_transition(kv: &[Value]) -> Result<Transition, Error> {
    let (Some(id), Some(v)) = (kv.first().and_then(bytes), kv.get(1).and_then(bytes)) else {
        return Err(bad_feed("entry"));
    };
    let v = String::from_utf8_lossy(v);
    let mut parts = v.splitn(4, ',');
    let mut next = || parts.next().ok_or_else(|| bad_feed("flip"));
    let online = next()? == "1";
    let event_type = match next()? {
        "observe" => mqtt_status::EventType::Observe,
        other => mqtt_status::EventType::parse(other).ok_or_else(|| bad_feed("event type"))?,
    };
    let time_part = next()?;
    let (time, since) = time_part.split_once(':').map_or((time_part, None), |(t, s)| (t, Some(s)));
    let time = time.parse().map_err(|_| bad_feed("time"))?;
    let offline_since = since.map(|s| s.parse().map_err(|_| bad_feed("offlineSince"))).transpose()?;
    let channel_id = next()?.to_string();
    Ok(Transition {
        client_id: String::from_utf8_lossy(id).into_owned(),
        online,
        time,
        channel_id,
        event_type,
        offline_since,
    })
}
