//! What the aggregator hands to sinks every interval, and the values a series holds.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use super::metric::MetricId;
use super::tags::{TagSet, TagSetId};

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

#[cfg(test)]
impl TrendValue {
    /// The trend a series holds after recording these samples (display
    /// units: ms for a time trend): what tests build their fixtures from.
    pub fn of(values: &[f64]) -> Self {
        let mut histogram = super::new_histogram();
        for v in values {
            histogram
                .record(super::display_to_micros(*v))
                .expect("test samples are within the histogram's range");
        }
        TrendValue {
            histogram: Arc::new(histogram),
            count: values.len() as u64,
            sum: values.iter().sum(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
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
    /// Every sample of the interval, one by one, when an output asked for
    /// them (InfluxDB per-request points, JSON and CSV files); `None` otherwise.
    pub samples: Option<Arc<SampleBatch>>,
    /// Every threshold judged on the data so far, in declaration order;
    /// left out are thresholds with nothing to judge yet (a trend, rate or
    /// gauge without a matching sample; a counter counts 0 from the start)
    /// and skipped ones (their scenario was not selected). Outputs send them with each push, so dashboards
    /// show thresholds over time, not only at the end.
    pub thresholds: Vec<ThresholdMark>,
}

/// One threshold's state: as judged during the run (in a snapshot) or at
/// its end (from the summary).
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdMark {
    /// The selector as written, e.g. `http_req_duration{name:credits}`.
    pub metric: String,
    /// The expression as written, e.g. `p(95)<500`.
    pub threshold: String,
    pub passed: bool,
}

/// The raw samples recorded during one interval, for outputs that write
/// every sample. Bounded: beyond the recorder's limit per interval samples
/// are counted in `dropped` instead of kept.
#[derive(Clone, Debug, Default)]
pub struct SampleBatch {
    /// In recording order per recording thread (threads one after another).
    pub samples: Vec<RawSample>,
    /// Samples not kept because the interval's limit was reached.
    pub dropped: u64,
}

impl SampleBatch {
    /// The metric samples the batch stands for (an HTTP exchange is eleven).
    pub fn point_count(&self) -> u64 {
        self.samples.iter().map(RawSample::point_count).sum()
    }
}

/// One recorded measurement with its wall-clock time.
#[derive(Clone, Copy, Debug)]
pub struct RawSample {
    /// Nanoseconds since the Unix epoch, when it was recorded.
    pub time_ns: u64,
    pub value: RawValue,
}

/// What was recorded. An HTTP exchange is kept whole (one entry instead of
/// eleven); [`RawSample::for_each_point`] expands it.
#[derive(Clone, Copy, Debug)]
pub enum RawValue {
    /// One HTTP exchange, on its full tag set (request tags plus `status`,
    /// `expected_response`, `error_code`, `proto`).
    Http {
        tags: TagSetId,
        timings: crate::protocol::http::Timings,
        failed: bool,
        bytes_sent: u64,
        bytes_received: u64,
    },
    /// Any other metric's sample: counter increment, gauge value, rate
    /// sample (1 or 0), trend value in display units.
    Value {
        metric: MetricId,
        tags: TagSetId,
        value: f64,
    },
}

impl RawSample {
    /// Calls `f(metric, tags, value)` for every metric sample this entry
    /// stands for, in k6's order for an HTTP exchange: `http_reqs` (1),
    /// `http_req_duration`, `_blocked`, `_connecting`, `_tls_handshaking`,
    /// `_sending`, `_waiting`, `_receiving` (ms), `http_req_failed` (1/0),
    /// `data_sent`, `data_received` (bytes).
    pub fn for_each_point(&self, mut f: impl FnMut(MetricId, TagSetId, f64)) {
        use super::metric::builtin;
        match self.value {
            RawValue::Value {
                metric,
                tags,
                value,
            } => f(metric, tags, value),
            RawValue::Http {
                tags,
                timings: t,
                failed,
                bytes_sent,
                bytes_received,
            } => {
                let ms = |d: Duration| d.as_secs_f64() * 1000.0;
                f(builtin::HTTP_REQS, tags, 1.0);
                f(builtin::HTTP_REQ_DURATION, tags, ms(t.duration));
                f(builtin::HTTP_REQ_BLOCKED, tags, ms(t.blocked));
                f(builtin::HTTP_REQ_CONNECTING, tags, ms(t.connecting));
                f(
                    builtin::HTTP_REQ_TLS_HANDSHAKING,
                    tags,
                    ms(t.tls_handshaking),
                );
                f(builtin::HTTP_REQ_SENDING, tags, ms(t.sending));
                f(builtin::HTTP_REQ_WAITING, tags, ms(t.waiting));
                f(builtin::HTTP_REQ_RECEIVING, tags, ms(t.receiving));
                f(builtin::HTTP_REQ_FAILED, tags, f64::from(u8::from(failed)));
                f(builtin::DATA_SENT, tags, bytes_sent as f64);
                f(builtin::DATA_RECEIVED, tags, bytes_received as f64);
            }
        }
    }

    /// How many metric samples [`for_each_point`](Self::for_each_point) yields.
    pub fn point_count(&self) -> u64 {
        match self.value {
            RawValue::Http { .. } => 11,
            RawValue::Value { .. } => 1,
        }
    }
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
