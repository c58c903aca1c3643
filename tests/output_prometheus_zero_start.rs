//! Golden tests of the remote-write zero start: every cumulative series
//! (counters, the three rate parts, native histograms) carries one zero
//! sample (an empty native histogram of the same schema) in the push where
//! it first appears, one push before its first value: at the run start for
//! series of the first push, at the previous push's timestamp for series
//! that appear later. Gauges and trend statistics get none.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stampede::metrics::{
    MetricRegistry, SeriesPoint, SeriesValue, Snapshot, TagSet, TrendValue, builtin, new_histogram,
};
use stampede::output::prometheus_rw::RemoteWriteOptions;
use stampede::output::prometheus_rw::encoder::{RemoteWriteEncoder, into_payloads};
use stampede::output::prometheus_rw::proto::{TimeSeries, decode_request, histogram};

/// The first push's time; the first snapshot is 5 s into the run.
const TS: i64 = 1_700_000_000_123;
const RUN_START: i64 = TS - 5000;
const SECOND_PUSH: i64 = TS + 5000;

fn trend(us: u64, n: u64) -> TrendValue {
    let mut h = new_histogram();
    h.record_n(us, n).unwrap();
    TrendValue {
        histogram: Arc::new(h),
        count: n,
        sum: us as f64 / 1000.0 * n as f64,
        min: us as f64 / 1000.0,
        max: us as f64 / 1000.0,
    }
}

fn tags(status: &str) -> TagSet {
    TagSet::new([("name", "credits"), ("method", "GET"), ("status", status)])
}

/// The request series of one status: counter, duration, failure rate.
fn request_series(status: &str, count: u64, failed: u64) -> Vec<SeriesPoint> {
    vec![
        SeriesPoint {
            metric: builtin::HTTP_REQS,
            tags: tags(status),
            interval: SeriesValue::Counter { sum: count as f64 },
            total: SeriesValue::Counter { sum: count as f64 },
        },
        SeriesPoint {
            metric: builtin::HTTP_REQ_DURATION,
            tags: tags(status),
            interval: SeriesValue::Trend(trend(1000, count)),
            total: SeriesValue::Trend(trend(1000, count)),
        },
        SeriesPoint {
            metric: builtin::HTTP_REQ_FAILED,
            tags: tags(status),
            interval: SeriesValue::Rate {
                trues: failed,
                total: count,
            },
            total: SeriesValue::Rate {
                trues: failed,
                total: count,
            },
        },
    ]
}

fn snapshot(at: i64, elapsed_s: u64, series: Vec<SeriesPoint>) -> Snapshot {
    let mut series = series;
    series.push(SeriesPoint {
        metric: builtin::VUS,
        tags: TagSet::new([("instance", "host-a")]),
        interval: SeriesValue::Gauge {
            last: 2.0,
            min: 2.0,
            max: 2.0,
        },
        total: SeriesValue::Gauge {
            last: 2.0,
            min: 2.0,
            max: 2.0,
        },
    });
    Snapshot {
        time: SystemTime::UNIX_EPOCH + Duration::from_millis(at as u64),
        elapsed: Duration::from_secs(elapsed_s),
        interval: Duration::from_secs(1),
        series,
        samples: None,
        thresholds: Vec::new(),
    }
}

/// The series of one push as they arrive: encoded, compressed, decoded.
fn push(encoder: &mut RemoteWriteEncoder, at: i64) -> Vec<TimeSeries> {
    let (payloads, unencodable) = into_payloads(encoder.series_at(at), 10_000);
    assert_eq!((payloads.len(), unencodable), (1, 0));
    decode_request(&payloads[0].body).unwrap().timeseries
}

/// `name{status=...}` of one push: its float samples as (timestamp, value)
/// and its histograms as (timestamp, count, schema, bucket count).
type Seen = (Vec<(i64, f64)>, Vec<(i64, u64, i32, usize)>);

fn seen(series: &[TimeSeries], name: &str, status: Option<&str>) -> Seen {
    let matching: Vec<&TimeSeries> = series
        .iter()
        .filter(|s| {
            s.labels
                .iter()
                .any(|l| l.name == "__name__" && l.value == name)
                && status
                    .is_none_or(|st| s.labels.iter().any(|l| l.name == "status" && l.value == st))
        })
        .collect();
    assert_eq!(matching.len(), 1, "one series {name} {status:?}");
    let s = matching[0];
    (
        s.samples.iter().map(|p| (p.timestamp, p.value)).collect(),
        s.histograms
            .iter()
            .map(|h| {
                let count = match h.count {
                    Some(histogram::Count::CountInt(c)) => c,
                    other => panic!("integer count expected: {other:?}"),
                };
                let buckets = h.positive_spans.iter().map(|sp| sp.length as usize).sum();
                (h.timestamp, count, h.schema, buckets)
            })
            .collect(),
    )
}

fn options(pairs: &[(&str, &str)]) -> RemoteWriteOptions {
    let extra: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    RemoteWriteOptions::parse(&extra, "test").unwrap()
}

fn encoder(pairs: &[(&str, &str)]) -> RemoteWriteEncoder {
    RemoteWriteEncoder::new(
        options(pairs),
        Arc::new(MetricRegistry::with_builtins()),
        "t-1".into(),
    )
}

#[test]
fn series_of_the_first_push_start_from_zero_at_the_run_start() {
    let mut e = encoder(&[("trend_stats", "p(95)")]);
    e.observe(&snapshot(TS, 5, request_series("200", 15, 0)));
    let first = push(&mut e, TS);
    assert_eq!(
        seen(&first, "stampede_http_reqs_total", Some("200")).0,
        [(RUN_START, 0.0), (TS, 15.0)]
    );
    for (name, value) in [
        ("stampede_http_req_failed_total", 0.0),
        ("stampede_http_req_failed_samples_total", 15.0),
        ("stampede_http_req_failed_ratio", 0.0),
    ] {
        assert_eq!(
            seen(&first, name, Some("200")).0,
            [(RUN_START, 0.0), (TS, value)],
            "{name}"
        );
    }
    // An empty histogram of the same schema (default 5), then the real one
    // (1 ms × 15: one bucket).
    assert_eq!(
        seen(&first, "stampede_http_req_duration_seconds", Some("200")).1,
        [(RUN_START, 0, 5, 0), (TS, 15, 5, 1)]
    );
    // Gauges and interval statistics have no zero start.
    assert_eq!(seen(&first, "stampede_vus", None).0, [(TS, 2.0)]);
    assert_eq!(
        seen(
            &first,
            "stampede_http_req_duration_p95_seconds",
            Some("200")
        )
        .0,
        [(TS, 0.001)]
    );

    // The next push: values only, no second zero.
    e.observe(&snapshot(SECOND_PUSH, 10, request_series("200", 15, 0)));
    let second = push(&mut e, SECOND_PUSH);
    assert_eq!(
        seen(&second, "stampede_http_reqs_total", Some("200")).0,
        [(SECOND_PUSH, 15.0)]
    );
    assert_eq!(
        seen(&second, "stampede_http_req_duration_seconds", Some("200")).1,
        [(SECOND_PUSH, 15, 5, 1)]
    );
    let zeros = first
        .iter()
        .chain(&second)
        .map(|s| s.samples.len() + s.histograms.len())
        .sum::<usize>()
        - first.len()
        - second.len();
    // Four float series and one histogram series of status 200.
    assert_eq!(zeros, 5);
}

#[test]
fn a_series_first_seen_later_starts_at_the_previous_push() {
    let mut e = encoder(&[("histogram_schema", "2"), ("trend_stats", "")]);
    e.observe(&snapshot(TS, 5, request_series("200", 15, 0)));
    push(&mut e, TS);
    let mut later = request_series("200", 20, 0);
    later.extend(request_series("500", 3, 3));
    e.observe(&snapshot(SECOND_PUSH, 10, later));
    let second = push(&mut e, SECOND_PUSH);
    assert_eq!(
        seen(&second, "stampede_http_reqs_total", Some("500")).0,
        [(TS, 0.0), (SECOND_PUSH, 3.0)]
    );
    assert_eq!(
        seen(&second, "stampede_http_req_failed_total", Some("500")).0,
        [(TS, 0.0), (SECOND_PUSH, 3.0)]
    );
    assert_eq!(
        seen(&second, "stampede_http_req_duration_seconds", Some("500")).1,
        [(TS, 0, 2, 0), (SECOND_PUSH, 3, 2, 1)]
    );
    // The series that was already there goes on without a zero.
    assert_eq!(
        seen(&second, "stampede_http_reqs_total", Some("200")).0,
        [(SECOND_PUSH, 20.0)]
    );
}

#[test]
fn the_k6_layout_starts_its_counters_and_rates_from_zero_too() {
    let mut e = encoder(&[("naming", "k6"), ("trend_stats", "")]);
    e.observe(&snapshot(TS, 5, request_series("200", 4, 1)));
    let first = push(&mut e, TS);
    assert_eq!(
        seen(&first, "k6_http_reqs_total", Some("200")).0,
        [(RUN_START, 0.0), (TS, 4.0)]
    );
    assert_eq!(
        seen(&first, "k6_http_req_failed_rate", Some("200")).0,
        [(RUN_START, 0.0), (TS, 0.25)]
    );
}
