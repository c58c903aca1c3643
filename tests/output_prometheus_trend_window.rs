//! Golden tests of `trend_stats_window`: the same three pushes encoded with
//! interval statistics (stampede's default) and cumulative ones (k6's, the
//! default with `naming=k6`), every statistic asserted exactly.
//!
//! Samples are whole microseconds below 2048, which the HDR histograms
//! (3 significant digits) hold exactly, so every percentile is exact.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stampede::metrics::{
    MetricRegistry, SeriesPoint, SeriesValue, Snapshot, TagSet, TrendValue, builtin, new_histogram,
};
use stampede::output::prometheus_rw::encoder::RemoteWriteEncoder;
use stampede::output::prometheus_rw::proto::TimeSeries;
use stampede::output::prometheus_rw::{RemoteWriteOptions, TrendStatsWindow};

const T1: i64 = 1_700_000_005_000;
const T2: i64 = T1 + 5_000;
const T3: i64 = T2 + 5_000;

/// A trend of whole-µs samples (sum, min and max in ms, as recorded).
fn trend(values_us: &[u64]) -> TrendValue {
    let mut h = new_histogram();
    for &us in values_us {
        h.record(us).unwrap();
    }
    let ms: Vec<f64> = values_us.iter().map(|&us| us as f64 / 1000.0).collect();
    TrendValue {
        histogram: Arc::new(h),
        count: values_us.len() as u64,
        sum: ms.iter().sum(),
        min: ms.iter().cloned().fold(f64::MAX, f64::min),
        max: ms.iter().cloned().fold(0.0, f64::max),
    }
}

/// One flush: `interval` is what happened since the previous snapshot,
/// `total` everything since the start.
fn snapshot(at: i64, interval: &[u64], total: &[u64]) -> Snapshot {
    Snapshot {
        time: SystemTime::UNIX_EPOCH + Duration::from_millis(at as u64),
        elapsed: Duration::from_secs(5),
        interval: Duration::from_secs(5),
        series: vec![SeriesPoint {
            metric: builtin::HTTP_REQ_DURATION,
            tags: TagSet::new([("name", "credits"), ("method", "GET"), ("status", "200")]),
            interval: SeriesValue::Trend(trend(interval)),
            total: SeriesValue::Trend(trend(total)),
        }],
        samples: None,
        thresholds: Vec::new(),
    }
}

fn encoder(pairs: &[(&str, &str)]) -> RemoteWriteEncoder {
    let extra: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    RemoteWriteEncoder::new(
        RemoteWriteOptions::parse(&extra, "test").unwrap(),
        Arc::new(MetricRegistry::with_builtins()),
        "t-1".into(),
    )
}

/// `(series name, value)` of every float sample, in the order sent.
fn values(series: &[TimeSeries]) -> Vec<(String, f64)> {
    series
        .iter()
        .filter(|s| !s.samples.is_empty())
        .map(|s| {
            let name = s.labels.iter().find(|l| l.name == "__name__").unwrap();
            (name.value.clone(), s.samples[0].value)
        })
        .collect()
}

/// Push 1 sees 1 ms and 2 ms; push 2 adds 0.5 ms; push 3 has nothing new.
fn three_pushes(encoder: &mut RemoteWriteEncoder) -> [Vec<(String, f64)>; 3] {
    encoder.observe(&snapshot(T1, &[1000, 2000], &[1000, 2000]));
    let first = values(&encoder.series_at(T1));
    encoder.observe(&snapshot(T2, &[500], &[500, 1000, 2000]));
    let second = values(&encoder.series_at(T2));
    let third = values(&encoder.series_at(T3));
    [first, second, third]
}

fn named(prefix: &str, stats: [(&str, f64); 6]) -> Vec<(String, f64)> {
    stats
        .iter()
        .map(|(stat, v)| (format!("{prefix}{stat}"), *v))
        .collect()
}

const STATS: &str = "count,min,max,avg,med,p(99)";

#[test]
fn interval_statistics_cover_each_push_only() {
    let mut e = encoder(&[("trend_stats", STATS), ("histograms", "none")]);
    assert_eq!(e.options().trend_stats_window, TrendStatsWindow::Interval);
    let [first, second, third] = three_pushes(&mut e);
    let s = "stampede_http_req_duration_";
    assert_eq!(
        first,
        vec![
            (format!("{s}count"), 2.0),
            (format!("{s}min_seconds"), 0.001),
            (format!("{s}max_seconds"), 0.002),
            (format!("{s}avg_seconds"), 0.0015),
            (format!("{s}med_seconds"), 0.001),
            (format!("{s}p99_seconds"), 0.002),
        ]
    );
    assert_eq!(
        second,
        vec![
            (format!("{s}count"), 1.0),
            (format!("{s}min_seconds"), 0.0005),
            (format!("{s}max_seconds"), 0.0005),
            (format!("{s}avg_seconds"), 0.0005),
            (format!("{s}med_seconds"), 0.0005),
            (format!("{s}p99_seconds"), 0.0005),
        ]
    );
    // Nothing happened in the third interval: no statistic is sent.
    assert_eq!(third, vec![]);
}

#[test]
fn cumulative_statistics_cover_the_whole_run_at_every_push() {
    let mut e = encoder(&[
        ("trend_stats", STATS),
        ("histograms", "none"),
        ("trend_stats_window", "cumulative"),
    ]);
    let [first, second, third] = three_pushes(&mut e);
    let s = "stampede_http_req_duration_";
    let whole_run = vec![
        (format!("{s}count"), 3.0),
        (format!("{s}min_seconds"), 0.0005),
        (format!("{s}max_seconds"), 0.002),
        (format!("{s}avg_seconds"), 3.5 / 3.0 / 1000.0),
        (format!("{s}med_seconds"), 0.001),
        (format!("{s}p99_seconds"), 0.002),
    ];
    assert_eq!(first[0], (format!("{s}count"), 2.0));
    assert_eq!(first[3], (format!("{s}avg_seconds"), 0.0015));
    assert_eq!(second, whole_run);
    // k6 repeats the whole-run figures at every flush, new samples or not.
    assert_eq!(third, whole_run);
}

#[test]
fn k6_naming_sends_cumulative_statistics_unless_told_otherwise() {
    let mut k6 = encoder(&[
        ("naming", "k6"),
        ("trend_stats", STATS),
        ("histograms", "none"),
    ]);
    let [_, second, third] = three_pushes(&mut k6);
    let whole_run = named(
        "k6_http_req_duration_",
        [
            ("count", 3.0),
            ("min", 0.0005),
            ("max", 0.002),
            ("avg", 3.5 / 3.0 / 1000.0),
            ("med", 0.001),
            ("p99", 0.002),
        ],
    );
    assert_eq!(second, whole_run);
    assert_eq!(third, whole_run);

    let mut k6_interval = encoder(&[
        ("naming", "k6"),
        ("trend_stats", STATS),
        ("histograms", "none"),
        ("trend_stats_window", "interval"),
    ]);
    let [_, second, third] = three_pushes(&mut k6_interval);
    assert_eq!(
        second,
        named(
            "k6_http_req_duration_",
            [
                ("count", 1.0),
                ("min", 0.0005),
                ("max", 0.0005),
                ("avg", 0.0005),
                ("med", 0.0005),
                ("p99", 0.0005),
            ],
        )
    );
    assert_eq!(third, vec![]);
}
