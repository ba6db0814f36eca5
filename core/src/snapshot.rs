//! The snapshot format: versioned, checksummed, canonical (clients sorted by id, channels by
//! channelId), so identical states give identical bytes in every language.
//!
//! Layout (integers are LEB128 varints unless noted; an optional time is 0 or time + 1):
//! `"MQSTATUS"`, version byte, config (flags byte: 1 closeOnDisconnect, 2 takeover, 4
//! maxOpenChannels follows; tombstonesPerClient, maxIdLen, then maxOpenChannels only when it is
//! not the default, so snapshots of default-configured engines keep their bytes), the seven
//! ingest counters, client count, then per client: id (length + bytes), horizon, dropped
//! connects, channel count, and per channel: key (0 + 16 bytes, or 1 + length + text), three
//! optional times (connect, disconnect, tcpclean), address (0 none, 1 + 4 bytes + u16 LE port,
//! 2 + length + text). Last, 8 bytes LE: a checksum of everything before.
//!
//! Version 2 (issue 17) adds, after the config, `offlineGraceMs` and the `advance` watermark
//! (an optional time), and per client, after the dropped connects, the latest offline and
//! online observations (two optional times). It is written only when one of these is set, so a
//! state without a grace, an `advance` or an observation keeps its version 1 bytes; both
//! versions restore.
//!
//! Version 3 (issue 18) adds, per channel after its address, its close's reason (length + text,
//! 0 for none; only a channel with a `tcpclean` has one). It holds everything version 2 does
//! and is written only when some channel has a reason, so every state without reasons keeps
//! its bytes; all three versions restore.
//!
//! Every value has exactly one encoding (varints minimal, optional fields present only when they
//! must be), and `restore` refuses any other, so an accepted snapshot re-snapshots to its bytes.

use alloc::vec::Vec;

use crate::channel::{Channel, NONE};
use crate::client::Client;
use crate::engine::Counters;
use crate::hash::{hash_bytes, IndexKey};
use crate::ids::{ChannelKey, Ip, IpRef, KeyRef};
use crate::parse::MAX_TIME;
use crate::{Config, Error, EventType, StatusEngine};

const MAGIC: &[u8; 8] = b"MQSTATUS";
/// Newest version of the snapshot layout written by this crate (an older one is still written
/// for a state that needs nothing newer; all restore).
pub const SNAPSHOT_VERSION: u8 = 3;
/// The layout before grace and observations.
const V1: u8 = 1;
/// With grace, the `advance` time and observations.
const V2: u8 = 2;

/// `maxOpenChannels` of a snapshot whose flags do not say otherwise: the default (snapshots
/// written before the option existed carry none and restore with it).
const DEFAULT_OPEN: u32 = 8;

pub(crate) fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_time(out: &mut Vec<u8>, t: u64) {
    put(out, if t == NONE { 0 } else { t + 1 });
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put(out, b.len() as u64);
    out.extend_from_slice(b);
}

impl StatusEngine {
    /// The whole state, configuration and counters included, as compact versioned bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.ids.len() + self.clients.len() * 24);
        out.extend_from_slice(MAGIC);
        let version = self.needs_version();
        let v2 = version >= V2;
        out.push(version);
        let c = &self.config;
        let open_limit = (c.max_open_channels != DEFAULT_OPEN).then_some(c.max_open_channels);
        out.push(
            u8::from(c.close_on_disconnect)
                | (u8::from(c.takeover) << 1)
                | (u8::from(open_limit.is_some()) << 2),
        );
        put(&mut out, c.tombstones_per_client.into());
        put(&mut out, c.max_id_len.into());
        if let Some(n) = open_limit {
            put(&mut out, n.into());
        }
        if v2 {
            put(&mut out, c.offline_grace_ms);
            put_time(&mut out, self.advanced_to);
        }
        let k = &self.counters;
        for v in [k.events, k.applied, k.duplicates, k.late, k.rejected, k.went_online, k.went_offline] {
            put(&mut out, v);
        }
        put(&mut out, self.clients.len() as u64);
        let mut chans: Vec<&Channel> = Vec::new();
        for &i in self.sorted().iter() {
            put_bytes(&mut out, self.id_bytes(i));
            write_client(&mut out, &self.clients[i as usize], &mut chans, version);
        }
        let sum = hash_bytes(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Rebuilds an engine from [`snapshot`](Self::snapshot) bytes. Corrupt, truncated or foreign
    /// bytes give `invalid_snapshot`. The engine's index has the fixed key: hosts that restore
    /// snapshots of device-chosen ids use [`restore_keyed`](Self::restore_keyed).
    pub fn restore(bytes: &[u8]) -> Result<Self, Error> {
        Self::restore_keyed(bytes, IndexKey::FIXED)
    }

    /// [`restore`](Self::restore) with the client index hashed under `key` from the start (as
    /// [`with_index_key`](Self::with_index_key), without building the index twice).
    pub fn restore_keyed(bytes: &[u8], key: IndexKey) -> Result<Self, Error> {
        if bytes.len() < MAGIC.len() + 1 + 8 || &bytes[..MAGIC.len()] != MAGIC {
            return Err(Error::snapshot("not an mqtt-status snapshot"));
        }
        let version = bytes[MAGIC.len()];
        if !(V1..=SNAPSHOT_VERSION).contains(&version) {
            return Err(Error::snapshot(alloc::format!("unsupported snapshot version {version}")));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let mut want = [0u8; 8];
        want.copy_from_slice(sum);
        if hash_bytes(body) != u64::from_le_bytes(want) {
            return Err(Error::snapshot("checksum mismatch (corrupt or truncated)"));
        }
        let mut r = Reader { bytes: body, pos: MAGIC.len() + 1 };
        let engine = read_engine(&mut r, version, key)?;
        if r.pos != body.len() {
            return Err(Error::snapshot("trailing bytes"));
        }
        let needed = engine.needs_version();
        if needed != version {
            // One state, one encoding: a newer version only for what an older one cannot hold.
            return Err(Error::snapshot(alloc::format!(
                "version {version} snapshot of a state version {needed} holds"
            )));
        }
        Ok(engine)
    }

    /// The oldest version that holds the state: 3 with a reason, else 2 with a grace, an
    /// `advance` or an observation, else 1.
    fn needs_version(&self) -> u8 {
        if self.clients.iter().any(Client::has_reason) {
            SNAPSHOT_VERSION
        } else if self.config.offline_grace_ms > 0
            || self.advanced_to != NONE
            || self.clients.iter().any(|c| c.obs.is_some())
        {
            V2
        } else {
            V1
        }
    }
}

/// One client's encoding after its id (horizon, dropped connects, channels sorted by key): the
/// part a snapshot and a per-client record (`record.rs`) share, in layout `version` (both
/// number them alike: 2 adds the observations, 3 the reasons). `chans` is a reusable buffer.
pub(crate) fn write_client<'c>(
    out: &mut Vec<u8>,
    client: &'c Client,
    chans: &mut Vec<&'c Channel>,
    version: u8,
) {
    put_time(out, client.horizon);
    put(out, client.dropped_connects.into());
    if version >= V2 {
        put_time(out, client.obs_off());
        put_time(out, client.obs_on());
    }
    chans.clear();
    chans.extend(client.channels.as_slice());
    chans.sort_by(|a, b| a.key().cmp(&b.key()));
    put(out, chans.len() as u64);
    for ch in chans.iter() {
        match ch.key() {
            KeyRef::Hex(h) => {
                out.push(0);
                out.extend_from_slice(h);
            }
            KeyRef::Text(t) => {
                out.push(1);
                put_bytes(out, t.as_bytes());
            }
        }
        for t in ch.times {
            put_time(out, t);
        }
        match ch.ip() {
            None => out.push(0),
            Some(IpRef::V4(a, p)) => {
                out.push(1);
                out.extend_from_slice(&a);
                out.extend_from_slice(&p.to_le_bytes());
            }
            Some(IpRef::Text(t)) => {
                out.push(2);
                put_bytes(out, t.as_bytes());
            }
        }
        if version > V2 {
            put_bytes(out, ch.reason().unwrap_or_default().as_bytes());
        }
    }
}

pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

fn truncated() -> Error {
    Error::snapshot("truncated")
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Error> {
        let b = *self.bytes.get(self.pos).ok_or_else(truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(truncated)?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                break;
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                // Minimal LEB128 only (no trailing zero groups): one value, one encoding.
                if b == 0 && shift > 0 {
                    break;
                }
                return Ok(v);
            }
        }
        Err(Error::snapshot("bad integer"))
    }

    fn small(&mut self, max: u64, what: &str) -> Result<u32, Error> {
        let v = self.varint()?;
        if v > max {
            return Err(Error::snapshot(alloc::format!("{what} out of range")));
        }
        Ok(v as u32)
    }

    fn time(&mut self) -> Result<u64, Error> {
        match self.varint()? {
            0 => Ok(NONE),
            t if t - 1 <= MAX_TIME => Ok(t - 1),
            _ => Err(Error::snapshot("time out of range")),
        }
    }

    fn text(&mut self, max_len: u32, what: &str) -> Result<&'a str, Error> {
        let len = self.varint()?;
        if len == 0 || len > u64::from(max_len) {
            return Err(Error::snapshot(alloc::format!("{what} length out of range")));
        }
        let b = self.take(len as usize)?;
        core::str::from_utf8(b).map_err(|_| Error::snapshot(alloc::format!("{what} is not UTF-8")))
    }
}

fn read_engine(r: &mut Reader<'_>, version: u8, key: IndexKey) -> Result<StatusEngine, Error> {
    let v2 = version >= V2;
    let flags = r.byte()?;
    if flags > 7 {
        return Err(Error::snapshot("unknown config flags"));
    }
    let mut config = Config {
        close_on_disconnect: flags & 1 != 0,
        takeover: flags & 2 != 0,
        tombstones_per_client: r.small(u32::MAX.into(), "tombstonesPerClient")?,
        max_id_len: r.small(u32::MAX.into(), "maxIdLen")?,
        max_open_channels: DEFAULT_OPEN,
        // How lines are read is not state: a restored engine reads `aliyun` until told otherwise.
        source: crate::Source::Aliyun,
        offline_grace_ms: 0,
    };
    if flags & 4 != 0 {
        config.max_open_channels = r.small(u32::MAX.into(), "maxOpenChannels")?;
        if config.max_open_channels == DEFAULT_OPEN {
            return Err(Error::snapshot("default maxOpenChannels written out"));
        }
    }
    let mut advanced_to = NONE;
    if v2 {
        config.offline_grace_ms = r.varint()?;
        advanced_to = r.time()?;
    }
    config.validate().map_err(|e| Error::snapshot(alloc::format!("config: {e}")))?;
    let mut engine = StatusEngine::empty(config).with_index_key(key);
    engine.advanced_to = advanced_to;
    let mut k = [0u64; 7];
    for v in &mut k {
        *v = r.varint()?;
    }
    let [events, applied, duplicates, late, rejected, went_online, went_offline] = k;
    engine.counters = Counters { events, applied, duplicates, late, rejected, went_online, went_offline };
    let count = r.varint()?;
    let mut prev: Option<&str> = None;
    for _ in 0..count {
        let id = r.text(config.max_id_len, "client id")?;
        if prev.is_some_and(|p| p >= id) {
            return Err(Error::snapshot("client ids not in strictly increasing order"));
        }
        prev = Some(id);
        let idx = engine.insert_client(id).map_err(|e| Error::snapshot(alloc::format!("{e}")))?;
        let client = read_client(r, &config, &engine.clients[idx as usize], version)?;
        engine.clients[idx as usize] = client;
        engine.settle(idx, false);
        if config.offline_grace_ms > 0 {
            engine.settle_pending(idx);
        }
    }
    // Clients were inserted in id order, so the sorted order is the identity.
    *engine.order.get_mut() = (0..engine.clients.len() as u32).collect();
    Ok(engine)
}

pub(crate) fn read_client(
    r: &mut Reader<'_>,
    config: &Config,
    base: &Client,
    version: u8,
) -> Result<Client, Error> {
    let mut client = base.clone();
    client.horizon = r.time()?;
    client.dropped_connects = r.small(u32::MAX.into(), "dropped connects")?;
    if version >= V2 {
        let obs = crate::observe::Obs { off: r.time()?, on: r.time()? };
        client.join_obs(&obs);
    }
    let n = r.varint()?;
    let mut prev: Option<ChannelKey> = None;
    for _ in 0..n {
        let key = match r.byte()? {
            0 => {
                let mut h = [0u8; 16];
                h.copy_from_slice(r.take(16)?);
                ChannelKey::Hex(h)
            }
            1 => {
                let key = ChannelKey::new(r.text(config.max_id_len, "channel id")?);
                if matches!(key, ChannelKey::Hex(_)) {
                    return Err(Error::snapshot("hex channel id stored as text"));
                }
                key
            }
            _ => return Err(Error::snapshot("unknown channel key tag")),
        };
        if prev.as_ref().is_some_and(|p| *p >= key) {
            return Err(Error::snapshot("channel ids not in strictly increasing order"));
        }
        prev = Some(key.clone());
        let mut ch = Channel::new(key);
        for t in &mut ch.times {
            *t = r.time()?;
        }
        if ch.times.iter().all(|&t| t == NONE) {
            return Err(Error::snapshot("channel without events"));
        }
        let ip = match r.byte()? {
            0 => None,
            1 => {
                let a = r.take(6)?;
                Some(Ip::V4([a[0], a[1], a[2], a[3]], u16::from_le_bytes([a[4], a[5]])))
            }
            2 => {
                let ip = Ip::new(r.text(config.max_id_len, "client address")?);
                if matches!(ip, Ip::V4(..)) {
                    return Err(Error::snapshot("IPv4 address stored as text"));
                }
                Some(ip)
            }
            _ => return Err(Error::snapshot("unknown address tag")),
        };
        ch.set_ip(ip);
        if version > V2 {
            let len = r.small(config.max_id_len.into(), "reason length")?;
            let text = core::str::from_utf8(r.take(len as usize)?)
                .map_err(|_| Error::snapshot("reason is not UTF-8"))?;
            if len > 0 && ch.times[EventType::TcpClean.index()] == NONE {
                return Err(Error::snapshot("reason without a tcpclean"));
            }
            ch.set_reason(Some(text));
        }
        client.channels.push(ch);
    }
    let before = client.channels.as_slice().len();
    if before == 0 && client.horizon == NONE && client.obs.is_none() {
        // Only compaction empties a client, and it always leaves a horizon (or an observation
        // made it).
        return Err(Error::snapshot("client without channels or horizon"));
    }
    client.compact(config);
    if client.channels.as_slice().len() != before {
        return Err(Error::snapshot("more tombstones than tombstonesPerClient allows"));
    }
    Ok(client)
}

#[cfg(test)]
#[path = "snapshot_canonical_tests.rs"]
mod canonical_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(mut body: Vec<u8>) -> Vec<u8> {
        let sum = hash_bytes(&body);
        body.extend_from_slice(&sum.to_le_bytes());
        body
    }

    #[test]
    fn a_client_with_nothing_is_refused() {
        // version, flags, tombstones 8, maxIdLen 256 (varint), seven zero counters, one client
        // "a" with horizon byte `horizon` (0 = none), no dropped connects and no channels.
        let one_client = |horizon: u8| {
            let mut body = MAGIC.to_vec();
            body.extend_from_slice(&[V1, 0, 8, 0x80, 0x02]);
            body.extend_from_slice(&[0; 7]);
            body.extend_from_slice(&[1, 1, b'a', horizon, 0, 0]);
            seal(body)
        };
        let err = StatusEngine::restore(&one_client(0)).unwrap_err();
        assert_eq!(err, Error::snapshot("client without channels or horizon"));
        // The same client with a horizon is what compaction leaves behind: accepted.
        let e = StatusEngine::restore(&one_client(6)).unwrap();
        assert_eq!(e.client("a").and_then(|c| c.horizon), Some(5));
    }

    #[test]
    fn version_2_only_for_what_version_1_cannot_hold() {
        // An empty engine in version 2 (grace 0, no advance): refused, it has one encoding.
        let mut body = MAGIC.to_vec();
        body.extend_from_slice(&[V2, 0, 8, 0x80, 0x02, 0, 0]);
        body.extend_from_slice(&[0; 8]);
        let err = StatusEngine::restore(&seal(body.clone())).unwrap_err();
        assert_eq!(err, Error::snapshot("version 2 snapshot of a state version 1 holds"));
        body[MAGIC.len()] = SNAPSHOT_VERSION;
        let err = StatusEngine::restore(&seal(body.clone())).unwrap_err();
        assert_eq!(err, Error::snapshot("version 3 snapshot of a state version 1 holds"));
        body[MAGIC.len()] = V2;
        // The same with a grace of 1 ms is what such an engine writes.
        body[MAGIC.len() + 5] = 1;
        let e = StatusEngine::restore(&seal(body.clone())).unwrap();
        assert_eq!(e.config().offline_grace_ms, 1);
        assert_eq!(e.snapshot(), seal(body));
        assert_eq!(StatusEngine::default().snapshot()[MAGIC.len()], V1);
    }

    #[test]
    fn the_default_open_limit_is_the_configs() {
        assert_eq!(DEFAULT_OPEN, Config::default().max_open_channels);
    }
}
