//! Golden tests of the remote-write encoder: snapshots built by hand are
//! encoded, the snappy+protobuf bodies decoded back, and every series,
//! label, value and native-histogram bucket asserted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stampede::metrics::{
    MetricRegistry, SeriesPoint, SeriesValue, Snapshot, TagSet, TrendValue, builtin, new_histogram,
};
use stampede::output::prometheus_rw::RemoteWriteOptions;
use stampede::output::prometheus_rw::encoder::{RemoteWriteEncoder, into_payloads};
use stampede::output::prometheus_rw::proto::{
    BucketSpan, STALE_NAN_BITS, TimeSeries, decode_request, histogram,
};

const TS: i64 = 1_700_000_000_123;

fn trend(values_us: &[(u64, u64)]) -> TrendValue {
    let mut h = new_histogram();
    let (mut count, mut sum) = (0u64, 0.0f64);
    let (mut min, mut max) = (f64::MAX, 0.0f64);
    for &(us, n) in values_us {
        h.record_n(us, n).unwrap();
        count += n;
        let ms = us as f64 / 1000.0;
        for _ in 0..n {
            sum += ms;
        }
        min = min.min(ms);
        max = max.max(ms);
    }
    TrendValue {
        histogram: Arc::new(h),
        count,
        sum,
        min,
        max,
    }
}

fn request_tags() -> TagSet {
    TagSet::new([
        ("scenario", "browse"),
        ("name", "credits"),
        ("method", "GET"),
        ("status", "200"),
        ("instance", "host-a"),
    ])
}

/// The HDR input of the native-histogram golden: two zeros, exact integer
/// µs values below 2048, and two values HDR keeps as ranges: 0.25 s (in
/// [249984, 250111] µs, median 250048 µs) and 3 s (in [2998272, 3000319] µs,
/// median 2999296 µs).
const DURATIONS: &[(u64, u64)] = &[
    (0, 2),
    (500, 1),
    (1000, 3),
    (1020, 1),
    (1500, 2),
    (1999, 1),
    (250_000, 4),
    (3_000_000, 1),
];

fn snapshot() -> Snapshot {
    let tags = request_tags();
    let interval_durations = trend(&[(1000, 1), (1500, 1), (1999, 1)]);
    Snapshot {
        time: SystemTime::UNIX_EPOCH + Duration::from_millis(TS as u64),
        elapsed: Duration::from_secs(5),
        interval: Duration::from_secs(1),
        series: vec![
            SeriesPoint {
                metric: builtin::HTTP_REQS,
                tags: tags.clone(),
                interval: SeriesValue::Counter { sum: 3.0 },
                total: SeriesValue::Counter { sum: 15.0 },
            },
            SeriesPoint {
                metric: builtin::HTTP_REQ_DURATION,
                tags: tags.clone(),
                interval: SeriesValue::Trend(interval_durations),
                total: SeriesValue::Trend(trend(DURATIONS)),
            },
            SeriesPoint {
                metric: builtin::HTTP_REQ_FAILED,
                tags: tags.clone(),
                interval: SeriesValue::Rate { trues: 1, total: 3 },
                total: SeriesValue::Rate {
                    trues: 2,
                    total: 15,
                },
            },
            SeriesPoint {
                metric: builtin::DATA_RECEIVED,
                tags: tags.clone(),
                interval: SeriesValue::Counter { sum: 300.0 },
                total: SeriesValue::Counter { sum: 1500.0 },
            },
            SeriesPoint {
                metric: builtin::VUS,
                tags: TagSet::new([("instance", "host-a")]),
                interval: SeriesValue::Gauge {
                    last: 5.0,
                    min: 1.0,
                    max: 5.0,
                },
                total: SeriesValue::Gauge {
                    last: 5.0,
                    min: 1.0,
                    max: 5.0,
                },
            },
        ],
        samples: None,
        thresholds: Vec::new(),
    }
}

fn options(pairs: &[(&str, &str)]) -> RemoteWriteOptions {
    let extra: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    RemoteWriteOptions::parse(&extra, "test").unwrap()
}

fn encode(options: RemoteWriteOptions) -> Vec<TimeSeries> {
    let mut encoder = RemoteWriteEncoder::new(
        options,
        Arc::new(MetricRegistry::with_builtins()),
        "t-1".into(),
    );
    encoder.observe(&snapshot());
    let series = encoder.series_at(TS);
    let (payloads, unencodable) = into_payloads(series, 10_000);
    assert_eq!(unencodable, 0);
    assert_eq!(payloads.len(), 1);
    let decoded = decode_request(&payloads[0].body).unwrap().timeseries;
    assert_eq!(payloads[0].points, decoded.len() as u64);
    decoded
}

fn labels(series: &TimeSeries) -> String {
    series
        .labels
        .iter()
        .map(|l| format!("{}={}", l.name, l.value))
        .collect::<Vec<_>>()
        .join(",")
}

fn name(series: &TimeSeries) -> &str {
    &series
        .labels
        .iter()
        .find(|l| l.name == "__name__")
        .unwrap()
        .value
}

const REQUEST_LABELS: &str =
    "instance=host-a,job=stampede,method=GET,name=credits,scenario=browse,status=200,testid=t-1";

#[test]
fn stampede_layout_decodes_to_exact_series_labels_and_values() {
    let series = encode(options(&[("trend_stats", "p(99),avg,count,max")]));
    let got: Vec<(String, String, Option<f64>)> = series
        .iter()
        .map(|s| {
            let without_name: Vec<String> = labels(s)
                .split(',')
                .filter(|l| !l.starts_with("__name__="))
                .map(String::from)
                .collect();
            (
                name(s).to_string(),
                without_name.join(","),
                s.samples.last().map(|x| {
                    assert_eq!(x.timestamp, TS);
                    x.value
                }),
            )
        })
        .collect();
    let req = REQUEST_LABELS.to_string();
    let expected: Vec<(String, String, Option<f64>)> = vec![
        ("stampede_http_reqs_total".into(), req.clone(), Some(15.0)),
        (
            "stampede_http_req_duration_seconds".into(),
            req.clone(),
            None,
        ),
        (
            "stampede_http_req_duration_p99_seconds".into(),
            req.clone(),
            Some(0.001999),
        ),
        (
            "stampede_http_req_duration_avg_seconds".into(),
            req.clone(),
            Some((1.0 + 1.5 + 1.999) / 3.0 / 1000.0),
        ),
        (
            "stampede_http_req_duration_count".into(),
            req.clone(),
            Some(3.0),
        ),
        (
            "stampede_http_req_duration_max_seconds".into(),
            req.clone(),
            Some(0.001999),
        ),
        (
            "stampede_http_req_failed_total".into(),
            req.clone(),
            Some(2.0),
        ),
        (
            "stampede_http_req_failed_samples_total".into(),
            req.clone(),
            Some(15.0),
        ),
        (
            "stampede_http_req_failed_ratio".into(),
            req.clone(),
            Some(2.0 / 15.0),
        ),
        (
            "stampede_data_received_bytes_total".into(),
            req.clone(),
            Some(1500.0),
        ),
        (
            "stampede_vus".into(),
            "instance=host-a,job=stampede,testid=t-1".into(),
            Some(5.0),
        ),
    ];
    assert_eq!(got, expected);
    // Labels are sorted by name, __name__ among them.
    assert_eq!(
        labels(&series[0]),
        "__name__=stampede_http_reqs_total,instance=host-a,job=stampede,method=GET,name=credits,scenario=browse,status=200,testid=t-1"
    );
}

#[test]
fn native_histogram_buckets_spans_and_deltas_are_exact() {
    let series = encode(options(&[]));
    let h = &series
        .iter()
        .find(|s| name(s) == "stampede_http_req_duration_seconds")
        .unwrap()
        .histograms
        .last()
        .unwrap();
    assert_eq!(h.count, Some(histogram::Count::CountInt(15)));
    assert_eq!(h.sum, trend(DURATIONS).sum / 1000.0);
    assert!((h.sum - 4.009519).abs() < 1e-12);
    assert_eq!(h.schema, 5);
    assert_eq!(h.zero_count, Some(histogram::ZeroCount::ZeroCountInt(2)));
    assert_eq!(h.zero_threshold, 2.938_735_877_055_719e-39);
    assert_eq!(h.timestamp, TS);
    // Bucket i holds (2^((i-1)/32), 2^(i/32)] seconds:
    // 500µs → -350, 1000µs → -318, 1020µs → -317, 1500µs → -300,
    // 1999µs → -286; 0.25 s goes by its HDR median 0.250048 s, just above
    // the 2^-2 boundary → -63; 3 s (median 2.999296 s) → 51.
    assert_eq!(
        h.positive_spans,
        vec![
            BucketSpan {
                offset: -350,
                length: 1
            },
            BucketSpan {
                offset: 31,
                length: 2
            },
            BucketSpan {
                offset: 16,
                length: 1
            },
            BucketSpan {
                offset: 13,
                length: 1
            },
            BucketSpan {
                offset: 222,
                length: 1
            },
            BucketSpan {
                offset: 113,
                length: 1
            },
        ]
    );
    // Counts 1, 3, 1, 2, 1, 4, 1 as deltas.
    assert_eq!(h.positive_deltas, vec![1, 2, -2, 1, -1, 3, -3]);
    assert!(h.negative_spans.is_empty() && h.negative_deltas.is_empty());
    let buckets: i64 = {
        let mut running = 0;
        h.positive_deltas
            .iter()
            .map(|d| {
                running += d;
                running
            })
            .sum()
    };
    assert_eq!(
        buckets + 2,
        15,
        "buckets plus zero bucket hold every sample"
    );
}

#[test]
fn coarser_schema_merges_buckets() {
    let series = encode(options(&[("histogram_schema", "0"), ("trend_stats", "")]));
    let h = &series
        .iter()
        .find(|s| name(s) == "stampede_http_req_duration_seconds")
        .unwrap()
        .histograms
        .last()
        .unwrap();
    // Schema 0: (2^(i-1), 2^i]. 500µs → -10; 1000, 1020, 1500µs → -9;
    // 1999µs (above 2^-9 s = 1953.125µs) → -8; 0.250048 s → -1; 2.999296 s → 2.
    assert_eq!(h.schema, 0);
    assert_eq!(
        h.positive_spans,
        vec![
            BucketSpan {
                offset: -10,
                length: 3
            },
            BucketSpan {
                offset: 6,
                length: 1
            },
            BucketSpan {
                offset: 2,
                length: 1
            },
        ]
    );
    // Counts 1, 6, 1, 4, 1.
    assert_eq!(h.positive_deltas, vec![1, 5, -5, 3, -3]);
    assert!(!series.iter().any(|s| name(s).contains("p99")));
}

#[test]
fn k6_layout_uses_k6_names_and_seconds() {
    let series = encode(options(&[
        ("naming", "k6"),
        ("trend_stats", "p(99),p(99.9),med"),
        ("trend_stats_window", "interval"),
    ]));
    let names: Vec<(&str, Option<f64>)> = series
        .iter()
        .map(|s| (name(s), s.samples.last().map(|x| x.value)))
        .collect();
    assert_eq!(
        names,
        vec![
            ("k6_http_reqs_total", Some(15.0)),
            ("k6_http_req_duration_seconds", None),
            ("k6_http_req_duration_p99", Some(0.001999)),
            ("k6_http_req_duration_p999", Some(0.001999)),
            ("k6_http_req_duration_med", Some(0.0015)),
            ("k6_http_req_failed_rate", Some(2.0 / 15.0)),
            ("k6_data_received_total", Some(1500.0)),
            ("k6_vus", Some(5.0)),
        ]
    );
}

#[test]
fn histograms_none_sends_only_statistics() {
    let series = encode(options(&[("histograms", "none")]));
    assert!(series.iter().all(|s| s.histograms.is_empty()));
    assert!(
        series
            .iter()
            .any(|s| name(s) == "stampede_http_req_duration_p99_seconds")
    );
}

#[test]
fn batches_hold_at_most_batch_size_series() {
    let mut encoder = RemoteWriteEncoder::new(
        options(&[]),
        Arc::new(MetricRegistry::with_builtins()),
        "t-1".into(),
    );
    encoder.observe(&snapshot());
    let series = encoder.series_at(TS);
    assert_eq!(series.len(), 8);
    let (payloads, _) = into_payloads(series, 3);
    let sizes: Vec<u64> = payloads.iter().map(|p| p.points).collect();
    assert_eq!(sizes, [3, 3, 2]);
    for p in &payloads {
        assert_eq!(
            decode_request(&p.body).unwrap().timeseries.len() as u64,
            p.points
        );
    }
}

#[test]
fn statistics_cover_the_push_interval_and_counters_stay_cumulative() {
    let mut encoder = RemoteWriteEncoder::new(
        options(&[("trend_stats", "count,max")]),
        Arc::new(MetricRegistry::with_builtins()),
        "t-1".into(),
    );
    // Two snapshots merged into one push: statistics over both intervals.
    encoder.observe(&snapshot());
    let mut second = snapshot();
    second.series[1].interval = SeriesValue::Trend(trend(&[(250_000, 1)]));
    encoder.observe(&second);
    let first = encoder.series_at(TS);
    let value = |series: &[TimeSeries], n: &str| {
        series
            .iter()
            .find(|s| name(s) == n)
            .and_then(|s| s.samples.last())
            .map(|s| s.value)
    };
    assert_eq!(value(&first, "stampede_http_req_duration_count"), Some(4.0));
    assert_eq!(
        value(&first, "stampede_http_req_duration_max_seconds"),
        Some(0.25)
    );
    // A push with no new snapshot: cumulative series again, no statistics.
    let again = encoder.series_at(TS + 5000);
    assert_eq!(value(&again, "stampede_http_reqs_total"), Some(15.0));
    assert_eq!(value(&again, "stampede_http_req_duration_count"), None);
    assert_eq!(again[0].samples[0].timestamp, TS + 5000);
}

#[test]
fn stale_markers_cover_every_series_sent() {
    let mut encoder = RemoteWriteEncoder::new(
        options(&[]),
        Arc::new(MetricRegistry::with_builtins()),
        "t-1".into(),
    );
    encoder.observe(&snapshot());
    let sent = encoder.series_at(TS);
    let markers = encoder.stale_markers(TS + 1);
    assert_eq!(markers.len(), sent.len());
    let mut sent_labels: Vec<String> = sent.iter().map(labels).collect();
    let mut marker_labels: Vec<String> = markers.iter().map(labels).collect();
    sent_labels.sort();
    marker_labels.sort();
    assert_eq!(sent_labels, marker_labels);
    for m in &markers {
        match (m.samples.first(), m.histograms.first()) {
            (Some(s), None) => {
                assert_eq!(s.value.to_bits(), STALE_NAN_BITS);
                assert_eq!(s.timestamp, TS + 1);
            }
            (None, Some(h)) => {
                assert_eq!(h.sum.to_bits(), STALE_NAN_BITS);
                assert_eq!(h.timestamp, TS + 1);
                assert_eq!(name(m), "stampede_http_req_duration_seconds");
            }
            other => panic!("marker without one value: {other:?}"),
        }
    }
}
