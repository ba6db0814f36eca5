//! RFC 3339 timestamps (CloudEvents `time`, Event Grid `eventTime`) to Unix milliseconds.
//!
//! `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`: the fraction is cut to milliseconds (Azure
//! writes seven digits; cutting, not rounding, keeps an instant inside its own millisecond),
//! the offset is applied. Years before 1970 are refused: event times are unsigned.

/// Unix milliseconds of `s`, or `None` if it is not such a timestamp.
pub(super) fn rfc3339_ms(s: &str) -> Option<u64> {
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
fn days_from_civil(y: u64, m: u64, d: u64) -> i64 {
    // Shift the year to start in March, so February's leap day is the year's last day.
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::rfc3339_ms;

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
