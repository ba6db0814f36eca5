//! Group commit and compaction.
//!
//! Every write is one encoded entry handed to [`FileStore::commit`], which queues it in the
//! store's group commit (`crate::group`, shared with the Redis backend): the first caller to find
//! no leader becomes one: it takes the entries queued so far (up to [`ROUND_BYTES`]), appends
//! them as one frame, syncs once, applies them to the state in log order, publishes each caller's
//! result and steps down; callers that queued meanwhile wait, and one of them leads the next
//! round. A caller returns only when its own entry is durable (or failed, then not applied and
//! not in the log).

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};

use mqtt_status::Error;

use crate::file::apply::{Done, State};
use crate::file::codec::{log_header, put_frame, FRAME_MAX, LOG_HEADER};
use crate::file::dir::{self, name, sync_dir, unavailable, Kind};
use crate::file::{load, lock, FileStore};

/// Most bytes of entries in one round (about [`crate::group::ROUND_EVENTS`] lines of a few
/// hundred bytes): one call bigger than this is a round of its own.
pub(crate) const ROUND_BYTES: usize = 1 << 20;

/// The open log being appended to.
pub(crate) struct Log {
    pub(crate) file: File,
    /// Bytes durable in the log (appends go here; a failed one is cut back to it).
    pub(crate) len: u64,
    pub(crate) gen: u64,
    /// Size of the newest snapshot file: compaction waits until the log outgrows it too, so its
    /// cost stays proportional to what was logged.
    pub(crate) snap_len: u64,
    /// Set when the files no longer match what this handle would append to (a failed truncate,
    /// a compaction failed half-way): every later write fails until the store is reopened.
    pub(crate) broken: Option<String>,
}

/// Frames from this size on are synced on a helper thread while they are applied: the sync and
/// the engine's work overlap (below it, applying takes microseconds and a thread would cost more).
const OVERLAP_FROM: usize = 32 << 10;

impl Log {
    /// Writes `bytes` after the durable end, not yet synced; on failure the log is cut back.
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let r = self.file.seek(SeekFrom::Start(self.len)).and_then(|_| self.file.write_all(bytes));
        r.map_err(|e| self.cut_back(e))
    }

    /// Cuts the log back to its durable end after a failed write or sync (marking it broken if
    /// even that fails); the error to report.
    fn cut_back(&mut self, e: std::io::Error) -> Error {
        if let Err(cut) = self.file.set_len(self.len).and_then(|()| self.file.sync_data()) {
            self.broken = Some(format!("a failed append could not be cut back ({cut})"));
        }
        unavailable(format_args!("appending to {}", name(Kind::Log, self.gen)), e)
    }
}

impl FileStore {
    /// Makes `entry` durable and applies it; what applying it returned.
    pub(crate) fn commit(&self, entry: Vec<u8>) -> Result<Done, Error> {
        if entry.len() > FRAME_MAX {
            let reason =
                format!("{} bytes in one call; the file store takes at most 1 GiB per call", entry.len());
            return Err(Error::InvalidField { field: "body", reason });
        }
        let weight = entry.len();
        self.group.submit(entry, weight, |round| self.lead(round))
    }

    /// One round as leader: append, sync, apply, maybe compact.
    fn lead(&self, batch: Vec<Vec<u8>>) -> Vec<Result<Done, Error>> {
        let mut log = lock(&self.log);
        let fail = |e: Error| batch.iter().map(|_| Err(e.clone())).collect();
        if let Some(why) = &log.broken {
            return fail(Error::StoreUnavailable {
                reason: format!("{}: {why}; reopen it", self.dir.display()),
            });
        }
        let size = FRAME_MAX.min(batch.iter().map(Vec::len).sum::<usize>() + 8);
        let mut frame = Vec::with_capacity(size);
        put_frame(&mut frame, batch.iter().map(Vec::as_slice));
        if let Err(e) = log.write(&frame) {
            return fail(e);
        }
        let apply = |state: &mut State| -> Vec<Result<Done, Error>> {
            batch
                .iter()
                .map(|entry| {
                    let mut out = None;
                    let r = state.apply_frame(entry, |d| out = Some(d));
                    let empty = || Error::StoreUnavailable { reason: "empty entry".into() };
                    r.and_then(|()| out.ok_or_else(empty))
                })
                .collect()
        };
        let results = if frame.len() < OVERLAP_FROM {
            if let Err(e) = log.file.sync_data() {
                return fail(log.cut_back(e));
            }
            apply(&mut lock(&self.state))
        } else {
            // The state stays locked until the sync is done, so no reader sees a call that is
            // not durable yet; if the sync fails, the state is loaded again from the disk.
            let mut state = lock(&self.state);
            let file = &log.file;
            let (synced, results) = std::thread::scope(|s| {
                let syncer = s.spawn(move || file.sync_data());
                let results = apply(&mut state);
                (syncer.join(), results)
            });
            let synced = synced.unwrap_or_else(|_| Err(std::io::Error::other("sync thread panicked")));
            if let Err(e) = synced {
                let err = log.cut_back(e);
                match load(&self.dir, self.config, &self.options, log.gen) {
                    Ok((fresh, _, _)) => *state = State { base: state.base.clone(), ..fresh },
                    Err(e) => {
                        let why = format!("a sync failed and the state could not be loaded again ({e})");
                        log.broken = Some(why.clone());
                        state.broken = Some(why);
                    }
                }
                return fail(err);
            }
            results
        };
        log.len += frame.len() as u64;
        drop(frame);
        if log.len > self.options.compact_bytes.max(log.snap_len) {
            // A failure leaves the store on its current generation (retried after more growth)
            // or, past the point of no return, marks the log broken: the callers' entries are
            // durable either way, so their results stand.
            if self.compact(&mut log).is_err() {
                log.snap_len = log.snap_len.max(log.len);
            }
        }
        results
    }

    /// Test hook: a child process dies here when told to (see `Options::crash_at`).
    fn crash_point(&self, step: &str) {
        if self.options.crash_at.as_deref() == Some(step) {
            std::process::abort();
        }
    }

    /// Writes the state as snapshot generation `gen + 1` and starts its empty log.
    ///
    /// Crash points and what the next open finds: before the rename, a `.tmp` (removed) and
    /// generation `gen` whole; after it, `snap-(gen+1)` is the newest snapshot and its log is
    /// created if absent, while `log-gen` is stale (every frame of it is in the snapshot) and
    /// removed, never replayed.
    pub(crate) fn compact(&self, log: &mut Log) -> Result<(), Error> {
        let next = log.gen + 1;
        let bytes = {
            let state = lock(&self.state);
            dir::snap_bytes(next, &state.feed, &state.engine.snapshot())
        };
        let snap = name(Kind::Snap, next);
        dir::write_tmp(&self.dir, &snap, &bytes)?;
        self.crash_point("snap-tmp");
        dir::rename_tmp(&self.dir, &snap)?;
        self.crash_point("snap-renamed");
        let (old_snap, old_log) =
            (self.dir.join(name(Kind::Snap, log.gen)), self.dir.join(name(Kind::Log, log.gen)));
        // Past the rename, appending to the old log would write frames the next open skips.
        let switched = (|| {
            sync_dir(&self.dir)?;
            self.crash_point("snap-synced");
            let new_log = name(Kind::Log, next);
            dir::write_tmp(&self.dir, &new_log, &log_header(next))?;
            dir::rename_tmp(&self.dir, &new_log)?;
            sync_dir(&self.dir)?;
            self.crash_point("log-created");
            let path = self.dir.join(&new_log);
            OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| unavailable(format_args!("opening {}", path.display()), e))
        })();
        let file = match switched {
            Ok(f) => f,
            Err(e) => {
                log.broken = Some(format!("compaction to generation {next} failed half-way ({e})"));
                return Err(e);
            }
        };
        *log = Log { file, len: LOG_HEADER as u64, gen: next, snap_len: bytes.len() as u64, broken: None };
        // Stale files are also removed by the next open; a failure here loses nothing.
        let _ = fs::remove_file(old_log);
        let _ = fs::remove_file(old_snap);
        let _ = sync_dir(&self.dir);
        self.crash_point("cleaned");
        Ok(())
    }
}
