//! `restore`: raw bytes, sealed bytes and mutated valid snapshots, then queries, ingest and merge.
//!
//! Input: a mode byte, then
//! - mode 0: the snapshot bytes as they are (seeds: the golden snapshots of `tests/vectors`);
//! - mode 1: a snapshot body; the target appends its checksum, so the fuzzer gets past the check
//!   (seeds: golden snapshots without their last 8 bytes);
//! - mode 2: a config flags byte and a JSONL log; the engine it builds is snapshotted, the rest
//!   of the input is read as edits (position, operation, byte) of that snapshot's body, and the
//!   result is sealed: mutated valid snapshots even from an empty corpus.
//!
//! Checks: a refusal is `invalid_snapshot` without a field. An accepted snapshot re-snapshots to
//! the identical bytes (the format is canonical; with `noncanonical` in `MQTT_STATUS_FUZZ_KNOWN`
//! only the engine's own snapshot must round-trip, while restore still accepts non-minimal
//! varints — issue 16), answers consistently (`check_consistent`), merges into itself as the
//! identity, into a fresh engine and with another engine both ways to the same state, refuses a
//! merge with another configuration without changing, and keeps working after an ingest.
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mqtt_status::{Config, ErrorCode, StatusEngine};
use mqtt_status_fuzz::{
    check_consistent, checksum_matches_core, config, engine, gauges, known, seal, state, EXAMPLE,
};

fn noncanonical_ok() -> bool {
    static FLAG: OnceLock<bool> = OnceLock::new();
    *FLAG.get_or_init(|| {
        checksum_matches_core();
        known("noncanonical")
    })
}

fuzz_target!(|data: &[u8]| {
    let lenient = noncanonical_ok();
    let Some((&mode, rest)) = data.split_first() else { return };
    let bytes = match mode % 3 {
        0 => rest.to_vec(),
        1 => seal(rest),
        _ => match mutated(rest) {
            Some(b) => b,
            None => return,
        },
    };
    let r = match StatusEngine::restore(&bytes) {
        Ok(r) => r,
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::InvalidSnapshot, "{e}");
            assert_eq!(e.field(), None, "{e:?}");
            return;
        }
    };
    let again = r.snapshot();
    if !lenient {
        assert!(again == bytes, "accepted a snapshot that re-snapshots to other bytes (not canonical)");
    }
    let back = StatusEngine::restore(&again).expect("own snapshot refused");
    assert_eq!(back.snapshot(), again, "own snapshot does not round-trip");
    assert!(StatusEngine::new(*r.config()).is_ok(), "restored an invalid config");
    let stats = check_consistent(&r, false);
    for id in ["GID_a@@@d1", "solo", "", "GID_a"] {
        if let Some(c) = r.client(id) {
            assert_eq!(c.online, r.is_online(id));
            assert!(c.channels.windows(2).all(|w| w[0].channel_id < w[1].channel_id));
        }
    }

    // Merge laws on the restored state.
    let mut twice = r.clone();
    twice.merge(&r).expect("same config");
    assert_eq!(twice.snapshot(), again, "merging an engine into itself changed it");
    let s = state(&r);
    let mut fresh = StatusEngine::new(*r.config()).unwrap();
    fresh.merge(&r).unwrap();
    assert_eq!(gauges(&fresh.stats()), gauges(&stats), "a fresh engine merged with it has other gauges");
    assert_eq!(state(&fresh), s, "state is not idempotent");
    let mut other = StatusEngine::new(*r.config()).unwrap();
    other.ingest_many(EXAMPLE.as_bytes());
    let (mut ro, mut or) = (r.clone(), other.clone());
    ro.merge(&other).unwrap();
    or.merge(&r).unwrap();
    check_consistent(&ro, false);
    if within_bound(&r, &other) {
        assert_eq!(state(&ro), state(&or), "merge is not commutative");
    }
    let foreign = Config { takeover: !r.config().takeover, ..*r.config() };
    let mut refused = r.clone();
    let err = refused.merge(&StatusEngine::new(foreign).unwrap()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigMismatch);
    assert_eq!(refused.snapshot(), again, "a refused merge changed the engine");

    // It keeps working.
    let mut fed = r.clone();
    let report = fed.ingest_many(EXAMPLE.as_bytes());
    assert!(report.errors.is_empty() || r.config().max_id_len < 40, "{:?}", report.errors);
    check_consistent(&fed, false);
});

/// Whether merging `a` and `b` compacts nothing away, so the join laws hold exactly
/// (docs/semantics.md, "within the tombstone bound"): every client both know (`b` knows only the
/// clients of `EXAMPLE`) holds at most the bound's number of channels on both sides together.
fn within_bound(a: &StatusEngine, b: &StatusEngine) -> bool {
    let bound = a.config().tombstones_per_client as usize;
    let chans = |e: &StatusEngine, id: &str| e.client(id).map_or(0, |c| c.channels.len());
    ["GID_a@@@d1", "GID_a@@@d2", "solo", "GID_b@@@d1"].iter().all(|id| chans(a, id) + chans(b, id) <= bound)
}

/// Mode 2: a real snapshot of a small engine, edited, sealed.
fn mutated(data: &[u8]) -> Option<Vec<u8>> {
    let mut u = Unstructured::new(data);
    let (config, _) = config(&mut u).ok()?;
    let mut e = engine(config)?;
    let log_len = usize::from(u8::arbitrary(&mut u).ok()?);
    let log = u.bytes(log_len.min(u.len())).ok()?;
    e.ingest_many(EXAMPLE.as_bytes());
    e.ingest_many(log);
    let snap = e.snapshot();
    let mut body = snap[..snap.len() - 8].to_vec();
    while let (Ok(pos), Ok(op), Ok(b)) =
        (u16::arbitrary(&mut u), u8::arbitrary(&mut u), u8::arbitrary(&mut u))
    {
        if u.is_empty() && pos == 0 && op == 0 && b == 0 {
            break;
        }
        let at = usize::from(pos) % (body.len() + 1);
        match op % 4 {
            0 if at < body.len() => body[at] ^= b.max(1),
            1 => body.insert(at, b),
            2 if at < body.len() => {
                body.remove(at);
            }
            3 if at < body.len() => body[at] = b,
            _ => {}
        }
        if u.is_empty() {
            break;
        }
    }
    Some(seal(&body))
}
