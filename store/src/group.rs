//! Group commit: concurrent single `ingest_json` calls on one handle share commits. A caller
//! queues its (already validated) event; if no commit is running it leads one with everything
//! queued, else it waits. Every caller returns only once the commit holding its event is done,
//! with its own event's transition (or the commit's error).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

use mqtt_status::{BatchReport, Error, EventBatch, Transition};

type Outcome = Result<Option<Transition>, Error>;

#[derive(Default)]
struct State {
    queue: Vec<(u64, Vec<u8>, Option<String>)>,
    done: HashMap<u64, Outcome>,
    leading: bool,
    next: u64,
}

/// The queue of single events waiting for a commit.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    wake: Condvar,
    commits: AtomicU64,
}

impl GroupCommit {
    /// Commits `body` with whatever else is queued; `commit` applies a batch and returns its
    /// report with each flip's item index.
    pub(crate) fn submit(
        &self,
        body: &[u8],
        tag: Option<&str>,
        max_id_len: u32,
        commit: impl Fn(&EventBatch) -> Result<(BatchReport, Vec<u64>), Error>,
    ) -> Outcome {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let ticket = st.next;
        st.next += 1;
        st.queue.push((ticket, body.to_vec(), tag.map(str::to_string)));
        loop {
            if let Some(r) = st.done.remove(&ticket) {
                return r;
            }
            if st.leading {
                st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            st.leading = true;
            let jobs = std::mem::take(&mut st.queue);
            drop(st);
            let mut batch = EventBatch::default();
            for (i, (_, body, tag)) in jobs.iter().enumerate() {
                // Validated by the caller already: an error here cannot happen, and would be
                // reported to that caller below.
                batch.push(i as u64, body, tag.as_deref(), max_id_len);
            }
            let result = commit(&batch);
            self.commits.fetch_add(1, Ordering::Relaxed);
            st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            for (i, (t, ..)) in jobs.iter().enumerate() {
                let outcome = match &result {
                    Err(e) => Err(e.clone()),
                    Ok((report, indices)) => match batch.errors().iter().find(|e| e.index == i as u64) {
                        Some(e) => Err(Error::InvalidField { field: "body", reason: e.message.clone() }),
                        None => Ok(indices
                            .iter()
                            .position(|&x| x == i as u64)
                            .and_then(|k| report.transitions.get(k))
                            .map(|t| t.to_transition())),
                    },
                };
                st.done.insert(*t, outcome);
            }
            st.leading = false;
            self.wake.notify_all();
        }
    }

    /// Commits led so far (each one carried one or more single events).
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}
