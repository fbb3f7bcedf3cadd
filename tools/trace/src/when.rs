//! Points in time on the command line (`--since`, `--until`): a duration back from now
//! (`90s`, `15m`, `2h`, `1d`, `1h30m`) or a UTC time (RFC 3339, or `2026-11-21T14:05[:00]`
//! / `2026-11-21 14:05[:00]` read as UTC). Everything is microseconds since the epoch.

use chrono::{DateTime, NaiveDateTime};

/// `s` as microseconds since the epoch, `now_us` being the present.
pub fn parse(s: &str, now_us: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Some(back) = duration_us(s) {
        return Ok(now_us - back);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t.and_utc().timestamp_micros());
        }
    }
    Err(format!(
        "{s:?} is neither a duration (90s, 15m, 2h, 1d, 1h30m) nor a time \
         (2026-11-21T14:05:00Z, or 2026-11-21 14:05 read as UTC)"
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000_000;

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(parse("15m", NOW), Ok(NOW - 900_000_000));
        assert_eq!(parse("2h", NOW), Ok(NOW - 7_200_000_000));
        assert_eq!(parse("1h30m", NOW), Ok(NOW - 5_400_000_000));
        assert_eq!(parse("1d", NOW), Ok(NOW - 86_400_000_000));
        assert!(parse("15", NOW).is_err());
        assert!(parse("m", NOW).is_err());
        assert!(parse("15x", NOW).is_err());
    }

    #[test]
    fn times_are_rfc3339_or_utc() {
        let z = parse("2026-11-21T14:05:00Z", NOW).expect("rfc3339");
        assert_eq!(parse("2026-11-21T16:05:00+02:00", NOW), Ok(z));
        assert_eq!(parse("2026-11-21 14:05", NOW), Ok(z));
        assert_eq!(parse("2026-11-21T14:05:00", NOW), Ok(z));
        assert_eq!(format_us(z), "2026-11-21T14:05:00.000000Z");
        assert!(parse("yesterday", NOW).is_err());
    }
}
