//! What the aggregator hands to sinks every interval, and the values a series holds.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use super::metric::MetricId;
use super::tags::TagSet;

/// A distribution: an HDR histogram of integer micro-units (µs for time
/// trends; value × 1000 for plain trends), plus the exact count, sum, min and
/// max in display units (ms for time trends), so `avg`, `min` and `max` are
/// exact while percentiles carry HDR's 3 significant digits.
#[derive(Clone, Debug)]
pub struct TrendValue {
    pub histogram: Arc<Histogram<u64>>,
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

/// The state of one series over an interval or since the start.
#[derive(Clone, Debug)]
pub enum SeriesValue {
    Counter { sum: f64 },
    Gauge { last: f64, min: f64, max: f64 },
    Rate { trues: u64, total: u64 },
    Trend(TrendValue),
}

/// One series in a snapshot: its values in this interval and since the start.
#[derive(Clone, Debug)]
pub struct SeriesPoint {
    pub metric: MetricId,
    pub tags: TagSet,
    /// What happened during this interval only.
    pub interval: SeriesValue,
    /// Everything since the test started (what Prometheus counters and
    /// histograms need: they are cumulative).
    pub total: SeriesValue,
}

/// Emitted by the aggregator once per flush interval (1 s by default).
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Wall-clock time at the end of the interval.
    pub time: SystemTime,
    /// Time since the test started, at the end of the interval.
    pub elapsed: Duration,
    /// Length of this interval.
    pub interval: Duration,
    /// Series that received samples in this interval (gauges: every interval).
    pub series: Vec<SeriesPoint>,
}

impl TrendValue {
    /// Percentile `p` (0–100) in display units. HDR buckets can round a value
    /// up past the exact maximum, so the result is clamped to `[min, max]`:
    /// the summary never shows a p(99) above its max.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.count == 0 || self.histogram.is_empty() {
            return 0.0;
        }
        let raw = self.histogram.value_at_quantile(p / 100.0) as f64 / 1000.0;
        raw.clamp(self.min, self.max)
    }

    /// The exact mean, 0 when empty.
    pub fn avg(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.sum / self.count as f64 }
    }
}
