//! Word-at-a-time tokens for the vendor reader's skips (`walk.rs`): eight bytes loaded at any
//! position as one little-endian `u64` (zero-filled past the line's end), then a number's
//! digits counted or a literal matched with integer arithmetic on that word, instead of a
//! byte-by-byte loop with a bounds check per byte. Each primitive reads what serde_json would
//! read, or reports that nothing is there so that the caller declines; none judges a line.
//!
//! (Strings are not scanned here: `Lex::bytes` and `crate::scan` do that, eight bytes a step;
//! scanning them from a word loaded here too was measured slower, see docs/BENCHMARKS.md.)

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `i` (little-endian: the byte at `i` is the lowest). Past the end the
/// word is zero-filled: a zero byte is a control byte, which ends every scan here and matches
/// no token, so the line's end needs no test of its own in the scans.
#[inline(always)]
pub(super) fn load(b: &[u8], i: usize) -> u64 {
    match b.get(i..i + 8) {
        Some(c) => {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            u64::from_le_bytes(w)
        }
        None => tail(b, i),
    }
}

/// [`load`] within the last eight bytes of the line (or past its end).
#[cold]
#[inline(never)]
fn tail(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    let rest = b.get(i..).unwrap_or(&[]);
    w[..rest.len()].copy_from_slice(rest);
    u64::from_le_bytes(w)
}

/// For eight bytes, the high bit of each byte that is not an ASCII digit; the lowest bit set is
/// exact. After `^ 0x30` a digit is 0..=9: adding 0x76 carries a byte into its high bit exactly
/// when it is 10 or more (below 0x80; a byte with its high bit set is flagged by `| x` itself),
/// and a carry out of a byte only reaches the bytes above it, which are past a flagged one.
#[inline(always)]
fn non_digits(w: u64) -> u64 {
    let x = w ^ (LO * 0x30);
    (x.wrapping_add(LO * 0x76) | x) & HI
}

/// The number of ASCII digits at `i` if fewer than eight, else `None` (the caller reads longer
/// runs the long way).
#[inline(always)]
pub(super) fn short_digits(b: &[u8], i: usize) -> Option<usize> {
    let m = non_digits(load(b, i));
    (m != 0).then(|| (m.trailing_zeros() / 8) as usize)
}

/// The length of the literal `true`, `false` or `null` at `i`, or `None` if none is there.
#[inline(always)]
pub(super) fn literal(b: &[u8], i: usize) -> Option<usize> {
    const TRUE: u64 = u32::from_le_bytes(*b"true") as u64;
    const NULL: u64 = u32::from_le_bytes(*b"null") as u64;
    const FALSE: u64 = u32::from_le_bytes(*b"fals") as u64 | (b'e' as u64) << 32;
    let w = load(b, i);
    match w & 0xFFFF_FFFF {
        TRUE | NULL => Some(4),
        _ if w & 0xFF_FFFF_FFFF == FALSE => Some(5),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_fills_past_the_end_with_zeros() {
        let b = b"0123456789";
        assert_eq!(load(b, 0), u64::from_le_bytes(*b"01234567"));
        assert_eq!(load(b, 5), u64::from_le_bytes(*b"56789\0\0\0"));
        assert_eq!(load(b, 10), 0);
        assert_eq!(load(b, 11), 0);
    }

    #[test]
    fn non_digits_flags_exactly_the_first_non_digit() {
        for pos in 0..8 {
            for c in 0..=255u8 {
                for other in [b'0', b'5', b'9', b'/', b':', 0, 0x7f, 0x80, 0xb9, 0xff] {
                    let mut w = [b'7'; 8];
                    w[pos] = c;
                    for x in w.iter_mut().skip(pos + 1) {
                        *x = other;
                    }
                    let want = w.iter().position(|c| !c.is_ascii_digit());
                    let m = non_digits(u64::from_le_bytes(w));
                    let got = (m != 0).then(|| (m.trailing_zeros() / 8) as usize);
                    assert_eq!(got, want, "{w:?}");
                }
            }
        }
    }

    #[test]
    fn literals() {
        assert_eq!(literal(b"true,", 0), Some(4));
        assert_eq!(literal(b"null", 0), Some(4));
        assert_eq!(literal(b"false}", 0), Some(5));
        assert_eq!(literal(b"false", 0), Some(5));
        for bad in [&b"tru"[..], b"nul", b"fals", b"True", b"fal", b"", b"nulL"] {
            assert_eq!(literal(bad, 0), None, "{bad:?}");
        }
    }
}
