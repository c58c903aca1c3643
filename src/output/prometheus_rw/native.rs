//! HDR histogram → Prometheus native histogram.
//!
//! A trend's HDR histogram holds integer micro-units (µs for time trends)
//! with 3 significant digits. Each recorded HDR bucket is a small range of
//! equivalent values; its whole count goes to the native bucket that holds
//! the range's median value. Below 2048 micro-units every HDR bucket is a
//! single integer, so the mapping is exact there; above, an HDR range (at
//! most 0.1% wide) can straddle a native boundary, which moves at most that
//! range's count by one bucket. Total count and sum are always exact: the
//! count is the HDR total and the sum is the trend's exact sum.

use hdrhistogram::Histogram;

use crate::metrics::{TrendValue, ValueType};

use super::proto::{
    self, BucketSpan, histogram::Count, histogram::ResetHint, histogram::ZeroCount,
};

/// Values at or below this are counted in the zero bucket. Prometheus'
/// default (2^-128): only true zeros (a 0 µs duration) land there, since the
/// smallest non-zero value a trend can hold is one micro-unit.
pub const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// Finest and coarsest schemas Prometheus accepts.
pub const MIN_SCHEMA: i32 = -4;
pub const MAX_SCHEMA: i32 = 8;

/// Bucket layout of one schema: Prometheus' upper bounds of the buckets
/// within one power of two, as fractions in [0.5, 1).
#[derive(Clone, Debug)]
pub struct NativeLayout {
    schema: i32,
    bounds: Vec<f64>,
}

impl NativeLayout {
    /// `schema` must be within [`MIN_SCHEMA`]..=[`MAX_SCHEMA`] (checked by
    /// the option parser); out-of-range values are clamped.
    pub fn new(schema: i32) -> Self {
        let schema = schema.clamp(MIN_SCHEMA, MAX_SCHEMA);
        let bounds = if schema > 0 {
            let n = 1u32 << schema;
            (0..n)
                .map(|j| f64::exp2(f64::from(j) / f64::from(n) - 1.0))
                .collect()
        } else {
            Vec::new()
        };
        NativeLayout { schema, bounds }
    }

    pub fn schema(&self) -> i32 {
        self.schema
    }

    /// The index of the bucket holding `x > 0`: bucket `i` is
    /// `(base^(i-1), base^i]` with `base = 2^(2^-schema)`. Same arithmetic
    /// as Prometheus' Go client, so boundaries match exactly.
    pub fn bucket_index(&self, x: f64) -> i32 {
        let (frac, exp) = frexp(x);
        if self.schema > 0 {
            let within = self.bounds.partition_point(|b| *b < frac) as i32;
            within + (exp - 1) * self.bounds.len() as i32
        } else {
            let mut key = exp;
            if frac == 0.5 {
                key -= 1;
            }
            let shift = -self.schema;
            let offset = (1 << shift) - 1;
            (key + offset) >> shift
        }
    }

    /// A native histogram with no observations, in this schema: the zero
    /// start of a histogram series (see the encoder).
    pub fn empty(&self, timestamp: i64) -> proto::Histogram {
        proto::Histogram {
            count: Some(Count::CountInt(0)),
            sum: 0.0,
            schema: self.schema,
            zero_threshold: ZERO_THRESHOLD,
            zero_count: Some(ZeroCount::ZeroCountInt(0)),
            reset_hint: ResetHint::Unknown as i32,
            timestamp,
            ..Default::default()
        }
    }

    /// The native histogram of `hdr`, whose values are micro-units and are
    /// divided by `scale` to get the exported unit (1e6 for seconds from µs).
    /// `sum` is the exact sum in the exported unit.
    pub fn convert(
        &self,
        hdr: &Histogram<u64>,
        scale: f64,
        sum: f64,
        timestamp: i64,
    ) -> proto::Histogram {
        let mut zero_count = 0u64;
        // (index, count), indexes ascending since HDR iterates ascending.
        let mut buckets: Vec<(i32, u64)> = Vec::new();
        for bucket in hdr.iter_recorded() {
            let count = bucket.count_at_value();
            let value = hdr.median_equivalent(bucket.value_iterated_to());
            if value == 0 {
                zero_count += count;
                continue;
            }
            let index = self.bucket_index(value as f64 / scale);
            match buckets.last_mut() {
                Some((last, c)) if *last == index => *c += count,
                _ => buckets.push((index, count)),
            }
        }
        let (positive_spans, positive_deltas) = spans_and_deltas(&buckets);
        proto::Histogram {
            count: Some(Count::CountInt(hdr.len())),
            sum,
            schema: self.schema,
            zero_threshold: ZERO_THRESHOLD,
            zero_count: Some(ZeroCount::ZeroCountInt(zero_count)),
            positive_spans,
            positive_deltas,
            reset_hint: ResetHint::Unknown as i32,
            timestamp,
            ..Default::default()
        }
    }

    /// The native histogram of a whole trend, in the unit remote-write
    /// exports: seconds for time trends (the HDR holds µs, the sum ms), the
    /// trend's own values otherwise (the HDR holds thousandths). The scrape
    /// endpoint serves these, so both paths carry the same histogram.
    pub fn convert_trend(
        &self,
        contains: ValueType,
        trend: &TrendValue,
        timestamp: i64,
    ) -> proto::Histogram {
        let (scale, sum) = match contains {
            ValueType::Time => (1e6, trend.sum / 1000.0),
            ValueType::Default | ValueType::Data => (1e3, trend.sum),
        };
        self.convert(&trend.histogram, scale, sum, timestamp)
    }
}

/// Spans of consecutive indexes and the delta-encoded counts of
/// `(index, count)` pairs sorted by index.
pub fn spans_and_deltas(buckets: &[(i32, u64)]) -> (Vec<BucketSpan>, Vec<i64>) {
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut deltas = Vec::with_capacity(buckets.len());
    let mut previous: Option<(i32, u64)> = None;
    for &(index, count) in buckets {
        match previous {
            Some((last, _)) if index == last + 1 => {
                if let Some(span) = spans.last_mut() {
                    span.length += 1;
                }
            }
            Some((last, _)) => spans.push(BucketSpan {
                offset: index - last - 1,
                length: 1,
            }),
            None => spans.push(BucketSpan {
                offset: index,
                length: 1,
            }),
        }
        let before = previous.map_or(0, |(_, c)| c as i64);
        deltas.push(count as i64 - before);
        previous = Some((index, count));
    }
    (spans, deltas)
}

/// `x = frac * 2^exp` with `frac` in [0.5, 1), for finite `x > 0` (Go's
/// `math.Frexp`).
fn frexp(x: f64) -> (f64, i32) {
    const MANTISSA: u64 = (1 << 52) - 1;
    let mut bits = x.to_bits();
    let mut exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let mut adjust = 0;
    if exp_bits == 0 {
        // Subnormal: scale into the normal range first.
        bits = (x * f64::exp2(54.0)).to_bits();
        exp_bits = ((bits >> 52) & 0x7ff) as i32;
        adjust = -54;
    }
    let frac = f64::from_bits((bits & MANTISSA) | (1022 << 52));
    (frac, exp_bits - 1022 + adjust)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_matches_go() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(0.015625), (0.5, -5));
        assert_eq!(frexp(5e-324), (0.5, -1073));
    }

    #[test]
    fn bucket_upper_bounds_are_inclusive() {
        let l = NativeLayout::new(0);
        // Schema 0: (0.5,1] is 0, (1,2] is 1, (2,4] is 2.
        assert_eq!(l.bucket_index(1.0), 0);
        assert_eq!(l.bucket_index(1.5), 1);
        assert_eq!(l.bucket_index(2.0), 1);
        assert_eq!(l.bucket_index(2.1), 2);
        let l = NativeLayout::new(3);
        // 2^(1/8) = 1.0905: (1, 1.0905] is 1.
        assert_eq!(l.bucket_index(1.0), 0);
        assert_eq!(l.bucket_index(1.05), 1);
        assert_eq!(l.bucket_index(1.1), 2);
        assert_eq!(l.bucket_index(0.015625), -48);
        let l = NativeLayout::new(-2);
        // Base 16: (1,16] is 1, (16,256] is 2, (1/16,1] is 0.
        assert_eq!(l.bucket_index(16.0), 1);
        assert_eq!(l.bucket_index(17.0), 2);
        assert_eq!(l.bucket_index(0.5), 0);
    }

    #[test]
    fn spans_split_on_gaps_and_deltas_run_across_spans() {
        let (spans, deltas) = spans_and_deltas(&[(-3, 2), (-2, 5), (1, 1), (2, 1), (7, 4)]);
        assert_eq!(
            spans,
            vec![
                BucketSpan {
                    offset: -3,
                    length: 2
                },
                BucketSpan {
                    offset: 2,
                    length: 2
                },
                BucketSpan {
                    offset: 4,
                    length: 1
                },
            ]
        );
        assert_eq!(deltas, vec![2, 3, -4, 0, 3]);
    }
}
