//! Merging buckets and reading statistics from them. The same merge serves
//! coarsening a long run and judging a window of several buckets; its
//! sibling, combining concurrent buckets, adds up the instances of a
//! distributed run (`concurrent.rs`).

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

/// What adding two gauge values means: the two operations on buckets
/// differ only there.
#[derive(Clone, Copy, Debug)]
enum Gauges {
    /// One series over consecutive intervals: the later value is the
    /// gauge's, its range the union of both.
    KeepLater,
    /// Concurrent instances' shares of one test's gauge (`vus` of the
    /// test is the sum of the instances' `vus`): values, minima and maxima
    /// add. See [`IntervalValue::combine_concurrent`] for why the sum of
    /// extremes stands in for the extreme of the sum.
    Sum,
}

impl IntervalValue {
    /// Adds `later` (the interval after `self`); false, changing nothing,
    /// when the kinds differ.
    pub fn merge(&mut self, later: &IntervalValue) -> bool {
        self.add(later, Gauges::KeepLater)
    }

    /// Adds `other`, the same metric's value over the same interval from
    /// another instance of the test; false, changing nothing, when the
    /// kinds differ. Counters, rates and trends add exactly as in
    /// [`merge`](Self::merge). A gauge's value, min and max are each summed:
    /// the value is exact (the test's `vus` at the end of the interval is the
    /// sum of the instances' last `vus`), min and max are an approximation,
    /// since the instances' extremes need not fall at the same instant
    /// within the interval. The timeline does not keep when they fell, so
    /// the sum of the maxima is an upper bound of the true maximum (and the
    /// sum of minima a lower bound); instances started together follow the
    /// same profile and reach their extremes together, so the bound is
    /// close, and it is what the merged summary's gauge totals do too.
    pub fn combine_concurrent(&mut self, other: &IntervalValue) -> bool {
        self.add(other, Gauges::Sum)
    }

    fn add(&mut self, other: &IntervalValue, gauges: Gauges) -> bool {
        match (self, other) {
            (IntervalValue::Counter { count }, IntervalValue::Counter { count: o }) => *count += o,
            (
                IntervalValue::Gauge { value, min, max },
                IntervalValue::Gauge {
                    value: ov,
                    min: omin,
                    max: omax,
                },
            ) => match gauges {
                Gauges::KeepLater => {
                    *value = *ov;
                    *min = min.min(*omin);
                    *max = max.max(*omax);
                }
                Gauges::Sum => {
                    *value += ov;
                    *min += omin;
                    *max += omax;
                }
            },
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
    /// A bucket over `[start_ms, start_ms + duration_ms)` in which nothing
    /// was recorded.
    pub fn empty(start_ms: u64, duration_ms: u64) -> Bucket {
        Bucket {
            start_ms,
            duration_ms,
            metrics: BTreeMap::new(),
            endpoints: Vec::new(),
            errors: Vec::new(),
            selections: BTreeMap::new(),
        }
    }

    /// Extends this bucket by `later`, the bucket right after it.
    pub fn merge(&mut self, later: &Bucket) {
        self.duration_ms = (later.start_ms + later.duration_ms).saturating_sub(self.start_ms);
        self.add_contents(later, Gauges::KeepLater);
    }

    /// Adds `other`, another instance's bucket over the same interval of
    /// the same test (instances of a distributed run): everything adds up
    /// as in [`merge`](Self::merge) except gauges, which are summed
    /// ([`IntervalValue::combine_concurrent`]). The result spans both.
    pub fn combine_concurrent(&mut self, other: &Bucket) {
        let end = (self.start_ms + self.duration_ms).max(other.start_ms + other.duration_ms);
        self.start_ms = self.start_ms.min(other.start_ms);
        self.duration_ms = end - self.start_ms;
        self.add_contents(other, Gauges::Sum);
    }

    /// What `merge` and `combine_concurrent` share: `other`'s values added
    /// to this bucket's, key by key. The times are the callers' business.
    fn add_contents(&mut self, other: &Bucket, gauges: Gauges) {
        // No `..`: a field added to `Bucket` does not compile until it is
        // decided here how two buckets' values of it add up.
        let Bucket {
            start_ms: _,
            duration_ms: _,
            metrics,
            endpoints,
            errors,
            selections,
        } = other;
        add_values(&mut self.metrics, metrics, gauges);
        add_values(&mut self.selections, selections, gauges);
        add_endpoints(&mut self.endpoints, endpoints);
        add_errors(&mut self.errors, errors);
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

/// `other`'s values added to `into`'s, metric by metric (or selection).
fn add_values(
    into: &mut BTreeMap<String, IntervalValue>,
    other: &BTreeMap<String, IntervalValue>,
    gauges: Gauges,
) {
    for (name, value) in other {
        match into.get_mut(name) {
            Some(mine) => {
                mine.add(value, gauges);
            }
            None => {
                into.insert(name.clone(), value.clone());
            }
        }
    }
}

/// `other`'s endpoints added to `into`'s, per `name` and `method`; sorted.
fn add_endpoints(into: &mut Vec<EndpointInterval>, other: &[EndpointInterval]) {
    let mut endpoints: BTreeMap<(String, String), EndpointInterval> = into
        .drain(..)
        .map(|e| ((e.name.clone(), e.method.clone()), e))
        .collect();
    for e in other {
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
    *into = endpoints.into_values().collect();
}

/// `other`'s errors added to `into`'s, per endpoint, status and error
/// code; sorted.
fn add_errors(into: &mut Vec<ErrorInterval>, other: &[ErrorInterval]) {
    let mut errors: BTreeMap<(String, String, String, String), u64> = BTreeMap::new();
    for e in into.iter().chain(other) {
        let key = (
            e.name.clone(),
            e.method.clone(),
            e.status.clone(),
            e.error_code.clone(),
        );
        *errors.entry(key).or_default() += e.count;
    }
    *into = errors
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

    fn trend(values_ms: &[f64]) -> TrendInterval {
        TrendInterval::from_value(&TrendValue::of(values_ms))
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
