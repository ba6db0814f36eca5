//! Byte layouts of the file store: the log's header and frames, the entries a frame holds, and
//! the little-endian / varint helpers the snapshot file shares.
//!
//! Log: a 20-byte header (`"MQSTLOG1"`, generation u64 LE, CRC-32 of those 16 bytes), then
//! frames. A frame is one group commit: body length u32 LE (> 0), CRC-32 (of the length bytes and
//! the body) u32 LE, body. A body is entries back to back, each a kind byte and its fields:
//! - 1 `json`: tag, body — one `ingest_json`
//! - 2 `many`: bytes — one `ingest_many` (the JSONL as given)
//! - 3 `items`: count, then per item tag, bytes — one `ingest_items`
//! - 4 `merge`: bytes — one `load_snapshot` (the engine snapshot merged in)
//! - 5 `advance`: varint time — one `advance(now_ms)` that moved the watermark
//! - 6 `observe`: id (bytes), online (1 byte, 0 or 1), varint time — one `observe`
//!
//! where bytes are a varint length and the bytes, and a tag is a varint 0 (none) or length + 1
//! and the text. The input is logged as given and replayed through the same engine calls, so a
//! replay reproduces the state, the reports and the transitions exactly (the engine is
//! deterministic).

use mqtt_status::Error;

/// First bytes of a log file.
pub(crate) const LOG_MAGIC: &[u8; 8] = b"MQSTLOG1";
/// Length of a log header.
pub(crate) const LOG_HEADER: usize = 20;
/// Length of a frame header (length + checksum).
pub(crate) const FRAME_HEADER: usize = 8;
/// Largest frame body: a bigger batch must be split by the caller.
pub(crate) const FRAME_MAX: usize = 1 << 30;

const JSON: u8 = 1;
const MANY: u8 = 2;
const ITEMS: u8 = 3;
const MERGE: u8 = 4;
const ADVANCE: u8 = 5;
const OBSERVE: u8 = 6;

/// One logged call, borrowing from a frame body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// `ingest_json(body, tag)`.
    Json { body: &'a [u8], tag: Option<&'a str> },
    /// `ingest_many(jsonl)`.
    Many(&'a [u8]),
    /// `ingest_items(items)`.
    Items(Vec<(&'a [u8], Option<&'a str>)>),
    /// `load_snapshot(bytes)`.
    Merge(&'a [u8]),
    /// `advance(now_ms)`.
    Advance(u64),
    /// `observe(client_id, online, time_ms)`.
    Observe { client_id: &'a str, online: bool, time: u64 },
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::InvalidSnapshot { reason: format!("file store: {what}") }
}

/// Appends `v` as a LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_tag(out: &mut Vec<u8>, tag: Option<&str>) {
    match tag {
        None => out.push(0),
        Some(t) => {
            put_varint(out, t.len() as u64 + 1);
            out.extend_from_slice(t.as_bytes());
        }
    }
}

/// Encodes one `ingest_json` call.
pub(crate) fn json_entry(body: &[u8], tag: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    out.push(JSON);
    put_tag(&mut out, tag);
    put_bytes(&mut out, body);
    out
}

/// Encodes one `ingest_many` call.
pub(crate) fn many_entry(jsonl: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(jsonl.len() + 12);
    out.push(MANY);
    put_bytes(&mut out, jsonl);
    out
}

/// Encodes one `ingest_items` call.
pub(crate) fn items_entry(items: &[(&[u8], Option<&str>)]) -> Vec<u8> {
    let size: usize = items.iter().map(|(b, t)| b.len() + t.map_or(0, str::len) + 8).sum();
    let mut out = Vec::with_capacity(size + 12);
    out.push(ITEMS);
    put_varint(&mut out, items.len() as u64);
    for (body, tag) in items {
        put_tag(&mut out, *tag);
        put_bytes(&mut out, body);
    }
    out
}

/// Encodes one `load_snapshot` call.
pub(crate) fn merge_entry(snapshot: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(snapshot.len() + 12);
    out.push(MERGE);
    put_bytes(&mut out, snapshot);
    out
}

/// Encodes one `advance` call.
pub(crate) fn advance_entry(now_ms: u64) -> Vec<u8> {
    let mut out = vec![ADVANCE];
    put_varint(&mut out, now_ms);
    out
}

/// Encodes one `observe` call.
pub(crate) fn observe_entry(client_id: &str, online: bool, time_ms: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(client_id.len() + 16);
    out.push(OBSERVE);
    put_bytes(&mut out, client_id.as_bytes());
    out.push(u8::from(online));
    put_varint(&mut out, time_ms);
    out
}

/// A cursor over bytes; every read fails cleanly on truncation.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub(crate) fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    pub(crate) fn u64_le(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    pub(crate) fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        self.take(n)
    }

    pub(crate) fn text(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    fn tag(&mut self) -> Option<Option<&'a str>> {
        match self.varint()? {
            0 => Some(None),
            n => {
                let b = self.take(usize::try_from(n - 1).ok()?)?;
                Some(Some(std::str::from_utf8(b).ok()?))
            }
        }
    }

    /// The next entry of a frame body.
    pub(crate) fn entry(&mut self) -> Option<Entry<'a>> {
        match self.u8()? {
            JSON => {
                let tag = self.tag()?;
                Some(Entry::Json { body: self.bytes()?, tag })
            }
            MANY => Some(Entry::Many(self.bytes()?)),
            ITEMS => {
                let n = usize::try_from(self.varint()?).ok()?;
                // Each item takes at least two bytes: a count beyond that is corrupt, not a
                // reason to reserve memory.
                let mut items = Vec::with_capacity(n.min(self.bytes.len() / 2));
                for _ in 0..n {
                    let tag = self.tag()?;
                    items.push((self.bytes()?, tag));
                }
                Some(Entry::Items(items))
            }
            MERGE => Some(Entry::Merge(self.bytes()?)),
            ADVANCE => Some(Entry::Advance(self.varint()?)),
            OBSERVE => {
                let client_id = self.text()?;
                let online = match self.u8()? {
                    0 => false,
                    1 => true,
                    _ => return None,
                };
                Some(Entry::Observe { client_id, online, time: self.varint()? })
            }
            _ => None,
        }
    }
}

/// The checksum of a frame: CRC-32 of its length bytes and body.
fn frame_crc(len: [u8; 4], body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len);
    h.update(body);
    h.finalize()
}

/// Appends a frame holding `entries` (already encoded, back to back) to `out`.
pub(crate) fn put_frame<'e>(out: &mut Vec<u8>, entries: impl IntoIterator<Item = &'e [u8]>) {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER]);
    for e in entries {
        out.extend_from_slice(e);
    }
    let body_len = out.len() - start - FRAME_HEADER;
    let len = (body_len as u32).to_le_bytes();
    let crc = frame_crc(len, &out[start + FRAME_HEADER..]);
    out[start..start + 4].copy_from_slice(&len);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// A log header for generation `gen`.
pub(crate) fn log_header(gen: u64) -> [u8; LOG_HEADER] {
    let mut h = [0u8; LOG_HEADER];
    h[..8].copy_from_slice(LOG_MAGIC);
    h[8..16].copy_from_slice(&gen.to_le_bytes());
    let crc = crc32fast::hash(&h[..16]);
    h[16..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Checks a log's header; its generation.
pub(crate) fn read_log_header(bytes: &[u8], name: &str) -> Result<u64, Error> {
    let h = bytes.get(..LOG_HEADER).ok_or_else(|| corrupt(format!("{name}: header truncated")))?;
    let crc = u32::from_le_bytes(h[16..20].try_into().unwrap_or_default());
    if &h[..8] != LOG_MAGIC || crc32fast::hash(&h[..16]) != crc {
        return Err(corrupt(format!("{name}: not a log of this format")));
    }
    Ok(u64::from_le_bytes(h[8..16].try_into().unwrap_or_default()))
}

/// How a log's frames end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Where the last whole frame ends: the log's length once a torn tail is cut.
    pub(crate) end: usize,
    /// Whether bytes after `end` were dropped as a torn tail.
    pub(crate) torn: bool,
}

/// The body of the whole frame `bytes` starts with, if it does.
fn whole_frame(bytes: &[u8]) -> Option<&[u8]> {
    let len_bytes: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    let len = u32::from_le_bytes(len_bytes) as usize;
    if len == 0 || len > FRAME_MAX {
        return None;
    }
    let crc = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let body = bytes.get(FRAME_HEADER..FRAME_HEADER + len)?;
    (frame_crc(len_bytes, body) == crc).then_some(body)
}

/// Calls `each` with every whole frame's body after the header, in order.
///
/// A bad frame (short header, zero or oversized length, length past the end, checksum mismatch)
/// with no whole frame anywhere after it is a torn tail — the last, unacknowledged group commit,
/// cut by a crash (or zeros where a file system extended the file before its data landed) — and
/// is dropped. A bad frame with a whole frame after it is damage in the middle of acknowledged
/// data: `invalid_snapshot`, never a silent loss of the good frames after it. (Looking for a
/// whole frame at every later offset costs nothing in the normal case: it only runs on a bad
/// frame, and a random length rarely fits what follows.)
pub(crate) fn scan_frames<F>(bytes: &[u8], name: &str, mut each: F) -> Result<Scan, Error>
where
    F: FnMut(&[u8]) -> Result<(), Error>,
{
    let mut pos = LOG_HEADER;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        match whole_frame(rest) {
            Some(body) => {
                each(body)?;
                pos += FRAME_HEADER + body.len();
            }
            None => {
                if let Some(at) = (1..rest.len()).find(|&at| whole_frame(&rest[at..]).is_some()) {
                    return Err(corrupt(format!(
                        "{name}: bad frame at byte {pos} before a whole frame at byte {} (corruption, not a torn write)",
                        pos + at
                    )));
                }
                return Ok(Scan { end: pos, torn: true });
            }
        }
    }
    Ok(Scan { end: pos, torn: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut out = log_header(3).to_vec();
        for e in entries {
            put_frame(&mut out, [e.as_slice()]);
        }
        out
    }

    fn bodies(bytes: &[u8]) -> Result<(Vec<Vec<u8>>, Scan), Error> {
        let mut seen = Vec::new();
        let scan = scan_frames(bytes, "log", |b| {
            seen.push(b.to_vec());
            Ok(())
        })?;
        Ok((seen, scan))
    }

    #[test]
    fn entries_round_trip() {
        let items: Vec<(&[u8], Option<&str>)> = vec![(b"{}", Some("connect")), (b"x", None), (b"", Some(""))];
        let encoded = [
            json_entry(b"{\"a\":1}", Some("tcpclean")),
            json_entry(b"", None),
            many_entry(b"l1\nl2"),
            items_entry(&items),
            merge_entry(b"MQSTATUS.."),
        ];
        let all: Vec<u8> = encoded.concat();
        let mut r = Reader::new(&all);
        assert_eq!(r.entry(), Some(Entry::Json { body: b"{\"a\":1}", tag: Some("tcpclean") }));
        assert_eq!(r.entry(), Some(Entry::Json { body: b"", tag: None }));
        assert_eq!(r.entry(), Some(Entry::Many(b"l1\nl2")));
        assert_eq!(r.entry(), Some(Entry::Items(items)));
        assert_eq!(r.entry(), Some(Entry::Merge(b"MQSTATUS..")));
        assert!(r.done());
        assert_eq!(Reader::new(&[9]).entry(), None);
        assert_eq!(Reader::new(&[1, 0, 5, b'a']).entry(), None);
    }

    #[test]
    fn header_round_trip_and_rejects() {
        assert_eq!(read_log_header(&log_header(7), "l").unwrap(), 7);
        let mut bad = log_header(7);
        bad[9] ^= 1;
        assert!(read_log_header(&bad, "l").is_err());
        assert!(read_log_header(&bad[..10], "l").is_err());
    }

    #[test]
    fn every_cut_of_the_last_frame_is_a_torn_tail() {
        let full = log(&[json_entry(b"one", None), many_entry(b"two\nthree")]);
        let (all, scan) = bodies(&full).unwrap();
        assert_eq!((all.len(), scan), (2, Scan { end: full.len(), torn: false }));
        let second = LOG_HEADER + FRAME_HEADER + all[0].len();
        for cut in second..full.len() {
            let (seen, scan) = bodies(&full[..cut]).unwrap();
            assert_eq!(seen.len(), 1, "cut at {cut}");
            assert_eq!(scan, Scan { end: second, torn: cut > second });
        }
    }

    #[test]
    fn zeroed_tail_is_torn_but_damage_before_good_frames_is_corruption() {
        let full = log(&[json_entry(b"one", None), json_entry(b"two", None)]);
        let mut zeroed = full.clone();
        zeroed.extend_from_slice(&[0; 100]);
        assert_eq!(bodies(&zeroed).unwrap().1, Scan { end: full.len(), torn: true });
        let mut flipped = full.clone();
        flipped[LOG_HEADER + FRAME_HEADER] ^= 0x40;
        let e = bodies(&flipped).unwrap_err();
        assert_eq!(e.code(), mqtt_status::ErrorCode::InvalidSnapshot);
        // The same damage in the last frame is a torn tail.
        let mut last = full.clone();
        let n = last.len();
        last[n - 1] ^= 0x40;
        assert_eq!(bodies(&last).unwrap().0.len(), 1);
    }
}
