//! The client index: client id hash → position in the engine's client table.
//!
//! Open addressing with linear probing over one `Vec<u64>`, each slot holding half of the id's
//! hash beside the client's position. That half both places the slot and tells ids apart, so
//! the table grows without reading a single id (a general-purpose table hashes every key again,
//! a cache miss each in a large fleet). A lookup usually reads one slot, and the slot for a hash
//! is known before the lookup runs, which lets a batch warm it for lines ahead (`warm.rs`).

use alloc::vec;
use alloc::vec::Vec;

/// An empty slot (no client has position `u32::MAX`: see [`ClientIndex::MAX_CLIENTS`]).
const EMPTY: u64 = u64::MAX;

/// Slots to look at when guessing a client for warming (a guess may be wrong; a lookup is not).
const HINT_PROBES: usize = 4;

/// Client positions by id hash. Ids themselves live in the engine; lookups compare through `eq`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientIndex {
    slots: Vec<u64>,
    len: usize,
}

/// The half of a hash that is kept: the upper one (the hash's best mixed bits).
fn tag(hash: u64) -> u64 {
    hash >> 32
}

fn slot(tag: u64, idx: u32) -> u64 {
    (tag << 32) | u64::from(idx)
}

impl ClientIndex {
    /// Positions must stay below `u32::MAX`, which marks an empty slot.
    pub(crate) const MAX_CLIENTS: u32 = u32::MAX - 1;

    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The client whose hash is `hash` and for which `eq` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut p = tag(hash) as usize & mask;
        loop {
            let s = self.slots[p];
            if s == EMPTY {
                return None;
            }
            if s >> 32 == tag(hash) && eq(s as u32) {
                return Some(s as u32);
            }
            p = (p + 1) & mask;
        }
    }

    /// The first slot a lookup of `hash` reads (for warming: reading it brings it close).
    #[inline]
    pub(crate) fn slot_for(&self, hash: u64) -> Option<u64> {
        self.slots.get(tag(hash) as usize & self.mask()).copied()
    }

    /// The likely client for `hash` without comparing ids: the first slot of a short probe whose
    /// hash half matches. Only for warming memory; the answer may be another client's.
    #[inline]
    pub(crate) fn guess(&self, hash: u64) -> Option<u32> {
        let mask = self.mask();
        let p = tag(hash) as usize & mask;
        (0..HINT_PROBES.min(self.slots.len()))
            .map(|k| self.slots[(p + k) & mask])
            .take_while(|&s| s != EMPTY)
            .find(|&s| s >> 32 == tag(hash))
            .map(|s| s as u32)
    }

    /// Adds client `idx` (known not to be present).
    pub(crate) fn insert_unique(&mut self, hash: u64, idx: u32) {
        debug_assert!(idx <= Self::MAX_CLIENTS);
        // At most three quarters full: linear probing stays short (2.5 slots per hit at worst).
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            let cap = (self.slots.len() * 2).max(16);
            let old = core::mem::replace(&mut self.slots, vec![EMPTY; cap]);
            for s in old.into_iter().filter(|&s| s != EMPTY) {
                self.place(s);
            }
        }
        self.place(slot(tag(hash), idx));
        self.len += 1;
    }

    /// How far, summed over the clients, each sits from its home slot: the slots that lookups
    /// walk past (for tests of crafted collisions).
    #[cfg(test)]
    pub(crate) fn displacement(&self) -> usize {
        let mask = self.mask();
        let home = |s: u64| (s >> 32) as usize & mask;
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, &s)| s != EMPTY)
            .map(|(p, &s)| p.wrapping_sub(home(s)) & mask)
            .sum()
    }

    /// Puts a slot at the first free place from its home (tables past 2^32 slots only use
    /// the first 2^32 homes: still correct, merely denser).
    fn place(&mut self, s: u64) {
        let mask = self.mask();
        let mut p = (s >> 32) as usize & mask;
        while self.slots[p] != EMPTY {
            p = (p + 1) & mask;
        }
        self.slots[p] = s;
    }
}

#[cfg(test)]
mod tests {
    use super::ClientIndex;

    #[test]
    fn finds_every_client_through_collisions_and_growth() {
        // Seven hash values for 3 000 clients: long probe runs, shared halves, many growths.
        let hash = |i: u32| u64::from(i % 7) << 32 | u64::from(i % 7);
        let mut index = ClientIndex::default();
        for i in 0..3_000 {
            assert_eq!(index.find(hash(i), |j| j == i), None);
            index.insert_unique(hash(i), i);
        }
        let mut guessed = 0;
        for i in 0..3_000 {
            assert_eq!(index.find(hash(i), |j| j == i), Some(i));
            // A guess looks at a few slots and promises only a client with the same hash half.
            if let Some(g) = index.guess(hash(i)) {
                assert_eq!(g % 7, i % 7);
                guessed += 1;
            }
        }
        assert!(guessed > 0);
        assert_eq!(index.find(7 << 32, |_| true), None);
        assert_eq!(ClientIndex::default().find(0, |_| true), None);
        assert_eq!(ClientIndex::default().guess(0), None);
    }
}
