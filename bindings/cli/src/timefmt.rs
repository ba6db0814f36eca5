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

/// The core's RFC 3339 reader (`mqtt_status::rfc3339_ms`, the one that reads Azure's event
/// times), after the two forms a command line also takes: a date alone (midnight UTC) and an
/// offset without its colon (`-0100`).
fn parse_iso(t: &str) -> Option<u64> {
    let b = t.as_bytes();
    let n = b.len();
    if n == 10 {
        return mqtt_status::rfc3339_ms(&format!("{t}T00:00:00Z"));
    }
    if n >= 24 && matches!(b[n - 5], b'+' | b'-') && b[n - 4..].iter().all(u8::is_ascii_digit) {
        return mqtt_status::rfc3339_ms(&format!("{}:{}", &t[..n - 2], &t[n - 2..]));
    }
    mqtt_status::rfc3339_ms(t)
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
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
        for bad in [
            "",
            "2024-13-01T00:00:00Z",
            "2023-02-29",
            "2024-05-01T00:00:00",
            "yesterday",
            "-5",
            "1969-12-31",
            "2024-05-01T0",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
