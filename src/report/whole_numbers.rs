//! Percentiles of trends that count things (`sse_events_per_stream`, a
//! custom trend of items per page): when every sample is a whole number,
//! the summary shows whole numbers.
//!
//! A histogram bucket stands for a range of values, and a percentile reads
//! the top of its bucket: 19 events (19 000 micro-units) sit in a bucket
//! 16 micro-units wide and come back as 19.007, printed `19.01`. When every
//! recorded bucket holds a whole number, the samples were whole numbers,
//! and the one whole number in a percentile's bucket is the value that was
//! recorded. Buckets stay narrower than 1 up to 1 048; a wider bucket
//! holds several whole numbers, and the percentile is rounded instead
//! (within the histogram's 0.1 % anyway).

use std::ops::RangeInclusive;

use hdrhistogram::Histogram;

use super::stats::percentile;
use crate::metrics::{TrendValue, ValueType, display_to_micros};

/// Percentile `p` of `trend` as the summary prints it: the whole number in
/// the percentile's bucket for a plain trend of whole numbers, otherwise
/// [`percentile`]. Times and sizes keep their fractions (1.5 ms is a time
/// to show, not a rounding artefact).
pub fn shown_percentile(trend: &TrendValue, contains: ValueType, p: f64) -> f64 {
    let exact = percentile(trend, p);
    if contains != ValueType::Default || !holds_whole_numbers(trend) {
        return exact;
    }
    let h = &*trend.histogram;
    let wholes = wholes_in_bucket(h, h.value_at_quantile((p / 100.0).clamp(0.0, 1.0)));
    if wholes.start() == wholes.end() {
        (*wholes.start() as f64).clamp(trend.min, trend.max)
    } else {
        // A wide bucket: the nearest whole number is as good as any.
        exact.round()
    }
}

/// True when the exact min and max are whole and every recorded bucket
/// holds a whole number: no sample had a fraction the histogram kept.
fn holds_whole_numbers(trend: &TrendValue) -> bool {
    let h = &*trend.histogram;
    trend.count > 0
        && trend.min.fract() == 0.0
        && trend.max.fract() == 0.0
        && h.iter_recorded()
            .all(|bucket| !wholes_in_bucket(h, bucket.value_iterated_to()).is_empty())
}

/// The whole display values in the bucket holding `micros`.
fn wholes_in_bucket(h: &Histogram<u64>, micros: u64) -> RangeInclusive<u64> {
    // Micro-units per whole display unit.
    let unit = display_to_micros(1.0);
    h.lowest_equivalent(micros).div_ceil(unit)..=h.highest_equivalent(micros) / unit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trend(values: &[f64]) -> TrendValue {
        TrendValue::of(values)
    }

    #[test]
    fn counts_read_as_the_whole_number_recorded() {
        let events = trend(&[18.0, 19.0, 19.0, 20.0, 1049.0, 5000.0]);
        assert_eq!(percentile(&events, 50.0), 19.007);
        assert_eq!(shown_percentile(&events, ValueType::Default, 50.0), 19.0);
        assert_eq!(shown_percentile(&events, ValueType::Default, 80.0), 1049.0);
        assert_eq!(shown_percentile(&events, ValueType::Default, 0.0), 18.0);
        assert_eq!(shown_percentile(&events, ValueType::Default, 100.0), 5000.0);
    }

    #[test]
    fn fractions_times_and_sizes_are_left_alone() {
        let halves = trend(&[1.0, 1.5, 1.5, 2.0]);
        assert_eq!(shown_percentile(&halves, ValueType::Default, 50.0), 1.5);
        let times = trend(&[19.0, 19.0, 19.0]);
        assert_eq!(shown_percentile(&times, ValueType::Time, 50.0), 19.0);
        let slow = trend(&[18.0, 19.0, 20.0, 21.0]);
        assert_eq!(shown_percentile(&slow, ValueType::Time, 50.0), 19.007);
        assert_eq!(shown_percentile(&trend(&[]), ValueType::Default, 50.0), 0.0);
    }
}
