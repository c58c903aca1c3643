//! Golden tests of the scrape endpoint's encodings: a state built from a
//! hand-made snapshot is encoded as protobuf (decoded back and compared
//! family by family, and checked byte by byte against the upstream field
//! numbers) and as text (compared as a whole).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stampede::metrics::{
    MetricRegistry, SeriesPoint, SeriesValue, Snapshot, TagSet, TrendValue, builtin, new_histogram,
};
use stampede::output::markers::ThresholdMark;
use stampede::output::scrape::proto::{
    BucketSpan, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
    decode_delimited, encode_delimited,
};
use stampede::output::scrape::text::encode_text;
use stampede::output::scrape::{Exposition, RunOutcome, ScrapeState};

/// Snapshot time: 2023-11-14T22:13:20.123Z, 5 s into the run.
const TS_MS: u64 = 1_700_000_000_123;
const END_SECONDS: f64 = 1_700_000_001.5;

fn trend(values_us: &[(u64, u64)]) -> TrendValue {
    let mut h = new_histogram();
    let (mut count, mut sum) = (0u64, 0.0f64);
    let (mut min, mut max) = (f64::MAX, 0.0f64);
    for &(us, n) in values_us {
        h.record_n(us, n).unwrap();
        count += n;
        sum += us as f64 / 1000.0 * n as f64;
        min = min.min(us as f64 / 1000.0);
        max = max.max(us as f64 / 1000.0);
    }
    TrendValue {
        histogram: Arc::new(h),
        count,
        sum,
        min,
        max,
    }
}

/// A zero, three 1 ms, two 1.5 ms and one 250 ms duration (HDR keeps the
/// 250 ms as a range whose top is 250.111 ms; percentiles are clamped to
/// the exact maximum).
const DURATIONS: &[(u64, u64)] = &[(0, 1), (1000, 3), (1500, 2), (250_000, 1)];

fn request_tags(status: &str) -> TagSet {
    TagSet::new([
        ("scenario", "browse"),
        ("name", "credits"),
        ("method", "GET"),
        ("status", status),
        ("instance", "host-a"),
    ])
}

fn point(metric: stampede::metrics::MetricId, tags: TagSet, total: SeriesValue) -> SeriesPoint {
    SeriesPoint {
        metric,
        tags,
        interval: total.clone(),
        total,
    }
}

fn snapshot() -> Snapshot {
    Snapshot {
        time: SystemTime::UNIX_EPOCH + Duration::from_millis(TS_MS),
        elapsed: Duration::from_secs(5),
        interval: Duration::from_secs(1),
        series: vec![
            point(
                builtin::HTTP_REQS,
                request_tags("200"),
                SeriesValue::Counter { sum: 6.0 },
            ),
            point(
                builtin::HTTP_REQS,
                request_tags("500"),
                SeriesValue::Counter { sum: 1.0 },
            ),
            point(
                builtin::HTTP_REQ_DURATION,
                request_tags("200"),
                SeriesValue::Trend(trend(DURATIONS)),
            ),
            point(
                builtin::HTTP_REQ_FAILED,
                request_tags("500"),
                SeriesValue::Rate { trues: 1, total: 4 },
            ),
            point(
                builtin::VUS,
                TagSet::new([("instance", "host-a")]),
                SeriesValue::Gauge {
                    last: 5.0,
                    min: 1.0,
                    max: 5.0,
                },
            ),
        ],
        samples: None,
        thresholds: Vec::new(),
    }
}

fn state(with_outcome: bool) -> ScrapeState {
    let mut state = ScrapeState::new(Arc::new(MetricRegistry::with_builtins()), "t-1".into());
    let snapshot = snapshot();
    state.markers.observe(&snapshot);
    for p in &snapshot.series {
        state.set(p.metric, &p.tags, &p.total);
    }
    if with_outcome {
        state.outcome = Some(RunOutcome {
            end_seconds: END_SECONDS,
            thresholds: vec![
                ThresholdMark {
                    metric: "http_req_duration{name:credits}".into(),
                    threshold: "p(95)<500".into(),
                    passed: true,
                },
                ThresholdMark {
                    metric: "http_req_failed".into(),
                    threshold: "rate<0.01".into(),
                    passed: false,
                },
            ],
        });
    }
    state
}

fn labels(pairs: &[(&str, &str)]) -> Vec<LabelPair> {
    pairs
        .iter()
        .map(|(n, v)| LabelPair {
            name: n.to_string(),
            value: v.to_string(),
        })
        .collect()
}

fn request_labels(status: &str) -> Vec<LabelPair> {
    labels(&[
        ("instance", "host-a"),
        ("method", "GET"),
        ("name", "credits"),
        ("scenario", "browse"),
        ("status", status),
        ("testid", "t-1"),
    ])
}

fn family(name: &str, kind: MetricType, metric: Vec<Metric>) -> MetricFamily {
    MetricFamily {
        name: name.into(),
        help: String::new(),
        r#type: kind as i32,
        metric,
    }
}

fn counter(labels: Vec<LabelPair>, value: f64) -> Metric {
    Metric {
        label: labels,
        counter: Some(Counter { value }),
        ..Default::default()
    }
}

fn gauge(labels: Vec<LabelPair>, value: f64) -> Metric {
    Metric {
        label: labels,
        gauge: Some(Gauge { value }),
        ..Default::default()
    }
}

fn run_labels(extra: &[(&str, &str)]) -> Vec<LabelPair> {
    let mut pairs = vec![("instance", "host-a"), ("testid", "t-1")];
    pairs.extend_from_slice(extra);
    pairs.sort();
    labels(&pairs)
}

#[test]
fn protobuf_families_decode_to_the_remote_write_layout_with_native_histograms() {
    let body = encode_delimited(&state(true).families(Exposition::Protobuf));
    let decoded = decode_delimited(&body).expect("delimited MetricFamily messages");
    // Schema 5: bucket i holds (2^((i-1)/32), 2^(i/32)] seconds. 1 ms → -318,
    // 1.5 ms → -300, 250 ms (HDR median 0.250048 s) → -63; the 0 goes to the
    // zero bucket.
    let histogram = Histogram {
        sample_count: 7,
        sample_sum: 0.256,
        schema: 5,
        zero_threshold: 2.938_735_877_055_719e-39,
        zero_count: 1,
        positive_span: vec![
            BucketSpan {
                offset: -318,
                length: 1,
            },
            BucketSpan {
                offset: 17,
                length: 1,
            },
            BucketSpan {
                offset: 236,
                length: 1,
            },
        ],
        positive_delta: vec![3, -1, -1],
    };
    let start = 1_699_999_995.0 + 0.123;
    let expected = vec![
        family(
            "stampede_http_req_duration_seconds",
            MetricType::Histogram,
            vec![Metric {
                label: request_labels("200"),
                histogram: Some(histogram),
                ..Default::default()
            }],
        ),
        family(
            "stampede_http_req_failed_ratio",
            MetricType::Gauge,
            vec![gauge(request_labels("500"), 0.25)],
        ),
        family(
            "stampede_http_req_failed_samples_total",
            MetricType::Counter,
            vec![counter(request_labels("500"), 4.0)],
        ),
        family(
            "stampede_http_req_failed_total",
            MetricType::Counter,
            vec![counter(request_labels("500"), 1.0)],
        ),
        family(
            "stampede_http_reqs_total",
            MetricType::Counter,
            vec![
                counter(request_labels("200"), 6.0),
                counter(request_labels("500"), 1.0),
            ],
        ),
        family(
            "stampede_test_end_timestamp_seconds",
            MetricType::Gauge,
            vec![gauge(run_labels(&[]), END_SECONDS)],
        ),
        family(
            "stampede_test_start_timestamp_seconds",
            MetricType::Gauge,
            vec![gauge(run_labels(&[]), start)],
        ),
        family(
            "stampede_threshold_passed",
            MetricType::Gauge,
            vec![
                gauge(
                    run_labels(&[
                        ("metric", "http_req_duration{name:credits}"),
                        ("threshold", "p(95)<500"),
                    ]),
                    1.0,
                ),
                gauge(
                    run_labels(&[("metric", "http_req_failed"), ("threshold", "rate<0.01")]),
                    0.0,
                ),
            ],
        ),
        family(
            "stampede_vus",
            MetricType::Gauge,
            vec![gauge(run_labels(&[]), 5.0)],
        ),
    ];
    let names: Vec<&str> = decoded.iter().map(|f| f.name.as_str()).collect();
    let expected_names: Vec<&str> = expected.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, expected_names);
    for (got, want) in decoded.iter().zip(&expected) {
        assert_eq!(got, want, "family {}", want.name);
    }
}

#[test]
fn end_markers_appear_only_once_the_run_ended() {
    let names: Vec<String> = state(false)
        .families(Exposition::Protobuf)
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert!(names.contains(&"stampede_test_start_timestamp_seconds".to_string()));
    assert!(!names.contains(&"stampede_test_end_timestamp_seconds".to_string()));
    assert!(!names.contains(&"stampede_threshold_passed".to_string()));
    assert_eq!(names.len(), 7, "{names:?}");
}

/// The bytes, written out from the upstream field numbers
/// (`io/prometheus/client/metrics.proto`), so a wrong tag in the prost
/// structs cannot pass by decoding with the same structs.
#[test]
fn protobuf_bytes_follow_the_upstream_field_numbers() {
    let vus = family(
        "stampede_vus",
        MetricType::Gauge,
        vec![gauge(labels(&[("testid", "t-1")]), 5.0)],
    );
    #[rustfmt::skip]
    let expected: Vec<u8> = vec![
        0x2c, // message length 44
        0x0a, 0x0c, b's', b't', b'a', b'm', b'p', b'e', b'd', b'e', b'_', b'v', b'u', b's', // 1 name
        0x18, 0x01, // 3 type = GAUGE
        0x22, 0x1a, // 4 metric, 26 bytes
        0x0a, 0x0d, // Metric.1 label, 13 bytes
        0x0a, 0x06, b't', b'e', b's', b't', b'i', b'd', // LabelPair.1 name
        0x12, 0x03, b't', b'-', b'1', // LabelPair.2 value
        0x12, 0x09, // Metric.2 gauge, 9 bytes
        0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x40, // Gauge.1 value 5.0
    ];
    assert_eq!(encode_delimited(&[vus]), expected);

    // One 1 ms sample: schema 5, bucket -318 (zigzag 635).
    let native = state_with_one_millisecond();
    #[rustfmt::skip]
    let expected_histogram: Vec<u8> = vec![
        0x08, 0x01, // 1 sample_count 1
        0x11, 0xfc, 0xa9, 0xf1, 0xd2, 0x4d, 0x62, 0x50, 0x3f, // 2 sample_sum 0.001
        0x28, 0x0a, // 5 schema 5 (sint32, zigzag 10)
        0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x37, // 6 zero_threshold 2^-128
        0x62, 0x05, 0x08, 0xfb, 0x04, 0x10, 0x01, // 12 positive_span {offset -318, length 1}
        0x6a, 0x01, 0x02, // 13 positive_delta [1], packed sint64
    ];
    assert_eq!(prost::Message::encode_to_vec(&native), expected_histogram);
}

fn state_with_one_millisecond() -> Histogram {
    let mut state = ScrapeState::new(Arc::new(MetricRegistry::with_builtins()), "t-1".into());
    state.set(
        builtin::HTTP_REQ_DURATION,
        &TagSet::new([("name", "x")]),
        &SeriesValue::Trend(trend(&[(1000, 1)])),
    );
    let families = state.families(Exposition::Protobuf);
    families[0].metric[0]
        .histogram
        .clone()
        .expect("a histogram")
}

#[test]
fn text_format_has_summaries_under_their_own_name() {
    let text = encode_text(&state(true).families(Exposition::Text));
    let req200 = "instance=\"host-a\",method=\"GET\",name=\"credits\",scenario=\"browse\",status=\"200\",testid=\"t-1\"";
    let req500 = req200.replace("\"200\"", "\"500\"");
    let run = "instance=\"host-a\",testid=\"t-1\"";
    let expected = format!(
        "# TYPE stampede_http_req_duration_summary_seconds summary
stampede_http_req_duration_summary_seconds{{{req200},quantile=\"0.5\"}} 0.001
stampede_http_req_duration_summary_seconds{{{req200},quantile=\"0.9\"}} 0.25
stampede_http_req_duration_summary_seconds{{{req200},quantile=\"0.95\"}} 0.25
stampede_http_req_duration_summary_seconds{{{req200},quantile=\"0.99\"}} 0.25
stampede_http_req_duration_summary_seconds_sum{{{req200}}} 0.256
stampede_http_req_duration_summary_seconds_count{{{req200}}} 7
# TYPE stampede_http_req_failed_ratio gauge
stampede_http_req_failed_ratio{{{req500}}} 0.25
# TYPE stampede_http_req_failed_samples_total counter
stampede_http_req_failed_samples_total{{{req500}}} 4
# TYPE stampede_http_req_failed_total counter
stampede_http_req_failed_total{{{req500}}} 1
# TYPE stampede_http_reqs_total counter
stampede_http_reqs_total{{{req200}}} 6
stampede_http_reqs_total{{{req500}}} 1
# TYPE stampede_test_end_timestamp_seconds gauge
stampede_test_end_timestamp_seconds{{{run}}} 1700000001.5
# TYPE stampede_test_start_timestamp_seconds gauge
stampede_test_start_timestamp_seconds{{{run}}} 1699999995.123
# TYPE stampede_threshold_passed gauge
stampede_threshold_passed{{instance=\"host-a\",metric=\"http_req_duration{{name:credits}}\",testid=\"t-1\",threshold=\"p(95)<500\"}} 1
stampede_threshold_passed{{instance=\"host-a\",metric=\"http_req_failed\",testid=\"t-1\",threshold=\"rate<0.01\"}} 0
# TYPE stampede_vus gauge
stampede_vus{{{run}}} 5
"
    );
    assert_eq!(text, expected);
    assert!(
        !text.contains("stampede_http_req_duration_seconds"),
        "the histogram's name is left to protobuf scrapers"
    );
}

/// (name, labels as `k=v` joined, value or histogram) of one series.
type Flat = (String, String, Result<f64, Histogram>);

fn join(labels: impl Iterator<Item = (String, String)>) -> String {
    labels
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The endpoint serves exactly the series remote-write sends (without
/// trend statistics, which are per push interval and not served, and
/// without `job`, which the scraper sets): same names, labels, values and
/// native histograms. That is what lets the dashboards, tested against
/// remote-write, read a scraped run.
#[test]
fn protobuf_series_equal_the_remote_write_series() {
    use stampede::output::prometheus_rw::RemoteWriteEncoder;
    use stampede::output::prometheus_rw::RemoteWriteOptions;

    let without_stats =
        std::collections::BTreeMap::from([("trend_stats".to_string(), String::new())]);
    let options = RemoteWriteOptions::parse(&without_stats, "test").unwrap();
    let registry = Arc::new(MetricRegistry::with_builtins());
    let mut encoder = RemoteWriteEncoder::new(options, registry, "t-1".into());
    // The snapshot the state was built from.
    encoder.observe(&snapshot());
    let families = state(false).families(Exposition::Protobuf);
    let mut pushed: Vec<Flat> = encoder
        .series_at(1)
        .into_iter()
        .map(|s| {
            let name = s
                .labels
                .iter()
                .find(|l| l.name == "__name__")
                .unwrap()
                .value
                .clone();
            let labels = join(
                s.labels
                    .iter()
                    .filter(|l| l.name != "__name__" && l.name != "job")
                    .map(|l| (l.name.clone(), l.value.clone())),
            );
            // The latest value: a series' first push also carries its zero
            // start before it (the endpoint serves current values only).
            let value = match s.histograms.last() {
                Some(h) => Err(Histogram::from_remote_write(h)),
                None => Ok(s.samples.last().expect("a sample").value),
            };
            (name, labels, value)
        })
        .collect();
    let mut served: Vec<Flat> = families
        .iter()
        .filter(|f| !f.name.starts_with("stampede_test_"))
        .flat_map(|f| {
            f.metric.iter().map(|m| {
                let labels = join(m.label.iter().map(|l| (l.name.clone(), l.value.clone())));
                let value = match (&m.counter, &m.gauge, &m.histogram) {
                    (Some(c), _, _) => Ok(c.value),
                    (_, Some(g), _) => Ok(g.value),
                    (_, _, Some(h)) => Err(h.clone()),
                    _ => panic!("a value in {m:?}"),
                };
                (f.name.clone(), labels, value)
            })
        })
        .collect();
    pushed.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    served.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(served.len(), 7, "{served:?}");
    assert_eq!(served, pushed);
}
