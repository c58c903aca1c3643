//! Series values → OTLP export requests, batched by data points: a
//! function of the series, the push's timestamps and the options, plus
//! which series were sent before (for their zero start).
//!
//! Cumulative temporality: every point's `start_time_unix_nano` is the run
//! start, and every cumulative series (sums, rate parts, histograms) starts
//! from zero: the push in which it first appears carries a zero point
//! (an empty histogram with the same bounds or scale) before its first
//! value, timestamped one push earlier: at the previous push's time, or at
//! the run start for series of the first push. Whole-run figures over the
//! run's range then include the first push's values, and a windowed rate of
//! a series that appears mid-run sees its first increment. Not at the run
//! start for every series: a series first seen an hour or two into a run
//! would get a sample older than Prometheus' head block accepts, and the
//! receiver refuses the whole request for one out-of-bounds sample. Delta
//! temporality needs no zero: each point is its own window.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::buckets::{explicit_counts, exponential};
use super::config::{HistogramMode, Temporality};
use super::layout::{Instrument, Role, Shape, instruments};
use crate::metrics::{MetricId, MetricRegistry, SeriesValue, TagSet, TrendValue};

/// Stored trend values are integer micro-units of the display unit.
const MICROS_PER_DISPLAY_UNIT: f64 = 1000.0;

/// One series as the sink holds it between pushes.
#[derive(Clone, Debug)]
pub struct SeriesEntry {
    pub metric: MetricId,
    pub tags: TagSet,
    /// Its samples since the previous push (merged interval values), `None`
    /// when it had none.
    pub window: Option<SeriesValue>,
    /// Everything since the test started.
    pub total: SeriesValue,
}

/// The timestamps of one push, in nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushTimes {
    pub test_start: u64,
    /// Start of the window this push covers (the previous push's time).
    pub window_start: u64,
    /// The time of the latest snapshot in the window.
    pub time: u64,
}

/// One export request and the data points it carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub request: ExportMetricsServiceRequest,
    pub points: u64,
}

/// Encodes pushes for one output.
#[derive(Debug)]
pub struct Encoder {
    registry: Arc<MetricRegistry>,
    testid: String,
    temporality: Temporality,
    histograms: HistogramMode,
    batch_size: usize,
    layouts: HashMap<MetricId, Arc<[Instrument]>>,
    /// `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`, added to every resource.
    resource_attributes: Vec<(String, String)>,
    /// Per series, a bit per instrument whose zero start was sent.
    started: HashMap<(MetricId, TagSet), u8>,
}

enum PointData {
    Number(NumberDataPoint),
    Histogram(HistogramDataPoint),
    Exponential(ExponentialHistogramDataPoint),
}

/// The metrics of one resource (`instance` value) in a request, and where
/// each instrument's metric is in it.
type ResourceGroup = (
    Option<Arc<str>>,
    Vec<Metric>,
    HashMap<(MetricId, usize), usize>,
);

struct Point {
    instance: Option<Arc<str>>,
    metric: MetricId,
    instrument: usize,
    data: PointData,
}

impl Encoder {
    pub fn new(
        registry: Arc<MetricRegistry>,
        testid: String,
        temporality: Temporality,
        histograms: HistogramMode,
        batch_size: usize,
    ) -> Self {
        Encoder {
            registry,
            testid,
            temporality,
            histograms,
            batch_size: batch_size.max(1),
            layouts: HashMap::new(),
            resource_attributes: Vec::new(),
            started: HashMap::new(),
        }
    }

    /// Adds the user's resource attributes; `service.name` among them
    /// replaces stampede's. `service.instance.id` and `stampede.testid`
    /// stay stampede's: they keep instances and runs apart.
    pub fn with_resource_attributes(mut self, attributes: Vec<(String, String)>) -> Self {
        self.resource_attributes = attributes;
        self
    }

    /// The requests of one push. Cumulative: every series known so far,
    /// with its totals. Delta: the series with samples in the window, with
    /// the window's values (rate ratios stay cumulative shares).
    pub fn encode(&mut self, series: &[SeriesEntry], times: PushTimes) -> Vec<Batch> {
        let mut points = Vec::new();
        for entry in series {
            let value = match self.temporality {
                Temporality::Cumulative => &entry.total,
                Temporality::Delta => match &entry.window {
                    Some(v) => v,
                    None => continue,
                },
            };
            let layout = self.layout(entry.metric);
            let instance: Option<Arc<str>> = entry.tags.get("instance").map(Arc::from);
            let attributes = self.attributes(&entry.tags);
            for (index, instrument) in layout.iter().enumerate() {
                if let Some(data) = self.point(instrument, value, &entry.total, &attributes, times)
                {
                    if self.first_value(entry, index, instrument.role) {
                        points.push(Point {
                            instance: instance.clone(),
                            metric: entry.metric,
                            instrument: index,
                            data: zero_start(
                                &data,
                                times.window_start.min(times.time.saturating_sub(1)),
                            ),
                        });
                    }
                    points.push(Point {
                        instance: instance.clone(),
                        metric: entry.metric,
                        instrument: index,
                        data,
                    });
                }
            }
        }
        let mut batches = Vec::new();
        let mut rest = points;
        while !rest.is_empty() {
            let tail = rest.split_off(self.batch_size.min(rest.len()));
            batches.push(self.assemble(rest));
            rest = tail;
        }
        batches
    }

    /// Whether this is the first value of a cumulative series' instrument
    /// (then its zero start goes first); marks it sent.
    fn first_value(&mut self, entry: &SeriesEntry, instrument: usize, role: Role) -> bool {
        if self.temporality != Temporality::Cumulative || matches!(role, Role::GaugeLast) {
            return false;
        }
        let bit = 1u8 << instrument;
        match self.started.entry((entry.metric, entry.tags.clone())) {
            Entry::Occupied(mut sent) if *sent.get() & bit == 0 => {
                *sent.get_mut() |= bit;
                true
            }
            Entry::Occupied(_) => false,
            Entry::Vacant(new) => {
                new.insert(bit);
                true
            }
        }
    }

    fn layout(&mut self, metric: MetricId) -> Arc<[Instrument]> {
        let registry = &self.registry;
        self.layouts
            .entry(metric)
            .or_insert_with(|| instruments(registry.get(metric)).into())
            .clone()
    }

    /// The series' tags without `instance` (it is the resource's
    /// `service.instance.id`), plus `testid`.
    fn attributes(&self, tags: &TagSet) -> Vec<KeyValue> {
        let mut attributes: Vec<KeyValue> = tags
            .iter()
            .filter(|(k, _)| *k != "instance" && *k != "testid")
            .map(|(k, v)| string_attribute(k, v))
            .collect();
        attributes.push(string_attribute("testid", &self.testid));
        attributes
    }

    fn point(
        &self,
        instrument: &Instrument,
        value: &SeriesValue,
        total: &SeriesValue,
        attributes: &[KeyValue],
        times: PushTimes,
    ) -> Option<PointData> {
        let start = match self.temporality {
            Temporality::Cumulative => times.test_start,
            Temporality::Delta => times.window_start,
        };
        let number = |v: f64, start_time_unix_nano: u64| {
            PointData::Number(NumberDataPoint {
                attributes: attributes.to_vec(),
                start_time_unix_nano,
                time_unix_nano: times.time,
                value: Some(number_data_point::Value::AsDouble(v)),
                ..Default::default()
            })
        };
        match (instrument.role, value) {
            (Role::CounterSum, SeriesValue::Counter { sum }) => Some(number(*sum, start)),
            (Role::GaugeLast, SeriesValue::Gauge { last, .. }) => Some(number(*last, 0)),
            (Role::RateTrues, SeriesValue::Rate { trues, .. }) => {
                Some(number(*trues as f64, start))
            }
            (Role::RateSamples, SeriesValue::Rate { total, .. }) => {
                Some(number(*total as f64, start))
            }
            (Role::RateRatio, _) => match total {
                SeriesValue::Rate { trues, total } if *total > 0 => {
                    Some(number(*trues as f64 / *total as f64, 0))
                }
                _ => None,
            },
            (Role::Trend { scale }, SeriesValue::Trend(trend)) if trend.count > 0 => {
                Some(self.histogram(trend, scale, attributes, start, times.time))
            }
            _ => None,
        }
    }

    fn histogram(
        &self,
        trend: &TrendValue,
        scale: f64,
        attributes: &[KeyValue],
        start_time_unix_nano: u64,
        time_unix_nano: u64,
    ) -> PointData {
        let divisor = MICROS_PER_DISPLAY_UNIT * scale;
        let (sum, min, max) = (trend.sum / scale, trend.min / scale, trend.max / scale);
        match &self.histograms {
            HistogramMode::Explicit(bounds) => PointData::Histogram(HistogramDataPoint {
                attributes: attributes.to_vec(),
                start_time_unix_nano,
                time_unix_nano,
                count: trend.count,
                sum: Some(sum),
                bucket_counts: explicit_counts(&trend.histogram, bounds, divisor),
                explicit_bounds: bounds.to_vec(),
                min: Some(min),
                max: Some(max),
                ..Default::default()
            }),
            HistogramMode::Exponential => {
                let e = exponential(&trend.histogram, divisor);
                PointData::Exponential(ExponentialHistogramDataPoint {
                    attributes: attributes.to_vec(),
                    start_time_unix_nano,
                    time_unix_nano,
                    count: trend.count,
                    sum: Some(sum),
                    scale: e.scale,
                    zero_count: e.zero_count,
                    positive: Some(Buckets {
                        offset: e.offset,
                        bucket_counts: e.counts,
                    }),
                    negative: None,
                    min: Some(min),
                    max: Some(max),
                    zero_threshold: 0.0,
                    ..Default::default()
                })
            }
        }
    }

    /// One request: a resource per `instance` value, one scope, one metric
    /// per instrument, data points in series order.
    fn assemble(&self, points: Vec<Point>) -> Batch {
        let count = points.len() as u64;
        let mut resources: Vec<ResourceGroup> = Vec::new();
        for point in points {
            let r = match resources.iter().position(|(i, _, _)| *i == point.instance) {
                Some(r) => r,
                None => {
                    resources.push((point.instance.clone(), Vec::new(), HashMap::new()));
                    resources.len() - 1
                }
            };
            let (_, metrics, index) = &mut resources[r];
            let key = (point.metric, point.instrument);
            let m = *index.entry(key).or_insert_with(|| {
                let instrument = &self.layouts[&point.metric][point.instrument];
                metrics.push(self.empty_metric(instrument));
                metrics.len() - 1
            });
            match (&mut metrics[m].data, point.data) {
                (Some(Data::Sum(s)), PointData::Number(p)) => s.data_points.push(p),
                (Some(Data::Gauge(g)), PointData::Number(p)) => g.data_points.push(p),
                (Some(Data::Histogram(h)), PointData::Histogram(p)) => h.data_points.push(p),
                (Some(Data::ExponentialHistogram(h)), PointData::Exponential(p)) => {
                    h.data_points.push(p)
                }
                _ => unreachable!("an instrument's data matches its shape"),
            }
        }
        let resource_metrics = resources
            .into_iter()
            .map(|(instance, metrics, _)| ResourceMetrics {
                resource: Some(self.resource(instance.as_deref())),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "stampede".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                        ..Default::default()
                    }),
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect();
        Batch {
            request: ExportMetricsServiceRequest { resource_metrics },
            points: count,
        }
    }

    fn empty_metric(&self, instrument: &Instrument) -> Metric {
        let temporality = match self.temporality {
            Temporality::Cumulative => AggregationTemporality::Cumulative,
            Temporality::Delta => AggregationTemporality::Delta,
        } as i32;
        let data = match instrument.shape {
            Shape::MonotonicSum => Data::Sum(Sum {
                data_points: Vec::new(),
                aggregation_temporality: temporality,
                is_monotonic: true,
            }),
            Shape::Gauge => Data::Gauge(Gauge {
                data_points: Vec::new(),
            }),
            Shape::Histogram => match self.histograms {
                HistogramMode::Explicit(_) => Data::Histogram(Histogram {
                    data_points: Vec::new(),
                    aggregation_temporality: temporality,
                }),
                HistogramMode::Exponential => Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: Vec::new(),
                    aggregation_temporality: temporality,
                }),
            },
        };
        Metric {
            name: instrument.name.clone(),
            unit: instrument.unit.into(),
            data: Some(data),
            ..Default::default()
        }
    }

    fn resource(&self, instance: Option<&str>) -> Resource {
        let user = &self.resource_attributes;
        let service = user
            .iter()
            .find(|(k, _)| k == "service.name")
            .map_or("stampede", |(_, v)| v.as_str());
        let mut attributes = vec![string_attribute("service.name", service)];
        if let Some(instance) = instance {
            attributes.push(string_attribute("service.instance.id", instance));
        }
        for (key, value) in user {
            if !matches!(
                key.as_str(),
                "service.name" | "service.instance.id" | "stampede.testid"
            ) {
                attributes.push(string_attribute(key, value));
            }
        }
        attributes.push(string_attribute("stampede.testid", &self.testid));
        Resource {
            attributes,
            ..Default::default()
        }
    }
}

/// The zero start of a series at `time`: its first point with no
/// observations, same attributes, start time, bounds and scale.
fn zero_start(first: &PointData, time: u64) -> PointData {
    match first {
        PointData::Number(p) => PointData::Number(NumberDataPoint {
            time_unix_nano: time,
            value: Some(number_data_point::Value::AsDouble(0.0)),
            ..p.clone()
        }),
        PointData::Histogram(p) => PointData::Histogram(HistogramDataPoint {
            time_unix_nano: time,
            count: 0,
            sum: Some(0.0),
            bucket_counts: vec![0; p.bucket_counts.len()],
            min: None,
            max: None,
            ..p.clone()
        }),
        PointData::Exponential(p) => PointData::Exponential(ExponentialHistogramDataPoint {
            time_unix_nano: time,
            count: 0,
            sum: Some(0.0),
            zero_count: 0,
            positive: Some(Buckets {
                offset: 0,
                bucket_counts: Vec::new(),
            }),
            negative: None,
            min: None,
            max: None,
            ..p.clone()
        }),
    }
}

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;

/// One run marker gauge (see [`crate::output::markers`]): name, unit,
/// extra attributes and value.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkerGauge {
    pub name: &'static str,
    pub unit: &'static str,
    pub attributes: Vec<(String, String)>,
    pub value: f64,
}

impl Encoder {
    /// Most points in one request (the `batch_size` option).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// One request with the run marker gauges at `time` (ns), on the
    /// resource of `instance`, each with the `testid` attribute.
    pub fn markers(&self, instance: Option<&str>, gauges: &[MarkerGauge], time: u64) -> Batch {
        let metrics = gauges
            .iter()
            .map(|g| {
                let mut attributes: Vec<KeyValue> = g
                    .attributes
                    .iter()
                    .map(|(k, v)| string_attribute(k, v))
                    .collect();
                attributes.push(string_attribute("testid", &self.testid));
                Metric {
                    name: g.name.into(),
                    unit: g.unit.into(),
                    data: Some(Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            attributes,
                            time_unix_nano: time,
                            value: Some(number_data_point::Value::AsDouble(g.value)),
                            ..Default::default()
                        }],
                    })),
                    ..Default::default()
                }
            })
            .collect();
        Batch {
            request: ExportMetricsServiceRequest {
                resource_metrics: vec![ResourceMetrics {
                    resource: Some(self.resource(instance)),
                    scope_metrics: vec![ScopeMetrics {
                        scope: Some(InstrumentationScope {
                            name: "stampede".into(),
                            version: env!("CARGO_PKG_VERSION").into(),
                            ..Default::default()
                        }),
                        metrics,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            },
            points: gauges.len() as u64,
        }
    }
}
