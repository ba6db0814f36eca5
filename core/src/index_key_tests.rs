//! Ids crafted to share index slots under the fixed key, against an engine with another key.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::hash::{hash_keyed, IndexKey};
use crate::StatusEngine;

/// `n` ids of one group whose index home slot, under the fixed key, is the same in any table of
/// up to 1 024 slots: what an attacker who knows the key sends.
fn crafted(n: usize) -> Vec<String> {
    (0u64..)
        .map(|i| format!("GID_evil@@@d{i:x}"))
        .filter(|id| (hash_keyed(&IndexKey::FIXED, id.as_bytes()) >> 32) & 1023 == 0)
        .take(n)
        .collect()
}

fn connects(ids: &[String]) -> String {
    let mut jsonl = String::new();
    for (t, id) in ids.iter().enumerate() {
        jsonl.push_str(&format!(
            r#"{{"clientId":"{id}","channelId":"c{t}","eventType":"connect","time":{}}}"#,
            t + 1
        ));
        jsonl.push('\n');
    }
    jsonl
}

#[test]
fn crafted_ids_pile_up_under_the_fixed_key_and_spread_under_another() {
    let ids = crafted(600);
    let jsonl = connects(&ids);
    let key = IndexKey::from_bytes(*b"not the fixed ke");
    let mut fixed = StatusEngine::default();
    let mut keyed = StatusEngine::default().with_index_key(key);
    assert!(fixed.ingest_many(jsonl.as_bytes()).errors.is_empty());
    assert!(keyed.ingest_many(jsonl.as_bytes()).errors.is_empty());
    // 600 clients share one home under the fixed key: each walks past the ones placed before it.
    let (piled, spread) = (fixed.index.displacement(), keyed.index.displacement());
    assert!(piled > 100_000, "fixed key: {piled}");
    assert!(spread < 3 * ids.len(), "random key: {spread}");
    assert_eq!(fixed.snapshot(), keyed.snapshot());
    assert_eq!(fixed.online_clients(None, None, None), keyed.online_clients(None, None, None));
}

#[test]
fn a_key_given_later_rebuilds_the_index_and_changes_no_answer() {
    let mut ids = crafted(50);
    ids.extend((0..50).map(|i| format!("GID_g{}@@@dev{i}", i % 7)));
    ids.push(String::from("no-group"));
    let mut engine = StatusEngine::default();
    engine.ingest_many(connects(&ids).as_bytes());
    let key = IndexKey::from_bytes([7; 16]);
    let rekeyed = engine.clone().with_index_key(key);
    let restored = StatusEngine::restore_keyed(&engine.snapshot(), key).expect("restores");
    for other in [&rekeyed, &restored] {
        assert_eq!(other.key, key);
        for id in &ids {
            // Positions differ after a restore (clients come back in id order); the clients do not.
            assert_eq!(other.client(id), engine.client(id), "{id}");
            assert!(other.is_online(id), "{id}");
        }
        assert_eq!(other.groups(), engine.groups());
        assert_eq!(other.find_client("GID_absent@@@x"), None);
        assert_eq!(other.snapshot(), engine.snapshot());
    }
    // Back to the fixed key: the same index as never keyed.
    let back = rekeyed.with_index_key(IndexKey::FIXED);
    assert_eq!(back.index.displacement(), engine.index.displacement());
}
