//! Points in time on the command line (`--since`, `--until`): a duration back from now
//! (`90s`, `15m`, `2h`, `1d`, `1h30m`) or a time: RFC 3339, or `2026-11-21`,
//! `2026-11-21T14:05[:00[.5]]` / `2026-11-21 14:05[:00]`, read as UTC unless they end with
//! `Z` or an offset (`+02:00`, `+0200`). Everything is microseconds since the epoch.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// `s` as microseconds since the epoch, `now_us` being the present.
pub fn parse(s: &str, now_us: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Some(back) = duration_us(s) {
        return Ok(now_us - back);
    }
    time_us(s).ok_or_else(|| {
        format!(
            "{s:?} is neither a duration (90s, 15m, 2h, 1d, 1h30m) nor a time \
             (2026-11-21T14:05:00Z, or 2026-11-21 14:05 read as UTC)"
        )
    })
}

/// A written time (no duration) as microseconds since the epoch.
fn time_us(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    // One shape from here on: `T` between date and time.
    let s = match s.as_bytes().get(10) {
        Some(b' ') => format!("{}T{}", &s[..10], &s[11..]),
        _ => s.to_owned(),
    };
    let s = s.strip_suffix('Z').unwrap_or(&s);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.timestamp_micros());
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros())
}

/// `1h30m` → microseconds; `None` unless the whole string is number+unit pairs.
fn duration_us(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let n: i64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?.checked_mul(1_000_000)?)?;
        digits.clear();
        any = true;
    }
    (any && digits.is_empty()).then_some(total)
}

/// Microseconds since the epoch as `2026-11-21T14:05:00.123456Z`.
pub fn format_us(us: i64) -> String {
    DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_else(|| us.to_string())
}

/// Microseconds since the epoch as `2026-11-21T14:05:00Z`, rounded down to the second so
/// that a reader given it (`docker compose logs --since`) misses nothing of that second.
pub fn format_secs(us: i64) -> String {
    DateTime::from_timestamp(us.div_euclid(1_000_000), 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| us.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000_000;

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(parse("90s", NOW), Ok(NOW - 90_000_000));
        assert_eq!(parse("15m", NOW), Ok(NOW - 900_000_000));
        assert_eq!(parse("2h", NOW), Ok(NOW - 7_200_000_000));
        assert_eq!(parse("1h30m", NOW), Ok(NOW - 5_400_000_000));
        assert_eq!(parse("1d", NOW), Ok(NOW - 86_400_000_000));
        for bad in ["15", "m", "15x", "-5m", "1.5h", ""] {
            assert!(parse(bad, NOW).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times_are_rfc3339_or_utc() {
        let z = parse("2026-11-21T14:05:00Z", NOW).expect("rfc3339");
        for same in [
            "2026-11-21T16:05:00+02:00",
            "2026-11-21T16:05:00+0200",
            "2026-11-21 14:05",
            "2026-11-21 14:05Z",
            "2026-11-21T14:05",
            "2026-11-21T14:05:00",
            "2026-11-21 14:05:00",
            "2026-11-21 16:05+02:00",
        ] {
            assert_eq!(parse(same, NOW), Ok(z), "{same}");
        }
        assert_eq!(parse("2026-11-21 14:05:00.5", NOW), Ok(z + 500_000));
        assert_eq!(
            parse("2026-11-21", NOW),
            Ok(z - (14 * 3600 + 5 * 60) * 1_000_000)
        );
        assert_eq!(format_us(z), "2026-11-21T14:05:00.000000Z");
        for bad in [
            "yesterday",
            "2026-11-21 25:00",
            "2026-13-01",
            "14:05",
            "2026-11-21x",
        ] {
            assert!(parse(bad, NOW).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn compose_gets_whole_seconds_rounded_down() {
        let z = parse("2026-11-21T14:05:00Z", NOW).expect("rfc3339");
        assert_eq!(format_secs(z + 999_999), "2026-11-21T14:05:00Z");
        assert_eq!(format_secs(z), "2026-11-21T14:05:00Z");
    }
}
