//! The host's side of the core's index key: the core has no randomness, so the processes that
//! ingest device-chosen ids (this store, the CLI, the Python and Node bindings) draw one key per
//! process here and give it to every engine they make (`mqtt_status::IndexKey`: why).

use std::hash::BuildHasher;

use mqtt_status::{Config, Error, IndexKey, StatusEngine};

/// Four random words for this process, drawn once from std's randomly seeded `RandomState`
/// (the operating system's randomness): the first two key the engines' index
/// ([`process_index_key`]), the last two the Redis writer's per-client maps (`redis/hash.rs`).
pub(crate) fn process_words() -> [u64; 4] {
    static WORDS: std::sync::OnceLock<[u64; 4]> = std::sync::OnceLock::new();
    *WORDS.get_or_init(|| {
        let s = std::collections::hash_map::RandomState::new();
        [0u64, 1, 2, 3].map(|i| s.hash_one(0x6d71_7473_0000_0000 | i))
    })
}

/// This process's index key, the same for every engine of the process.
pub fn process_index_key() -> IndexKey {
    let [a, b, _, _] = process_words();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    IndexKey::from_bytes(bytes)
}

/// `StatusEngine::new(config)` with this process's index key.
pub fn new_engine(config: Config) -> Result<StatusEngine, Error> {
    Ok(StatusEngine::new(config)?.with_index_key(process_index_key()))
}

/// `StatusEngine::restore(bytes)` with this process's index key.
pub fn restore_engine(bytes: &[u8]) -> Result<StatusEngine, Error> {
    StatusEngine::restore_keyed(bytes, process_index_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_process_and_not_the_fixed_one() {
        assert_eq!(process_index_key(), process_index_key());
        assert_ne!(process_index_key(), IndexKey::FIXED);
        let e = new_engine(Config::default()).unwrap();
        assert_eq!(restore_engine(&e.snapshot()).unwrap().snapshot(), e.snapshot());
    }
}
