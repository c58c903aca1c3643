//! What the endpoint serves, as metric families: the latest cumulative
//! value of every series plus the run markers, under remote-write's
//! `naming=stampede` names. Pure: no I/O, no clock.
//!
//! The two formats differ only in trends. Protobuf carries them as native
//! histograms under the histogram's name (`stampede_<m>_seconds`), exactly
//! what remote-write sends; the text format cannot hold native histograms,
//! so there they are summaries under another name
//! (`stampede_<m>_summary_seconds`), never a second type under one name.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::proto::{
    Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType, Quantile, Summary,
};
use crate::metrics::{MetricId, MetricRegistry, SeriesValue, TagSet, TrendValue, ValueType};
use crate::output::markers::{RunMarkers, ThresholdMark};
use crate::output::prometheus_rw::naming::{MetricNames, RatePart, label_name};
use crate::output::prometheus_rw::native::NativeLayout;
use crate::output::prometheus_rw::options::{DEFAULT_HISTOGRAM_SCHEMA, Naming};
use crate::output::prometheus_rw::{TEST_END_METRIC, TEST_START_METRIC, THRESHOLD_METRIC};

/// Quantiles every trend summary (text format) shows.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// Which exposition format a scrape gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposition {
    /// Length-delimited `io.prometheus.client.MetricFamily` messages.
    Protobuf,
    /// The text format 0.0.4.
    Text,
}

/// How the run ended, known once the sink finishes.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// When the last VU stopped, Unix seconds.
    pub end_seconds: f64,
    pub thresholds: Vec<ThresholdMark>,
}

/// The latest cumulative value of every series and what is known of the run.
#[derive(Debug)]
pub struct ScrapeState {
    registry: Arc<MetricRegistry>,
    testid: String,
    layout: NativeLayout,
    series: BTreeMap<(MetricId, TagSet), SeriesValue>,
    pub markers: RunMarkers,
    /// The thresholds' states so far (from the latest snapshot), served
    /// until the run's outcome replaces them.
    pub thresholds: Vec<ThresholdMark>,
    pub outcome: Option<RunOutcome>,
}

impl ScrapeState {
    pub fn new(registry: Arc<MetricRegistry>, testid: String) -> Self {
        ScrapeState {
            registry,
            testid,
            // The remote-write default, so both paths bucket alike.
            layout: NativeLayout::new(DEFAULT_HISTOGRAM_SCHEMA),
            series: BTreeMap::new(),
            markers: RunMarkers::default(),
            thresholds: Vec::new(),
            outcome: None,
        }
    }

    /// Replaces the series' value with the snapshot's cumulative one.
    /// Histograms are shared (Arc), not copied.
    pub fn set(&mut self, metric: MetricId, tags: &TagSet, total: &SeriesValue) {
        self.series.insert((metric, tags.clone()), total.clone());
    }

    /// Every family to serve, sorted by name, each family's series in a
    /// stable order (metric id, then tags).
    pub fn families(&self, format: Exposition) -> Vec<MetricFamily> {
        let mut out = Families::default();
        for ((id, tags), value) in &self.series {
            let def = self.registry.get(*id);
            let names = MetricNames::new(Naming::Stampede, def);
            let labels = labels(tags, &self.testid);
            match value {
                SeriesValue::Counter { sum } => out.counter(names.counter(), &labels, *sum),
                SeriesValue::Gauge { last, .. } => out.gauge(names.gauge(), &labels, *last),
                SeriesValue::Rate { trues, total } => {
                    for (name, part) in names.rate() {
                        match part {
                            RatePart::Trues => out.counter(name, &labels, *trues as f64),
                            RatePart::Samples => out.counter(name, &labels, *total as f64),
                            RatePart::Ratio if *total == 0 => out.gauge(name, &labels, 0.0),
                            RatePart::Ratio => {
                                out.gauge(name, &labels, *trues as f64 / *total as f64)
                            }
                        }
                    }
                }
                SeriesValue::Trend(trend) => match format {
                    Exposition::Protobuf => {
                        // No timestamp: a scraped sample takes the scrape's.
                        let native = self.layout.convert_trend(def.contains, trend, 0);
                        out.add(
                            names.histogram(),
                            MetricType::Histogram,
                            Metric {
                                label: labels,
                                histogram: Some(Histogram::from_remote_write(&native)),
                                ..Default::default()
                            },
                        );
                    }
                    Exposition::Text => out.add(
                        names.summary(),
                        MetricType::Summary,
                        Metric {
                            label: labels,
                            summary: Some(summary(trend, def.contains)),
                            ..Default::default()
                        },
                    ),
                },
            }
        }
        self.add_markers(&mut out);
        out.0.into_values().collect()
    }

    /// The run's start (from the first snapshot), the thresholds' states,
    /// and once it ended its end: the gauges remote-write sends, with the
    /// run's labels (`testid`, `instance`).
    fn add_markers(&self, out: &mut Families) {
        let run_labels = |extra: &[(&str, &str)]| {
            let tags = TagSet::new(
                self.markers
                    .instance()
                    .map(|i| ("instance", i))
                    .into_iter()
                    .chain(extra.iter().copied()),
            );
            labels(&tags, &self.testid)
        };
        if let Some(start) = self.markers.start() {
            let seconds = crate::output::markers::unix_seconds(start);
            out.gauge(TEST_START_METRIC.into(), &run_labels(&[]), seconds);
        }
        if let Some(outcome) = &self.outcome {
            out.gauge(
                TEST_END_METRIC.into(),
                &run_labels(&[]),
                outcome.end_seconds,
            );
        }
        let thresholds = self
            .outcome
            .as_ref()
            .map_or(&self.thresholds, |o| &o.thresholds);
        // The outcome once the run ended, its states so far before.
        for mark in thresholds {
            let labels = run_labels(&[
                ("metric", mark.metric.as_str()),
                ("threshold", mark.threshold.as_str()),
            ]);
            out.gauge(
                THRESHOLD_METRIC.into(),
                &labels,
                f64::from(u8::from(mark.passed)),
            );
        }
    }
}

/// Families by name while they are being filled.
#[derive(Default)]
struct Families(BTreeMap<String, MetricFamily>);

impl Families {
    fn add(&mut self, name: String, kind: MetricType, metric: Metric) {
        self.0
            .entry(name.clone())
            .or_insert_with(|| MetricFamily {
                name,
                help: String::new(),
                r#type: kind as i32,
                metric: Vec::new(),
            })
            .metric
            .push(metric);
    }

    fn counter(&mut self, name: String, labels: &[LabelPair], value: f64) {
        let metric = Metric {
            label: labels.to_vec(),
            counter: Some(Counter { value }),
            ..Default::default()
        };
        self.add(name, MetricType::Counter, metric);
    }

    fn gauge(&mut self, name: String, labels: &[LabelPair], value: f64) {
        let metric = Metric {
            label: labels.to_vec(),
            gauge: Some(Gauge { value }),
            ..Default::default()
        };
        self.add(name, MetricType::Gauge, metric);
    }
}

/// A whole-run summary of `trend`, in seconds for time trends: quantiles
/// from the HDR histogram, exact count and sum.
fn summary(trend: &TrendValue, contains: ValueType) -> Summary {
    let to_unit = if contains == ValueType::Time {
        1e-3
    } else {
        1.0
    };
    Summary {
        sample_count: trend.count,
        sample_sum: trend.sum * to_unit,
        quantile: QUANTILES
            .iter()
            .map(|q| Quantile {
                quantile: *q,
                value: trend.percentile(q * 100.0) * to_unit,
            })
            .collect(),
    }
}

/// The series' tags as labels (names made Prometheus-safe) plus `testid`,
/// sorted by name. No `job`: the scraping Prometheus sets its own.
fn labels(tags: &TagSet, testid: &str) -> Vec<LabelPair> {
    let mut pairs: Vec<LabelPair> = tags
        .iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .map(|(k, v)| LabelPair {
            name: label_name(k),
            value: v.to_string(),
        })
        .collect();
    if !pairs.iter().any(|p| p.name == "testid") {
        pairs.push(LabelPair {
            name: "testid".into(),
            value: testid.to_string(),
        });
    }
    pairs.sort();
    pairs.dedup_by(|a, b| a.name == b.name);
    pairs
}
