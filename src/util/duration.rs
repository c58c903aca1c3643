//! Duration parsing and formatting in k6's notation: `500ms`, `30s`, `5m`,
//! `1h30m`, `1.5s`, `250us`.

use std::time::Duration;

/// Parses `1h30m`, `45s`, `500ms`, `1.5s`, `250us`/`250µs`, `0`.
/// Returns a message that says what was expected, for one-line errors.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; expected e.g. 30s, 5m, 500ms, 1h30m".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total_nanos: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad(text));
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| bad(text))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_nanos = match &rest[..unit_len] {
            "h" => 3_600e9,
            "m" => 60e9,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            "ns" => 1.0,
            _ => return Err(bad(text)),
        };
        rest = &rest[unit_len..];
        total_nanos += value * unit_nanos;
    }
    if !total_nanos.is_finite() || total_nanos > 1e18 {
        return Err(bad(text));
    }
    Ok(Duration::from_nanos(total_nanos.round() as u64))
}

fn bad(text: &str) -> String {
    format!(
        "invalid duration {text:?}; expected a number with a unit (h, m, s, ms, us), e.g. 30s, 5m, 500ms, 1h30m"
    )
}

/// Formats a duration as k6 prints it in summaries: `1.23ms`, `45.6µs`, `2.5s`, `1m30s`.
pub fn format_millis(ms: f64) -> String {
    if ms == 0.0 {
        "0s".to_string()
    } else if ms < 1.0 {
        format!("{:.2}µs", ms * 1000.0)
    } else if ms < 1000.0 {
        format!("{ms:.2}ms")
    } else if ms < 60_000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        let total_s = (ms / 1000.0).round() as u64;
        let (h, m, s) = (total_s / 3600, (total_s % 3600) / 60, total_s % 60);
        if h > 0 {
            format!("{h}h{m}m{s}s")
        } else {
            format!("{m}m{s}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k6_notation() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_prose() {
        let err = parse_duration("5 minutes").unwrap_err();
        assert!(err.contains("invalid duration \"5 minutes\""), "{err}");
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn formats_like_k6() {
        assert_eq!(format_millis(0.5), "500.00µs");
        assert_eq!(format_millis(12.345), "12.35ms");
        assert_eq!(format_millis(2500.0), "2.50s");
        assert_eq!(format_millis(90_000.0), "1m30s");
    }
}
