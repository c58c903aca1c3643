//! Statistics read off series values, and merging of series (several tag
//! sets into one endpoint, sub-metric or check). Histograms are merged
//! exactly; percentiles are never averaged.

use crate::metrics::{SeriesValue, TagSet, TrendValue};

/// The percentiles every trend shows, besides the median.
pub const SUMMARY_PERCENTILES: [f64; 3] = [90.0, 95.0, 99.0];

/// Percentile `p` (0..=100) of a trend in display units. Histograms hold
/// integer micro-units (µs for time trends, value × 1000 otherwise).
pub fn percentile(trend: &TrendValue, p: f64) -> f64 {
    trend.percentile(p)
}

/// The exact mean (sum / count), 0 for an empty trend.
pub fn average(trend: &TrendValue) -> f64 {
    trend.avg()
}

/// Label of a percentile as k6 writes it: `p(95)`, `p(99.9)`.
pub fn percentile_label(p: f64) -> String {
    format!("p({p})")
}

/// Merges trends: exact count, sum, min and max; histograms added bucket by
/// bucket (`TrendValue::merge`, the aggregator's own merge).
pub fn merge_trends<'a>(trends: impl IntoIterator<Item = &'a TrendValue>) -> Option<TrendValue> {
    let mut trends = trends.into_iter();
    let mut merged = trends.next()?.clone();
    for trend in trends {
        merged.merge(trend);
    }
    Some(merged)
}

/// Merges series values of one metric. Counters and rates add up; gauges
/// add their last values (one gauge per tag set, e.g. VUs per scenario) and
/// keep the overall min and max; trends merge exactly. `None` when there is
/// nothing to merge or the kinds differ.
pub fn merge_values<'a>(values: impl IntoIterator<Item = &'a SeriesValue>) -> Option<SeriesValue> {
    let values: Vec<&SeriesValue> = values.into_iter().collect();
    let first = *values.first()?;
    match first {
        SeriesValue::Counter { .. } => {
            let mut total = 0.0;
            for v in &values {
                let SeriesValue::Counter { sum } = v else {
                    return None;
                };
                total += sum;
            }
            Some(SeriesValue::Counter { sum: total })
        }
        SeriesValue::Rate { .. } => {
            let (mut trues, mut total) = (0, 0);
            for v in &values {
                let SeriesValue::Rate { trues: t, total: n } = v else {
                    return None;
                };
                trues += t;
                total += n;
            }
            Some(SeriesValue::Rate { trues, total })
        }
        SeriesValue::Gauge { .. } => {
            let (mut last, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
            for v in &values {
                let SeriesValue::Gauge {
                    last: l,
                    min: lo,
                    max: hi,
                } = v
                else {
                    return None;
                };
                last += l;
                min = min.min(*lo);
                max = max.max(*hi);
            }
            Some(SeriesValue::Gauge { last, min, max })
        }
        SeriesValue::Trend(_) => {
            let mut trends = Vec::with_capacity(values.len());
            for v in &values {
                let SeriesValue::Trend(t) = v else {
                    return None;
                };
                trends.push(t);
            }
            merge_trends(trends).map(SeriesValue::Trend)
        }
    }
}

/// Merges the series whose tags pass `keep`.
pub fn merge_matching(
    series: &[(TagSet, SeriesValue)],
    keep: impl Fn(&TagSet) -> bool,
) -> Option<SeriesValue> {
    merge_values(series.iter().filter(|(t, _)| keep(t)).map(|(_, v)| v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use hdrhistogram::Histogram;

    fn trend(values: &[f64]) -> TrendValue {
        TrendValue::of(values)
    }

    #[test]
    fn merged_trends_equal_one_trend_of_all_samples() {
        let a = trend(&[1.0, 2.0, 3.0]);
        // Auto-resizing, other bounds than `a`: the merge must still be exact.
        let mut small = Histogram::<u64>::new(3).unwrap();
        small.record(40_000).unwrap();
        let b = TrendValue {
            histogram: Arc::new(small),
            count: 1,
            sum: 40.0,
            min: 40.0,
            max: 40.0,
        };
        let merged = merge_trends([&a, &b]).unwrap();
        assert_eq!(merged.count, 4);
        assert_eq!(merged.histogram.len(), 4);
        assert_eq!((merged.min, merged.max, merged.sum), (1.0, 40.0, 46.0));
        assert_eq!(average(&merged), 11.5);
        assert_eq!(percentile(&merged, 50.0), 2.0);
        assert_eq!(percentile(&merged, 99.0), percentile(&b, 99.0));
        // HDR rounds 40 ms up to 40.031 ms; the percentile is clamped to the exact max.
        assert_eq!(percentile(&b, 99.0), 40.0);
        assert_eq!(percentile_label(99.9), "p(99.9)");
        assert_eq!(percentile_label(95.0), "p(95)");
    }

    #[test]
    fn merges_counters_rates_and_gauges() {
        let counters = [
            SeriesValue::Counter { sum: 2.0 },
            SeriesValue::Counter { sum: 3.5 },
        ];
        assert!(matches!(
            merge_values(&counters),
            Some(SeriesValue::Counter { sum }) if sum == 5.5
        ));
        let rates = [
            SeriesValue::Rate { trues: 1, total: 4 },
            SeriesValue::Rate { trues: 2, total: 6 },
        ];
        assert!(matches!(
            merge_values(&rates),
            Some(SeriesValue::Rate {
                trues: 3,
                total: 10
            })
        ));
        let gauges = [
            SeriesValue::Gauge {
                last: 2.0,
                min: 0.0,
                max: 5.0,
            },
            SeriesValue::Gauge {
                last: 3.0,
                min: 1.0,
                max: 9.0,
            },
        ];
        assert!(matches!(
            merge_values(&gauges),
            Some(SeriesValue::Gauge { last, min, max }) if (last, min, max) == (5.0, 0.0, 9.0)
        ));
        let mixed = [SeriesValue::Counter { sum: 1.0 }, rates[0].clone()];
        assert!(merge_values(&mixed).is_none());
        assert!(merge_values(&[]).is_none());
    }
}
