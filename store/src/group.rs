//! Group commit, the one mechanism of both backends: concurrent calls on one handle share
//! commits. A caller queues its job (already parsed or encoded); if no commit is running it
//! leads one carrying the jobs queued so far (up to a bound), otherwise it waits. Every caller
//! returns only once the commit holding its job is done, with its own result (or the commit's
//! error). The file backend's jobs are log entries (one append and one sync per round,
//! `file/commit.rs`); the Redis backend's are parsed batches, committed as one batch
//! ([`commit_batches`]: one set of round trips per shard touched, however many callers).

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use mqtt_status::{BatchReport, Error, EventBatch, Outcome};

/// Most events in one Redis round: a caller arriving while a round of this size is queued waits
/// for the next, so one huge batch does not hold small ones beyond its own commit (and a round's
/// script calls stay bounded).
pub(crate) const ROUND_EVENTS: usize = 4096;

/// Jobs waiting for a leader, and results waiting for their callers.
struct Queue<J, T> {
    /// (ticket, weight, job), oldest first.
    pending: VecDeque<(u64, usize, J)>,
    done: HashMap<u64, Result<T, Error>>,
    leading: bool,
    next: u64,
}

/// The queue of jobs of type `J` whose commits give results of type `T`.
pub(crate) struct Group<J, T> {
    queue: Mutex<Queue<J, T>>,
    wake: Condvar,
    commits: AtomicU64,
    /// Most total weight in one round (the first job of a round is taken whatever its weight).
    bound: usize,
}

impl<J, T> Group<J, T> {
    /// An empty queue whose rounds weigh at most `bound` (but always take one job).
    pub(crate) fn new(bound: usize) -> Self {
        let queue = Queue { pending: VecDeque::new(), done: HashMap::new(), leading: false, next: 0 };
        Group { queue: Mutex::new(queue), wake: Condvar::new(), commits: AtomicU64::new(0), bound }
    }

    fn lock(&self) -> MutexGuard<'_, Queue<J, T>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job` (of `weight`, in the bound's unit) and returns its result once committed.
    /// `lead` commits a round (the jobs in queue order) and returns one result per job, in that
    /// order; it runs on whichever caller leads, so every caller passes the same commit. A panic
    /// in it (or a wrong count of results) fails the round's callers with `store_unavailable`.
    pub(crate) fn submit(
        &self,
        job: J,
        weight: usize,
        mut lead: impl FnMut(Vec<J>) -> Vec<Result<T, Error>>,
    ) -> Result<T, Error> {
        let mut q = self.lock();
        let ticket = q.next;
        q.next += 1;
        q.pending.push_back((ticket, weight, job));
        loop {
            if let Some(r) = q.done.remove(&ticket) {
                return r;
            }
            if q.leading {
                q = self.wake.wait(q).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            q.leading = true;
            let (tickets, jobs) = take_round(&mut q.pending, self.bound);
            drop(q);
            let n = tickets.len();
            let results = catch_unwind(AssertUnwindSafe(|| lead(jobs))).ok().filter(|r| r.len() == n);
            let results = results.unwrap_or_else(|| {
                let err = Error::StoreUnavailable { reason: "internal error while committing".into() };
                (0..n).map(|_| Err(err.clone())).collect()
            });
            self.commits.fetch_add(1, Ordering::Relaxed);
            q = self.lock();
            q.leading = false;
            q.done.extend(tickets.into_iter().zip(results));
            self.wake.notify_all();
        }
    }

    /// Rounds committed so far (each carried one or more callers' jobs).
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

/// The jobs of the next round, oldest first: as many as fit in `bound` (at least one).
fn take_round<J>(pending: &mut VecDeque<(u64, usize, J)>, bound: usize) -> (Vec<u64>, Vec<J>) {
    let mut size = 0usize;
    let mut n = 0;
    for (_, w, _) in pending.iter() {
        size = size.saturating_add(*w);
        if n > 0 && size > bound {
            break;
        }
        n += 1;
    }
    pending.drain(..n).map(|(t, _, j)| (t, j)).unzip()
}

/// What committing one (combined) batch gives: the report, each flip's item index, and each
/// event's outcome (in the batch's event order).
pub(crate) type Committed = (BatchReport, Vec<u64>, Vec<Outcome>);

/// Commits several callers' batches as one and gives each caller the report a lone call would:
/// its own counts, rejected items (with its own indices) and transitions, in its input order.
/// Batches are applied in queue order, so a caller's events see the effect of the callers before
/// it in the round exactly as if their calls had returned first. A failed commit fails them all
/// (shards already committed stay committed: a retry finds those events duplicates).
pub(crate) fn commit_batches(
    batches: Vec<EventBatch>,
    commit: impl FnOnce(&EventBatch) -> Result<Committed, Error>,
) -> Vec<Result<BatchReport, Error>> {
    if batches.len() == 1 {
        // Nothing to split: the batch's own report.
        return vec![commit(&batches[0]).map(|(report, ..)| report)];
    }
    // Each batch's item indices move up past the previous batch's last event, so an index says
    // whose event it is.
    let mut all = EventBatch::default();
    let mut starts = Vec::with_capacity(batches.len());
    let mut offset = 0u64;
    for b in &batches {
        starts.push(offset);
        all.append(b, offset);
        offset += (0..b.len()).map(|i| b.event(i).0 + 1).max().unwrap_or(0);
    }
    let (report, flip_items, outcomes) = match commit(&all) {
        Ok(c) => c,
        Err(e) => return batches.iter().map(|_| Err(e.clone())).collect(),
    };
    let owner = |index: u64| starts.partition_point(|&s| s <= index) - 1;
    let mut reports: Vec<BatchReport> = batches
        .iter()
        .map(|b| BatchReport {
            errors: b.errors().to_vec(),
            rejected: b.rejected(),
            ..BatchReport::default()
        })
        .collect();
    for (i, outcome) in outcomes.iter().enumerate() {
        let r = &mut reports[owner(all.event(i).0)];
        match outcome {
            Outcome::Applied => r.applied += 1,
            Outcome::Duplicate => r.duplicates += 1,
            Outcome::Late => r.late += 1,
        }
    }
    // Flips come in item order, so each caller's stay in its own input order.
    for (t, &index) in report.transitions.iter().zip(&flip_items) {
        reports[owner(index)].transitions.push(t);
    }
    reports.into_iter().map(Ok).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_takes_what_fits_and_at_least_one() {
        let mut q: VecDeque<(u64, usize, ())> = [(0, 3, ()), (1, 2, ()), (2, 9, ()), (3, 1, ())].into();
        assert_eq!(take_round(&mut q, 5).0, vec![0, 1]);
        assert_eq!(take_round(&mut q, 5).0, vec![2], "a job over the bound is a round of its own");
        assert_eq!(take_round(&mut q, 5).0, vec![3]);
        assert!(q.is_empty());
    }

    #[test]
    fn callers_queued_behind_a_round_share_the_next_and_get_their_own_results() {
        let group: Group<u32, u32> = Group::new(100);
        let (entered, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        let rounds = Mutex::new(Vec::new());
        let (group, entered, release, rounds_ref) = (&group, &entered, &release, &rounds);
        std::thread::scope(|s| {
            let lead = |jobs: Vec<u32>| {
                if jobs == [0] {
                    entered.wait(); // the first round holds until the others are queued
                    release.wait();
                }
                rounds_ref.lock().unwrap().push(jobs.clone());
                jobs.iter()
                    .map(|&j| {
                        if j == 3 {
                            Err(Error::StoreUnavailable { reason: "x".into() })
                        } else {
                            Ok(j * 10)
                        }
                    })
                    .collect()
            };
            let first = s.spawn(move || group.submit(0, 1, lead));
            entered.wait();
            let others: Vec<_> = (1..5).map(|j| (j, s.spawn(move || group.submit(j, 1, lead)))).collect();
            while group.lock().pending.len() < 4 {
                std::thread::yield_now();
            }
            release.wait();
            assert_eq!(first.join().unwrap().unwrap(), 0);
            for (j, h) in others {
                match h.join().unwrap() {
                    Ok(v) => assert_eq!(v, j * 10),
                    Err(_) => assert_eq!(j, 3, "only job 3's own result is an error"),
                }
            }
        });
        let mut rounds = rounds.into_inner().unwrap();
        rounds[1].sort_unstable();
        assert_eq!(rounds, vec![vec![0], vec![1, 2, 3, 4]]);
        assert_eq!(group.commits(), 2);
    }

    #[test]
    fn a_panicking_commit_fails_its_round_and_the_queue_goes_on() {
        let group: Group<u32, u32> = Group::new(100);
        let r = group.submit(1, 1, |_| panic!("boom"));
        assert!(matches!(r, Err(Error::StoreUnavailable { .. })));
        assert_eq!(group.submit(2, 1, |jobs| jobs.into_iter().map(Ok).collect()).unwrap(), 2);
    }
}
