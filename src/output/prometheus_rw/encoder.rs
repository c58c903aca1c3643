//! Snapshots → remote-write time series. Pure: no I/O, no clock; the sink
//! decides when to push and passes the timestamp.
//!
//! Counters, rates and native histograms are cumulative (from each series'
//! `total`) and every series seen so far is sent at every push, like a
//! scrape would. Gauges send their last value. Trend statistics are
//! computed over the push interval (`trend_stats_window=interval`), from
//! the interval histograms of the snapshots merged since the last push, or
//! over the whole run (`cumulative`, k6's way), from each series' `total`.
//!
//! Every cumulative series (counters, the three rate parts, native
//! histograms) starts from zero: the push in which a series first appears
//! also carries a zero sample (an empty native histogram of the same
//! schema) for it, one push earlier than its first real value, i.e. at the
//! previous push's timestamp, or at the run start for the first push. Then
//! `increase()` or `last - first` over the run counts the first push's
//! values too, and a windowed rate of a series that appears mid-run sees
//! its first increment. Not at the run start for every series: a series
//! first seen an hour or two into a run would get a sample older than
//! Prometheus' head block accepts, and the receiver refuses the whole
//! request for one out-of-bounds sample; one push back keeps every series'
//! samples in order and recent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;

use super::naming::{MetricNames, RatePart, base_labels, with_name};
use super::native::NativeLayout;
use super::options::{HistogramMode, RemoteWriteOptions, TrendStat, TrendStatsWindow};
use super::proto::{self, Label, Sample, TimeSeries, WriteRequest, stale_nan};
use crate::metrics::{
    MetricId, MetricRegistry, SeriesValue, Snapshot, TagSet, TrendValue, ValueType,
};
use crate::output::Payload;

/// What is known of one series between pushes.
#[derive(Clone, Debug)]
struct SeriesEntry {
    /// Labels without `__name__`, sorted.
    labels: Vec<Label>,
    /// Cumulative value from the latest snapshot.
    total: SeriesValue,
    /// Merged interval values since the last push (trend statistics).
    since_push: Option<SeriesValue>,
    /// Whether its zero start was sent (with its first push).
    started: bool,
}

/// Keeps the latest state of every series and turns it into time series.
#[derive(Debug)]
pub struct RemoteWriteEncoder {
    options: RemoteWriteOptions,
    registry: Arc<MetricRegistry>,
    testid: String,
    layout: NativeLayout,
    names: BTreeMap<MetricId, MetricNames>,
    series: BTreeMap<(MetricId, TagSet), SeriesEntry>,
    /// Label sets sent so far, and whether each is a native histogram
    /// (for the stale markers at the end).
    sent: BTreeSet<(Vec<Label>, bool)>,
    /// Whether snapshots arrived since the last push.
    changed: bool,
    /// The run start (ms), from the first snapshot's time minus its elapsed.
    run_start: Option<i64>,
    /// Timestamp (ms) of the previous push: where zero starts of series
    /// first seen in the next push go.
    previous_push: Option<i64>,
}

impl RemoteWriteEncoder {
    pub fn new(options: RemoteWriteOptions, registry: Arc<MetricRegistry>, testid: String) -> Self {
        RemoteWriteEncoder {
            layout: NativeLayout::new(options.histogram_schema),
            options,
            registry,
            testid,
            names: BTreeMap::new(),
            series: BTreeMap::new(),
            sent: BTreeSet::new(),
            changed: false,
            run_start: None,
            previous_push: None,
        }
    }

    pub fn options(&self) -> &RemoteWriteOptions {
        &self.options
    }

    /// Whether a snapshot arrived since the last [`series_at`](Self::series_at).
    pub fn has_changes(&self) -> bool {
        self.changed
    }

    /// Takes in one snapshot: cumulative values replace the previous ones,
    /// interval values merge into what accumulated since the last push.
    /// Work is proportional to the snapshot's series (histograms are shared,
    /// not copied).
    pub fn observe(&mut self, snapshot: &Snapshot) {
        self.changed = true;
        if self.run_start.is_none() {
            let start = snapshot
                .time
                .checked_sub(snapshot.elapsed)
                .unwrap_or(snapshot.time);
            self.run_start = Some(unix_ms(start));
        }
        for point in &snapshot.series {
            let key = (point.metric, point.tags.clone());
            let testid = &self.testid;
            let entry = self.series.entry(key).or_insert_with(|| SeriesEntry {
                labels: base_labels(&point.tags, testid),
                total: point.total.clone(),
                since_push: None,
                started: false,
            });
            entry.total = point.total.clone();
            match &mut entry.since_push {
                Some(merged) => {
                    merged.merge(&point.interval);
                }
                None => entry.since_push = Some(point.interval.clone()),
            }
        }
    }

    /// Every series' current value at `timestamp` (ms), in a stable order
    /// (metric id, then tags), each cumulative series seen for the first
    /// time preceded by its zero start (see the module comment). Starts a
    /// new push interval for the trend statistics.
    pub fn series_at(&mut self, timestamp: i64) -> Vec<TimeSeries> {
        self.changed = false;
        // Strictly before this push's samples, so never a duplicate of them.
        let zero_at = self
            .previous_push
            .or(self.run_start)
            .unwrap_or(timestamp)
            .min(timestamp.saturating_sub(1));
        self.previous_push = Some(timestamp);
        let mut out = Vec::with_capacity(self.series.len());
        let keys: Vec<(MetricId, TagSet)> = self.series.keys().cloned().collect();
        for key in keys {
            let names = self
                .names
                .entry(key.0)
                .or_insert_with(|| MetricNames::new(self.options.naming, self.registry.get(key.0)))
                .clone();
            let contains = self.registry.get(key.0).contains;
            let Some(entry) = self.series.get_mut(&key) else {
                continue;
            };
            let since_push = entry.since_push.take();
            let zero_start = !std::mem::replace(&mut entry.started, true);
            let labels = &entry.labels;
            let sample = |name: &str, value: f64| TimeSeries {
                labels: with_name(labels, name),
                samples: vec![Sample { value, timestamp }],
                histograms: Vec::new(),
            };
            // A cumulative series: its zero start first when it is new.
            let cumulative = |name: &str, value: f64| {
                let mut series = sample(name, value);
                if zero_start {
                    series.samples.insert(
                        0,
                        Sample {
                            value: 0.0,
                            timestamp: zero_at,
                        },
                    );
                }
                series
            };
            match &entry.total {
                SeriesValue::Counter { sum } => out.push(cumulative(&names.counter(), *sum)),
                SeriesValue::Gauge { last, .. } => out.push(sample(&names.gauge(), *last)),
                SeriesValue::Rate { trues, total } => {
                    for (name, part) in names.rate() {
                        let value = match part {
                            RatePart::Trues => *trues as f64,
                            RatePart::Samples => *total as f64,
                            RatePart::Ratio if *total == 0 => 0.0,
                            RatePart::Ratio => *trues as f64 / *total as f64,
                        };
                        out.push(cumulative(&name, value));
                    }
                }
                SeriesValue::Trend(total) => {
                    if self.options.histograms == HistogramMode::Native {
                        let mut histograms = Vec::with_capacity(2);
                        if zero_start {
                            histograms.push(self.layout.empty(zero_at));
                        }
                        histograms.push(self.layout.convert_trend(contains, total, timestamp));
                        out.push(TimeSeries {
                            labels: with_name(labels, &names.histogram()),
                            samples: Vec::new(),
                            histograms,
                        });
                    }
                    let summarized = match (self.options.trend_stats_window, &since_push) {
                        (TrendStatsWindow::Cumulative, _) => Some(total),
                        (TrendStatsWindow::Interval, Some(SeriesValue::Trend(interval))) => {
                            Some(interval)
                        }
                        (TrendStatsWindow::Interval, _) => None,
                    };
                    if let Some(trend) = summarized
                        && trend.count > 0
                    {
                        for stat in &self.options.trend_stats {
                            let value = trend_stat(trend, stat, contains);
                            out.push(sample(&names.trend_stat(stat), value));
                        }
                    }
                }
            }
        }
        for series in &out {
            self.sent
                .insert((series.labels.clone(), !series.histograms.is_empty()));
        }
        out
    }

    /// A staleness marker for every series sent so far, at `timestamp`
    /// (ms): float series get a stale NaN sample, native histograms a
    /// histogram whose sum is the stale NaN (how Prometheus marks those).
    pub fn stale_markers(&self, timestamp: i64) -> Vec<TimeSeries> {
        self.sent
            .iter()
            .map(|(labels, is_histogram)| {
                if *is_histogram {
                    TimeSeries {
                        labels: labels.clone(),
                        samples: Vec::new(),
                        histograms: vec![proto::Histogram {
                            count: Some(proto::histogram::Count::CountInt(0)),
                            sum: stale_nan(),
                            schema: self.layout.schema(),
                            zero_threshold: super::native::ZERO_THRESHOLD,
                            zero_count: Some(proto::histogram::ZeroCount::ZeroCountInt(0)),
                            timestamp,
                            ..Default::default()
                        }],
                    }
                } else {
                    TimeSeries {
                        labels: labels.clone(),
                        samples: vec![Sample {
                            value: stale_nan(),
                            timestamp,
                        }],
                        histograms: Vec::new(),
                    }
                }
            })
            .collect()
    }
}

/// `series` as request bodies of at most `batch_size` series each (one
/// point per series). A batch that cannot be compressed is left out and its
/// point count returned, so the caller can count it as dropped.
pub fn into_payloads(series: Vec<TimeSeries>, batch_size: usize) -> (Vec<Payload>, u64) {
    let mut payloads = Vec::new();
    let mut unencodable = 0;
    let mut rest = series;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(batch_size.max(1)));
        let points = rest.len() as u64;
        let request = WriteRequest { timeseries: rest };
        match proto::encode_request(&request) {
            Ok(body) => payloads.push(Payload {
                body: Bytes::from(body),
                points,
            }),
            Err(e) => {
                tracing::error!(error = %e, points, "remote-write batch could not be compressed; dropped");
                unencodable += points;
            }
        }
        rest = tail;
    }
    (payloads, unencodable)
}

/// Milliseconds since the Unix epoch (0 for times before it).
fn unix_ms(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A statistic of the interval's trend, in seconds for time trends.
fn trend_stat(trend: &TrendValue, stat: &TrendStat, contains: ValueType) -> f64 {
    let value = match stat {
        TrendStat::Count => return trend.count as f64,
        TrendStat::Percentile { p, .. } => trend.percentile(*p),
        TrendStat::Avg => trend.avg(),
        TrendStat::Min => trend.min,
        TrendStat::Max => trend.max,
        TrendStat::Med => trend.med(),
        TrendStat::Sum => trend.sum,
    };
    match contains {
        ValueType::Time => value / 1000.0,
        ValueType::Default | ValueType::Data => value,
    }
}
