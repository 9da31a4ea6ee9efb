//! Times and durations as Vault writes them: RFC 3339 in UTC, and Go durations (`768h`, `1h30m`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2026-12-05T23:54:48.123456789Z` (nanoseconds trimmed of trailing zeros, as Go's RFC3339Nano).
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    );
    let nanos = since.subsec_nanos();
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Seconds since the epoch.
pub(crate) fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// Howard Hinnant's days-to-civil algorithm, for days since 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: expected seconds or a Go duration such as 30s, 5m or 1h30m")]
pub(crate) struct DurationError {
    text: String,
}

/// A duration as Vault takes it: a JSON number of seconds, or a string of seconds or Go units
/// (`ns`, `us`, `ms`, `s`, `m`, `h`, `d`), such as `768h` or `1h30m`.
pub(crate) fn parse_duration(value: &serde_json::Value) -> Result<Duration, DurationError> {
    match value {
        serde_json::Value::Number(n) => {
            n.as_u64()
                .map(Duration::from_secs)
                .ok_or_else(|| DurationError {
                    text: n.to_string(),
                })
        }
        serde_json::Value::String(s) => parse_duration_text(s),
        other => Err(DurationError {
            text: other.to_string(),
        }),
    }
}

fn parse_duration_text(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError {
        text: text.to_owned(),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Duration::ZERO);
    }
    if let Ok(secs) = trimmed.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u128 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(error)?;
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let nanos_per: u128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            _ => return Err(error()),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(error());
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| error())?
        };
        let mut part = whole.checked_mul(nanos_per).ok_or_else(error)?;
        let mut scale = nanos_per;
        for digit in fraction.chars() {
            scale /= 10;
            part += u128::from(digit.to_digit(10).ok_or_else(error)?) * scale;
        }
        total = total.checked_add(part).ok_or_else(error)?;
        rest = tail;
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| error())?;
    Ok(Duration::new(secs, (total % 1_000_000_000) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Option<u64>) {
        let got = parse_duration_text(text).ok().map(|d| d.as_secs());
        assert_eq!(got, expected, "{text:?}");
    }

    #[test]
    fn durations_parse_like_vault() {
        check("30", Some(30));
        check("30s", Some(30));
        check("5m", Some(300));
        check("1h30m", Some(5400));
        check("768h", Some(2_764_800));
        check("1.5h", Some(5400));
        check("2d", Some(172_800));
        check("", Some(0));
        check("h", None);
        check("5x", None);
        check("-5s", None);
        check("99999999999999999999999h", None);
    }

    #[test]
    fn times_print_as_rfc3339_in_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::new(1_764_979_200, 500_000_000);
        assert_eq!(rfc3339(t), "2025-12-06T00:00:00.5Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
