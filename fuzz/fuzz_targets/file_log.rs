//! `file_log`: the file store's log reader (`store/src/file/codec.rs`: header, frames, entries,
//! replayed as opening a store does) through the hook `mqtt_status_store::__fuzz_scan_log`.
//!
//! Input: a mode byte, then
//! - mode 0: a whole log image (seeds: real logs written by a file store, from
//!   `store/examples/fuzz_log_seeds.rs`, and the logs `make_seeds.py` writes);
//! - mode 1: a generation byte, then frames: the target writes a valid header before them;
//! - mode 2: a generation byte, a frame count, then per frame a length byte and that many body
//!   bytes, which the target seals as valid frames (CRC-32) after a valid header; the rest is
//!   garbage appended to that valid image.
//!
//! Checks: never a panic, and no allocation a length field asks for (the run has
//! `-rss_limit_mb`, which also caps single allocations). A scan that succeeds ends its whole
//! frames within the image, and calls the rest a torn tail exactly when bytes are left; the image
//! cut where the frames end scans to the same frames without a torn tail, and any cut inside the
//! torn tail too (with a torn tail while bytes remain). Garbage appended to a valid image never
//! changes the frames before it: the scan fails (damage before a whole frame, or an undecodable
//! entry in a whole frame the garbage holds) or keeps all of them, ending at or after the image.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_status::ErrorCode;
use mqtt_status_store::__fuzz_scan_log as scan;

fn header(gen: u64) -> Vec<u8> {
    let mut h = b"MQSTLOG1".to_vec();
    h.extend_from_slice(&gen.to_le_bytes());
    let crc = crc32fast::hash(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h
}

fn put_frame(out: &mut Vec<u8>, body: &[u8]) {
    let len = (body.len() as u32).to_le_bytes();
    let mut h = crc32fast::Hasher::new();
    h.update(&len);
    h.update(body);
    out.extend_from_slice(&len);
    out.extend_from_slice(&h.finalize().to_le_bytes());
    out.extend_from_slice(body);
}

fn checked(image: &[u8]) -> Option<(usize, usize, bool)> {
    match scan(image) {
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::InvalidSnapshot, "{e}");
            assert_eq!(e.field(), None, "{e:?}");
            None
        }
        Ok((frames, end, torn)) => {
            assert!(end >= 20 && end <= image.len(), "frames end at {end} of {}", image.len());
            assert_eq!(torn, end < image.len(), "torn tail reported wrongly (end {end} of {})", image.len());
            assert!(frames <= (end - 20) / 9, "{frames} frames in {} bytes", end - 20);
            Some((frames, end, torn))
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let (image, valid) = match mode % 3 {
        0 => (rest.to_vec(), None),
        _ if rest.is_empty() => return,
        1 => ([header(u64::from(rest[0])), rest[1..].to_vec()].concat(), None),
        _ => {
            let mut out = header(u64::from(rest[0]));
            let mut pos = 1;
            let count = rest.get(pos).map_or(0, |&n| n % 8);
            pos += 1;
            for _ in 0..count {
                let Some(&len) = rest.get(pos) else { break };
                let body = &rest[(pos + 1).min(rest.len())..(pos + 1 + usize::from(len)).min(rest.len())];
                pos += 1 + body.len();
                if !body.is_empty() {
                    put_frame(&mut out, body);
                }
            }
            let valid = out.len();
            out.extend_from_slice(&rest[pos.min(rest.len())..]);
            (out, Some(valid))
        }
    };
    let whole = checked(&image);
    if let Some((frames, end, torn)) = whole {
        // The image cut where its frames end: the same frames, nothing torn.
        assert_eq!(checked(&image[..end]), Some((frames, end, false)), "cut at the frames' end");
        if torn {
            // Any cut inside the torn tail is still a torn tail after the same frames.
            let cut = end + 1 + usize::from(mode >> 2) % (image.len() - end);
            let cut = cut.min(image.len());
            assert_eq!(
                checked(&image[..cut]),
                Some((frames, end, cut > end)),
                "cut at {cut} inside the torn tail"
            );
        }
    }
    if let Some(valid) = valid {
        // The valid prefix on its own: every frame whole (unless an entry is undecodable).
        let Some((n, end, torn)) = checked(&image[..valid]) else { return };
        assert!(end == valid && !torn, "a valid image scanned to {end} of {valid}, torn {torn}");
        if let Some((frames, end, _)) = whole {
            assert!(
                frames >= n && end >= valid,
                "appended garbage lost frames: {frames} < {n} or {end} < {valid}"
            );
        }
    }
});
