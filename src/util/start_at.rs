//! `--start-at`: an RFC 3339 instant (`2026-12-06T07:30:00Z`,
//! `2026-12-06T08:30:00.250+01:00`) at which every instance of a
//! distributed test starts its schedule. Parsed here rather than with a
//! date crate: the grammar is small (RFC 3339 section 5.6) and this is its
//! only reader.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A start later than this after `--start-at` is a late start, said on
/// stderr and marked in the summary export: one flush interval, the
/// resolution at which the live view would show instances out of step.
pub const LATE_START_TOLERANCE: Duration = Duration::from_secs(1);

/// `--start-at` as given and as an instant.
#[derive(Clone, Debug, PartialEq)]
pub struct StartAt {
    pub text: String,
    pub at: SystemTime,
}

impl std::str::FromStr for StartAt {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Ok(StartAt {
            text: text.trim().to_string(),
            at: parse_start_at(text)?,
        })
    }
}

/// Parses `full-date "T" full-time` (RFC 3339 section 5.6; `t`, `z` and a
/// space for `T` accepted as the RFC's note allows) into an instant.
/// Leap seconds (`:60`) are refused: no clock will show them to compare.
pub fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    let bad = |why: &str| {
        format!("{text:?} is not an RFC 3339 time ({why}); expected e.g. 2026-12-06T07:30:00Z")
    };
    let b = text.trim().as_bytes();
    if b.len() < 19 {
        return Err(bad("too short"));
    }
    let digits = |from: usize, len: usize| -> Result<i64, String> {
        let part = &b[from..from + len];
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(bad("a field is not digits"));
        }
        Ok(part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let separators_ok = b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !separators_ok {
        return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad("no such date"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad("no such time of day"));
    }
    let mut at = 19;
    let mut nanos: u64 = 0;
    if b.get(at) == Some(&b'.') {
        let start = at + 1;
        at = start;
        while at < b.len() && b[at].is_ascii_digit() {
            at += 1;
        }
        let fraction = &b[start..at];
        if fraction.is_empty() || fraction.len() > 9 {
            return Err(bad("1 to 9 digits after the decimal point"));
        }
        let scale = 10u64.pow(9 - fraction.len() as u32);
        nanos = fraction
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
            * scale;
    }
    let offset_seconds = match &b[at..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = digits(at + 1, 2)?;
            let minutes = digits(at + 4, 2)?;
            if hours > 23 || minutes > 59 {
                return Err(bad("no such UTC offset"));
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return Err(bad("expected Z or an offset such as +01:00 at the end")),
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_seconds;
    let seconds = u64::try_from(seconds).map_err(|_| bad("before 1970"))?;
    Ok(UNIX_EPOCH + Duration::new(seconds, nanos as u32))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, the inverse of `civil_date::civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> (u64, u32) {
        let d = parse_start_at(text)
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap();
        (d.as_secs(), d.subsec_nanos())
    }

    #[test]
    fn parses_utc_offsets_and_fractions() {
        assert_eq!(secs("1970-01-01T00:00:00Z"), (0, 0));
        assert_eq!(secs("2026-12-06T07:30:00Z"), (1_796_542_200, 0));
        assert_eq!(secs("2026-12-06T08:30:00+01:00"), (1_796_542_200, 0));
        assert_eq!(secs("2026-12-06T07:00:00-00:30"), (1_796_542_200, 0));
        assert_eq!(
            secs("2026-12-06t07:30:00.25z"),
            (1_796_542_200, 250_000_000)
        );
        assert_eq!(secs("2024-02-29T00:00:00.000000001Z"), (1_709_164_800, 1));
    }

    #[test]
    fn refuses_what_is_not_an_instant() {
        let err = parse_start_at("2026-12-06 07:30").unwrap_err();
        assert_eq!(
            err,
            "\"2026-12-06 07:30\" is not an RFC 3339 time (too short); expected e.g. 2026-12-06T07:30:00Z"
        );
        assert!(
            parse_start_at("2026-02-29T00:00:00Z")
                .unwrap_err()
                .contains("no such date")
        );
        assert!(
            parse_start_at("2026-12-06T24:00:00Z")
                .unwrap_err()
                .contains("no such time")
        );
        assert!(
            parse_start_at("2026-12-06T07:30:00")
                .unwrap_err()
                .contains("offset")
        );
        assert!(
            parse_start_at("2026-12-06T07:30:00+1:00")
                .unwrap_err()
                .contains("offset")
        );
        assert!(
            parse_start_at("2026-12-06T07:30:00.Z")
                .unwrap_err()
                .contains("decimal")
        );
    }
}
