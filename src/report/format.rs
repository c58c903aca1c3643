//! Number formatting shared by the console renderer: k6's conventions for
//! bytes (decimal units, like go-humanize), rates, percentages and plain values.

use crate::metrics::ValueType;
use crate::util::duration::format_millis;

/// Bytes in decimal units as k6 prints them: `412 B`, `4.1 kB`, `120 kB`, `1.2 MB`.
/// One decimal below 10 of a unit, none above (go-humanize's `Bytes`).
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if !bytes.is_finite() || bytes < 10.0 {
        return format!("{} B", format_number(bytes));
    }
    let exponent = (bytes.log10() / 3.0).floor().min((UNITS.len() - 1) as f64);
    let scaled = (bytes / 1000f64.powf(exponent) * 10.0 + 0.5).floor() / 10.0;
    let unit = UNITS[exponent as usize];
    if scaled < 10.0 {
        format!("{scaled:.1} {unit}")
    } else {
        format!("{scaled:.0} {unit}")
    }
}

/// A plain number: integers without decimals, others with two (four below 1),
/// trailing zeros trimmed so `0.5` stays `0.5`.
pub fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let text = if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    };
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" || trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// A per-second rate of a plain count: `40.0/s`, `0.050/s`.
pub fn format_per_second(rate: f64) -> String {
    if rate == 0.0 {
        "0/s".to_string()
    } else if rate.abs() >= 1.0 {
        format!("{rate:.1}/s")
    } else {
        format!("{rate:.3}/s")
    }
}

/// A share 0..=1 as a percentage with two decimals: `99.50%`.
pub fn format_percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

/// A value in its metric's display units: milliseconds as durations, bytes
/// in decimal units, anything else as a plain number.
pub fn format_value(contains: ValueType, value: f64) -> String {
    match contains {
        ValueType::Time => format_millis(value),
        ValueType::Data => format_bytes(value),
        ValueType::Default => format_number(value),
    }
}

/// A counter's rate over the run in its display units: `40.0/s`, `4.0 kB/s`.
pub fn format_counter_rate(contains: ValueType, rate: f64) -> String {
    match contains {
        ValueType::Default => format_per_second(rate),
        ValueType::Time | ValueType::Data => format!("{}/s", format_value(contains, rate)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_decimal_units_like_k6() {
        assert_eq!(format_bytes(0.0), "0 B");
        assert_eq!(format_bytes(7.0), "7 B");
        assert_eq!(format_bytes(412.0), "412 B");
        assert_eq!(format_bytes(600.0), "600 B");
        assert_eq!(format_bytes(4_100.0), "4.1 kB");
        assert_eq!(format_bytes(120_000.0), "120 kB");
        assert_eq!(format_bytes(1_234_567.0), "1.2 MB");
        assert_eq!(format_bytes(999_999.0), "1000 kB");
        assert_eq!(format_bytes(3.5e9), "3.5 GB");
    }

    #[test]
    fn numbers_rates_and_percentages() {
        assert_eq!(format_number(1200.0), "1200");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(12.345), "12.35");
        assert_eq!(format_number(0.00125), "0.0013");
        assert_eq!(format_number(-0.00001), "0");
        assert_eq!(format_per_second(40.0), "40.0/s");
        assert_eq!(format_per_second(0.05), "0.050/s");
        assert_eq!(format_per_second(0.0), "0/s");
        assert_eq!(format_percent(0.995), "99.50%");
        assert_eq!(format_counter_rate(ValueType::Data, 4_000.0), "4.0 kB/s");
    }
}
