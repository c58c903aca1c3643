//! Merging buckets and reading statistics from them. The same merge serves
//! coarsening a long run and judging a window of several buckets.

use std::collections::BTreeMap;
use std::sync::Arc;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::{Bucket, EndpointInterval, ErrorInterval, IntervalValue};
use crate::metrics::{TrendValue, deserialize_histogram, serialize_histogram};

/// A trend over one bucket: exact count, sum, min and max in display units
/// (ms for time trends) and the HDR histogram in the summary's encoding
/// (V2 deflate, base64) but at [`TIMELINE_DIGITS`], so buckets merge
/// exactly among themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendInterval {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub hdr: String,
}

/// Significant digits of the timeline's histograms: percentiles within 1 %
/// (the summary keeps 3 digits, 0.1 %). Under load a 3-digit histogram of
/// one interval holds a thousand or more distinct bins, about 2.5 kB
/// encoded; with 20 endpoints an hour came to about 8 MB. At 2 digits a
/// histogram has a tenth of the bins, and per-interval percentiles (what
/// charts, `compare` and window criteria read) need no more.
pub const TIMELINE_DIGITS: u8 = 2;

impl TrendInterval {
    pub fn from_value(value: &TrendValue) -> Self {
        TrendInterval {
            count: value.count,
            sum: value.sum,
            min: value.min,
            max: value.max,
            hdr: serialize_histogram(&coarse(&value.histogram)),
        }
    }

    /// The trend with its histogram decoded; an undecodable histogram (a
    /// hand-edited file) reads as empty rather than failing the reader.
    pub fn to_value(&self) -> TrendValue {
        let Ok(histogram) = deserialize_histogram(&self.hdr) else {
            return TrendValue::empty();
        };
        TrendValue {
            histogram: Arc::new(histogram),
            count: self.count,
            sum: self.sum,
            min: self.min,
            max: self.max,
        }
    }

    /// The `p`th percentile in display units (0 with no samples).
    pub fn percentile(&self, p: f64) -> f64 {
        self.to_value().percentile(p)
    }

    pub fn merge(&mut self, other: &TrendInterval) {
        if other.count == 0 {
            return;
        }
        let mut value = self.to_value();
        value.merge(&other.to_value());
        *self = TrendInterval::from_value(&value);
    }
}

/// `h` at [`TIMELINE_DIGITS`]: every bin's count moved to the coarser bin
/// holding its middle value, so counts stay exact. Already coarse: copied.
fn coarse(h: &Histogram<u64>) -> Histogram<u64> {
    if h.sigfig() <= TIMELINE_DIGITS {
        return h.clone();
    }
    let mut out = Histogram::<u64>::new(TIMELINE_DIGITS)
        .expect("2 significant digits are within hdrhistogram's 0..=5");
    out.auto(true);
    for bin in h.iter_recorded() {
        let value = h.median_equivalent(bin.value_iterated_to());
        // `record_n` grows the histogram; the saturating form would clamp
        // to its current range instead.
        if out.record_n(value, bin.count_at_value()).is_err() {
            out.saturating_record_n(value, bin.count_at_value());
        }
    }
    out
}

impl IntervalValue {
    /// Adds `later` (the interval after `self`); false, changing nothing,
    /// when the kinds differ.
    pub fn merge(&mut self, later: &IntervalValue) -> bool {
        match (self, later) {
            (IntervalValue::Counter { count }, IntervalValue::Counter { count: o }) => *count += o,
            (
                IntervalValue::Gauge { value, min, max },
                IntervalValue::Gauge {
                    value: ov,
                    min: omin,
                    max: omax,
                },
            ) => {
                *value = *ov;
                *min = min.min(*omin);
                *max = max.max(*omax);
            }
            (
                IntervalValue::Rate { trues, total },
                IntervalValue::Rate {
                    trues: ot,
                    total: on,
                },
            ) => {
                *trues += ot;
                *total += on;
            }
            (IntervalValue::Trend(t), IntervalValue::Trend(o)) => t.merge(o),
            _ => return false,
        }
        true
    }
}

impl Bucket {
    /// Extends this bucket by `later`, the bucket right after it.
    pub fn merge(&mut self, later: &Bucket) {
        self.duration_ms = (later.start_ms + later.duration_ms).saturating_sub(self.start_ms);
        merge_values(&mut self.metrics, &later.metrics);
        merge_values(&mut self.selections, &later.selections);
        let mut endpoints: BTreeMap<(String, String), EndpointInterval> = self
            .endpoints
            .drain(..)
            .map(|e| ((e.name.clone(), e.method.clone()), e))
            .collect();
        for e in &later.endpoints {
            let key = (e.name.clone(), e.method.clone());
            match endpoints.get_mut(&key) {
                Some(mine) => {
                    mine.requests += e.requests;
                    mine.failures += e.failures;
                    mine.bytes_received += e.bytes_received;
                    mine.duration.merge(&e.duration);
                }
                None => {
                    endpoints.insert(key, e.clone());
                }
            }
        }
        self.endpoints = endpoints.into_values().collect();
        let mut errors: BTreeMap<(String, String, String, String), u64> = BTreeMap::new();
        for e in self.errors.iter().chain(&later.errors) {
            let key = (
                e.name.clone(),
                e.method.clone(),
                e.status.clone(),
                e.error_code.clone(),
            );
            *errors.entry(key).or_default() += e.count;
        }
        self.errors = errors
            .into_iter()
            .map(
                |((name, method, status, error_code), count)| ErrorInterval {
                    name,
                    method,
                    status,
                    error_code,
                    count,
                },
            )
            .collect();
    }

    /// `http_reqs` per second of the bucket.
    pub fn request_rate(&self) -> f64 {
        let requests = match self.metrics.get("http_reqs") {
            Some(IntervalValue::Counter { count }) => *count,
            _ => 0.0,
        };
        per_second(requests, self.duration_ms)
    }

    /// Share of failed requests (`http_req_failed`); `None` without requests.
    pub fn error_rate(&self) -> Option<f64> {
        match self.metrics.get("http_req_failed") {
            Some(IntervalValue::Rate { trues, total }) if *total > 0 => {
                Some(*trues as f64 / *total as f64)
            }
            _ => None,
        }
    }

    /// A trend metric's interval value, if it had samples.
    pub fn trend(&self, metric: &str) -> Option<&TrendInterval> {
        match self.metrics.get(metric) {
            Some(IntervalValue::Trend(t)) if t.count > 0 => Some(t),
            _ => None,
        }
    }

    /// A gauge's last value in the bucket.
    pub fn gauge(&self, metric: &str) -> Option<f64> {
        match self.metrics.get(metric) {
            Some(IntervalValue::Gauge { value, .. }) => Some(*value),
            _ => None,
        }
    }

    pub fn endpoint(&self, name: &str, method: &str) -> Option<&EndpointInterval> {
        self.endpoints
            .iter()
            .find(|e| e.name == name && e.method == method)
    }
}

/// Extends each of `mine` by the value of the interval after it.
fn merge_values(
    mine: &mut BTreeMap<String, IntervalValue>,
    later: &BTreeMap<String, IntervalValue>,
) {
    for (name, value) in later {
        match mine.get_mut(name) {
            Some(m) => {
                m.merge(value);
            }
            None => {
                mine.insert(name.clone(), value.clone());
            }
        }
    }
}

/// `count` per second of a `duration_ms` interval (0 for an empty interval).
pub fn per_second(count: f64, duration_ms: u64) -> f64 {
    if duration_ms == 0 {
        0.0
    } else {
        count * 1000.0 / duration_ms as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{display_to_micros, new_histogram};

    fn trend(values_ms: &[f64]) -> TrendInterval {
        let mut h = new_histogram();
        for v in values_ms {
            h.record(display_to_micros(*v)).unwrap();
        }
        TrendInterval::from_value(&TrendValue {
            histogram: Arc::new(h),
            count: values_ms.len() as u64,
            sum: values_ms.iter().sum(),
            min: values_ms.iter().copied().fold(f64::INFINITY, f64::min),
            max: values_ms.iter().copied().fold(0.0, f64::max),
        })
    }

    fn bucket(start_ms: u64, reqs: f64, failed: u64, durations: &[f64]) -> Bucket {
        Bucket {
            start_ms,
            duration_ms: 1000,
            metrics: BTreeMap::from([
                ("http_reqs".into(), IntervalValue::Counter { count: reqs }),
                (
                    "http_req_failed".into(),
                    IntervalValue::Rate {
                        trues: failed,
                        total: reqs as u64,
                    },
                ),
                (
                    "vus".into(),
                    IntervalValue::Gauge {
                        value: start_ms as f64 / 100.0,
                        min: 1.0,
                        max: 10.0,
                    },
                ),
                (
                    "http_req_duration".into(),
                    IntervalValue::Trend(trend(durations)),
                ),
            ]),
            endpoints: vec![EndpointInterval {
                name: "credits".into(),
                method: "GET".into(),
                requests: reqs as u64,
                failures: failed,
                bytes_received: reqs * 100.0,
                duration: trend(durations),
            }],
            errors: vec![ErrorInterval {
                name: "credits".into(),
                method: "GET".into(),
                status: "500".into(),
                error_code: "1500".into(),
                count: failed,
            }],
            selections: BTreeMap::new(),
        }
    }

    #[test]
    fn merged_buckets_add_counts_and_histograms_exactly() {
        let mut first = bucket(0, 4.0, 1, &[10.0, 20.0, 30.0, 40.0]);
        first.merge(&bucket(1000, 2.0, 2, &[50.0, 60.0]));
        assert_eq!(first.duration_ms, 2000);
        assert_eq!(first.request_rate(), 3.0);
        assert_eq!(first.error_rate(), Some(0.5));
        assert_eq!(first.gauge("vus"), Some(10.0));
        let duration = first.trend("http_req_duration").unwrap();
        assert_eq!(
            (duration.count, duration.sum, duration.min, duration.max),
            (6, 210.0, 10.0, 60.0)
        );
        // The top of the 2-digit bin holding 30 ms (29.952 to 30.079 ms).
        assert_eq!(duration.percentile(50.0), 30.079);
        assert_eq!(duration.percentile(100.0), 60.0);
        let credits = first.endpoint("credits", "GET").unwrap();
        assert_eq!(
            (credits.requests, credits.failures, credits.bytes_received),
            (6, 3, 600.0)
        );
        assert_eq!(credits.duration, *duration);
        assert_eq!(first.errors.len(), 1);
        assert_eq!(first.errors[0].count, 3);
    }

    #[test]
    fn kinds_that_differ_do_not_merge() {
        let mut counter = IntervalValue::Counter { count: 1.0 };
        assert!(!counter.merge(&IntervalValue::Rate { trues: 1, total: 1 }));
        assert_eq!(counter, IntervalValue::Counter { count: 1.0 });
    }
}
