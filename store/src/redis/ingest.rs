//! Ingest: read the touched clients' records (one pipelined `HMGET` per shard), apply the batch
//! to them in a scratch engine per shard (the core's judgment), and commit each shard with one
//! compare-and-set script call (pipelined); shards that met a conflict are read and applied again.

use std::cell::Cell;

use mqtt_status::{BatchReport, Error, EventBatch, Outcome, StatusEngine, Transition};
use redis::{cmd, Cmd, ServerErrorKind, Value};

use super::conn::{bytes, check, items, unavailable};
use super::hash::FoldMap;
use super::step::Step;
use super::{bulk_list, bump, RedisStore, MAX_ATTEMPTS};

/// Most records a handle keeps from its last commits.
const CACHE_MAX: usize = 65_536;
/// Most clients in one script call (Lua's `unpack` takes a few thousand values at most).
const MAX_SHARE: usize = 1000;

/// One shard's share of a batch: its events (indices into the batch) and distinct clients.
pub(super) struct Share {
    pub(super) shard: u32,
    pub(super) events: Vec<usize>,
    pub(super) ids: Vec<String>,
}

/// What a change to a shard's scratch engine gave: applied / duplicate / late counts, and the
/// flips with the input index of their event.
pub(super) type Effect = ([u64; 3], Vec<(u64, Transition)>);

/// What applying a share gave: the script call, and what to report once it commits.
struct Applied {
    step: Option<Cmd>,
    /// Each client's record once this commits (`None`: still unknown).
    records: Vec<Option<Vec<u8>>>,
    outcomes: [u64; 3],
    flips: Vec<(u64, Transition)>,
}

impl RedisStore {
    /// Applies a parsed batch; the report's transitions are the flips of the shared state this
    /// call caused, in input order, with each one's item index beside the report, and each
    /// event's outcome (in the batch's order: a group commit splits the counts among its callers).
    /// A store failure fails the call (clients already committed stay committed: a retry finds
    /// their events duplicates).
    pub(crate) fn ingest_batch(&self, batch: &EventBatch) -> Result<crate::group::Committed, Error> {
        // Shares of at most MAX_SHARE clients (a script call's size stays bounded); a client's
        // events all go to the share that holds it.
        let mut pending: Vec<Share> = Vec::new();
        let mut open_share: FoldMap<u32, usize> = FoldMap::default();
        let mut home: FoldMap<&str, usize> =
            FoldMap::with_capacity_and_hasher(batch.len(), Default::default());
        for i in 0..batch.len() {
            let id = batch.client_id(i);
            let k = match home.get(id) {
                Some(&k) => k,
                None => {
                    let shard = self.shard_of(id);
                    let k = match open_share.get(&shard) {
                        Some(&k) if pending[k].ids.len() < MAX_SHARE => k,
                        _ => {
                            pending.push(Share { shard, events: Vec::new(), ids: Vec::new() });
                            open_share.insert(shard, pending.len() - 1);
                            pending.len() - 1
                        }
                    };
                    pending[k].ids.push(id.to_string());
                    home.insert(id, k);
                    k
                }
            };
            pending[k].events.push(i);
        }
        let mut report = BatchReport::default();
        // Written by every attempt at a share; a share's last attempt is the one committed.
        let each: Vec<Cell<Outcome>> = vec![Cell::new(Outcome::Applied); batch.len()];
        let (outcomes, mut flips) = self.commit(pending, |share, scratch| {
            let mut outcomes = [0u64; 3];
            let mut flips = Vec::new();
            for &i in &share.events {
                let (index, n) = batch.event(i);
                let (outcome, flip) = match batch.observation(i) {
                    Some((online, time)) => scratch.observe_detailed(n.client_id, online, time)?,
                    None => scratch.ingest_detailed(n)?,
                };
                each[i].set(outcome);
                outcomes[match outcome {
                    Outcome::Applied => 0,
                    Outcome::Duplicate => 1,
                    Outcome::Late => 2,
                }] += 1;
                flips.extend(flip.map(|t| (index, t)));
            }
            Ok((outcomes, flips))
        })?;
        [report.applied, report.duplicates, report.late] = outcomes;
        flips.sort_by_key(|(index, _)| *index);
        for (_, t) in &flips {
            report.transitions.push(t.into());
        }
        report.errors = batch.errors().to_vec();
        report.rejected = batch.rejected();
        self.count(batch, &report);
        let each = each.into_iter().map(Cell::into_inner).collect();
        Ok((report, flips.iter().map(|(index, _)| *index).collect(), each))
    }

    /// Commits shares: for each, reads its clients' records, lets `change` work on a scratch
    /// engine holding them, and compare-and-sets the changed records, indexes and flips; shares
    /// that met a conflict are read and changed again (bounded).
    pub(super) fn commit<F>(&self, mut pending: Vec<Share>, change: F) -> Result<Effect, Error>
    where
        F: Fn(&Share, &mut StatusEngine) -> Result<Effect, Error>,
    {
        let mut total = [0u64; 3];
        let mut flips: Vec<(u64, Transition)> = Vec::new();
        let mut attempts = 0;
        // `EVALSHA` (the script by its SHA1, ~2 KB less per call) where a `NOSCRIPT` reply is
        // one command's own reply: on a standalone server a share that gets it ran nothing and
        // is simply sent again with `EVAL` (which caches the script). A cluster pipeline turns
        // any error reply into a failure of the whole call, after other shards committed: there,
        // always `EVAL`.
        let mut full_script = self.conn.cluster();
        while !pending.is_empty() {
            attempts += 1;
            if attempts > MAX_ATTEMPTS {
                return Err(unavailable(
                    "compare-and-set kept conflicting",
                    format!("{} shard(s) still contended after {MAX_ATTEMPTS} attempts", pending.len()),
                ));
            }
            // Records this handle wrote or read last are taken from its cache (first attempt
            // only; taken out, not copied: `remember` puts them back): a stale one fails the
            // compare-and-set and is read again.
            let mut records: Vec<Vec<Option<Vec<u8>>>> = Vec::with_capacity(pending.len());
            let mut reads: Vec<Cmd> = Vec::new();
            let mut missing: Vec<Vec<usize>> = Vec::with_capacity(pending.len());
            // With a grace, each share is judged with its shard's advance time (cached like the
            // records; the step checks it, so a stale one is a conflict and is read again).
            let mut advance: Vec<Option<String>> = Vec::with_capacity(pending.len());
            if self.config.offline_grace_ms > 0 {
                let known = self.advanced.lock().unwrap_or_else(|p| p.into_inner());
                for share in &pending {
                    let cached = known.get(&share.shard).filter(|_| attempts == 1).cloned();
                    if cached.is_none() {
                        reads.push(cmd("HGET").arg(self.key(share.shard, "n")).arg("a").clone());
                    }
                    advance.push(cached);
                }
            }
            {
                let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
                for share in &pending {
                    let mut recs = Vec::with_capacity(share.ids.len());
                    let mut miss = Vec::new();
                    for (k, id) in share.ids.iter().enumerate() {
                        let hit = match cache.get_mut(id.as_str()) {
                            Some(r) if attempts == 1 && !r.is_empty() => Some(std::mem::take(r)),
                            _ => None,
                        };
                        if hit.is_none() {
                            miss.push(k);
                        }
                        recs.push(hit);
                    }
                    if !miss.is_empty() {
                        let mut c = cmd("HMGET");
                        c.arg(self.key(share.shard, "r"));
                        for &k in &miss {
                            c.arg(&share.ids[k]);
                        }
                        reads.push(c);
                    }
                    records.push(recs);
                    missing.push(miss);
                }
            }
            let mut replies = self.conn.run(&reads)?.into_iter();
            for (share, adv) in pending.iter().zip(&mut advance) {
                if adv.is_none() {
                    let v = check(replies.next().unwrap_or(Value::Nil))?;
                    let text = bytes(&v).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
                    self.advanced.lock().unwrap_or_else(|p| p.into_inner()).insert(share.shard, text.clone());
                    *adv = Some(text);
                }
            }
            // Each share's step is sent as soon as it is built: Redis runs one share's step while
            // the next share is judged here.
            let mut applied = Vec::with_capacity(pending.len());
            let mut results = self.conn.run_streamed(pending.len(), |k| {
                let (share, recs, miss) = (&pending[k], &mut records[k], &missing[k]);
                if !miss.is_empty() {
                    let got = bulk_list(&check(replies.next().unwrap_or(Value::Nil))?);
                    for (&k, r) in miss.iter().zip(got) {
                        recs[k] = r;
                    }
                }
                let adv = advance.get(k).cloned().flatten();
                let mut a = self.apply_share(share, recs, adv, &change, full_script)?;
                let step = a.step.take();
                applied.push(a);
                Ok(step)
            })?;
            let mut retry = Vec::new();
            for ((share, a), reply) in pending.into_iter().zip(applied).zip(results.iter_mut()) {
                if let Some(r) = reply.take() {
                    if matches!(&r, Value::ServerError(e) if e.kind() == Some(ServerErrorKind::NoScript)) {
                        // Nothing of this share ran (the server has no script: restarted,
                        // flushed, failed over): send it again with the script itself.
                        full_script = true;
                        retry.push(share);
                        continue;
                    }
                    let r = check(r)?;
                    if !items(&r).is_empty() {
                        bump(&self.counters.conflicts, 1);
                        retry.push(share);
                        continue;
                    }
                }
                for (t, n) in total.iter_mut().zip(a.outcomes) {
                    *t += n;
                }
                flips.extend(a.flips);
                self.remember(&share.ids, a.records);
            }
            pending = retry;
        }
        Ok((total, flips))
    }

    /// Keeps the records of a committed share (bounded: the cache is emptied when full). An
    /// empty record marks a client whose record was taken out and not put back.
    fn remember(&self, ids: &[String], records: Vec<Option<Vec<u8>>>) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() + ids.len() > CACHE_MAX {
            cache.clear();
        }
        for (id, r) in ids.iter().zip(records) {
            let Some(r) = r else { continue };
            match cache.get_mut(id.as_str()) {
                Some(slot) => *slot = r,
                None => {
                    cache.insert(id.clone(), r);
                }
            }
        }
    }

    fn count(&self, batch: &EventBatch, report: &BatchReport) {
        let c = &self.counters;
        bump(&c.events, batch.items());
        bump(&c.rejected, batch.rejected());
        bump(&c.applied, report.applied);
        bump(&c.duplicates, report.duplicates);
        bump(&c.late, report.late);
        let up = report.transitions.iter().filter(|t| t.online).count() as u64;
        bump(&c.went_online, up);
        bump(&c.went_offline, report.transitions.len() as u64 - up);
    }

    /// Loads the share's records into a scratch engine (judging pending offlines with the
    /// shard's advance time `adv`, `Some("")` for none, with a grace), lets `change` work on it,
    /// and builds the compare-and-set call (none if no record changed).
    fn apply_share<F>(
        &self,
        share: &Share,
        records: &mut [Option<Vec<u8>>],
        adv: Option<String>,
        change: &F,
        full_script: bool,
    ) -> Result<Applied, Error>
    where
        F: Fn(&Share, &mut StatusEngine) -> Result<Effect, Error>,
    {
        let mut scratch = self.scratch(adv.as_deref())?;
        for (id, rec) in share.ids.iter().zip(records.iter()) {
            if let Some(rec) = rec {
                scratch.load_record(id, rec)?;
            }
        }
        let (s0, g0) = (scratch.stats(), scratch.groups());
        let grace = self.config.offline_grace_ms;
        // Per client before the change: online, last sign of life, pending since.
        let was: Vec<(bool, Option<u64>, Option<u64>)> = share
            .ids
            .iter()
            .map(|id| (scratch.is_online(id), scratch.last_seen(id), scratch.pending_offline_since(id)))
            .collect();
        let (outcomes, flips) = change(share, &mut scratch)?;
        let mut news: Vec<Option<Vec<u8>>> = share.ids.iter().map(|id| scratch.client_record(id)).collect();
        let mut step = Step { advance_check: adv.filter(|_| grace > 0), ..Step::default() };
        for (k, id) in share.ids.iter().enumerate() {
            let (old, new) = (records[k].as_deref(), news[k].as_deref());
            let Some(new) = new.filter(|n| Some(*n) != old) else { continue };
            let id = id.as_bytes();
            step.clients.push([id, old.unwrap_or_default(), new]);
            let name = &share.ids[k];
            let (was_on, was_seen, was_pending) = was[k];
            let now_on = scratch.is_online(name);
            match (was_on, now_on) {
                (false, true) => step.online_adds.push(id),
                (true, false) => step.online_rems.push(id),
                _ => {}
            }
            // The seen index holds the online clients by their last sign of life (unless the
            // store was created without it: `stale_index=0`).
            let seen = scratch.last_seen(name);
            match (was_on, now_on) {
                _ if !self.stale_index => {}
                (_, true) if !was_on || seen != was_seen => step.seen_adds.push((seen.unwrap_or(0), id)),
                (true, false) => step.seen_rems.push(id),
                _ => {}
            }
            if grace > 0 {
                let pending = scratch.pending_offline_since(name);
                match (was_pending, pending) {
                    (a, Some(p)) if a != Some(p) => step.pending_adds.push((p + grace, id)),
                    (Some(_), None) => step.pending_rems.push(id),
                    _ => {}
                }
            }
        }
        if step.clients.is_empty() {
            let records = records.iter_mut().map(Option::take).collect();
            return Ok(Applied { step: None, records, outcomes, flips: Vec::new() });
        }
        // Count deltas of this shard: the scratch engine's totals after minus before.
        let (s1, g1) = (scratch.stats(), scratch.groups());
        let d = |a: u64, b: u64| i128::from(b) - i128::from(a);
        for (f, v) in [
            ("k", d(s0.clients, s1.clients)),
            ("o", d(s0.online, s1.online)),
            ("c", d(s0.open_channels, s1.open_channels)),
            ("t", d(s0.tombstones, s1.tombstones)),
            ("p", d(s0.pending_offline.unwrap_or(0), s1.pending_offline.unwrap_or(0))),
        ] {
            if v != 0 {
                step.ops.push(("+", f.to_string(), v));
            }
        }
        for g in &g1 {
            let before = g0.iter().find(|x| x.group_id == g.group_id);
            let (o, k) = before.map_or((0, 0), |b| (b.online, b.known));
            if g.online != o {
                step.ops.push(("+", format!("go:{}", g.group_id), d(o, g.online)));
            }
            if g.known != k {
                step.ops.push(("+", format!("gk:{}", g.group_id), d(k, g.known)));
            }
        }
        if let Some(m) = s1.max_time {
            step.ops.push(("M", "m".to_string(), i128::from(m)));
        }
        let c = step.command(self, share.shard, &flips, full_script);
        drop(step);
        let after =
            news.iter_mut().zip(records.iter_mut()).map(|(n, old)| n.take().or_else(|| old.take())).collect();
        Ok(Applied { step: Some(c), records: after, outcomes, flips })
    }

    /// An engine to judge one shard's clients in: with a grace, advanced to the shard's advance
    /// time `adv` (`""` or `None`: never advanced) before any record is loaded, so that pending
    /// offlines are judged as the whole-store engine would.
    pub(super) fn scratch(&self, adv: Option<&str>) -> Result<StatusEngine, Error> {
        let mut scratch = crate::new_engine(self.config)?;
        if let Some(t) = adv.and_then(|a| a.parse::<u64>().ok()) {
            scratch.advance(t)?;
        }
        Ok(scratch)
    }
}
