//! A fast keyed hasher for the maps a commit consults per client (the batch's client → share
//! map, the record cache): SipHash was 8 % of a writer's work per event there (callgrind), on
//! keys that are short client ids.
//!
//! Client ids are chosen by devices, so the hash is keyed per process (from std's randomly
//! seeded `RandomState`): ids crafted to collide under one process's keys do not collide under
//! another's. A folded 64×64→128-bit multiply per 8 bytes, as in the fast non-cryptographic
//! hashes of the Rust ecosystem.

use std::hash::{BuildHasher, Hasher};

/// Builds [`Fold`] hashers with this process's keys.
#[derive(Clone, Copy)]
pub(crate) struct FoldState {
    k0: u64,
    k1: u64,
}

impl Default for FoldState {
    fn default() -> Self {
        let [_, _, k0, k1] = crate::key::process_words();
        FoldState { k0: k0 | 1, k1: k1 | 1 }
    }
}

impl BuildHasher for FoldState {
    type Hasher = Fold;
    fn build_hasher(&self) -> Fold {
        Fold { h: self.k0, k: self.k1 }
    }
}

/// The hasher: state `h`, key `k`.
pub(crate) struct Fold {
    h: u64,
    k: u64,
}

#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

impl Hasher for Fold {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.h = fold(self.h ^ u64::from_le_bytes(w), self.k);
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        // The length goes in too: "a" and "a\0" differ.
        self.h = fold(self.h ^ u64::from_le_bytes(w), self.k ^ bytes.len() as u64);
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.h = fold(self.h ^ i, self.k);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.h, self.k.rotate_left(29))
    }
}

/// A map keyed by [`FoldState`].
pub(crate) type FoldMap<K, V> = std::collections::HashMap<K, V, FoldState>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_equal_and_near_keys_apart() {
        let s = FoldState::default();
        assert_eq!(s.hash_one("GID_meter@@@dev0001"), s.hash_one("GID_meter@@@dev0001"));
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000 {
            assert!(seen.insert(s.hash_one(format!("GID_meter@@@dev{i:05}"))), "collision at {i}");
        }
        // Lengths matter: a trailing NUL is another key.
        assert_ne!(s.hash_one([1u8].as_slice()), s.hash_one([1u8, 0].as_slice()));
        // The low bits (the table's buckets) spread sequential ids evenly.
        let mut buckets = [0u32; 64];
        for i in 0..64_000 {
            buckets[(s.hash_one(format!("dev{i}")) & 63) as usize] += 1;
        }
        assert!(buckets.iter().all(|&n| (800..1200).contains(&n)), "{buckets:?}");
    }
}
