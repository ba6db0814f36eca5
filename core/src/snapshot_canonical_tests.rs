//! Every snapshot `restore` accepts is canonical: it re-snapshots to exactly its bytes (issue
//! 16: non-minimal varints used to be accepted and written back differently). Valid snapshots
//! are mutated — each byte replaced by every value, every value inserted at each position, each
//! byte deleted, each byte extended into a two-byte varint — with the checksum recomputed, so
//! that the content checks are what is tested. Version 2 (grace, observations) and version 3
//! (close reasons) included.

use alloc::vec::Vec;

use super::{MAGIC, SNAPSHOT_VERSION};
use crate::hash::hash_bytes;
use crate::{Config, Error, EventType, Notification, StatusEngine};

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
        // Version 3: close reasons, a documented code and other text (issue 18).
        Config { tombstones_per_client: 2, ..Config::default() },
    ];
    configs
        .iter()
        .enumerate()
        .map(|(k, &config)| {
            let mut e = StatusEngine::new(config).unwrap();
            for (client_id, channel_id, event_type, time, client_ip) in events {
                let reason = match (k, channel_id) {
                    (4, "c1") => Some("normal"),
                    (4, "y") => Some("gateway restarted"),
                    _ => None,
                };
                e.ingest(Notification { client_id, channel_id, event_type, time, client_ip, reason })
                    .unwrap();
            }
            if k == 4 {
                assert_eq!(e.snapshot()[MAGIC.len()], SNAPSHOT_VERSION, "the reasons sample is version 3");
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

#[test]
fn version_3_only_with_a_reason_and_a_reason_only_on_a_close() {
    // Client "a", channel "c" connected at 1, closed at `close` (0 = none), reason `why`.
    let one_channel = |close: u8, why: &[u8]| {
        let mut body = MAGIC.to_vec();
        body.extend_from_slice(&[SNAPSHOT_VERSION, 0, 8, 0x80, 0x02, 0, 0]);
        body.extend_from_slice(&[0; 7]);
        body.extend_from_slice(&[1, 1, b'a', 0, 0, 0, 0, 1, 1, 1, b'c', 2, 0, close, 0]);
        body.push(why.len() as u8);
        body.extend_from_slice(why);
        seal(body)
    };
    let err = StatusEngine::restore(&one_channel(0, b"x")).unwrap_err();
    assert_eq!(err, Error::snapshot("reason without a tcpclean"));
    let err = StatusEngine::restore(&one_channel(4, b"")).unwrap_err();
    assert_eq!(err, Error::snapshot("version 3 snapshot of a state version 1 holds"));
    let err = StatusEngine::restore(&one_channel(4, b"\xff")).unwrap_err();
    assert_eq!(err, Error::snapshot("reason is not UTF-8"));
    let bytes = one_channel(4, b"x");
    let e = StatusEngine::restore(&bytes).unwrap();
    assert_eq!(e.client("a").unwrap().channels[0].reason.as_deref(), Some("x"));
    assert_eq!(e.snapshot(), bytes);
}
