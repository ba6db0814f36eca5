//! Compact storage for channel ids and client IPs.
//!
//! The broker's channel ids are 32 lowercase hex digits: those are kept as 16 bytes. Client IPs
//! are `a.b.c.d:port`: those are kept as 6 bytes. Anything else is kept verbatim. Every form
//! renders back to exactly the string received, and orders exactly as that string does.

use alloc::boxed::Box;
use alloc::string::String;
use core::cmp::Ordering;
use core::fmt::Write as _;

/// A channel id: 32 lowercase hex digits packed, or the original text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ChannelKey {
    Hex([u8; 16]),
    Text(Box<str>),
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl ChannelKey {
    pub(crate) fn new(id: &str) -> Self {
        match Self::hex(id) {
            Some(h) => ChannelKey::Hex(h),
            None => ChannelKey::Text(id.into()),
        }
    }

    /// The packed form of `id` if it is 32 lowercase hex digits (exactly when [`new`](Self::new)
    /// makes a `Hex` key).
    pub(crate) fn hex(id: &str) -> Option<[u8; 16]> {
        let b = id.as_bytes();
        if b.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            out[i] = (hex_val(pair[0])? << 4) | hex_val(pair[1])?;
        }
        Some(out)
    }

    /// The key as a borrowed view (what a channel keeps can be viewed the same way).
    pub(crate) fn as_ref(&self) -> KeyRef<'_> {
        match self {
            ChannelKey::Hex(h) => KeyRef::Hex(h),
            ChannelKey::Text(t) => KeyRef::Text(t),
        }
    }
}

/// The 32 hex digits a packed key stands for.
pub(crate) fn hex_text(h: &[u8; 16]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, &x) in h.iter().enumerate() {
        out[2 * i] = HEX[(x >> 4) as usize];
        out[2 * i + 1] = HEX[(x & 15) as usize];
    }
    out
}

impl Ord for ChannelKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_ref().cmp(&other.as_ref())
    }
}

impl PartialOrd for ChannelKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A channel id, borrowed: 32 lowercase hex digits packed, or the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRef<'a> {
    Hex(&'a [u8; 16]),
    Text(&'a str),
}

impl KeyRef<'_> {
    /// Whether this key is the given id, without allocating (a mismatch shows at the first
    /// differing digit, which is cheaper than packing `id`).
    pub(crate) fn matches(self, id: &str) -> bool {
        match self {
            KeyRef::Text(t) => t == id,
            KeyRef::Hex(h) => {
                let b = id.as_bytes();
                b.len() == 32
                    && b.chunks_exact(2)
                        .zip(h)
                        .all(|(p, &x)| p[0] == HEX[(x >> 4) as usize] && p[1] == HEX[(x & 15) as usize])
            }
        }
    }

    /// The first byte stored for this key (a read that brings the key's memory in).
    pub(crate) fn first_byte(self) -> u8 {
        match self {
            KeyRef::Hex(h) => h[0],
            KeyRef::Text(t) => t.as_bytes().first().copied().unwrap_or(0),
        }
    }

    pub(crate) fn to_text(self) -> String {
        match self {
            KeyRef::Text(t) => String::from(t),
            // Hex digits are ASCII.
            KeyRef::Hex(h) => hex_text(h).iter().map(|&c| c as char).collect(),
        }
    }
}

impl Ord for KeyRef<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (*self, *other) {
            // Lowercase hex orders as its bytes do.
            (KeyRef::Hex(a), KeyRef::Hex(b)) => a.cmp(b),
            (KeyRef::Text(a), KeyRef::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (KeyRef::Hex(a), KeyRef::Text(b)) => hex_text(a)[..].cmp(b.as_bytes()),
            (KeyRef::Text(a), KeyRef::Hex(b)) => a.as_bytes().cmp(&hex_text(b)[..]),
        }
    }
}

impl PartialOrd for KeyRef<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A client address: `a.b.c.d:port` packed into 6 bytes, or the original text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Ip {
    V4([u8; 4], u16),
    Text(Box<str>),
}

/// Reads a canonical decimal number (no sign, no leading zero, at most five digits, at most
/// `max`) at `*i`, so rendering gives the same text back.
fn number(b: &[u8], i: &mut usize, max: u32) -> Option<u32> {
    let start = *i;
    let mut v = 0u32;
    while let Some(&c) = b.get(*i).filter(|c| c.is_ascii_digit()) {
        if *i - start == 5 {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
        *i += 1;
    }
    let len = *i - start;
    if len == 0 || (len > 1 && b[start] == b'0') || v > max {
        return None;
    }
    Some(v)
}

impl Ip {
    pub(crate) fn new(s: &str) -> Self {
        Self::parse_v4(s).unwrap_or_else(|| Ip::Text(s.into()))
    }

    /// Exactly `a.b.c.d:port`, each number canonical decimal, read in one pass.
    fn parse_v4(s: &str) -> Option<Ip> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut a = [0u8; 4];
        for (k, slot) in a.iter_mut().enumerate() {
            *slot = number(b, &mut i, 255)? as u8;
            if b.get(i) != Some(if k < 3 { &b'.' } else { &b':' }) {
                return None;
            }
            i += 1;
        }
        let port = number(b, &mut i, 65535)? as u16;
        (i == b.len()).then_some(Ip::V4(a, port))
    }

    /// The address as a borrowed view.
    pub(crate) fn as_ref(&self) -> IpRef<'_> {
        match self {
            Ip::V4(a, p) => IpRef::V4(*a, *p),
            Ip::Text(t) => IpRef::Text(t),
        }
    }
}

/// A client address, borrowed: `a.b.c.d:port` packed, or the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IpRef<'a> {
    V4([u8; 4], u16),
    Text(&'a str),
}

impl IpRef<'_> {
    pub(crate) fn to_text(self) -> String {
        match self {
            IpRef::Text(t) => String::from(t),
            IpRef::V4(a, p) => {
                let mut s = String::with_capacity(21);
                let _ = write!(s, "{}.{}.{}.{}:{}", a[0], a[1], a[2], a[3], p);
                s
            }
        }
    }

    /// An owned copy.
    pub(crate) fn to_owned(self) -> Ip {
        match self {
            IpRef::V4(a, p) => Ip::V4(a, p),
            IpRef::Text(t) => Ip::Text(t.into()),
        }
    }
}

/// Writes `v` in decimal at the start of `out`; returns the length (at most 5 for a `u16`).
fn put_u(out: &mut [u8], mut v: u32) -> usize {
    let mut tmp = [0u8; 10];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let len = tmp.len() - i;
    out[..len].copy_from_slice(&tmp[i..]);
    len
}

impl IpRef<'_> {
    /// Calls `f` with the text form's bytes, rendered on the stack for `V4` (no allocation).
    fn with_text<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            IpRef::Text(t) => f(t.as_bytes()),
            IpRef::V4(a, p) => {
                // `255.255.255.255:65535` is 21 bytes.
                let mut buf = [0u8; 21];
                let mut n = 0;
                for (i, &x) in a.iter().enumerate() {
                    if i > 0 {
                        buf[n] = b'.';
                        n += 1;
                    }
                    n += put_u(&mut buf[n..], u32::from(x));
                }
                buf[n] = b':';
                n += 1;
                n += put_u(&mut buf[n..], u32::from(p));
                f(&buf[..n])
            }
        }
    }
}

impl Ord for IpRef<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Orders as the text does (bytewise), without rendering to `String`s.
        self.with_text(|a| other.with_text(|b| a.cmp(b)))
    }
}

impl PartialOrd for IpRef<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_keys_round_trip_and_order_as_text() {
        let ids = [
            "2b9b1281046046faafe5e0b458e4abcd",
            "2B9B1281046046FAAFE5E0B458E4ABCD",
            "ch-1",
            "",
            "zzzz",
            "2b9b1281046046faafe5e0b458e4abc",
        ];
        for a in ids {
            let ka = ChannelKey::new(a);
            assert_eq!(ka.as_ref().to_text(), a);
            assert!(ka.as_ref().matches(a));
            assert_eq!(ChannelKey::hex(a).is_some(), matches!(ka, ChannelKey::Hex(_)));
            for b in ids {
                assert_eq!(ka.cmp(&ChannelKey::new(b)), a.cmp(b), "{a} vs {b}");
            }
        }
        assert!(matches!(ChannelKey::new(ids[0]), ChannelKey::Hex(_)));
        assert!(matches!(ChannelKey::new(ids[1]), ChannelKey::Text(_)));
    }

    #[test]
    fn ips_round_trip_and_order_as_text() {
        let ips = [
            "192.168.1.20:1883",
            "10.0.0.1:0",
            "192.168.XX.XX:133XX",
            "01.2.3.4:5",
            "1.2.3.4:65536",
            "[::1]:1883",
            "1.2.3:4",
        ];
        for a in ips {
            assert_eq!(Ip::new(a).as_ref().to_text(), a);
            assert_eq!(Ip::new(a).as_ref().to_owned(), Ip::new(a));
            for b in ips {
                assert_eq!(Ip::new(a).as_ref().cmp(&Ip::new(b).as_ref()), a.cmp(b));
            }
        }
        assert!(matches!(Ip::new(ips[0]), Ip::V4(..)));
        for a in ["0.0.0.0:0", "255.255.255.255:65535", "9.10.99.100:1000"] {
            Ip::new(a).as_ref().with_text(|t| assert_eq!(t, a.as_bytes()));
        }
        assert!(matches!(Ip::new(ips[3]), Ip::Text(_)));
    }

    /// The previous, split-based reader of `a.b.c.d:port`, as the reference.
    fn reference_v4(s: &str) -> Option<([u8; 4], u16)> {
        fn parse_u(s: &str, max: u32) -> Option<u32> {
            if s.is_empty() || s.len() > 5 || (s.len() > 1 && s.starts_with('0')) {
                return None;
            }
            let mut v = 0u32;
            for c in s.bytes() {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            (v <= max).then_some(v)
        }
        let (addr, port) = s.rsplit_once(':')?;
        let port = parse_u(port, 65535)? as u16;
        let mut parts = addr.split('.');
        let mut a = [0u8; 4];
        for slot in &mut a {
            *slot = parse_u(parts.next()?, 255)? as u8;
        }
        parts.next().is_none().then_some((a, port))
    }

    #[test]
    fn the_v4_reader_accepts_what_the_reference_does() {
        let pieces = [
            "", "0", "00", "1", "9", "10", "255", "256", "65535", "65536", "99999", "100000", "01", "a",
            "1a", "+1",
        ];
        let seps = [".", ":", "", ".:", "::"];
        let mut n = 0;
        for a in pieces {
            for b in ["1", "255", "0", "256", "01", ""] {
                for p in pieces {
                    for s1 in seps {
                        for s2 in seps {
                            let text = alloc::format!("{a}.{b}{s1}3.4{s2}{p}");
                            let ours = match Ip::new(&text) {
                                Ip::V4(a, p) => Some((a, p)),
                                Ip::Text(_) => None,
                            };
                            assert_eq!(ours, reference_v4(&text), "{text}");
                            n += usize::from(ours.is_some());
                        }
                    }
                }
            }
        }
        assert!(n > 50, "{n}");
    }
}
