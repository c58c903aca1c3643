//! Bucket counts for OTLP histograms, converted from stampede's HDR
//! histograms: explicit boundaries, or an exponential histogram with the
//! finest scale that fits.
//!
//! Each HDR bucket (3 significant digits) is placed by its lowest
//! equivalent value, so a boundary that is a round number of microseconds
//! sorts values recorded exactly on it into the `<=` side, as OTLP's
//! upper-inclusive buckets want. Counts are exact: every recorded value
//! lands in exactly one bucket.

use hdrhistogram::Histogram;

/// Finest exponential scale sent: Prometheus native histograms stop at
/// schema 8 (Prometheus 3 reduces finer OTLP scales to 8, losing nothing
/// but bytes), and HDR's 3 significant digits are finer than that anyway.
pub const MAX_SCALE: i32 = 8;
/// Coarsest scale sent: Prometheus refuses OTLP exponential histograms
/// below schema -4. Never reached in practice: at scale 0 (one bucket per
/// power of two) the 64 doublings a `u64` HDR histogram can span take 64
/// of the [`MAX_BUCKETS`].
pub const MIN_SCALE: i32 = -4;
/// Most buckets in one exponential histogram, the OpenTelemetry SDK's
/// default `max_size`.
pub const MAX_BUCKETS: i64 = 160;

/// Explicit-boundary bucket counts: `bounds.len() + 1` counts, bucket `i`
/// holding values in `(bounds[i-1], bounds[i]]`. `divisor` turns HDR's
/// integer micro-units into the instrument's unit.
pub fn explicit_counts(h: &Histogram<u64>, bounds: &[f64], divisor: f64) -> Vec<u64> {
    let mut counts = vec![0u64; bounds.len() + 1];
    for bucket in h.iter_recorded() {
        let value = h.lowest_equivalent(bucket.value_iterated_to()) as f64 / divisor;
        let index = bounds.partition_point(|b| *b < value);
        counts[index] += bucket.count_at_value();
    }
    counts
}

/// An exponential histogram's buckets (positive values only: stampede's
/// histograms hold no negative values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exponential {
    pub scale: i32,
    pub zero_count: u64,
    pub offset: i32,
    pub counts: Vec<u64>,
}

/// Converts `h` (integer micro-units, divided by `divisor` for the
/// instrument's unit) to the finest scale, at most [`MAX_SCALE`], whose
/// buckets span the values in at most [`MAX_BUCKETS`] buckets.
pub fn exponential(h: &Histogram<u64>, divisor: f64) -> Exponential {
    let mut zero_count = 0;
    let mut indexed: Vec<(i64, u64)> = Vec::new();
    for bucket in h.iter_recorded() {
        let low = h.lowest_equivalent(bucket.value_iterated_to());
        if low == 0 {
            zero_count += bucket.count_at_value();
        } else {
            let value = low as f64 / divisor;
            indexed.push((index_at(value, MAX_SCALE), bucket.count_at_value()));
        }
    }
    let (Some(first), Some(last)) = (indexed.first(), indexed.last()) else {
        return Exponential {
            scale: 0,
            zero_count,
            offset: 0,
            counts: Vec::new(),
        };
    };
    // Going one scale down halves every index (floor), exactly as the
    // bucket boundaries merge pairwise; find how far down the span fits.
    let (lo, hi) = (first.0, last.0);
    let mut shift = 0u32;
    while (hi >> shift) - (lo >> shift) + 1 > MAX_BUCKETS && MAX_SCALE - (shift as i32) > MIN_SCALE
    {
        shift += 1;
    }
    let offset = lo >> shift;
    let mut counts = vec![0u64; ((hi >> shift) - offset + 1) as usize];
    for (index, count) in indexed {
        counts[((index >> shift) - offset) as usize] += count;
    }
    Exponential {
        scale: MAX_SCALE - shift as i32,
        zero_count,
        offset: offset as i32,
        counts,
    }
}

/// The index of the bucket `(base^i, base^(i+1)]` holding `value` at
/// `scale` (base = 2^(2^-scale)). Exact powers of two sit at the top of
/// their bucket, as the OTLP spec asks.
pub fn index_at(value: f64, scale: i32) -> i64 {
    let (mantissa, exponent) = frexp(value);
    // value = mantissa * 2^exponent with mantissa in [0.5, 1).
    if mantissa == 0.5 {
        // An exact power of two, 2^(exponent-1): the top of a bucket.
        let power = i64::from(exponent - 1);
        return if scale >= 0 {
            (power << scale) - 1
        } else {
            (power - 1) >> (-scale)
        };
    }
    if scale > 0 {
        let factor = (1i64 << scale) as f64;
        (value.log2() * factor).ceil() as i64 - 1
    } else {
        // Below scale 0 a bucket spans several powers of two.
        i64::from(exponent - 1) >> (-scale)
    }
}

/// `value = mantissa * 2^exponent`, mantissa in `[0.5, 1)`, for positive
/// normal values.
fn frexp(value: f64) -> (f64, i32) {
    let bits = value.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    if raw_exp == 0 {
        // Subnormal: scale up into the normal range first.
        let (m, e) = frexp(value * 2f64.powi(64));
        return (m, e - 64);
    }
    let mantissa = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (mantissa, raw_exp - 1022)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::new_histogram;

    #[test]
    fn explicit_buckets_are_upper_inclusive_and_exact() {
        let mut h = new_histogram();
        for micros in [0, 1000, 5000, 5008, 250_000, 90_000_000] {
            h.record(micros).unwrap();
        }
        let counts = explicit_counts(&h, &[0.001, 0.005, 0.01, 1.0], 1e6);
        assert_eq!(counts, [2, 1, 1, 1, 1]);
        assert_eq!(counts.iter().sum::<u64>(), h.len());
    }

    #[test]
    fn bucket_index_follows_the_spec_at_positive_zero_and_negative_scales() {
        // Scale 0: base 2, buckets (1,2], (2,4], ...
        assert_eq!(index_at(1.0, 0), -1);
        assert_eq!(index_at(1.5, 0), 0);
        assert_eq!(index_at(2.0, 0), 0);
        assert_eq!(index_at(2.1, 0), 1);
        // Scale 1: base sqrt(2).
        assert_eq!(index_at(2.0, 1), 1);
        assert_eq!(index_at(1.5, 1), 1);
        assert_eq!(index_at(1.4, 1), 0);
        // Scale -1: base 4, buckets (1,4], (4,16].
        assert_eq!(index_at(4.0, -1), 0);
        assert_eq!(index_at(5.0, -1), 1);
        assert_eq!(index_at(0.5, 0), -2);
    }

    #[test]
    fn exponential_conversion_keeps_every_count_and_fits_the_bucket_limit() {
        let mut h = new_histogram();
        h.record_n(0, 3).unwrap();
        for micros in (1..2000).map(|i| i * 997) {
            h.record(micros).unwrap();
        }
        let e = exponential(&h, 1e6);
        assert_eq!(e.zero_count, 3);
        assert_eq!(e.zero_count + e.counts.iter().sum::<u64>(), h.len());
        assert!(e.counts.len() as i64 <= MAX_BUCKETS);
        assert!(e.scale <= MAX_SCALE);
        // Spanning ~1 ms .. 2 s (11 doublings) needs scale 3 to fit 160.
        assert_eq!(e.scale, 3);

        // The widest span a trend can hold (1 µs to days) still fits at a
        // scale Prometheus takes.
        let mut wide = new_histogram();
        wide.record(1).unwrap();
        wide.record(1_000_000_000_000).unwrap();
        let e = exponential(&wide, 1e6);
        assert!((MIN_SCALE..=MAX_SCALE).contains(&e.scale), "{}", e.scale);
        assert!(e.counts.len() as i64 <= MAX_BUCKETS);
        assert_eq!(e.counts.iter().sum::<u64>(), 2);

        let mut narrow = new_histogram();
        narrow.record(1000).unwrap();
        let e = exponential(&narrow, 1e6);
        assert_eq!((e.scale, e.counts.iter().sum::<u64>()), (MAX_SCALE, 1));
        assert_eq!(e.offset as i64, index_at(0.001, MAX_SCALE));
    }
}
