//! Recorder → Aggregator → Snapshot / Summary, end to end in one process.

use std::sync::Arc;
use std::time::Duration;

use stampede::metrics::{
    Aggregator, HttpSample, MetricId, MetricKind, MetricRegistry, Recorder, RunEnd, SeriesValue,
    Snapshot, TagInterner, TagSet, TagSetId, TrendValue, ValueType, builtin, deserialize_histogram,
    serialize_histogram,
};
use stampede::protocol::http::Timings;

fn tags(pairs: &[(&str, &str)]) -> TagSetId {
    TagInterner::global().intern(TagSet::new(pairs.iter().copied()))
}

fn registry_with(custom: &[(&str, MetricKind, ValueType)]) -> (Arc<MetricRegistry>, Vec<MetricId>) {
    let mut r = MetricRegistry::with_builtins();
    let ids = custom
        .iter()
        .map(|(n, k, v)| r.register(n, *k, *v).unwrap())
        .collect();
    (Arc::new(r), ids)
}

fn trend(v: &SeriesValue) -> &TrendValue {
    match v {
        SeriesValue::Trend(t) => t,
        other => panic!("expected a trend, got {other:?}"),
    }
}

fn counter(v: &SeriesValue) -> f64 {
    match v {
        SeriesValue::Counter { sum } => *sum,
        other => panic!("expected a counter, got {other:?}"),
    }
}

fn ok_sample(tags: TagSetId, duration_us: u64) -> HttpSample {
    HttpSample {
        tags,
        status: 200,
        expected: true,
        error_code: None,
        proto: Some("HTTP/1.1"),
        timings: Timings {
            duration: Duration::from_micros(duration_us),
            waiting: Duration::from_micros(duration_us),
            ..Timings::default()
        },
        bytes_sent: 100,
        bytes_received: 1000,
    }
}

fn point_value(s: &Snapshot, metric: MetricId, tags: TagSetId) -> (&SeriesValue, &SeriesValue) {
    let t = TagInterner::global().resolve(tags);
    let p = s
        .point(metric, &t)
        .unwrap_or_else(|| panic!("no point for metric {metric:?} {t}"));
    (&p.interval, &p.total)
}

#[test]
fn percentiles_come_from_hdr_with_three_significant_digits() {
    let (registry, _) = registry_with(&[]);
    let rec = Recorder::new(registry);
    let mut agg = Aggregator::new(&rec);
    let base = tags(&[("name", "percentiles")]);
    for us in 1..=10_000u64 {
        rec.record_http(&ok_sample(base, us));
    }
    agg.flush();
    let summary = agg.summary(&[], RunEnd::Completed);
    let d = trend(&summary.metric("http_req_duration").unwrap().total);
    assert_eq!(d.count, 10_000);
    assert_eq!(d.min, 0.001);
    assert_eq!(d.max, 10.0);
    assert!((d.avg() - 5.0005).abs() < 1e-9, "avg {}", d.avg());
    let p50 = d.percentile(50.0);
    let p99 = d.percentile(99.0);
    assert!((p50 - 5.0).abs() <= 5.0 * 0.001, "p50 {p50}");
    assert!((p99 - 9.9).abs() <= 9.9 * 0.001, "p99 {p99}");
    assert_eq!(d.med(), p50);
    assert_eq!(d.percentile(100.0), 10.0, "clamped to the exact max");
}

#[test]
fn plain_trends_keep_exact_count_sum_min_max() {
    let (registry, ids) = registry_with(&[("payload_kb", MetricKind::Trend, ValueType::Default)]);
    let rec = Recorder::new(registry);
    let mut agg = Aggregator::new(&rec);
    let t = tags(&[("name", "plain")]);
    for v in 1..=10_000 {
        rec.trend(ids[0], t, v as f64);
    }
    rec.trend(ids[0], t, -5.0); // clamped to 0
    rec.trend(ids[0], t, f64::NAN); // ignored
    agg.flush();
    let summary = agg.summary(&[], RunEnd::Completed);
    let p = trend(&summary.metric("payload_kb").unwrap().total);
    assert_eq!(
        (p.count, p.sum, p.min, p.max),
        (10_001, 50_005_000.0, 0.0, 10_000.0)
    );
    assert!((p.percentile(50.0) - 5000.0).abs() <= 5.0);
    assert!((p.percentile(99.0) - 9900.0).abs() <= 9.9);
}

#[test]
fn concurrent_recording_loses_nothing_while_flushing() {
    const THREADS: usize = 4;
    const PER_THREAD: u64 = 100_000;
    let (registry, ids) = registry_with(&[
        ("work_done", MetricKind::Counter, ValueType::Default),
        ("work_ok", MetricKind::Rate, ValueType::Default),
        ("work_time", MetricKind::Trend, ValueType::Time),
    ]);
    let rec = Recorder::new(registry);
    let mut agg = Aggregator::new(&rec);
    let t = tags(&[("name", "concurrent")]);
    let mut interval_reqs = 0.0;
    let mut interval_work = 0.0;
    let (work_done, work_ok, work_time) = (ids[0], ids[1], ids[2]);
    let mut collect = |s: &Snapshot| {
        for p in &s.series {
            if p.metric == builtin::HTTP_REQS {
                interval_reqs += counter(&p.interval);
            }
            if p.metric == work_done {
                interval_work += counter(&p.interval);
            }
        }
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|w| {
                let rec = rec.clone();
                scope.spawn(move || {
                    for i in 0..PER_THREAD {
                        rec.add(work_done, t, 1.0);
                        rec.rate(work_ok, t, i % 4 != 0);
                        rec.trend(work_time, t, (w as u64 * PER_THREAD + i) as f64 / 1000.0);
                        rec.record_http(&ok_sample(t, i % 5000 + 1));
                    }
                })
            })
            .collect();
        // Flush while the workers record: every sample must land in exactly one interval.
        while !workers.iter().all(|w| w.is_finished()) {
            collect(&agg.flush());
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    collect(&agg.flush());
    let total = (THREADS as u64 * PER_THREAD) as f64;
    assert_eq!(interval_reqs, total);
    assert_eq!(interval_work, total);
    let summary = agg.summary(&[], RunEnd::Completed);
    assert_eq!(counter(&summary.metric("work_done").unwrap().total), total);
    assert_eq!(counter(&summary.metric("http_reqs").unwrap().total), total);
    match summary.metric("work_ok").unwrap().total {
        SeriesValue::Rate { trues, total } => assert_eq!((trues, total), (300_000, 400_000)),
        ref other => panic!("{other:?}"),
    }
    let wt = trend(&summary.metric("work_time").unwrap().total);
    assert_eq!((wt.count, wt.histogram.len()), (400_000, 400_000));
    assert_eq!((wt.min, wt.max), (0.0, 399.999));
    let d = trend(&summary.metric("http_req_duration").unwrap().total);
    assert_eq!((d.count, d.histogram.len()), (400_000, 400_000));
}

#[test]
fn two_flushes_give_interval_and_cumulative_values() {
    let (registry, ids) = registry_with(&[("jobs", MetricKind::Counter, ValueType::Default)]);
    let rec = Recorder::new(registry);
    let mut agg = Aggregator::new(&rec);
    let t = tags(&[("name", "two-flushes")]);
    rec.add(ids[0], t, 3.0);
    for us in [1000, 2000] {
        rec.record_http(&ok_sample(t, us));
    }
    let first = agg.flush();
    rec.add(ids[0], t, 4.0);
    rec.record_http(&ok_sample(t, 4000));
    let second = agg.flush();

    let (i, tot) = point_value(&first, ids[0], t);
    assert_eq!((counter(i), counter(tot)), (3.0, 3.0));
    let (i, tot) = point_value(&second, ids[0], t);
    assert_eq!((counter(i), counter(tot)), (4.0, 7.0));

    let status_tags = tags(&[
        ("name", "two-flushes"),
        ("status", "200"),
        ("expected_response", "true"),
        ("proto", "HTTP/1.1"),
    ]);
    let (i, tot) = point_value(&second, builtin::HTTP_REQ_DURATION, status_tags);
    let (i, tot) = (trend(i), trend(tot));
    assert_eq!((i.count, i.sum, i.min, i.max), (1, 4.0, 4.0, 4.0));
    assert_eq!((tot.count, tot.sum, tot.min, tot.max), (3, 7.0, 1.0, 4.0));
    assert_eq!(i.histogram.len(), 1);
    assert_eq!(tot.histogram.len(), 3);
    // The first snapshot is immutable: later flushes did not touch its histograms.
    let (i1, tot1) = point_value(&first, builtin::HTTP_REQ_DURATION, status_tags);
    assert_eq!(
        (trend(i1).histogram.len(), trend(tot1).histogram.len()),
        (2, 2)
    );

    // A third interval without samples has no points for these series.
    let third = agg.flush();
    assert!(third.series.is_empty(), "{:?}", third.series);
    assert!(third.elapsed >= second.elapsed);
}

#[test]
fn record_http_expands_into_eleven_metrics_with_response_tags() {
    let (registry, _) = registry_with(&[]);
    let rec = Recorder::new(registry);
    let mut agg = Aggregator::new(&rec);
    let base = [
        ("scenario", "login"),
        ("name", "/api/items/{id}"),
        ("method", "GET"),
    ];
    let t = tags(&base);
    rec.record_http(&HttpSample {
        tags: t,
        status: 200,
        expected: true,
        error_code: None,
        proto: Some("HTTP/2.0"),
        timings: Timings {
            blocked: Duration::from_micros(10),
            connecting: Duration::from_micros(20),
            tls_handshaking: Duration::from_micros(30),
            sending: Duration::from_micros(40),
            waiting: Duration::from_micros(50),
            receiving: Duration::from_micros(60),
            duration: Duration::from_micros(150),
        },
        bytes_sent: 120,
        bytes_received: 3400,
    });
    rec.record_http(&HttpSample {
        tags: t,
        status: 0,
        expected: false,
        error_code: Some("timeout"),
        proto: None,
        timings: Timings {
            blocked: Duration::from_millis(1),
            duration: Duration::from_secs(2),
            ..Timings::default()
        },
        bytes_sent: 80,
        bytes_received: 0,
    });
    let snap = agg.flush();
    let ok_tags = TagSet::new(base.iter().copied().chain([
        ("status", "200"),
        ("expected_response", "true"),
        ("proto", "HTTP/2.0"),
    ]));
    let failed_tags = TagSet::new(base.iter().copied().chain([
        ("status", "0"),
        ("expected_response", "false"),
        ("error_code", "timeout"),
    ]));
    let mut expected: Vec<(MetricId, TagSet)> = Vec::new();
    for metric in 0..=10u16 {
        expected.push((MetricId(metric), failed_tags.clone()));
        expected.push((MetricId(metric), ok_tags.clone()));
    }
    expected.sort();
    let got: Vec<(MetricId, TagSet)> = snap
        .series
        .iter()
        .map(|p| (p.metric, p.tags.clone()))
        .collect();
    assert_eq!(got, expected);

    let ok = |m| &snap.point(m, &ok_tags).unwrap().interval;
    let failed = |m| &snap.point(m, &failed_tags).unwrap().interval;
    assert_eq!(counter(ok(builtin::HTTP_REQS)), 1.0);
    assert_eq!(counter(ok(builtin::DATA_SENT)), 120.0);
    assert_eq!(counter(ok(builtin::DATA_RECEIVED)), 3400.0);
    assert_eq!(counter(failed(builtin::DATA_SENT)), 80.0);
    assert_eq!(counter(failed(builtin::DATA_RECEIVED)), 0.0);
    assert!(matches!(
        ok(builtin::HTTP_REQ_FAILED),
        SeriesValue::Rate { trues: 0, total: 1 }
    ));
    assert!(matches!(
        failed(builtin::HTTP_REQ_FAILED),
        SeriesValue::Rate { trues: 1, total: 1 }
    ));
    let phases = [
        (builtin::HTTP_REQ_BLOCKED, 0.010),
        (builtin::HTTP_REQ_CONNECTING, 0.020),
        (builtin::HTTP_REQ_TLS_HANDSHAKING, 0.030),
        (builtin::HTTP_REQ_SENDING, 0.040),
        (builtin::HTTP_REQ_WAITING, 0.050),
        (builtin::HTTP_REQ_RECEIVING, 0.060),
        (builtin::HTTP_REQ_DURATION, 0.150),
    ];
    for (metric, ms) in phases {
        let t = trend(ok(metric));
        assert_eq!((t.count, t.sum), (1, ms), "metric {metric:?}");
        assert_eq!(t.histogram.max(), (ms * 1000.0).round() as u64);
    }
    let d = trend(failed(builtin::HTTP_REQ_DURATION));
    assert_eq!((d.count, d.max), (1, 2000.0));
    let c = trend(failed(builtin::HTTP_REQ_CONNECTING));
    assert_eq!((c.count, c.max, c.histogram.len()), (1, 0.0, 1));
}

#[test]
fn gauges_appear_in_every_interval_and_keep_the_last_value() {
    let (registry, _) = registry_with(&[]);
    let rec = Recorder::new(registry);
    let mut agg = Aggregator::new(&rec);
    let t = tags(&[("scenario", "gauges")]);
    rec.gauge(builtin::VUS, t, 5.0);
    rec.gauge(builtin::VUS, t, 9.0);
    // Set last from another thread: the later set wins across shards.
    std::thread::scope(|s| {
        s.spawn(|| rec.gauge(builtin::VUS, t, 7.0));
    });
    let first = agg.flush();
    let second = agg.flush();
    rec.gauge(builtin::VUS, t, 2.0);
    let third = agg.flush();
    let gauge = |s: &Snapshot| {
        let (i, tot) = point_value(s, builtin::VUS, t);
        match (i, tot) {
            (
                SeriesValue::Gauge { last, min, max },
                SeriesValue::Gauge {
                    last: tl,
                    min: tmin,
                    max: tmax,
                },
            ) => ((*last, *min, *max), (*tl, *tmin, *tmax)),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(gauge(&first), ((7.0, 5.0, 9.0), (7.0, 5.0, 9.0)));
    assert_eq!(gauge(&second), ((7.0, 7.0, 7.0), (7.0, 5.0, 9.0)));
    assert_eq!(gauge(&third), ((2.0, 2.0, 2.0), (2.0, 2.0, 9.0)));
    assert_eq!(second.series.len(), 1);
}

#[test]
fn recorders_in_one_process_do_not_mix_and_bad_samples_are_ignored() {
    let (registry, ids) = registry_with(&[("things", MetricKind::Counter, ValueType::Default)]);
    let a = Recorder::new(registry.clone());
    let b = Recorder::new(registry);
    let mut agg_a = Aggregator::new(&a);
    let mut agg_b = Aggregator::new(&b);
    let t = tags(&[("name", "isolation")]);
    a.add(ids[0], t, 1.0);
    b.add(ids[0], t, 10.0);
    b.add(ids[0], t, 10.0);
    // Wrong kind, unknown metric, non-finite value: ignored without a panic.
    a.trend(ids[0], t, 5.0);
    a.add(MetricId(9999), t, 1.0);
    a.add(ids[0], t, f64::INFINITY);
    let sa = agg_a.flush();
    let sb = agg_b.flush();
    assert_eq!(sa.series.len(), 1);
    assert_eq!(counter(point_value(&sa, ids[0], t).0), 1.0);
    assert_eq!(counter(point_value(&sb, ids[0], t).0), 20.0);
}

#[test]
fn summary_lists_metrics_in_registry_order_with_series_sorted_by_tags() {
    let (registry, ids) =
        registry_with(&[("custom_hits", MetricKind::Counter, ValueType::Default)]);
    let rec = Recorder::new(registry);
    let mut agg = Aggregator::new(&rec);
    let zeta = tags(&[("name", "zeta")]);
    let alpha = tags(&[("name", "alpha")]);
    rec.add(ids[0], zeta, 2.0);
    rec.add(ids[0], alpha, 1.0);
    rec.record_http(&ok_sample(zeta, 3000));
    rec.record_http(&ok_sample(alpha, 1000));
    agg.flush();
    agg.set_duration(Duration::from_secs(30));
    let summary = agg.summary(&[], RunEnd::Interrupted);
    assert_eq!(summary.duration, Duration::from_secs(30));
    assert_eq!(summary.end, RunEnd::Interrupted);
    let names: Vec<&str> = summary.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "http_reqs",
            "http_req_duration",
            "http_req_blocked",
            "http_req_connecting",
            "http_req_tls_handshaking",
            "http_req_sending",
            "http_req_waiting",
            "http_req_receiving",
            "http_req_failed",
            "data_sent",
            "data_received",
            "custom_hits"
        ]
    );
    let custom = summary.metric("custom_hits").unwrap();
    assert_eq!(counter(&custom.total), 3.0);
    let series: Vec<(String, f64)> = custom
        .series
        .iter()
        .map(|(t, v)| (t.to_string(), counter(v)))
        .collect();
    assert_eq!(
        series,
        [
            ("{name:alpha}".to_string(), 1.0),
            ("{name:zeta}".to_string(), 2.0)
        ]
    );
    let d = trend(&summary.metric("http_req_duration").unwrap().total);
    assert_eq!((d.count, d.sum, d.histogram.len()), (2, 4.0, 2));
}

#[test]
fn histograms_round_trip_through_their_text_form() {
    let (registry, _) = registry_with(&[]);
    let rec = Recorder::new(registry);
    let mut agg = Aggregator::new(&rec);
    let t = tags(&[("name", "serialize")]);
    for us in (1..=50_000u64).step_by(7) {
        rec.record_http(&ok_sample(t, us));
    }
    agg.flush();
    let summary = agg.summary(&[], RunEnd::Completed);
    let h = &trend(&summary.metric("http_req_duration").unwrap().total).histogram;
    let text = serialize_histogram(h);
    assert!(
        text.starts_with("HISTFAAA"),
        "V2 deflate cookie in base64: {text:.12}"
    );
    let back = deserialize_histogram(&text).unwrap();
    assert_eq!(&back, h.as_ref());
    assert_eq!(back.value_at_quantile(0.95), h.value_at_quantile(0.95));
    // Summaries from two machines merge exactly.
    let mut merged = back.clone();
    merged.add(deserialize_histogram(&text).unwrap()).unwrap();
    assert_eq!(merged.len(), 2 * h.len());
    assert!(
        deserialize_histogram("not base64!")
            .unwrap_err()
            .contains("base64")
    );
    assert!(deserialize_histogram("AAAA").unwrap_err().contains("HDR"));
}
