//! Every snapshot `restore` accepts is canonical: it re-snapshots to exactly its bytes (issue
//! 16: non-minimal varints used to be accepted and written back differently). Valid snapshots
//! are mutated — each byte replaced by every value, every value inserted at each position, each
//! byte deleted, each byte extended into a two-byte varint — with the checksum recomputed, so
//! that the content checks are what is tested. Version 2 (grace, observations) included.

use alloc::vec::Vec;

use crate::hash::hash_bytes;
use crate::{Config, EventType, Notification, StatusEngine};

fn seal(mut body: Vec<u8>) -> Vec<u8> {
    let sum = hash_bytes(&body);
    body.extend_from_slice(&sum.to_le_bytes());
    body
}

/// Small engines covering each encoding: text and hex channel ids, IPv4 and text addresses, a
/// horizon and dropped connects, superseded channels, non-default options.
fn samples() -> Vec<StatusEngine> {
    let hex = "0123456789abcdef0123456789abcdef";
    let events: [(&str, &str, EventType, u64, Option<&str>); 9] = [
        ("GID_a@@@d1", "c1", EventType::Connect, 1000, Some("10.0.0.1:1883")),
        ("GID_a@@@d1", hex, EventType::Connect, 2000, Some("[::1]:1")),
        ("GID_a@@@d1", "c3", EventType::Connect, 3000, None),
        ("GID_a@@@d1", "c1", EventType::TcpClean, 4000, None),
        ("GID_a@@@d1", "c4", EventType::Disconnect, 200, None),
        ("solo", "x", EventType::Connect, 130, None),
        ("solo", "y", EventType::TcpClean, 140, None),
        ("solo", "z", EventType::Connect, 150, None),
        ("solo", "z", EventType::TcpClean, 160, None),
    ];
    let configs = [
        Config::default(),
        Config { takeover: true, close_on_disconnect: true, tombstones_per_client: 1, ..Config::default() },
        Config { max_open_channels: 2, tombstones_per_client: 1, max_id_len: 200, ..Config::default() },
        // Version 2: a grace, an `advance` watermark, observations (issue 17).
        Config { offline_grace_ms: 1000, tombstones_per_client: 1, ..Config::default() },
    ];
    configs
        .iter()
        .map(|&config| {
            let mut e = StatusEngine::new(config).unwrap();
            for (client_id, channel_id, event_type, time, client_ip) in events {
                e.ingest(Notification { client_id, channel_id, event_type, time, client_ip, reason: None })
                    .unwrap();
            }
            if config.offline_grace_ms > 0 {
                e.observe("solo", true, 170).unwrap();
                e.observe("GID_a@@@d1", false, 2500).unwrap();
                e.advance(3500).unwrap();
            }
            e
        })
        .collect()
}

/// Restores `bytes` (sealed); if accepted, the engine must write them back unchanged.
fn check(body: Vec<u8>) -> bool {
    let bytes = seal(body);
    match StatusEngine::restore(&bytes) {
        Ok(e) => {
            assert_eq!(e.snapshot(), bytes, "accepted a non-canonical snapshot");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn every_accepted_mutation_re_snapshots_to_its_bytes() {
    let mut accepted = 0usize;
    for engine in samples() {
        let snap = engine.snapshot();
        let body = &snap[..snap.len() - 8];
        assert!(check(body.to_vec()), "the sample itself restores");
        for i in 9..=body.len() {
            let mut mutants = Vec::new();
            for v in 0..=255u8 {
                let mut m = body.to_vec();
                m.insert(i, v);
                mutants.push(m);
                if i < body.len() {
                    let mut m = body.to_vec();
                    m[i] = v;
                    mutants.push(m);
                }
            }
            if i < body.len() {
                let mut m = body.to_vec();
                m.remove(i);
                mutants.push(m);
                // The same value with a needless continuation: `b | 0x80, 0x00`.
                let mut m = body.to_vec();
                m[i] |= 0x80;
                m.insert(i + 1, 0);
                mutants.push(m);
            }
            for m in mutants {
                accepted += usize::from(check(m));
            }
        }
    }
    // Many mutations are valid snapshots of other states (another time, counter, id byte).
    assert!(accepted > 1000, "only {accepted} accepted: the mutations do not reach the content");
}
