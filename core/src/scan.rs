//! Byte scanners, eight bytes a step: the line splitter and the warm-up (`batch.rs`, `warm.rs`),
//! the group split (`engine.rs`) and the flat reader (`parse/flat.rs`) all look for one byte or
//! for the end of plain string content, and this is the one copy of how.
//!
//! Word-at-a-time with plain integer arithmetic (no SIMD intrinsics, no `unsafe`): the core is
//! `no_std` and builds for every target the bindings have, WebAssembly included.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// For eight bytes (little-endian), the high bit of each zero byte; the lowest bit set is exact
/// (the classic "has zero byte" trick: false positives only appear above a true one).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

/// For eight bytes (little-endian), the high bit of each byte that is `\`, `"` or below 0x20
/// (what ends a run of plain string content); the lowest bit set is exact. Flipping bit 1 maps
/// `"` (0x22) to 0x20 and keeps every control byte below 0x20 (and nothing else below 0x21), so
/// one "less than 0x21" test finds both: 9 operations a word instead of 13.
#[inline(always)]
fn special(x: u64) -> u64 {
    const BACKSLASH: u64 = LO * b'\\' as u64;
    let y = x ^ (LO * 0x02);
    zero_bytes(x ^ BACKSLASH) | (y.wrapping_sub(LO * 0x21) & !y & HI)
}

/// Position of the first byte that `mark` flags in its word (eight bytes a step, the lowest
/// flag exact) or, in the last few bytes, that `is` accepts.
#[inline(always)]
fn first_marked(s: &[u8], mark: impl Fn(u64) -> u64, is: impl Fn(u8) -> bool) -> Option<usize> {
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let z = mark(u64::from_le_bytes(w));
        if z != 0 {
            return Some(at + (z.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&c| is(c)).map(|p| at + p)
}

/// Position of the first `\`, `"` or control character, eight bytes a step.
#[inline(always)]
pub(crate) fn find_special(s: &[u8]) -> Option<usize> {
    first_marked(s, special, |c| c == b'"' || c == b'\\' || c < 0x20)
}

/// Position of the first `byte`, eight bytes a step (lines in a batch, keys in a line).
#[inline(always)]
pub(crate) fn find_byte(s: &[u8], byte: u8) -> Option<usize> {
    let pattern = LO * u64::from(byte);
    first_marked(s, |x| zero_bytes(x ^ pattern), |c| c == byte)
}

#[cfg(test)]
mod tests {
    use super::{find_byte, find_special, special};

    #[test]
    fn find_special_finds_the_first() {
        for len in 0..30 {
            for at in 0..len {
                for c in [b'"', b'\\', 0, 0x1f, b'\n'] {
                    let mut v = alloc::vec![b'x'; len];
                    v[at] = c;
                    if at + 1 < len {
                        v[at + 1] = b'"';
                    }
                    assert_eq!(find_special(&v), Some(at));
                }
                let mut v = alloc::vec![0x80u8; len];
                v[at] = b' ';
                assert_eq!(find_special(&v), None);
            }
        }
    }

    #[test]
    fn special_flags_exactly_the_first_special_byte_of_a_word() {
        let is = |c: u8| c == b'"' || c == b'\\' || c < 0x20;
        // Every byte value at every position, after and before every other byte value.
        for pos in 0..8 {
            for c in 0..=255u8 {
                for other in 0..=255u8 {
                    let mut w = [other; 8];
                    w[pos] = c;
                    let want = w.iter().position(|&b| is(b));
                    let z = special(u64::from_le_bytes(w));
                    let got = (z != 0).then(|| (z.trailing_zeros() / 8) as usize);
                    assert_eq!(got, want, "{w:?}");
                }
            }
        }
    }

    #[test]
    fn find_byte_finds_the_first() {
        for byte in [b'\n', b'I'] {
            for len in 0..40 {
                for at in 0..len {
                    let mut v = alloc::vec![b'x'; len];
                    v[at] = byte;
                    assert_eq!(find_byte(&v, byte), Some(at));
                    // The same byte with its high bit set (the trick's false-positive edge).
                    v[at] = byte | 0x80;
                    assert_eq!(find_byte(&v, byte), None);
                }
            }
        }
    }
}
