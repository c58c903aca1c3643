//! Per-interval encoding (`mode=aggregate`): one point per series per push
//! interval, for rates too high to store every request.
//!
//! Fields by metric kind (values in display units: ms for time trends):
//! - counter: `value` = increment over the interval
//! - gauge: `value` = last value set
//! - rate: `rate` = trues/total, `trues` and `total` (integers)
//! - trend: `count` (integer), `sum`, `min`, `max`, `avg`, `med`, `p90`,
//!   `p95`, `p99`
//!
//! Snapshots arriving between two pushes are merged first, so a point
//! covers exactly one push interval.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::line::{push_float, push_int, push_key, push_measurement, push_tags, push_u64};
use crate::metrics::{MetricId, MetricRegistry, SeriesValue, Snapshot, TagSet};

/// Series values merged since the last push, in first-seen order.
#[derive(Debug, Default)]
pub struct IntervalSeries {
    series: Vec<(MetricId, TagSet, SeriesValue)>,
    index: HashMap<(MetricId, TagSet), usize>,
    /// End of the latest merged snapshot: the points' timestamp.
    end: Option<SystemTime>,
}

impl IntervalSeries {
    /// Adds one snapshot's interval values.
    pub fn merge(&mut self, snapshot: &Snapshot) {
        for point in &snapshot.series {
            let key = (point.metric, point.tags.clone());
            match self.index.get(&key) {
                Some(&i) => {
                    self.series[i].2.merge(&point.interval);
                }
                None => {
                    self.index.insert(key, self.series.len());
                    self.series
                        .push((point.metric, point.tags.clone(), point.interval.clone()));
                }
            }
        }
        self.end = Some(snapshot.time);
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Number of series waiting (one point each).
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Writes one line per series into batches of at most `batch_size`
    /// lines and starts a new interval.
    pub fn drain_lines(
        &mut self,
        registry: &MetricRegistry,
        testid: &str,
        batch_size: usize,
    ) -> Vec<(String, u64)> {
        let time_ns = self
            .end
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        let mut batches = Vec::new();
        let mut text = String::new();
        let mut points = 0u64;
        for (metric, tags, value) in self.series.drain(..) {
            if points as usize >= batch_size.max(1) {
                batches.push((std::mem::take(&mut text), points));
                points = 0;
            }
            if encode_series(
                &mut text,
                &registry.get(metric).name,
                &tags,
                testid,
                &value,
                time_ns,
            ) {
                points += 1;
            }
        }
        if points > 0 {
            batches.push((text, points));
        }
        self.index.clear();
        self.end = None;
        batches
    }
}

/// Appends the line of one series; false (nothing written) when it has no
/// finite field to carry (a line without fields is invalid).
pub fn encode_series(
    out: &mut String,
    metric: &str,
    tags: &TagSet,
    testid: &str,
    value: &SeriesValue,
    time_ns: u64,
) -> bool {
    let start = out.len();
    push_measurement(out, metric);
    push_tags(out, tags.with([("testid", testid)]).iter());
    let mut fields = Fields { out, first: true };
    match value {
        SeriesValue::Counter { sum } => fields.float("value", *sum),
        SeriesValue::Gauge { last, .. } => fields.float("value", *last),
        SeriesValue::Rate { trues, total } => {
            let rate = if *total == 0 {
                0.0
            } else {
                *trues as f64 / *total as f64
            };
            fields.float("rate", rate);
            fields.int("trues", *trues);
            fields.int("total", *total);
        }
        SeriesValue::Trend(t) => {
            fields.int("count", t.count);
            fields.float("sum", t.sum);
            fields.float("min", t.min);
            fields.float("max", t.max);
            fields.float("avg", t.avg());
            fields.float("med", t.med());
            fields.float("p90", t.percentile(90.0));
            fields.float("p95", t.percentile(95.0));
            fields.float("p99", t.percentile(99.0));
        }
    }
    if fields.first {
        out.truncate(start);
        return false;
    }
    out.push(' ');
    push_u64(out, time_ns);
    out.push('\n');
    true
}

/// The field set of one line: ` k=v,k2=v2`.
struct Fields<'a> {
    out: &'a mut String,
    first: bool,
}

impl Fields<'_> {
    fn key(&mut self, key: &str) {
        self.out.push(if std::mem::take(&mut self.first) {
            ' '
        } else {
            ','
        });
        push_key(self.out, key);
        self.out.push('=');
    }

    /// A float field; non-finite values are left out.
    fn float(&mut self, key: &str, v: f64) {
        if v.is_finite() {
            self.key(key);
            push_float(self.out, v);
        }
    }

    fn int(&mut self, key: &str, v: u64) {
        self.key(key);
        push_int(self.out, v);
    }
}
