use super::*;
use crate::metrics::{builtin, new_histogram};

const T0: u64 = 1_700_000_000_000_000_000;

fn times() -> PushTimes {
    PushTimes {
        test_start: T0,
        window_start: T0 + 4_000_000_000,
        time: T0 + 5_000_000_000,
    }
}

fn tags() -> TagSet {
    TagSet::new([
        ("instance", "load-1"),
        ("method", "GET"),
        ("name", "credits"),
        ("status", "200"),
    ])
}

fn trend(micros: &[u64]) -> SeriesValue {
    let mut h = new_histogram();
    for m in micros {
        h.record(*m).unwrap();
    }
    let ms: Vec<f64> = micros.iter().map(|m| *m as f64 / 1000.0).collect();
    SeriesValue::Trend(TrendValue {
        histogram: Arc::new(h),
        count: micros.len() as u64,
        sum: ms.iter().sum(),
        min: ms.iter().cloned().fold(f64::MAX, f64::min),
        max: ms.iter().cloned().fold(0.0, f64::max),
    })
}

fn series() -> Vec<SeriesEntry> {
    vec![
        SeriesEntry {
            metric: builtin::HTTP_REQS,
            tags: tags(),
            window: Some(SeriesValue::Counter { sum: 3.0 }),
            total: SeriesValue::Counter { sum: 10.0 },
        },
        SeriesEntry {
            metric: builtin::HTTP_REQ_DURATION,
            tags: tags(),
            window: Some(trend(&[2000, 20_000])),
            total: trend(&[2000, 20_000, 300_000]),
        },
        SeriesEntry {
            metric: builtin::CHECKS,
            tags: tags(),
            window: None,
            total: SeriesValue::Rate { trues: 3, total: 4 },
        },
        SeriesEntry {
            metric: builtin::VUS,
            tags: TagSet::new([("instance", "load-1")]),
            window: Some(SeriesValue::Gauge {
                last: 7.0,
                min: 1.0,
                max: 9.0,
            }),
            total: SeriesValue::Gauge {
                last: 7.0,
                min: 1.0,
                max: 9.0,
            },
        },
    ]
}

fn encoder(temporality: Temporality, histograms: HistogramMode, batch: usize) -> Encoder {
    Encoder::new(
        Arc::new(MetricRegistry::with_builtins()),
        "t-1".into(),
        temporality,
        histograms,
        batch,
    )
}

fn attrs(kv: &[KeyValue]) -> Vec<(String, String)> {
    kv.iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

fn number(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        ref other => panic!("not a double: {other:?}"),
    }
}

#[test]
fn cumulative_push_has_resource_scope_names_units_and_exact_values() {
    let bounds: Arc<[f64]> = vec![0.005, 0.1].into();
    let mut e = encoder(
        Temporality::Cumulative,
        HistogramMode::Explicit(bounds),
        100,
    );
    let batches = e.encode(&series(), times());
    assert_eq!(batches.len(), 1);
    // counter 1 + trend 1 + rate 3 + gauge 1, and the zero starts of the
    // five cumulative ones (tested in `zero_start_*`).
    assert_eq!(batches[0].points, 11);
    let rm = &batches[0].request.resource_metrics;
    assert_eq!(rm.len(), 1);
    assert_eq!(
        attrs(&rm[0].resource.as_ref().unwrap().attributes),
        [
            ("service.name".into(), "stampede".into()),
            ("service.instance.id".into(), "load-1".into()),
            ("stampede.testid".into(), "t-1".into()),
        ]
    );
    let scope = &rm[0].scope_metrics[0];
    assert_eq!(scope.scope.as_ref().unwrap().name, "stampede");
    let layout: Vec<(&str, &str, &str)> = scope
        .metrics
        .iter()
        .map(|m| {
            let kind = match m.data.as_ref().unwrap() {
                Data::Sum(s) => {
                    assert!(s.is_monotonic);
                    assert_eq!(
                        s.aggregation_temporality,
                        AggregationTemporality::Cumulative as i32
                    );
                    "sum"
                }
                Data::Gauge(_) => "gauge",
                Data::Histogram(_) => "histogram",
                other => panic!("unexpected {other:?}"),
            };
            (m.name.as_str(), m.unit.as_str(), kind)
        })
        .collect();
    assert_eq!(
        layout,
        [
            ("stampede_http_reqs", "", "sum"),
            ("stampede_http_req_duration", "s", "histogram"),
            ("stampede_checks", "", "sum"),
            ("stampede_checks_samples", "", "sum"),
            ("stampede_checks", "1", "gauge"),
            ("stampede_vus", "", "gauge"),
        ]
    );
    let Some(Data::Sum(reqs)) = &scope.metrics[0].data else {
        unreachable!()
    };
    let p = &reqs.data_points[1];
    assert_eq!(number(p), 10.0);
    assert_eq!(
        (p.start_time_unix_nano, p.time_unix_nano),
        (T0, times().time)
    );
    assert_eq!(
        attrs(&p.attributes),
        [
            ("method".into(), "GET".into()),
            ("name".into(), "credits".into()),
            ("status".into(), "200".into()),
            ("testid".into(), "t-1".into()),
        ]
    );
    let Some(Data::Histogram(h)) = &scope.metrics[1].data else {
        unreachable!()
    };
    let p = &h.data_points[1];
    assert_eq!(p.count, 3);
    assert_eq!(p.bucket_counts, [1, 1, 1]);
    assert_eq!(p.explicit_bounds, [0.005, 0.1]);
    assert!((p.sum.unwrap() - 0.322).abs() < 1e-12);
    assert_eq!((p.min, p.max), (Some(0.002), Some(0.3)));
    let values: Vec<f64> = scope.metrics[2..]
        .iter()
        .map(|m| match m.data.as_ref().unwrap() {
            Data::Sum(s) => number(s.data_points.last().unwrap()),
            Data::Gauge(g) => number(g.data_points.last().unwrap()),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(values, [3.0, 4.0, 0.75, 7.0]);
}

#[test]
fn delta_push_sends_only_the_window_from_its_start() {
    let mut e = encoder(Temporality::Delta, HistogramMode::Exponential, 100);
    let batches = e.encode(&series(), times());
    let metrics = &batches[0].request.resource_metrics[0].scope_metrics[0].metrics;
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "stampede_http_reqs",
            "stampede_http_req_duration",
            "stampede_vus"
        ],
        "checks had no samples in the window"
    );
    let Some(Data::Sum(s)) = &metrics[0].data else {
        unreachable!()
    };
    assert_eq!(
        s.aggregation_temporality,
        AggregationTemporality::Delta as i32
    );
    assert_eq!(number(&s.data_points[0]), 3.0);
    assert_eq!(s.data_points[0].start_time_unix_nano, times().window_start);
    let Some(Data::ExponentialHistogram(h)) = &metrics[1].data else {
        unreachable!()
    };
    let p = &h.data_points[0];
    assert_eq!(p.count, 2);
    let buckets = p.positive.as_ref().unwrap();
    assert_eq!(p.zero_count + buckets.bucket_counts.iter().sum::<u64>(), 2);
    // 2 ms .. 20 ms is 3.3 doublings: 32 buckets each (scale 5) fit in 160.
    assert_eq!(p.scale, 5);
}

#[test]
fn batches_hold_at_most_batch_size_points_and_keep_every_point() {
    let mut e = encoder(
        Temporality::Cumulative,
        HistogramMode::Explicit(vec![1.0].into()),
        4,
    );
    let batches = e.encode(&series(), times());
    // Six values and five zero starts.
    assert_eq!(
        batches.iter().map(|b| b.points).collect::<Vec<_>>(),
        [4, 4, 3]
    );
    let counted: usize = batches
        .iter()
        .flat_map(|b| &b.request.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match m.data.as_ref().unwrap() {
            Data::Sum(s) => s.data_points.len(),
            Data::Gauge(g) => g.data_points.len(),
            Data::Histogram(h) => h.data_points.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(counted, 11);
}

/// Every data point of metric `name` (and `unit`) in `batches`, as
/// (start, time, value or count).
fn points_of(batches: &[Batch], name: &str, unit: &str) -> Vec<(u64, u64, f64)> {
    let mut out = Vec::new();
    for m in batches
        .iter()
        .flat_map(|b| &b.request.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == name && m.unit == unit)
    {
        match m.data.as_ref().unwrap() {
            Data::Sum(s) => out.extend(
                s.data_points
                    .iter()
                    .map(|p| (p.start_time_unix_nano, p.time_unix_nano, number(p))),
            ),
            Data::Gauge(g) => out.extend(
                g.data_points
                    .iter()
                    .map(|p| (p.start_time_unix_nano, p.time_unix_nano, number(p))),
            ),
            Data::Histogram(h) => out.extend(
                h.data_points
                    .iter()
                    .map(|p| (p.start_time_unix_nano, p.time_unix_nano, p.count as f64)),
            ),
            Data::ExponentialHistogram(h) => out.extend(
                h.data_points
                    .iter()
                    .map(|p| (p.start_time_unix_nano, p.time_unix_nano, p.count as f64)),
            ),
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

/// The push after [`times`]: five seconds later.
fn next_times() -> PushTimes {
    PushTimes {
        test_start: T0,
        window_start: times().time,
        time: times().time + 5_000_000_000,
    }
}

/// A failing request series first seen in the second push.
fn late_series() -> Vec<SeriesEntry> {
    let failed = TagSet::new([
        ("instance", "load-1"),
        ("method", "GET"),
        ("name", "credits"),
        ("status", "500"),
    ]);
    vec![
        SeriesEntry {
            metric: builtin::HTTP_REQS,
            tags: failed.clone(),
            window: Some(SeriesValue::Counter { sum: 2.0 }),
            total: SeriesValue::Counter { sum: 2.0 },
        },
        SeriesEntry {
            metric: builtin::HTTP_REQ_DURATION,
            tags: failed,
            window: Some(trend(&[1000, 1000])),
            total: trend(&[1000, 1000]),
        },
    ]
}

#[test]
fn zero_start_once_per_cumulative_series_one_push_before_its_first_value() {
    let mut e = encoder(Temporality::Cumulative, HistogramMode::Exponential, 100);
    // First push: the zero at the window start, which is the run start for
    // the first push (the sink passes it so); `times()` has them apart, so
    // the test shows which one is used.
    let first_times = PushTimes {
        window_start: T0,
        ..times()
    };
    let t1 = first_times.time;
    let first = e.encode(&series(), first_times);
    assert_eq!(
        points_of(&first, "stampede_http_reqs", ""),
        [(T0, T0, 0.0), (T0, t1, 10.0)]
    );
    assert_eq!(
        points_of(&first, "stampede_checks", ""),
        [(T0, T0, 0.0), (T0, t1, 3.0)]
    );
    assert_eq!(
        points_of(&first, "stampede_checks_samples", ""),
        [(T0, T0, 0.0), (T0, t1, 4.0)]
    );
    // The ratio is a gauge: no start time, a zero all the same (as the
    // remote-write `_ratio` series has).
    assert_eq!(
        points_of(&first, "stampede_checks", "1"),
        [(0, T0, 0.0), (0, t1, 0.75)]
    );
    assert_eq!(
        points_of(&first, "stampede_http_req_duration", "s"),
        [(T0, T0, 0.0), (T0, t1, 3.0)]
    );
    // Gauges carry no zero.
    assert_eq!(points_of(&first, "stampede_vus", ""), [(0, t1, 7.0)]);

    // Second push: the old series go on without a zero; the new ones get
    // theirs at the previous push's time.
    let mut both = series();
    both.extend(late_series());
    let t2 = next_times().time;
    let second = e.encode(&both, next_times());
    assert_eq!(
        points_of(&second, "stampede_http_reqs", ""),
        [(T0, t2, 10.0), (T0, t1, 0.0), (T0, t2, 2.0)]
    );
    assert_eq!(
        points_of(&second, "stampede_http_req_duration", "s"),
        [(T0, t2, 3.0), (T0, t1, 0.0), (T0, t2, 2.0)]
    );
    // A third push: no zero anywhere.
    let third = e.encode(
        &both,
        PushTimes {
            window_start: t2,
            time: t2 + 1,
            ..times()
        },
    );
    let total: u64 = third.iter().map(|b| b.points).sum();
    assert_eq!(total, 6 + 2);
}

#[test]
fn zero_start_histograms_are_empty_with_the_same_bounds_or_scale() {
    let mut e = encoder(Temporality::Cumulative, HistogramMode::Exponential, 100);
    let batches = e.encode(&series(), times());
    let metrics = &batches[0].request.resource_metrics[0].scope_metrics[0].metrics;
    let Some(Data::ExponentialHistogram(h)) = &metrics[1].data else {
        unreachable!()
    };
    let (zero, real) = (&h.data_points[0], &h.data_points[1]);
    assert_eq!(zero.scale, real.scale);
    assert_eq!(
        (zero.count, zero.sum, zero.zero_count, zero.min, zero.max),
        (0, Some(0.0), 0, None, None)
    );
    assert_eq!(
        zero.positive.as_ref().unwrap().bucket_counts,
        Vec::<u64>::new()
    );
    assert_eq!(zero.attributes, real.attributes);
    assert_eq!(zero.time_unix_nano, times().window_start);

    let bounds: Arc<[f64]> = vec![0.005, 0.1].into();
    let mut e = encoder(
        Temporality::Cumulative,
        HistogramMode::Explicit(bounds),
        100,
    );
    let batches = e.encode(&series(), times());
    let metrics = &batches[0].request.resource_metrics[0].scope_metrics[0].metrics;
    let Some(Data::Histogram(h)) = &metrics[1].data else {
        unreachable!()
    };
    let zero = &h.data_points[0];
    assert_eq!(
        (zero.count, zero.sum, zero.min, zero.max),
        (0, Some(0.0), None, None)
    );
    assert_eq!(zero.bucket_counts, [0, 0, 0]);
    assert_eq!(zero.explicit_bounds, [0.005, 0.1]);
    assert_eq!(
        (zero.start_time_unix_nano, zero.time_unix_nano),
        (T0, times().window_start)
    );
}

#[test]
fn delta_pushes_have_no_zero_start() {
    let mut e = encoder(Temporality::Delta, HistogramMode::Exponential, 100);
    let batches = e.encode(&series(), times());
    // counter, trend, gauge with samples in the window; nothing else.
    assert_eq!(batches[0].points, 3);
}
