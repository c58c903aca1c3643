//! Hand-built summaries for the report tests. The metrics aggregator is not
//! used: every series and histogram is made here, so expected values are known.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::Histogram;
use stampede::metrics::threshold::{Threshold, parse_expression, parse_selector};
use stampede::metrics::{
    MetricId, MetricKind, MetricSummary, RunEnd, SeriesValue, Summary, TagSet, ThresholdOutcome,
    ThresholdVerdict, TrendValue, ValueType, builtin,
};
use stampede::report::{merge_values, percentile};

pub const CREDITS: &str = "{{BASE_URL}}/api/credits";
pub const LOGIN: &str = "{{BASE_URL}}/api/login";

/// A trend of `values` in display units (ms for time trends), recorded as
/// micro-units the way the recorder does.
pub fn trend(values: &[f64]) -> TrendValue {
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for v in values {
        histogram.record((v * 1000.0).round() as u64).unwrap();
    }
    TrendValue {
        histogram: Arc::new(histogram),
        count: values.len() as u64,
        sum: values.iter().sum(),
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

pub fn tags(pairs: &[(&str, &str)]) -> TagSet {
    TagSet::new(pairs.iter().copied())
}

/// A metric with its series sorted by tags and its total merged from them.
pub fn metric(
    id: MetricId,
    name: &str,
    kind: MetricKind,
    contains: ValueType,
    mut series: Vec<(TagSet, SeriesValue)>,
) -> MetricSummary {
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let total = merge_values(series.iter().map(|(_, v)| v)).expect("series of one kind");
    MetricSummary {
        id,
        name: name.to_string(),
        kind,
        contains,
        total,
        series,
    }
}

pub fn builtin_metric(id: MetricId, series: Vec<(TagSet, SeriesValue)>) -> MetricSummary {
    let (name, kind, contains) = builtin::ALL[id.0 as usize];
    metric(id, name, kind, contains, series)
}

pub fn outcome(
    selector: &str,
    expression: &str,
    observed: Option<f64>,
    passed: bool,
    abort_on_fail: bool,
) -> ThresholdOutcome {
    let selector = parse_selector(selector).unwrap();
    let (_, kind, _) = builtin::ALL
        .iter()
        .find(|(name, _, _)| *name == selector.metric)
        .expect("thresholds of the report tests are on built-in metrics");
    ThresholdOutcome {
        threshold: Threshold {
            selector,
            expr: parse_expression(expression).unwrap(),
            abort_on_fail,
            delay_abort_eval: Duration::ZERO,
            kind: *kind,
            unselected_scenario: None,
        },
        observed,
        verdict: if passed {
            ThresholdVerdict::Passed
        } else {
            ThresholdVerdict::Failed
        },
        detail: None,
    }
}

/// One kind of request in the full run: its tags and its durations in ms.
pub struct RequestGroup {
    pub name: &'static str,
    pub method: &'static str,
    pub status: &'static str,
    pub error_code: Option<&'static str>,
    pub durations: Vec<f64>,
    pub bytes_sent: f64,
    pub bytes_received: f64,
}

impl RequestGroup {
    pub fn failed(&self) -> bool {
        self.error_code.is_some()
    }

    pub fn tags(&self) -> TagSet {
        let expected = if self.failed() { "false" } else { "true" };
        let mut pairs = vec![
            ("name", self.name),
            ("method", self.method),
            ("status", self.status),
            ("expected_response", expected),
            ("scenario", "default"),
        ];
        if let Some(code) = self.error_code {
            pairs.push(("error_code", code));
        }
        tags(&pairs)
    }
}

/// 994 fast credit reads, 6 credit reads failing with 503, 200 logins.
pub fn request_groups() -> Vec<RequestGroup> {
    vec![
        RequestGroup {
            name: CREDITS,
            method: "GET",
            status: "200",
            error_code: None,
            durations: (0..994).map(|i| 1.0 + (i % 100) as f64 * 0.05).collect(),
            bytes_sent: 994.0 * 120.0,
            bytes_received: 994.0 * 412.0,
        },
        RequestGroup {
            name: CREDITS,
            method: "GET",
            status: "503",
            error_code: Some("1503"),
            durations: (0..6).map(|i| 200.0 + i as f64).collect(),
            bytes_sent: 6.0 * 120.0,
            bytes_received: 6.0 * 412.0,
        },
        RequestGroup {
            name: LOGIN,
            method: "POST",
            status: "200",
            error_code: None,
            durations: (0..200).map(|i| 20.0 + (i % 50) as f64 * 0.5).collect(),
            bytes_sent: 200.0 * 300.0,
            bytes_received: 200.0 * 1024.0,
        },
    ]
}

fn endpoint_tags(group: &RequestGroup) -> TagSet {
    tags(&[
        ("name", group.name),
        ("method", group.method),
        ("scenario", "default"),
    ])
}

fn network_series(
    groups: &[RequestGroup],
    bytes: impl Fn(&RequestGroup) -> f64,
) -> Vec<(TagSet, SeriesValue)> {
    let mut series: Vec<(TagSet, SeriesValue)> = Vec::new();
    for g in groups {
        let key = endpoint_tags(g);
        match series.iter_mut().find(|(t, _)| *t == key) {
            Some((_, SeriesValue::Counter { sum })) => *sum += bytes(g),
            _ => series.push((key, SeriesValue::Counter { sum: bytes(g) })),
        }
    }
    series
}

fn check(name: &str, group: &str, passes: u64, fails: u64) -> (TagSet, SeriesValue) {
    (
        tags(&[("check", name), ("group", group), ("scenario", "default")]),
        SeriesValue::Rate {
            trues: passes,
            total: passes + fails,
        },
    )
}

fn custom(
    id: u16,
    name: &str,
    kind: MetricKind,
    contains: ValueType,
    value: SeriesValue,
) -> MetricSummary {
    metric(
        MetricId(id),
        name,
        kind,
        contains,
        vec![(tags(&[("scenario", "default")]), value)],
    )
}

fn value_trend(value: &SeriesValue) -> &TrendValue {
    match value {
        SeriesValue::Trend(t) => t,
        other => panic!("not a trend: {other:?}"),
    }
}

/// A 30 s run with every section: thresholds (one crossed), checks in
/// nested groups, three endpoints, a failed request type and custom metrics.
pub fn full_run() -> Summary {
    let groups = request_groups();
    let per_request = |value: &dyn Fn(&RequestGroup) -> SeriesValue| {
        groups
            .iter()
            .map(|g| (g.tags(), value(g)))
            .collect::<Vec<_>>()
    };
    let http_reqs = builtin_metric(
        builtin::HTTP_REQS,
        per_request(&|g| SeriesValue::Counter {
            sum: g.durations.len() as f64,
        }),
    );
    let duration = builtin_metric(
        builtin::HTTP_REQ_DURATION,
        per_request(&|g| SeriesValue::Trend(trend(&g.durations))),
    );
    let waiting = builtin_metric(
        builtin::HTTP_REQ_WAITING,
        per_request(&|g| {
            let waits: Vec<f64> = g.durations.iter().map(|d| d * 0.75).collect();
            SeriesValue::Trend(trend(&waits))
        }),
    );
    let failed = builtin_metric(
        builtin::HTTP_REQ_FAILED,
        per_request(&|g| {
            let n = g.durations.len() as u64;
            SeriesValue::Rate {
                trues: if g.failed() { n } else { 0 },
                total: n,
            }
        }),
    );
    let data_sent = builtin_metric(
        builtin::DATA_SENT,
        network_series(&groups, |g| g.bytes_sent),
    );
    let data_received = builtin_metric(
        builtin::DATA_RECEIVED,
        network_series(&groups, |g| g.bytes_received),
    );
    let scenario = tags(&[("scenario", "default")]);
    let iterations = builtin_metric(
        builtin::ITERATIONS,
        vec![(scenario.clone(), SeriesValue::Counter { sum: 100.0 })],
    );
    let iteration_values: Vec<f64> = (0..100).map(|i| 250.0 + i as f64).collect();
    let iteration_duration = builtin_metric(
        builtin::ITERATION_DURATION,
        vec![(
            scenario.clone(),
            SeriesValue::Trend(trend(&iteration_values)),
        )],
    );
    let vus = builtin_metric(
        builtin::VUS,
        vec![(
            TagSet::default(),
            SeriesValue::Gauge {
                last: 10.0,
                min: 0.0,
                max: 10.0,
            },
        )],
    );
    let vus_max = builtin_metric(
        builtin::VUS_MAX,
        vec![(
            TagSet::default(),
            SeriesValue::Gauge {
                last: 10.0,
                min: 10.0,
                max: 10.0,
            },
        )],
    );
    let checks = builtin_metric(
        builtin::CHECKS,
        vec![
            check("status is 200", "", 1194, 6),
            check("status is 200", "::login", 200, 0),
            check("has token", "::login", 195, 5),
            check("refreshed", "::login::refresh", 50, 0),
        ],
    );
    let scores: Vec<f64> = (0..40).map(|i| 0.5 + i as f64 * 0.25).collect();
    let first_event: Vec<f64> = (0..50).map(|i| 15.0 + i as f64 * 2.0).collect();
    let metrics = vec![
        http_reqs,
        duration,
        waiting,
        failed,
        data_sent,
        data_received,
        iterations,
        iteration_duration,
        vus,
        vus_max,
        checks,
        custom(
            18,
            "cache_hit",
            MetricKind::Rate,
            ValueType::Default,
            SeriesValue::Rate {
                trues: 80,
                total: 100,
            },
        ),
        custom(
            19,
            "tokens_used",
            MetricKind::Counter,
            ValueType::Default,
            SeriesValue::Counter { sum: 4500.0 },
        ),
        custom(
            20,
            "queue_depth",
            MetricKind::Gauge,
            ValueType::Default,
            SeriesValue::Gauge {
                last: 3.0,
                min: 0.0,
                max: 12.0,
            },
        ),
        custom(
            21,
            "processing_score",
            MetricKind::Trend,
            ValueType::Default,
            SeriesValue::Trend(trend(&scores)),
        ),
        custom(
            22,
            "sse_time_to_first_event",
            MetricKind::Trend,
            ValueType::Time,
            SeriesValue::Trend(trend(&first_event)),
        ),
        custom(
            25,
            "ws_sessions",
            MetricKind::Counter,
            ValueType::Default,
            SeriesValue::Counter { sum: 60.0 },
        ),
        // A custom metric that only looks like a stream metric.
        custom(
            40,
            "ws_custom_retries",
            MetricKind::Counter,
            ValueType::Default,
            SeriesValue::Counter { sum: 2.0 },
        ),
    ];
    let total_duration = value_trend(&metrics[1].total);
    let credits = merge_values(
        metrics[1]
            .series
            .iter()
            .filter(|(t, _)| t.get("name") == Some(CREDITS))
            .map(|(_, v)| v),
    )
    .unwrap();
    let p95 = percentile(total_duration, 95.0);
    let p99 = percentile(total_duration, 99.0);
    let credits_p95 = percentile(value_trend(&credits), 95.0);
    let thresholds = vec![
        outcome("http_req_duration", "p(95)<500", Some(p95), true, false),
        outcome("http_req_duration", "p(99)<20", Some(p99), false, false),
        outcome(
            &format!("http_req_duration{{name:{CREDITS}}}"),
            "p(95)<300",
            Some(credits_p95),
            true,
            false,
        ),
        outcome("http_req_failed", "rate<0.01", Some(0.005), true, true),
        outcome("checks", "rate>0.99", Some(1639.0 / 1650.0), true, false),
    ];
    Summary {
        started_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        duration: Duration::from_secs(30),
        metrics,
        thresholds,
        end: RunEnd::Completed,
        generator: None,
        breaking_points: Vec::new(),
    }
}

/// An interrupted 10 s run with bare tags: no thresholds, no checks, no
/// `http_req_failed` and no network metrics.
pub fn minimal_run() -> Summary {
    let series = |status: &str, values: &[f64]| {
        (
            tags(&[
                ("name", "http://127.0.0.1/health"),
                ("method", "GET"),
                ("status", status),
            ]),
            values.to_vec(),
        )
    };
    let requests = [series("200", &[0.4, 0.5, 0.6, 0.8]), series("204", &[1.2])];
    let http_reqs = builtin_metric(
        builtin::HTTP_REQS,
        requests
            .iter()
            .map(|(t, v)| {
                (
                    t.clone(),
                    SeriesValue::Counter {
                        sum: v.len() as f64,
                    },
                )
            })
            .collect(),
    );
    let duration = builtin_metric(
        builtin::HTTP_REQ_DURATION,
        requests
            .iter()
            .map(|(t, v)| (t.clone(), SeriesValue::Trend(trend(v))))
            .collect(),
    );
    let vus = builtin_metric(
        builtin::VUS,
        vec![(
            TagSet::default(),
            SeriesValue::Gauge {
                last: 1.0,
                min: 1.0,
                max: 1.0,
            },
        )],
    );
    Summary {
        started_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        duration: Duration::from_secs(10),
        metrics: vec![http_reqs, duration, vus],
        thresholds: Vec::new(),
        end: RunEnd::Interrupted,
        generator: None,
        breaking_points: Vec::new(),
    }
}
