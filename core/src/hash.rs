//! The engine's one hash of byte strings (8 bytes a step, folded 64×64→128-bit multiply, length
//! mixed in), under a key.
//!
//! Under the fixed key ([`IndexKey::FIXED`]) it is the checksum of records and snapshots and the
//! shard of a client: the same bytes from every language. The client index uses the engine's own
//! key instead ([`StatusEngine::with_index_key`](crate::StatusEngine::with_index_key)): client
//! ids are chosen by devices, and ids crafted to share index slots under a known key make every
//! lookup among them walk the others (a fleet-wide stall, quadratic in the crafted ids). Under a
//! key the host drew at random, an attacker cannot know which ids share a slot. The key changes
//! where clients sit in the index, never an answer: every output is sorted by id.

use core::fmt;

/// The key of the client index's hash: two words, the second odd. Not state: a snapshot does
/// not carry it, and engines with different keys give the same answers and the same bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IndexKey {
    k0: u64,
    k1: u64,
}

impl IndexKey {
    /// The key an engine has unless given another: deterministic, and therefore public.
    pub const FIXED: IndexKey = IndexKey { k0: 0x6d71_7474_7374_6174, k1: 0x9e37_79b9_7f4a_7c15 }; // "mqttstat", 2^64/φ

    /// A key from 16 bytes the host drew at random (the core has no randomness of its own).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&bytes[..8]);
        b.copy_from_slice(&bytes[8..]);
        // Odd: a multiplier with low zero bits would drop the low bits of every word.
        IndexKey { k0: u64::from_le_bytes(a), k1: u64::from_le_bytes(b) | 1 }
    }

    /// The hash of `bytes` under this key: what the index files a client id under (its upper
    /// half picks the slot). Public so that tools can show what a key protects against
    /// (`core/examples/crafted_ids.rs`).
    pub fn hash(&self, bytes: &[u8]) -> u64 {
        hash_keyed(self, bytes)
    }
}

impl Default for IndexKey {
    fn default() -> Self {
        Self::FIXED
    }
}

impl fmt::Debug for IndexKey {
    // A key is a secret only while nobody prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self == Self::FIXED { "IndexKey::FIXED" } else { "IndexKey(..)" })
    }
}

#[inline]
fn mix(key: &IndexKey, a: u64, b: u64) -> u64 {
    let r = u128::from(a ^ key.k0) * u128::from(b ^ key.k1);
    (r as u64) ^ ((r >> 64) as u64)
}

/// Hashes a byte string under `key`.
#[inline]
pub(crate) fn hash_keyed(key: &IndexKey, bytes: &[u8]) -> u64 {
    let mut h = key.k0 ^ (bytes.len() as u64).wrapping_mul(key.k1);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix(key, h, u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = mix(key, h, u64::from_le_bytes(w) ^ 0xff);
    }
    mix(key, h, key.k1.rotate_left(17))
}

/// Hashes a byte string under the fixed key: checksums and shards, the same in every language.
#[inline]
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    hash_keyed(&IndexKey::FIXED, bytes)
}

#[cfg(test)]
mod tests {
    use super::{hash_bytes, hash_keyed, IndexKey};

    #[test]
    fn stable_values() {
        // Pinned (values from an independent implementation of the same function) so that a
        // change of hash, which changes every snapshot's checksum, is a deliberate one.
        assert_eq!(hash_bytes(b""), 0);
        assert_eq!(hash_bytes(b"a"), 0xb346_cc7d_a653_9855);
        assert_eq!(hash_bytes(b"abcdefgh"), 0x4170_1bab_6171_a87b);
        assert_eq!(hash_bytes(b"GID_x@@@dev1"), 0xf2a2_9acd_2254_bd7a);
        assert_eq!(hash_bytes(b"0123456789abcdef0"), 0x2339_e68d_e450_2594);
        assert_ne!(hash_bytes(b"a"), hash_bytes(b"b"));
        assert_ne!(hash_bytes(b"GID_x@@@dev1"), hash_bytes(b"GID_x@@@dev2"));
        assert_ne!(hash_bytes(b"abcdefgh"), hash_bytes(b"abcdefgh\0"));
    }

    #[test]
    fn a_key_changes_every_hash_and_stays_out_of_debug_output() {
        let key = IndexKey::from_bytes(*b"0123456789abcdef");
        for id in ["a", "GID_x@@@dev1", "0123456789abcdef0"] {
            assert_ne!(hash_keyed(&key, id.as_bytes()), hash_bytes(id.as_bytes()), "{id}");
        }
        assert_eq!(hash_keyed(&IndexKey::FIXED, b"a"), hash_bytes(b"a"));
        assert_eq!(alloc::format!("{key:?}"), "IndexKey(..)");
        assert_eq!(alloc::format!("{:?}", IndexKey::default()), "IndexKey::FIXED");
    }
}
