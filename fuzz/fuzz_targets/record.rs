//! `record`: the core's per-client record codec (`core/src/record.rs`): `load_record`,
//! `client_record`, `join_records`.
//!
//! Input: a config flags byte (`mqtt_status_fuzz::config`; bit 4: load into an engine that
//! already holds the clients of `EXAMPLE`, not an empty one), a mode byte, a client id (one
//! length byte, then that many bytes, lossily UTF-8), then
//! - mode 0: the record bytes as they are;
//! - mode 1: a record body; the target appends the checksum for the id, so the fuzzer gets past it;
//! - mode 2: a JSONL log (length byte + bytes) fed after `EXAMPLE` to an engine of the same
//!   config, one of its clients (index byte), whose record's body is edited (position, operation,
//!   byte) and sealed for the chosen id (bit 0 of the mode's high bits: the record's own id).
//!
//! Checks: a refusal is `invalid_snapshot` without a field, and the engine is unchanged (snapshot
//! bytes). An accepted record: `client_record` gives back exactly the bytes (canonical), the
//! client is known and answers consistently (`check_consistent`), loading it again or loading it
//! into a fresh engine gives the same record, and `join_records` of the record with itself is
//! the record.
#![no_main]

use std::sync::Once;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use mqtt_status::{ErrorCode, StatusEngine};
use mqtt_status_fuzz::{check_consistent, config, engine, record_seal_matches_core, seal_record, EXAMPLE};

fuzz_target!(|data: &[u8]| {
    static CHECK: Once = Once::new();
    CHECK.call_once(record_seal_matches_core);
    let mut u = Unstructured::new(data);
    let Ok((config, high)) = config(&mut u) else { return };
    let Some(mut e) = engine(config) else { return };
    if high & 1 != 0 {
        e.ingest_many(EXAMPLE.as_bytes());
    }
    let Ok(mode) = u8::arbitrary(&mut u) else { return };
    let Ok(id_len) = u8::arbitrary(&mut u) else { return };
    let Ok(id_bytes) = u.bytes(usize::from(id_len).min(u.len())) else { return };
    let mut id = String::from_utf8_lossy(id_bytes).into_owned();
    let record = match mode % 3 {
        0 => u.take_rest().to_vec(),
        1 => seal_record(&id, u.take_rest()),
        _ => match mutated(&mut u, config, mode >> 2 & 1 != 0, &mut id) {
            Some(r) => r,
            None => return,
        },
    };

    let before = e.snapshot();
    let known_before = e.client(&id).is_some();
    match e.load_record(&id, &record) {
        Err(err) => {
            assert_eq!(err.code(), ErrorCode::InvalidSnapshot, "{err}");
            assert_eq!(err.field(), None, "{err:?}");
            assert!(e.snapshot() == before, "a refused record changed the engine");
            assert_eq!(e.client(&id).is_some(), known_before);
            // A refused record is refused by the join too.
            let join = StatusEngine::join_records(config, &id, &record, &record);
            assert_eq!(join.map_err(|e| e.code()).err(), Some(ErrorCode::InvalidSnapshot));
        }
        Ok(()) => {
            let back = e.client_record(&id).expect("a loaded client is known");
            assert!(back == record, "an accepted record reads back as other bytes (not canonical)");
            let c = e.client(&id).expect("a loaded client is known");
            assert_eq!(c.online, e.is_online(&id));
            assert!(c.channels.windows(2).all(|w| w[0].channel_id < w[1].channel_id));
            check_consistent(&e, false);
            let after = e.snapshot();
            e.load_record(&id, &record).expect("the same record again");
            assert!(e.snapshot() == after, "loading a record twice is not idempotent");
            let mut fresh = StatusEngine::new(config).unwrap();
            fresh.load_record(&id, &record).expect("accepted once, refused by a fresh engine");
            assert!(fresh.client_record(&id).as_deref() == Some(&record[..]));
            assert_eq!(fresh.client(&id), Some(c), "the client answers differently in a fresh engine");
            let join = StatusEngine::join_records(config, &id, &record, &record).expect("join with itself");
            assert!(join == record, "joining a record with itself changed it");
        }
    }
});

/// Mode 2: a real client record of a small engine, edited, sealed (for its own id or `id`).
fn mutated(
    u: &mut Unstructured<'_>,
    config: mqtt_status::Config,
    own_id: bool,
    id: &mut String,
) -> Option<Vec<u8>> {
    let mut src = engine(config)?;
    let log_len = usize::from(u8::arbitrary(u).ok()?);
    let log = u.bytes(log_len.min(u.len())).ok()?;
    src.ingest_many(EXAMPLE.as_bytes());
    src.ingest_many(log);
    let ids = src.client_ids();
    if ids.is_empty() {
        return None;
    }
    let pick = ids[usize::from(u8::arbitrary(u).ok()?) % ids.len()].to_string();
    let rec = src.client_record(&pick)?;
    let mut body = rec[..rec.len() - 8].to_vec();
    while let (Ok(pos), Ok(op), Ok(b)) = (u16::arbitrary(u), u8::arbitrary(u), u8::arbitrary(u)) {
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
    if own_id {
        *id = pick;
    }
    Some(seal_record(id, &body))
}
