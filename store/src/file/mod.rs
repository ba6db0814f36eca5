//! The file backend, `file:PATH`: the embedded default for one consumer (SPEC §8).
//!
//! The state is an in-memory [`StatusEngine`](mqtt_status::StatusEngine) — the core's judgment, unchanged — restored on
//! open from the newest snapshot file and the log of every call since, replayed. A write is
//! appended to the log and synced before it is applied and returned (commit before ack);
//! concurrent writers share one append and one sync (group commit, `commit.rs`). When the log
//! outgrows its threshold it is compacted into a new snapshot generation. One process at a time:
//! the directory's `LOCK` file is held with an exclusive lock (`store_locked` otherwise). Layouts
//! are in `codec.rs` and `dir.rs`; docs/store.md ("The file backend") has the guarantees.

mod apply;
mod codec;
mod commit;
mod dir;
mod feed;

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use mqtt_status::{BatchReport, ClientStatus, Config, Error, GroupCount, Stats, Transition};

use crate::FeedPage;
use apply::{handle_stats, Done, State};
use codec::{corrupt, log_header, read_log_header, scan_frames, Scan};
use commit::{Log, ROUND_BYTES};
use dir::{name, read, sync_dir, unavailable, write_atomic, Kind};
use feed::Feed;

/// Default log size that triggers a compaction (the log must also outgrow the last snapshot).
pub(crate) const DEFAULT_COMPACT_BYTES: u64 = 64 << 20;
/// Default number of transitions the feed keeps.
pub(crate) const DEFAULT_FEED_LEN: usize = 100_000;
/// Environment variable naming a compaction step at which the process aborts (crash tests).
pub(crate) const CRASH_AT_ENV: &str = "MQTT_STATUS_FILE_STORE_CRASH_AT";

/// Tuning of a file store, from the URL's query (`file:PATH?compact_bytes=N&feed_len=N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    /// Log size (bytes) beyond which the log is compacted into a snapshot.
    pub(crate) compact_bytes: u64,
    /// Transitions kept by the feed.
    pub(crate) feed_len: usize,
    /// Test hook, from [`CRASH_AT_ENV`]: abort at this compaction step.
    pub(crate) crash_at: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        let crash_at = std::env::var(CRASH_AT_ENV).ok().filter(|s| !s.is_empty());
        Options { compact_bytes: DEFAULT_COMPACT_BYTES, feed_len: DEFAULT_FEED_LEN, crash_at }
    }
}

/// Splits what follows `file:` into the directory and its options. `file:///abs` is `/abs`.
pub(crate) fn parse_url(rest: &str) -> Result<(&str, Options), Error> {
    let bad = |reason: String| Error::InvalidField { field: "url", reason };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(bad("file: needs a directory path".into()));
    }
    let mut options = Options::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number =
            || value.parse::<u64>().map_err(|_| bad(format!("{key} must be a whole number, not {value:?}")));
        match key {
            "compact_bytes" => options.compact_bytes = number()?,
            "feed_len" => options.feed_len = usize::try_from(number()?).unwrap_or(usize::MAX),
            _ => return Err(bad(format!("unknown file store option {key:?} (compact_bytes, feed_len)"))),
        }
    }
    Ok((path, options))
}

/// Locks a mutex; a panic elsewhere while holding it does not take the store down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The state of generation `gen` on disk: its snapshot (none for generation 0 before the first
/// compaction) with its log replayed; how the log ends, and the snapshot file's size.
pub(crate) fn load(
    path: &Path,
    config: Config,
    options: &Options,
    gen: u64,
) -> Result<(State, Scan, u64), Error> {
    let snap_path = path.join(name(Kind::Snap, gen));
    let (engine, feed, snap_len) = match fs::read(&snap_path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && gen == 0 => {
            (crate::new_engine(config)?, Feed::new(options.feed_len), 0)
        }
        Err(e) => return Err(unavailable(format_args!("reading {}", snap_path.display()), e)),
        Ok(bytes) => {
            let (engine, feed) = dir::read_snap(&bytes, gen, options.feed_len)?;
            if engine.config() != &config {
                return Err(corrupt(format!(
                    "{} holds another configuration than meta",
                    name(Kind::Snap, gen)
                )));
            }
            (engine, feed, bytes.len() as u64)
        }
    };
    let log_name = name(Kind::Log, gen);
    let mut state = State { engine, feed, base: Stats::default(), broken: None };
    let bytes = read(&path.join(&log_name))?;
    if read_log_header(&bytes, &log_name)? != gen {
        return Err(corrupt(format!("{log_name}: header names another generation")));
    }
    let scan = scan_frames(&bytes, &log_name, |body| state.apply_frame(body, |_| {}))?;
    Ok((state, scan, snap_len))
}

/// Replays a log image (any generation) the way [`load`] does — header, frames, each frame's
/// entries through a default-configured engine — for the fuzz hook `crate::__fuzz_scan_log`:
/// (whole frames, where they end, whether a torn tail follows).
pub(crate) fn scan_log_image(bytes: &[u8]) -> Result<(usize, usize, bool), Error> {
    read_log_header(bytes, "log")?;
    let engine = crate::new_engine(Config::default())?;
    let mut state = State { engine, feed: Feed::new(DEFAULT_FEED_LEN), base: Stats::default(), broken: None };
    let mut frames = 0;
    let scan = scan_frames(bytes, "log", |body| {
        frames += 1;
        state.apply_frame(body, |_| {})
    })?;
    Ok((frames, scan.end, scan.torn))
}

/// A status store in one directory (see the module docs).
pub(crate) struct FileStore {
    dir: PathBuf,
    config: Config,
    options: Options,
    state: Mutex<State>,
    log: Mutex<Log>,
    /// Log entries waiting to share an append and a sync (`commit.rs`).
    group: crate::group::Group<Vec<u8>, Done>,
    /// Held (locked) while the store is open; closing the file releases it.
    _lock: File,
}

impl FileStore {
    /// Opens the store in `path` (created if needed) with the default options.
    #[allow(dead_code)]
    pub(crate) fn open(path: &Path, config: Config) -> Result<Self, Error> {
        Self::open_with(path, config, Options::default())
    }

    /// Opens the store in `path` (created if needed).
    pub(crate) fn open_with(path: &Path, config: Config, options: Options) -> Result<Self, Error> {
        config.validate()?;
        fs::create_dir_all(path).map_err(|e| unavailable(format_args!("creating {}", path.display()), e))?;
        let lock_file = dir::lock(path)?;
        let mut listing = dir::list(path)?;
        for tmp in &listing.temps {
            fs::remove_file(tmp).map_err(|e| unavailable(format_args!("removing {}", tmp.display()), e))?;
        }
        if listing.meta {
            let stored = dir::read_meta(&read(&path.join("meta"))?)?;
            if stored != config {
                let json = |c: &Config| serde_json::to_string(c).unwrap_or_default();
                let reason = format!(
                    "{} was created with {}, opened with {}",
                    path.display(),
                    json(&stored),
                    json(&config)
                );
                return Err(Error::ConfigMismatch { reason });
            }
        } else {
            if !listing.snaps.is_empty() || !listing.logs.is_empty() {
                return Err(corrupt(format!(
                    "{}: snapshot or log files without a meta file",
                    path.display()
                )));
            }
            write_atomic(path, "meta", &dir::meta_bytes(&config))?;
            sync_dir(path)?;
        }
        let gen = listing.snaps.last().copied().unwrap_or(0);
        if let Some(&newer) = listing.logs.last().filter(|&&g| g > gen) {
            return Err(corrupt(format!(
                "{} has no snapshot (the newest is generation {gen})",
                name(Kind::Log, newer)
            )));
        }
        let log_name = name(Kind::Log, gen);
        let log_path = path.join(&log_name);
        if !listing.logs.contains(&gen) {
            write_atomic(path, &log_name, &log_header(gen))?;
            sync_dir(path)?;
            listing.logs.push(gen);
        }
        let (mut state, scan, snap_len) = load(path, config, &options, gen)?;
        let file = OpenOptions::new()
            .write(true)
            .open(&log_path)
            .map_err(|e| unavailable(format_args!("opening {}", log_path.display()), e))?;
        if scan.torn {
            file.set_len(scan.end as u64).and_then(|()| file.sync_all()).map_err(|e| {
                unavailable(format_args!("cutting the torn tail of {}", log_path.display()), e)
            })?;
        }
        // Older generations are wholly in the snapshot: remove them (a failure is retried on
        // the next open; they are never replayed).
        let stale = listing
            .snaps
            .iter()
            .map(|&g| (Kind::Snap, g))
            .chain(listing.logs.iter().map(|&g| (Kind::Log, g)));
        let mut removed = false;
        for (kind, g) in stale.filter(|&(_, g)| g < gen) {
            removed |= fs::remove_file(path.join(name(kind, g))).is_ok();
        }
        if removed {
            let _ = sync_dir(path);
        }
        state.base = state.engine.stats();
        let log = Log { file, len: scan.end as u64, gen, snap_len, broken: None };
        Ok(FileStore {
            dir: path.to_path_buf(),
            config,
            options,
            state: Mutex::new(state),
            log: Mutex::new(log),
            group: crate::group::Group::new(ROUND_BYTES),
            _lock: lock_file,
        })
    }

    /// The state, for a query; `store_unavailable` if it cannot be trusted (see `State::broken`).
    fn read(&self) -> Result<MutexGuard<'_, State>, Error> {
        let state = lock(&self.state);
        match &state.broken {
            None => Ok(state),
            Some(why) => {
                Err(Error::StoreUnavailable { reason: format!("{}: {why}; reopen it", self.dir.display()) })
            }
        }
    }

    /// The configuration the store judges by.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// Ingests one body or envelope, durably; its transition if the client flipped.
    pub(crate) fn ingest_json(&self, body: &[u8], tag: Option<&str>) -> Result<Option<Transition>, Error> {
        // A rejected event changes no state: it is counted and returned without touching disk.
        let max = self.config.max_id_len;
        let valid = if mqtt_status::is_observation(body) {
            tag.is_none() && matches!(mqtt_status::parse_observation_line(body, max), Some(Ok(_)))
        } else {
            mqtt_status::with_notification(body, tag, max, |_| ()).is_ok()
        };
        if !valid {
            return self.read()?.engine.ingest_json(body, tag);
        }
        match self.commit(codec::json_entry(body, tag))? {
            Done::One(r) => r,
            other => Err(mismatch(&other)),
        }
    }

    /// Ingests a JSONL batch, durably, in one append.
    pub(crate) fn ingest_many(&self, jsonl: &[u8]) -> Result<BatchReport, Error> {
        match self.commit(codec::many_entry(jsonl))? {
            Done::Batch(r) => Ok(r),
            other => Err(mismatch(&other)),
        }
    }

    /// Ingests a list of bodies or envelopes (each with its tag, if any), durably, in one append.
    pub(crate) fn ingest_items(&self, items: &[(&[u8], Option<&str>)]) -> Result<BatchReport, Error> {
        match self.commit(codec::items_entry(items))? {
            Done::Batch(r) => Ok(r),
            other => Err(mismatch(&other)),
        }
    }

    /// `advance(now_ms)`, durably when it moves the watermark: the offlines it confirmed.
    pub(crate) fn advance(&self, now_ms: u64) -> Result<Vec<Transition>, Error> {
        {
            let mut state = self.read()?;
            let moves = state.engine.advanced_to().is_none_or(|a| now_ms > a);
            // A bad time, no grace or a time already passed: the engine answers (nothing changes,
            // nothing to log).
            if now_ms > mqtt_status::MAX_TIME || self.config.offline_grace_ms == 0 || !moves {
                return state.engine.advance(now_ms);
            }
        }
        match self.commit(codec::advance_entry(now_ms))? {
            Done::Advanced(r) => r,
            other => Err(mismatch(&other)),
        }
    }

    /// `observe(client_id, online, time_ms)`, durably; its transition if the client flipped.
    pub(crate) fn observe(
        &self,
        client_id: &str,
        online: bool,
        time_ms: u64,
    ) -> Result<Option<Transition>, Error> {
        if mqtt_status::check_observation(client_id, time_ms, self.config.max_id_len).is_err() {
            // Rejected and counted by the engine, as `ingest_json` rejects: nothing logged.
            return self.read()?.engine.observe(client_id, online, time_ms);
        }
        match self.commit(codec::observe_entry(client_id, online, time_ms))? {
            Done::One(r) => r,
            other => Err(mismatch(&other)),
        }
    }

    /// Counts an input refused before reaching the store (see `StatusStore::reject_unread`).
    pub(crate) fn reject_unread(&self, error: Error) -> Error {
        match self.read() {
            Ok(mut state) => state.engine.reject_unread(error),
            Err(_) => error,
        }
    }

    /// Online clients with no sign of life for `older_than_ms` before `now_ms`, oldest first.
    pub(crate) fn stale_online(
        &self,
        older_than_ms: u64,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<mqtt_status::StaleClient>, Error> {
        Ok(self.read()?.engine.stale_online(older_than_ms, now_ms, limit))
    }

    /// Whether the client is online.
    pub(crate) fn is_online(&self, client_id: &str) -> Result<bool, Error> {
        Ok(self.read()?.engine.is_online(client_id))
    }

    /// Everything known about a client.
    pub(crate) fn client(&self, client_id: &str) -> Result<Option<ClientStatus>, Error> {
        Ok(self.read()?.engine.client(client_id))
    }

    /// Online client ids, sorted and paginated as the engine's.
    pub(crate) fn online_clients(
        &self,
        group: Option<&str>,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<String>, Error> {
        Ok(self.read()?.engine.online_clients(group, after, limit))
    }

    /// Online clients, in all or in one group.
    pub(crate) fn count_online(&self, group: Option<&str>) -> Result<u64, Error> {
        Ok(self.read()?.engine.count_online(group))
    }

    /// Every group, sorted.
    pub(crate) fn groups(&self) -> Result<Vec<GroupCount>, Error> {
        Ok(self.read()?.engine.groups())
    }

    /// The engine's stats; the ingest counters count what this handle was fed since it opened.
    pub(crate) fn stats(&self) -> Result<Stats, Error> {
        let state = self.read()?;
        Ok(handle_stats(state.engine.stats(), &state.base))
    }

    /// The state in the engine's snapshot format.
    pub(crate) fn snapshot(&self) -> Result<Vec<u8>, Error> {
        Ok(self.read()?.engine.snapshot())
    }

    /// Merges an engine snapshot in, durably (logged as one entry).
    pub(crate) fn load_snapshot(&self, bytes: &[u8]) -> Result<(), Error> {
        let other = crate::restore_engine(bytes)?;
        if other.config() != &self.config {
            let json = |c: &Config| serde_json::to_string(c).unwrap_or_default();
            let reason =
                format!("the store has {}, the snapshot {}", json(&self.config), json(other.config()));
            return Err(Error::ConfigMismatch { reason });
        }
        drop(other);
        match self.commit(codec::merge_entry(bytes))? {
            Done::Merged(r) => r,
            other => Err(mismatch(&other)),
        }
    }

    /// Feed entries after the cursor `after`, at most `limit`.
    pub(crate) fn transitions(&self, after: Option<&str>, limit: Option<usize>) -> Result<FeedPage, Error> {
        self.read()?.feed.page(after, limit)
    }

    /// Commits (appends, each with one sync) led since open: fewer than the calls when they
    /// overlap (group commit).
    pub(crate) fn group_commits(&self) -> u64 {
        self.group.commits()
    }
}

/// A result of another kind than the call's: cannot happen (each call decodes its own entry).
fn mismatch(done: &Done) -> Error {
    Error::StoreUnavailable { reason: format!("internal error: unexpected commit result {done:?}") }
}
