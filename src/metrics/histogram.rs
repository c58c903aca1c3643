//! HDR histogram helpers: how trends are created, how display values become
//! integer micro-units, and the portable text form used in the summary JSON.
//!
//! Every trend histogram records integer *micro-units*: microseconds for time
//! trends (whose display unit is the millisecond) and `value × 1000` for
//! plain trends. Both are "display value × 1000", so one conversion serves
//! all trends and percentiles convert back by dividing by 1000.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

/// Precision of every trend histogram: values are kept to 3 significant
/// digits (0.1% relative error).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Micro-units per display unit (µs per ms for time trends).
pub const MICROS_PER_UNIT: f64 = 1000.0;

/// The largest value an auto-resizing histogram can track (hdrhistogram's
/// documented limit). Larger samples are clamped to it.
pub const MAX_MICROS: u64 = (i64::MAX / 2) as u64;

/// An empty trend histogram. It starts at its smallest size (values up to
/// 2 ms) and grows as larger values arrive, so idle or fast series stay small.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGNIFICANT_DIGITS)
        .expect("3 significant digits are within hdrhistogram's 0..=5")
}

/// A display value (ms for time trends) as histogram micro-units. Negative
/// values are clamped to 0 (a duration cannot be negative; a custom trend
/// that records one is treated as 0), values beyond [`MAX_MICROS`] to it.
#[inline]
pub fn display_to_micros(value: f64) -> u64 {
    // `as` saturates: negatives become 0, huge values u64::MAX.
    ((value * MICROS_PER_UNIT).round() as u64).min(MAX_MICROS)
}

/// Histogram micro-units back to display units.
#[inline]
pub fn micros_to_display(micros: u64) -> f64 {
    micros as f64 / MICROS_PER_UNIT
}

/// A measured duration as (milliseconds, exact to the nanosecond; whole
/// microseconds, rounded) — the two forms a time trend keeps.
#[inline]
pub fn duration_parts(d: Duration) -> (f64, u64) {
    // In u64 (584 years of nanoseconds): `as_nanos` is a u128, and its
    // conversions cost more than the rest of recording a sample.
    let nanos = d
        .as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(d.subsec_nanos()));
    let ms = nanos as f64 / 1_000_000.0;
    let micros = d
        .as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from(d.subsec_nanos() + 500) / 1000)
        .min(MAX_MICROS);
    (ms, micros)
}

/// The `p`th percentile (0..=100) of `h` in display units, or `None` when
/// the histogram is empty.
pub fn percentile_of(h: &Histogram<u64>, p: f64) -> Option<f64> {
    if h.is_empty() {
        return None;
    }
    let q = (p / 100.0).clamp(0.0, 1.0);
    Some(micros_to_display(h.value_at_quantile(q)))
}

/// Encodes a histogram as HDR's V2 format with DEFLATE compression, in
/// base64: the form HdrHistogram implementations in every language read,
/// and lossless, so summaries from several machines merge exactly.
pub fn serialize_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail with an I/O error, and the V2 encoder
    // only rejects counts above i64::MAX, more samples than a run can hold.
    if let Err(e) = V2DeflateSerializer::new().serialize(h, &mut bytes) {
        tracing::error!(error = %e, "histogram could not be serialized");
        return String::new();
    }
    STANDARD.encode(bytes)
}

/// Decodes what [`serialize_histogram`] wrote (also accepts uncompressed V2).
/// The histogram comes back auto-resizing, so it can absorb other runs.
pub fn deserialize_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| format!("histogram is not valid base64: {e}"))?;
    let mut h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram is not a valid HDR V2 encoding: {e:?}"))?;
    h.auto(true);
    Ok(h)
}

/// Adds `source` into `target`, resizing `target` as needed. `add` then only
/// fails when a value cannot be addressed at all; those values are clamped
/// into range rather than dropped, so counts stay exact.
pub fn add_exact(target: &mut Histogram<u64>, source: &Histogram<u64>) {
    target.auto(true);
    if target.add(source).is_ok() {
        return;
    }
    for bucket in source.iter_recorded() {
        target.saturating_record_n(
            bucket.value_iterated_to(),
            bucket.count_since_last_iteration(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_values_convert_to_micros_and_back() {
        assert_eq!(display_to_micros(1.5), 1500);
        assert_eq!(display_to_micros(-3.0), 0);
        assert_eq!(display_to_micros(f64::INFINITY), MAX_MICROS);
        assert_eq!(micros_to_display(2500), 2.5);
        assert_eq!(
            duration_parts(Duration::from_nanos(1_234_567)),
            (1.234567, 1235)
        );
        assert_eq!(
            duration_parts(Duration::new(3_600, 499)),
            (3_600_000.000499, 3_600_000_000)
        );
        assert_eq!(duration_parts(Duration::MAX).1, MAX_MICROS);
    }

    #[test]
    fn histograms_start_small_and_grow() {
        let mut h = new_histogram();
        let small = h.distinct_values();
        h.record(10_000_000).unwrap();
        assert!(h.distinct_values() > small);
        assert_eq!(percentile_of(&new_histogram(), 50.0), None);
    }
}
