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
    /// A trend with no samples.
    pub fn empty() -> Self {
        TrendValue {
            histogram: Arc::new(super::histogram::new_histogram()),
            count: 0,
            sum: 0.0,
            min: 0.0,
            max: 0.0,
        }
    }

    /// Exact mean in display units; 0 when there are no samples.
    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }

    /// The `p`th percentile (0..=100) in display units, from the histogram
    /// (3 significant digits), kept within the exact `[min, max]`; 0 when
    /// there are no samples.
    pub fn percentile(&self, p: f64) -> f64 {
        match super::histogram::percentile_of(&self.histogram, p) {
            Some(v) if self.count > 0 => v.clamp(self.min, self.max),
            _ => 0.0,
        }
    }

    /// The median, `p(50)`.
    pub fn med(&self) -> f64 {
        self.percentile(50.0)
    }

    /// Adds `other`'s samples. The histogram is copied only if another
    /// holder (a sink with an older snapshot) still shares it.
    pub fn merge(&mut self, other: &TrendValue) {
        if other.count == 0 {
            return;
        }
        super::histogram::add_exact(Arc::make_mut(&mut self.histogram), &other.histogram);
        if self.count == 0 {
            self.min = other.min;
            self.max = other.max;
        } else {
            self.min = self.min.min(other.min);
            self.max = self.max.max(other.max);
        }
        self.count += other.count;
        self.sum += other.sum;
    }
}

impl SeriesValue {
    /// An empty value of the given kind.
    pub fn empty(kind: super::metric::MetricKind) -> Self {
        use super::metric::MetricKind;
        match kind {
            MetricKind::Counter => SeriesValue::Counter { sum: 0.0 },
            MetricKind::Gauge => SeriesValue::Gauge {
                last: 0.0,
                min: 0.0,
                max: 0.0,
            },
            MetricKind::Rate => SeriesValue::Rate { trues: 0, total: 0 },
            MetricKind::Trend => SeriesValue::Trend(TrendValue::empty()),
        }
    }

    pub fn kind(&self) -> super::metric::MetricKind {
        use super::metric::MetricKind;
        match self {
            SeriesValue::Counter { .. } => MetricKind::Counter,
            SeriesValue::Gauge { .. } => MetricKind::Gauge,
            SeriesValue::Rate { .. } => MetricKind::Rate,
            SeriesValue::Trend(_) => MetricKind::Trend,
        }
    }

    /// Combines `other` into `self` as if both sets of samples had been
    /// recorded into one series: counters and rates add, trends merge their
    /// histograms exactly, gauges widen min/max and take `other`'s `last`
    /// (`other` is taken to be the later one). Start from a value that has
    /// samples (a clone of the first), since an empty gauge's 0 would count
    /// as a sample. Returns false, changing nothing, when the kinds differ.
    pub fn merge(&mut self, other: &SeriesValue) -> bool {
        match (self, other) {
            (SeriesValue::Counter { sum }, SeriesValue::Counter { sum: o }) => *sum += o,
            (
                SeriesValue::Gauge { last, min, max },
                SeriesValue::Gauge {
                    last: ol,
                    min: omin,
                    max: omax,
                },
            ) => {
                *last = *ol;
                *min = min.min(*omin);
                *max = max.max(*omax);
            }
            (
                SeriesValue::Rate { trues, total },
                SeriesValue::Rate {
                    trues: ot,
                    total: on,
                },
            ) => {
                *trues += ot;
                *total += on;
            }
            (SeriesValue::Trend(t), SeriesValue::Trend(o)) => t.merge(o),
            _ => return false,
        }
        true
    }
}

impl Snapshot {
    /// The point of one series, if it is in this snapshot.
    pub fn point(&self, metric: MetricId, tags: &TagSet) -> Option<&SeriesPoint> {
        self.series
            .iter()
            .find(|p| p.metric == metric && &p.tags == tags)
    }
}
