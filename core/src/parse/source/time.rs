//! RFC 3339 timestamps (CloudEvents `time`, Event Grid `eventTime`) to Unix milliseconds.
//!
//! `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`: the fraction is cut to milliseconds (Azure
//! writes seven digits; cutting, not rounding, keeps an instant inside its own millisecond),
//! the offset is applied. Years before 1970 are refused: event times are unsigned.

/// Unix milliseconds of an RFC 3339 timestamp `s`, or `None` if it is not one (the reader of
/// Azure's event times, also the CLI's `--at`).
///
/// The fixed-width head is read from one 19-byte array (no bounds check per field: this runs
/// for every Azure event, and the checked version cost ~340 instructions of ~5 500 per event).
pub fn rfc3339_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let head: &[u8; 19] = b.get(..19)?.try_into().ok()?;
    let digit = |k: usize| {
        let c = head[k].wrapping_sub(b'0');
        (c < 10).then_some(u64::from(c))
    };
    let two = |k: usize| Some(digit(k)? * 10 + digit(k + 1)?);
    if head[4] != b'-'
        || head[7] != b'-'
        || !matches!(head[10], b'T' | b't' | b' ')
        || head[13] != b':'
        || head[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (two(0)? * 100 + two(2)?, two(5)?, two(8)?);
    let (hour, min, sec) = (two(11)?, two(14)?, two(17)?);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in(year, month)
        || hour > 23
        || min > 59
        || sec > 60
    {
        return None;
    }
    let mut i = 19;
    let mut ms = 0;
    if b.get(i) == Some(&b'.') {
        // Counted in one word (Azure writes seven digits); eight or more the long way.
        let digits = match super::word::short_digits(b, i + 1) {
            Some(n) => n,
            None => b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count(),
        };
        if digits == 0 {
            return None;
        }
        // The first three digits, missing ones as zeros: cut, not rounded.
        for k in 0..3 {
            ms = ms * 10 + if k < digits { u64::from(b[i + 1 + k] - b'0') } else { 0 };
        }
        i += 1 + digits;
    }
    let offset_min: i64 = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        &[sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |x: u8, y: u8| {
                let (x, y) = (x.wrapping_sub(b'0'), y.wrapping_sub(b'0'));
                (x < 10 && y < 10).then(|| i64::from(x) * 10 + i64::from(y))
            };
            let (h, m) = (two(h1, h2)?, two(m1, m2)?);
            if h > 23 || m > 59 {
                return None;
            }
            if sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };
    if year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + (hour * 3600 + min * 60 + sec) as i64 - offset_min * 60;
    u64::try_from(secs).ok().map(|s| s * 1000 + ms)
}

fn leap(y: u64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(y: u64, m: u64) -> u64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date (the proleptic Gregorian calendar; years ≥ 1970).
/// Unsigned arithmetic: the shifted year is at least 1969, and division of an unsigned value
/// by a constant is a multiply and a shift, without the signed version's corrections.
fn days_from_civil(y: u64, m: u64, d: u64) -> i64 {
    // Shift the year to start in March, so February's leap day is the year's last day.
    let (y, mp) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe) as i64 - 719_468
}

#[cfg(test)]
mod tests {
    use super::{days_from_civil, days_in, rfc3339_ms};
    use alloc::string::String;

    /// The signed version (Howard Hinnant's `days_from_civil`), to check the unsigned one.
    fn days_reference(y: u64, m: u64, d: u64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y } as i64;
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m as i64 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    #[test]
    fn days_agree_with_the_signed_version() {
        for y in 1970..=2500 {
            for m in 1..=12 {
                for d in 1..=days_in(y, m) {
                    assert_eq!(days_from_civil(y, m, d), days_reference(y, m, d), "{y}-{m}-{d}");
                }
            }
        }
        assert_eq!(days_from_civil(9999, 12, 31), days_reference(9999, 12, 31));
    }

    /// The first, field-by-field version: the reference the table-free one is checked against.
    fn reference(s: &str) -> Option<u64> {
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Option<u64> {
            let d = b.get(from..from + len)?;
            d.iter().all(u8::is_ascii_digit).then(|| d.iter().fold(0, |v, &c| v * 10 + u64::from(c - b'0')))
        };
        let sep = |at: usize, c: &[u8]| b.get(at).is_some_and(|x| c.contains(x));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
            return None;
        }
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, min, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in(year, month)
            || hour > 23
            || min > 59
            || sec > 60
        {
            return None;
        }
        let mut i = 19;
        let mut ms = 0;
        if b.get(i) == Some(&b'.') {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            for k in 0..3 {
                ms = ms * 10 + b.get(i + 1 + k).filter(|_| k < digits).map_or(0, |&c| u64::from(c - b'0'));
            }
            i += 1 + digits;
        }
        let offset_min: i64 = match b.get(i)? {
            b'Z' | b'z' if i + 1 == b.len() => 0,
            &c @ (b'+' | b'-') if i + 6 == b.len() && sep(i + 3, b":") => {
                let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let v = (h * 60 + m) as i64;
                if c == b'-' {
                    -v
                } else {
                    v
                }
            }
            _ => return None,
        };
        if year < 1970 {
            return None;
        }
        let days = days_reference(year, month, day);
        let secs = days * 86_400 + (hour * 3600 + min * 60 + sec) as i64 - offset_min * 60;
        u64::try_from(secs).ok().map(|s| s * 1000 + ms)
    }

    #[test]
    fn agrees_with_the_reference() {
        let bases = [
            "2023-07-29T01:23:49.6454046Z",
            "2023-07-29T03:23:49.645+02:00",
            "2000-02-29T00:00:00.5Z",
            "1970-01-01T00:00:00Z",
            "2023-11-14t22:13:20.1230000-11:30",
            "2023-11-14 22:13:20Z",
        ];
        let swaps =
            [b'0', b'9', b'5', b'2', b'1', b'-', b':', b'.', b'Z', b'z', b'T', b'+', b' ', b'a', 0x80];
        for base in bases {
            let b = base.as_bytes();
            let mut cases: alloc::vec::Vec<alloc::vec::Vec<u8>> = alloc::vec![b.to_vec()];
            for k in 0..b.len() {
                cases.push([&b[..k], &b[k + 1..]].concat());
                for &c in &swaps {
                    let mut v = b.to_vec();
                    v[k] = c;
                    cases.push(v);
                    let mut v = b.to_vec();
                    v.insert(k, c);
                    cases.push(v);
                }
                cases.push(b[..k].to_vec());
            }
            for v in cases {
                let s = String::from_utf8_lossy(&v);
                assert_eq!(rfc3339_ms(&s), reference(&s), "{s}");
            }
        }
    }

    #[test]
    fn reads_rfc3339() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ms("2023-07-29T01:23:49.6454046Z"), Some(1_690_593_829_645));
        assert_eq!(rfc3339_ms("2023-07-29T03:23:49.645+02:00"), Some(1_690_593_829_645));
        assert_eq!(rfc3339_ms("2000-02-29T00:00:00.5Z"), Some(951_782_400_500));
        assert_eq!(rfc3339_ms("2001-02-29T00:00:00Z"), None);
        assert_eq!(rfc3339_ms("2023-07-29T01:23:49"), None);
        assert_eq!(rfc3339_ms("2023-07-29T01:23:49.Z"), None);
        assert_eq!(rfc3339_ms("1969-12-31T23:59:59Z"), None);
        assert_eq!(rfc3339_ms("2023-13-01T00:00:00Z"), None);
        assert_eq!(rfc3339_ms("2023-07-29T01:23:49Zx"), None);
    }
}
