//! SPEC §9 on Redis: `advance` (confirming pending offlines by the host's time), `observe`, and
//! `stale_online` (docs/store.md, "Grace, observations and staleness").
//!
//! Each shard keeps its advance time (`a` in `{p:s}:n`, max-merged) and a pending index
//! (`{p:s}:p`, id by deadline = offline since + grace) kept exact by every commit. An advance
//! reads a shard's due ids and their records, lets a scratch engine advanced to the shard's
//! time decide, and commits with one step that checks the advance time, the records and the
//! number of due ids it read: so no ingest judged with the old time, and no pending id it did
//! not see, slips past it. The judgment stays the core's.

use mqtt_status::{Error, EventBatch, StaleClient, Transition, MAX_TIME};
use redis::{cmd, Cmd, Value};

use super::conn::{bytes, check, items, unavailable};
use super::step::Step;
use super::{bulk_list, bump, RedisStore, MAX_ATTEMPTS};

/// Most due ids one step confirms (a step's argument lists stay bounded).
const DUE_MAX: usize = 1000;

/// A shard's advance time as stored: `""` when never advanced.
fn text(v: &Value) -> String {
    bytes(v).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
}

impl RedisStore {
    /// `advance(now_ms)`: the offlines it confirmed, sorted by (time, clientId).
    pub(crate) fn advance(&self, now_ms: u64) -> Result<Vec<Transition>, Error> {
        if now_ms > MAX_TIME {
            return Err(Error::InvalidField { field: "now", reason: "larger than 2^53 - 1".into() });
        }
        if self.config.offline_grace_ms == 0 {
            return Ok(Vec::new());
        }
        let mut out = self.advance_shards(now_ms, true)?;
        out.sort_by(|a, b| (a.time, &a.client_id).cmp(&(b.time, &b.client_id)));
        bump(&self.counters.went_offline, out.len() as u64);
        Ok(out)
    }

    /// Raises every shard's advance time to `now` (if later), confirming its due pending
    /// offlines; with `feed`, they enter the feed and are returned (a snapshot join raises the
    /// time without reporting, as the engine's merge does).
    pub(super) fn advance_shards(&self, now: u64, feed: bool) -> Result<Vec<Transition>, Error> {
        let mut out = Vec::new();
        let mut shards: Vec<u32> = (0..self.shards).collect();
        let mut attempts = 0;
        while !shards.is_empty() {
            if attempts > MAX_ATTEMPTS {
                return Err(unavailable(
                    "advance kept conflicting",
                    format!("{} shard(s) still contended after {MAX_ATTEMPTS} attempts", shards.len()),
                ));
            }
            // The shard's time and its first due ids (one more, to see whether there are more).
            let reads: Vec<Cmd> = shards
                .iter()
                .flat_map(|&s| {
                    [
                        cmd("HGET").arg(self.key(s, "n")).arg("a").clone(),
                        cmd("ZRANGEBYSCORE")
                            .arg(self.key(s, "p"))
                            .arg("-inf")
                            .arg(now)
                            .arg("WITHSCORES")
                            .arg("LIMIT")
                            .arg(0)
                            .arg(DUE_MAX + 1)
                            .clone(),
                    ]
                })
                .collect();
            let mut replies = self.conn.run(&reads)?.into_iter();
            // Per shard still to do: (shard, its advance time, the due ids taken, the time
            // this step advances to).
            let mut work: Vec<(u32, String, Vec<Vec<u8>>, u64)> = Vec::new();
            for &s in &shards {
                let adv = text(&check(replies.next().unwrap_or(Value::Nil))?);
                let due = check(replies.next().unwrap_or(Value::Nil))?;
                if adv.parse::<u64>().is_ok_and(|a| a >= now) {
                    continue; // nothing is pending with a deadline it has passed
                }
                let mut due: Vec<(Vec<u8>, u64)> = items(&due)
                    .chunks(2)
                    .filter_map(|kv| {
                        let id = kv.first().and_then(bytes)?.to_vec();
                        let score =
                            String::from_utf8_lossy(kv.get(1).and_then(bytes)?).parse::<f64>().ok()?;
                        Some((id, score as u64))
                    })
                    .collect();
                // More than a step takes: advance to just before the first deadline left out
                // (an engine advanced there first confirms exactly these), then go on.
                let mut to = now;
                if due.len() > DUE_MAX {
                    let cut = due[DUE_MAX].1;
                    due.retain(|(_, d)| *d < cut);
                    if due.is_empty() {
                        // All share one deadline: take them all at once.
                        let v = self
                            .conn
                            .one(cmd("ZRANGEBYSCORE").arg(self.key(s, "p")).arg(cut).arg(cut).clone())?;
                        due = items(&v).iter().filter_map(|x| Some((bytes(x)?.to_vec(), cut))).collect();
                        to = cut;
                    } else {
                        to = cut - 1;
                    }
                }
                work.push((s, adv, due.into_iter().map(|(id, _)| id).collect(), to));
            }
            let record_reads: Vec<Cmd> = work
                .iter()
                .filter(|w| !w.2.is_empty())
                .map(|(s, _, ids, _)| cmd("HMGET").arg(self.key(*s, "r")).arg(ids).clone())
                .collect();
            let mut record_replies = self.conn.run(&record_reads)?.into_iter();
            let mut steps = Vec::with_capacity(work.len());
            let mut confirmed_by = Vec::with_capacity(work.len());
            for (s, adv, ids, to) in &work {
                let records = if ids.is_empty() {
                    Vec::new()
                } else {
                    bulk_list(&check(record_replies.next().unwrap_or(Value::Nil))?)
                };
                let mut scratch = self.scratch(Some(adv))?;
                let names: Vec<String> =
                    ids.iter().map(|id| String::from_utf8_lossy(id).into_owned()).collect();
                for (name, rec) in names.iter().zip(&records) {
                    if let Some(rec) = rec {
                        scratch.load_record(name, rec)?;
                    }
                }
                let p0 = scratch.stats().pending_offline.unwrap_or(0);
                let confirmed = scratch.advance(*to)?;
                let p1 = scratch.stats().pending_offline.unwrap_or(0);
                let mut step =
                    Step { advance_check: Some(adv.clone()), due_check: Some(*to), ..Step::default() };
                // The records are compared (written back unchanged): a client changed since it
                // was read is judged again.
                for (id, rec) in ids.iter().zip(&records) {
                    if let Some(rec) = rec {
                        step.clients.push([id, rec, rec]);
                    }
                }
                step.pending_rems = ids.iter().map(Vec::as_slice).collect();
                step.ops.push(("M", "a".to_string(), i128::from(*to)));
                if p0 != p1 {
                    step.ops.push(("+", "p".to_string(), i128::from(p1) - i128::from(p0)));
                }
                let flips: Vec<(u64, Transition)> =
                    if feed { confirmed.iter().map(|t| (0, t.clone())).collect() } else { Vec::new() };
                steps.push(step.command(self, *s, &flips, true));
                confirmed_by.push(confirmed);
            }
            let results = self.conn.run(&steps)?;
            let mut again = Vec::new();
            let mut conflicted = false;
            for (((s, _, _, to), r), confirmed) in work.iter().zip(results).zip(confirmed_by) {
                if !items(&check(r)?).is_empty() {
                    bump(&self.counters.conflicts, 1);
                    conflicted = true;
                    again.push(*s);
                    continue;
                }
                self.advanced.lock().unwrap_or_else(|p| p.into_inner()).insert(*s, to.to_string());
                if feed {
                    out.extend(confirmed);
                }
                // A partial step (bounded) leaves the shard behind `now`: once more.
                if *to < now {
                    again.push(*s);
                }
            }
            // Only conflicts count towards giving up: bounded steps make progress.
            attempts += u32::from(conflicted);
            shards = again;
        }
        Ok(out)
    }

    /// `observe(client_id, online, time_ms)`: one observation through the ingest path.
    pub(crate) fn observe(
        &self,
        client_id: &str,
        online: bool,
        time_ms: u64,
    ) -> Result<Option<Transition>, Error> {
        let mut batch = EventBatch::default();
        if let Some(e) = batch.push_observation_args(0, client_id, online, time_ms, self.config.max_id_len) {
            self.count_rejected(1);
            return Err(e);
        }
        let (report, ..) = self.ingest_batch(&batch)?;
        Ok(report.transitions.iter().next().map(|t| t.to_transition()))
    }

    /// Online clients whose last sign of life is before `now_ms - older_than_ms`: each shard's
    /// oldest from its seen index, merged oldest first (ties by clientId); on a store created
    /// without the index, from all its records.
    pub(crate) fn stale_online(
        &self,
        older_than_ms: u64,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<StaleClient>, Error> {
        let cutoff = now_ms.saturating_sub(older_than_ms);
        if limit == 0 || cutoff == 0 {
            return Ok(Vec::new());
        }
        if !self.stale_index {
            // No seen index (`stale_index=0`): the same answer from every record, read into one
            // engine: one pass over the store per call instead of an index write per step.
            return Ok(self.engine()?.stale_online(older_than_ms, now_ms, limit));
        }
        let replies = self.each_shard(|s| {
            cmd("ZRANGEBYSCORE")
                .arg(self.key(s, "l"))
                .arg("-inf")
                .arg(format!("({cutoff}"))
                .arg("WITHSCORES")
                .arg("LIMIT")
                .arg(0)
                .arg(limit)
                .clone()
        })?;
        let mut all: Vec<(u64, String)> = Vec::new();
        for r in &replies {
            for kv in items(r).chunks(2) {
                let (Some(id), Some(score)) = (kv.first().and_then(bytes), kv.get(1).and_then(bytes)) else {
                    continue;
                };
                let seen = String::from_utf8_lossy(score).parse::<f64>().unwrap_or(0.0) as u64;
                all.push((seen, String::from_utf8_lossy(id).into_owned()));
            }
        }
        all.sort_unstable();
        all.truncate(limit);
        Ok(all.into_iter().map(|(last_seen, client_id)| StaleClient { client_id, last_seen }).collect())
    }
}
