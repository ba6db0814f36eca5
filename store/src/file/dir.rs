//! The store's directory: the lock, the meta file, snapshot files and logs, and the atomic
//! write (temp file, fsync, rename, fsync the directory) everything but the log goes through.
//!
//! Files: `LOCK` (held with an exclusive lock while open), `meta` (the configuration, written
//! once at creation), `snap-G` (the state after every log before generation `G`, with the
//! retained feed), `log-G` (the calls since `snap-G`), and `*.tmp` (leftovers of an interrupted
//! atomic write, removed on open). `G` is 16 hex digits.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use mqtt_status::{Config, Error, StatusEngine};

use crate::file::codec::{corrupt, put_bytes, Reader};
use crate::file::feed::Feed;

/// First bytes of a snapshot file.
const SNAP_MAGIC: &[u8; 8] = b"MQSTSNP1";
/// The meta file's format tag.
const META_FORMAT: &str = "mqtt-status file store 1";

/// Turns an I/O failure into `store_unavailable`, saying what was being done.
pub(crate) fn unavailable(what: impl std::fmt::Display, e: io::Error) -> Error {
    Error::StoreUnavailable { reason: format!("{what}: {e}") }
}

/// Files of one kind and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Snap,
    Log,
}

/// File name of a snapshot or log of generation `gen`.
pub(crate) fn name(kind: Kind, gen: u64) -> String {
    match kind {
        Kind::Snap => format!("snap-{gen:016x}"),
        Kind::Log => format!("log-{gen:016x}"),
    }
}

/// What the directory holds, as listed on open.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) meta: bool,
    pub(crate) snaps: Vec<u64>,
    pub(crate) logs: Vec<u64>,
    pub(crate) temps: Vec<PathBuf>,
}

/// Lists the store's files (others are left alone).
pub(crate) fn list(dir: &Path) -> Result<Listing, Error> {
    let mut out = Listing::default();
    let entries = fs::read_dir(dir).map_err(|e| unavailable(format_args!("listing {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| unavailable(format_args!("listing {}", dir.display()), e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let gen = |prefix: &str| {
            let hex = name.strip_prefix(prefix)?;
            (hex.len() == 16).then(|| u64::from_str_radix(hex, 16).ok()).flatten()
        };
        if name == "meta" {
            out.meta = true;
        } else if name.ends_with(".tmp") {
            out.temps.push(entry.path());
        } else if let Some(g) = gen("snap-") {
            out.snaps.push(g);
        } else if let Some(g) = gen("log-") {
            out.logs.push(g);
        }
    }
    out.snaps.sort_unstable();
    out.logs.sort_unstable();
    Ok(out)
}

/// Takes the directory's lock: `store_locked` if another process or handle holds it.
pub(crate) fn lock(dir: &Path) -> Result<File, Error> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| unavailable(format_args!("opening {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(Error::StoreLocked {
            reason: format!("{} is open elsewhere (another process or handle holds its lock)", dir.display()),
        }),
        Err(TryLockError::Error(e)) => Err(unavailable(format_args!("locking {}", path.display()), e)),
    }
}

/// Makes the directory's entries (creations, renames, removals) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| unavailable(format_args!("syncing directory {}", dir.display()), e))
}

/// Writes `name` atomically: [`write_tmp`], then [`rename_tmp`]. The caller syncs the directory
/// (once for several files).
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Error> {
    write_tmp(dir, name, bytes)?;
    rename_tmp(dir, name)
}

/// Writes and syncs `name.tmp` (removed again if that fails).
pub(crate) fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Error> {
    let tmp = dir.join(format!("{name}.tmp"));
    let write = || -> io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        unavailable(format_args!("writing {}", tmp.display()), e)
    })
}

/// Renames `name.tmp` over `name`.
pub(crate) fn rename_tmp(dir: &Path, name: &str) -> Result<(), Error> {
    let tmp = dir.join(format!("{name}.tmp"));
    fs::rename(&tmp, dir.join(name)).map_err(|e| unavailable(format_args!("renaming {}", tmp.display()), e))
}

/// Reads a whole file; `store_unavailable` if it cannot be read.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Error> {
    fs::read(path).map_err(|e| unavailable(format_args!("reading {}", path.display()), e))
}

/// The meta file's bytes for `config`.
pub(crate) fn meta_bytes(config: &Config) -> Vec<u8> {
    let config = serde_json::to_string(config).unwrap_or_default();
    format!("{{\"format\":\"{META_FORMAT}\",\"config\":{config}}}\n").into_bytes()
}

/// The configuration in a meta file.
pub(crate) fn read_meta(bytes: &[u8]) -> Result<Config, Error> {
    #[derive(serde::Deserialize)]
    struct Meta {
        format: String,
        config: Config,
    }
    let meta: Meta = serde_json::from_slice(bytes).map_err(|e| corrupt(format!("meta: {e}")))?;
    if meta.format != META_FORMAT {
        return Err(corrupt(format!("meta: unknown format {:?}", meta.format)));
    }
    Ok(meta.config)
}

/// A snapshot file's bytes: magic, generation u64 LE, the feed, the engine snapshot, CRC-32 of
/// everything before.
pub(crate) fn snap_bytes(gen: u64, feed: &Feed, engine: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(engine.len() + 64);
    out.extend_from_slice(SNAP_MAGIC);
    out.extend_from_slice(&gen.to_le_bytes());
    feed.encode(&mut out);
    put_bytes(&mut out, engine);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads a snapshot file of generation `gen`: its engine and feed.
pub(crate) fn read_snap(bytes: &[u8], gen: u64, feed_max: usize) -> Result<(StatusEngine, Feed), Error> {
    let name = name(Kind::Snap, gen);
    let bad = |what: &str| corrupt(format!("{name}: {what}"));
    let (body, crc) =
        bytes.split_at_checked(bytes.len().saturating_sub(4)).ok_or_else(|| bad("truncated"))?;
    if crc.len() != 4 || crc32fast::hash(body).to_le_bytes() != crc {
        return Err(bad("checksum mismatch (corrupt or truncated)"));
    }
    let mut r = Reader::new(body);
    if r.take(8) != Some(SNAP_MAGIC.as_slice()) {
        return Err(bad("not a snapshot file of this format"));
    }
    if r.u64_le() != Some(gen) {
        return Err(bad("generation differs from its name"));
    }
    let feed = Feed::decode(&mut r, feed_max).ok_or_else(|| bad("bad feed"))?;
    let engine = r.bytes().ok_or_else(|| bad("truncated engine snapshot"))?;
    if !r.done() {
        return Err(bad("trailing bytes"));
    }
    let engine = crate::restore_engine(engine).map_err(|e| bad(&e.to_string()))?;
    Ok((engine, feed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_file_round_trips_and_rejects_damage() {
        let mut engine = StatusEngine::default();
        let t = engine
            .ingest_json(br#"{"clientId":"G@@@d","channelId":"c","eventType":"connect","time":1}"#, None);
        let mut feed = Feed::new(10);
        feed.push((&t.unwrap().unwrap()).into());
        let bytes = snap_bytes(5, &feed, &engine.snapshot());
        let (back, back_feed) = read_snap(&bytes, 5, 10).unwrap();
        assert_eq!(back.snapshot(), engine.snapshot());
        assert_eq!(back_feed.page(None, None).unwrap(), feed.page(None, None).unwrap());
        assert!(read_snap(&bytes, 6, 10).is_err());
        for i in [0, 9, 20, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert_eq!(read_snap(&bad, 5, 10).unwrap_err().code(), mqtt_status::ErrorCode::InvalidSnapshot);
        }
        assert!(read_snap(&bytes[..bytes.len() - 1], 5, 10).is_err());
        assert!(read_snap(&[], 5, 10).is_err());
    }

    #[test]
    fn meta_round_trips() {
        let config = Config { takeover: true, ..Config::default() };
        assert_eq!(read_meta(&meta_bytes(&config)).unwrap(), config);
        assert!(read_meta(b"{}").is_err());
    }
}
