//! Event times: epoch milliseconds, read from the command line as digits or ISO-8601, and shown
//! as ISO-8601 UTC. Hand-rolled (proleptic Gregorian calendar, no leap seconds) to avoid a
//! date-time dependency.

/// Parses a `--at` / `--start` value: epoch milliseconds (`1714521600000`) or an ISO-8601
/// timestamp `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` (a space may replace the `T`; fractions beyond
/// milliseconds are truncated; a date alone means midnight UTC).
pub fn parse_time(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<u64>().map_err(|_| format!("`{text}`: epoch milliseconds out of range"));
    }
    parse_iso(t).ok_or_else(|| {
        format!(
            "`{text}` is not a time: give epoch milliseconds (1714521600000) or ISO-8601 \
             (2024-05-01T08:00:00Z, 2024-05-01T16:00:00.250+08:00)"
        )
    })
}

fn parse_iso(t: &str) -> Option<u64> {
    let b = t.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = b.get(from..from + len)?;
        s.iter().all(u8::is_ascii_digit).then(|| s.iter().fold(0i64, |a, &d| a * 10 + i64::from(d - b'0')))
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    if b.len() == 10 {
        return u64::try_from(ms).ok();
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') || b.get(16) != Some(&b':')
    {
        return None;
    }
    let (h, m, s) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    ms += (h * 3600 + m * 60 + s) * 1000;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &t[start..i.min(start + 3)];
        ms += frac.parse::<i64>().ok()? * 10i64.pow(3 - frac.len() as u32);
    }
    let offset_min = match &t[i..] {
        "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let z = zone.as_bytes();
            let (oh, om) = match z.len() {
                6 if z[3] == b':' => (num(i + 1, 2)?, num(i + 4, 2)?),
                5 => (num(i + 1, 2)?, num(i + 3, 2)?),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 60 + om)
        }
    };
    u64::try_from(ms - offset_min * 60_000).ok()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01 (inverse of `days_from_civil`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_time(ms: u64) -> String {
    let ms = ms as i64;
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, milli) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// Formats a duration in milliseconds briefly: `850 ms`, `12.5 s`, `7 min`, `3 h 20 min`, `2 d 4 h`.
pub fn format_duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..=3_599_999 => format!("{} min", ms / 60_000),
        3_600_000..=86_399_999 => format!("{} h {} min", ms / 3_600_000, ms / 60_000 % 60),
        _ => format!("{} d {} h", ms / 86_400_000, ms / 3_600_000 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_offsets() {
        assert_eq!(parse_time("1714521600000"), Ok(1_714_521_600_000));
        assert_eq!(parse_time("2024-05-01T00:00:00Z"), Ok(1_714_521_600_000));
        assert_eq!(parse_time("2024-05-01"), Ok(1_714_521_600_000));
        assert_eq!(parse_time("2024-05-01T08:00:00.5+08:00"), Ok(1_714_521_600_500));
        assert_eq!(parse_time("2024-04-30 23:00:00.123456-0100"), Ok(1_714_521_600_123));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(format_time(1_714_521_600_500), "2024-05-01T00:00:00.500Z");
        assert_eq!(format_time(951_782_400_000), "2000-02-29T00:00:00.000Z");
        for ms in [0u64, 1, 86_399_999, 951_782_400_000, 4_102_444_800_000, 1_714_521_600_123] {
            assert_eq!(parse_time(&format_time(ms)), Ok(ms));
        }
        for bad in ["", "2024-13-01T00:00:00Z", "2023-02-29", "2024-05-01T00:00:00", "yesterday", "-5"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
