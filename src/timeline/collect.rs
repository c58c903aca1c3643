//! Builds the [`Timeline`] from the aggregator's snapshots while the test
//! runs. Closed buckets are kept encoded (HDR as base64 text, a few hundred
//! bytes each), so memory grows with the number of series, not with time;
//! only the open bucket holds decoded histograms.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    BreakingCriterion, Bucket, EndpointInterval, ErrorInterval, IntervalValue, MAX_BUCKETS,
    StageMark, Timeline, TrendInterval, selection_key,
};
use crate::metrics::threshold::MetricSelector;
use crate::metrics::{
    MetricId, MetricRegistry, SeriesValue, Snapshot, TagSet, TrendValue, builtin,
};

/// Fed every snapshot in order by the engine's flush loop.
#[derive(Debug)]
pub struct TimelineCollector {
    registry: Arc<MetricRegistry>,
    stages: Vec<StageMark>,
    flush_ms: u64,
    /// Snapshots per bucket: 1, doubled at each coarsening.
    per_bucket: u32,
    closed: Vec<Bucket>,
    open: Option<OpenBucket>,
    /// Where the last snapshot ended: the next one starts there, so
    /// buckets stay contiguous whatever the rounding to milliseconds.
    last_end_ms: Option<u64>,
    /// Filtered series kept per bucket for time criteria.
    selections: Arc<[Selection]>,
}

/// A tag-filtered series of one metric, kept merged per bucket.
#[derive(Debug)]
pub struct Selection {
    pub metric: MetricId,
    pub filter: Vec<(String, String)>,
    /// [`selection_key`] of the two above.
    pub key: String,
}

type EndpointKey = (Arc<str>, Arc<str>);

/// The bucket being filled, values still decoded.
#[derive(Debug)]
struct OpenBucket {
    start_ms: u64,
    end_ms: u64,
    snapshots: u32,
    /// Indexed by metric id.
    metrics: Vec<Option<SeriesValue>>,
    endpoints: BTreeMap<EndpointKey, OpenEndpoint>,
    errors: BTreeMap<(EndpointKey, Arc<str>, Arc<str>), u64>,
    /// Indexed like the collector's selections.
    selections: Vec<Option<SeriesValue>>,
}

#[derive(Debug)]
struct OpenEndpoint {
    requests: u64,
    failures: u64,
    bytes_received: f64,
    duration: TrendValue,
}

impl TimelineCollector {
    /// `flush_interval` is the snapshots' interval, the finest bucket width.
    pub fn new(
        registry: Arc<MetricRegistry>,
        flush_interval: std::time::Duration,
        stages: Vec<StageMark>,
    ) -> Self {
        TimelineCollector {
            registry,
            stages,
            flush_ms: (flush_interval.as_millis() as u64).max(1),
            per_bucket: 1,
            closed: Vec::new(),
            open: None,
            last_end_ms: None,
            selections: Arc::from([]),
        }
    }

    /// Also keeps, per bucket, the merged value of every series matching
    /// one of `selectors` or `breaking`'s series (those with a tag filter;
    /// the others are in the per-metric values already).
    pub fn with_criteria(
        mut self,
        selectors: &[MetricSelector],
        breaking: &[BreakingCriterion],
    ) -> Self {
        let mut kept: Vec<Selection> = Vec::new();
        let wanted = selectors
            .iter()
            .map(|s| (s.metric.as_str(), s.filter.as_slice()))
            .chain(
                breaking
                    .iter()
                    .map(|b| (b.metric.as_str(), b.filter.as_slice())),
            );
        for (metric, filter) in wanted {
            let key = selection_key(metric, filter);
            if filter.is_empty() || kept.iter().any(|k| k.key == key) {
                continue;
            }
            if let Some(id) = self.registry.lookup(metric) {
                kept.push(Selection {
                    metric: id,
                    filter: filter.to_vec(),
                    key,
                });
            }
        }
        self.selections = kept.into();
        self
    }

    pub fn record(&mut self, snapshot: &Snapshot) {
        let end_ms = snapshot.elapsed.as_millis() as u64;
        let start_ms = self
            .last_end_ms
            .unwrap_or_else(|| end_ms.saturating_sub(snapshot.interval.as_millis() as u64));
        self.last_end_ms = Some(end_ms);
        let metric_count = self.registry.len();
        let open = self.open.get_or_insert_with(|| OpenBucket {
            start_ms,
            end_ms,
            snapshots: 0,
            metrics: vec![None; metric_count],
            endpoints: BTreeMap::new(),
            errors: BTreeMap::new(),
            selections: vec![None; self.selections.len()],
        });
        open.end_ms = end_ms;
        open.snapshots += 1;
        for point in &snapshot.series {
            open.absorb(point.metric.0 as usize, &point.tags, &point.interval);
            for (slot, selection) in open.selections.iter_mut().zip(self.selections.iter()) {
                if selection.metric == point.metric && point.tags.matches(&selection.filter) {
                    merge_into(slot, &point.interval);
                }
            }
        }
        if open.snapshots >= self.per_bucket {
            self.close_open();
        }
    }

    /// The timeline so far, the open bucket included.
    pub fn finish(mut self) -> Timeline {
        self.close_open();
        Timeline {
            bucket_ms: self.flush_ms * u64::from(self.per_bucket),
            stages: self.stages,
            buckets: self.closed,
        }
    }

    fn close_open(&mut self) {
        let Some(open) = self.open.take() else {
            return;
        };
        self.closed
            .push(open.close(&self.registry, &self.selections));
        if self.closed.len() >= MAX_BUCKETS {
            self.coarsen();
        }
    }

    /// Halves the bucket count by merging neighbours; later buckets span
    /// twice as many snapshots.
    fn coarsen(&mut self) {
        let mut merged = Vec::with_capacity(self.closed.len() / 2 + 1);
        let mut pairs = std::mem::take(&mut self.closed).into_iter();
        while let Some(mut first) = pairs.next() {
            if let Some(second) = pairs.next() {
                first.merge(&second);
            }
            merged.push(first);
        }
        self.closed = merged;
        self.per_bucket *= 2;
    }
}

impl OpenBucket {
    fn absorb(&mut self, metric: usize, tags: &TagSet, value: &SeriesValue) {
        if let Some(slot) = self.metrics.get_mut(metric) {
            merge_into(slot, value);
        }
        let id = MetricId(metric as u16);
        let http = [
            builtin::HTTP_REQS,
            builtin::HTTP_REQ_FAILED,
            builtin::DATA_RECEIVED,
            builtin::HTTP_REQ_DURATION,
        ];
        if !http.contains(&id) {
            return;
        }
        let key: EndpointKey = (
            Arc::from(tags.get("name").unwrap_or("-")),
            Arc::from(tags.get("method").unwrap_or("-")),
        );
        let endpoint = self
            .endpoints
            .entry(key.clone())
            .or_insert_with(|| OpenEndpoint {
                requests: 0,
                failures: 0,
                bytes_received: 0.0,
                duration: TrendValue::empty(),
            });
        match (id, value) {
            (builtin::HTTP_REQS, SeriesValue::Counter { sum }) => endpoint.requests += *sum as u64,
            (builtin::DATA_RECEIVED, SeriesValue::Counter { sum }) => {
                endpoint.bytes_received += sum
            }
            (builtin::HTTP_REQ_DURATION, SeriesValue::Trend(t)) => endpoint.duration.merge(t),
            (builtin::HTTP_REQ_FAILED, SeriesValue::Rate { trues, .. }) if *trues > 0 => {
                endpoint.failures += trues;
                let status = Arc::from(tags.get("status").unwrap_or("0"));
                let code = Arc::from(tags.get("error_code").unwrap_or(""));
                *self.errors.entry((key, status, code)).or_default() += trues;
            }
            _ => {}
        }
    }

    fn close(self, registry: &MetricRegistry, selections: &[Selection]) -> Bucket {
        let metrics = self
            .metrics
            .into_iter()
            .enumerate()
            .filter_map(|(i, value)| {
                let def = registry.get(MetricId(i as u16));
                Some((def.name.to_string(), interval_value(&value?)))
            })
            .collect();
        let endpoints = self
            .endpoints
            .into_iter()
            .map(|((name, method), e)| EndpointInterval {
                name: name.to_string(),
                method: method.to_string(),
                requests: e.requests,
                failures: e.failures,
                bytes_received: e.bytes_received,
                duration: TrendInterval::from_value(&e.duration),
            })
            .collect();
        let errors = self
            .errors
            .into_iter()
            .map(|(((name, method), status, code), count)| ErrorInterval {
                name: name.to_string(),
                method: method.to_string(),
                status: status.to_string(),
                error_code: code.to_string(),
                count,
            })
            .collect();
        let selections = self
            .selections
            .iter()
            .zip(selections)
            .filter_map(|(value, s)| Some((s.key.clone(), interval_value(value.as_ref()?))))
            .collect();
        Bucket {
            start_ms: self.start_ms,
            duration_ms: self.end_ms.saturating_sub(self.start_ms),
            metrics,
            endpoints,
            errors,
            selections,
        }
    }
}

/// Adds `value` to the interval's `slot`.
fn merge_into(slot: &mut Option<SeriesValue>, value: &SeriesValue) {
    match slot {
        Some(mine) => {
            mine.merge(value);
        }
        None => *slot = Some(value.clone()),
    }
}

fn interval_value(value: &SeriesValue) -> IntervalValue {
    match value {
        SeriesValue::Counter { sum } => IntervalValue::Counter { count: *sum },
        SeriesValue::Gauge { last, min, max } => IntervalValue::Gauge {
            value: *last,
            min: *min,
            max: *max,
        },
        SeriesValue::Rate { trues, total } => IntervalValue::Rate {
            trues: *trues,
            total: *total,
        },
        SeriesValue::Trend(t) => IntervalValue::Trend(TrendInterval::from_value(t)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::metrics::{SeriesPoint, display_to_micros, new_histogram};

    /// One second of `endpoints` endpoints, each with `per_endpoint`
    /// requests whose durations spread like real latencies (a few ms to a
    /// few hundred, long tail), the first endpoint's last request failed.
    fn second(at: u64, endpoints: usize, per_endpoint: u64, seed: &mut u64) -> Snapshot {
        let mut series = Vec::new();
        for e in 0..endpoints {
            let tags = TagSet::new([
                ("name", format!("endpoint-{e:02}")),
                ("method", "GET".into()),
            ]);
            let mut h = new_histogram();
            let (mut sum, mut min, mut max) = (0.0, f64::MAX, 0.0f64);
            for _ in 0..per_endpoint {
                // xorshift: deterministic, no dependency.
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                let u = (*seed % 10_000) as f64 / 10_000.0;
                let ms = 5.0 + 20.0 * (e as f64 + 1.0).sqrt() * (-(1.0 - u).ln()).powf(1.5);
                h.record(display_to_micros(ms)).unwrap();
                sum += ms;
                min = min.min(ms);
                max = max.max(ms);
            }
            let trend = TrendValue {
                histogram: Arc::new(h),
                count: per_endpoint,
                sum,
                min,
                max,
            };
            let failed = u64::from(e == 0);
            let failed_tags = TagSet::new([
                ("name", format!("endpoint-{e:02}")),
                ("method", "GET".into()),
                ("status", "500".into()),
                ("error_code", "1500".into()),
            ]);
            let point = |metric, tags: &TagSet, value: SeriesValue| SeriesPoint {
                metric,
                tags: tags.clone(),
                interval: value.clone(),
                total: value,
            };
            series.push(point(
                builtin::HTTP_REQS,
                &tags,
                SeriesValue::Counter {
                    sum: per_endpoint as f64,
                },
            ));
            series.push(point(
                builtin::HTTP_REQ_DURATION,
                &tags,
                SeriesValue::Trend(trend.clone()),
            ));
            series.push(point(
                builtin::HTTP_REQ_WAITING,
                &tags,
                SeriesValue::Trend(trend),
            ));
            series.push(point(
                builtin::HTTP_REQ_FAILED,
                &tags,
                SeriesValue::Rate {
                    trues: 0,
                    total: per_endpoint - failed,
                },
            ));
            if failed > 0 {
                series.push(point(
                    builtin::HTTP_REQ_FAILED,
                    &failed_tags,
                    SeriesValue::Rate { trues: 1, total: 1 },
                ));
            }
            series.push(point(
                builtin::DATA_RECEIVED,
                &tags,
                SeriesValue::Counter {
                    sum: 100.0 * per_endpoint as f64,
                },
            ));
        }
        let untagged = TagSet::default();
        series.push(SeriesPoint {
            metric: builtin::VUS,
            tags: untagged.clone(),
            interval: SeriesValue::Gauge {
                last: at as f64,
                min: at as f64,
                max: at as f64,
            },
            total: SeriesValue::Gauge {
                last: at as f64,
                min: 0.0,
                max: at as f64,
            },
        });
        Snapshot {
            time: SystemTime::UNIX_EPOCH,
            elapsed: Duration::from_secs(at + 1),
            interval: Duration::from_secs(1),
            series,
            samples: None,
            thresholds: Vec::new(),
        }
    }

    fn collector() -> TimelineCollector {
        let registry = Arc::new(MetricRegistry::with_builtins());
        TimelineCollector::new(registry, Duration::from_secs(1), Vec::new())
    }

    #[test]
    fn long_runs_get_wider_buckets_and_keep_every_count() {
        let mut timeline = collector();
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for at in 0..600 {
            timeline.record(&second(at, 2, 10, &mut seed));
        }
        let timeline = timeline.finish();
        // 600 s: 256 buckets were reached at 256 s (then 2 s buckets) and
        // 512 s (4 s): 128 buckets of 4 s and 22 more.
        assert_eq!(timeline.bucket_ms, 4000);
        assert_eq!(timeline.buckets.len(), 150);
        for (i, bucket) in timeline.buckets.iter().enumerate() {
            assert_eq!(
                (bucket.start_ms, bucket.duration_ms),
                (i as u64 * 4000, 4000)
            );
            assert_eq!(bucket.request_rate(), 20.0);
            assert_eq!(bucket.gauge("vus"), Some(i as f64 * 4.0 + 3.0));
            let first = bucket.endpoint("endpoint-00", "GET").unwrap();
            assert_eq!(
                (first.requests, first.failures, first.bytes_received),
                (40, 4, 4000.0)
            );
            assert_eq!(first.duration.count, 40);
            assert_eq!(bucket.errors.len(), 1);
            assert_eq!(
                (bucket.errors[0].status.as_str(), bucket.errors[0].count),
                ("500", 4)
            );
        }
        let requests: f64 = timeline
            .buckets
            .iter()
            .map(|b| b.request_rate() * 4.0)
            .sum();
        assert_eq!(requests, 12_000.0);
    }

    #[test]
    fn an_hour_with_twenty_endpoints_stays_under_five_megabytes() {
        let mut timeline = collector();
        let mut seed = 0x2545_f491_4f6c_dd1d;
        for at in 0..3600 {
            timeline.record(&second(at, 20, 100, &mut seed));
        }
        let timeline = timeline.finish();
        // 16 s buckets from 2048 s on: 128 + 97 full ones.
        assert_eq!((timeline.bucket_ms, timeline.buckets.len()), (16_000, 225));
        let bytes = serde_json::to_vec(&timeline).unwrap().len();
        // 2,000 requests/s over 20 endpoints, latencies from 5 ms to seconds:
        // 4.2 MB.
        assert!(bytes < 5_000_000, "{bytes} bytes");
        eprintln!("an hour, 20 endpoints: {bytes} bytes");
    }
}
