//! Threshold evaluation against the aggregator's cumulative state.

use std::sync::Arc;
use std::time::Duration;

use stampede::metrics::threshold::{Aggregation, parse_expression, parse_selector};
use stampede::metrics::{
    Aggregator, HttpSample, MetricKind, MetricRegistry, Recorder, RunEnd, Summary, TagInterner,
    TagSet, TagSetId, Threshold, ValueType, aggregation_applies, builtin, evaluate_threshold,
};
use stampede::protocol::http::Timings;

fn tags(pairs: &[(&str, &str)]) -> TagSetId {
    TagInterner::global().intern(TagSet::new(pairs.iter().copied()))
}

fn threshold(key: &str, expr: &str) -> Threshold {
    Threshold {
        selector: parse_selector(key).unwrap(),
        expr: parse_expression(expr).unwrap(),
        abort_on_fail: false,
        delay_abort_eval: Duration::ZERO,
    }
}

fn abort(key: &str, expr: &str, delay_s: u64) -> Threshold {
    Threshold {
        abort_on_fail: true,
        delay_abort_eval: Duration::from_secs(delay_s),
        ..threshold(key, expr)
    }
}

fn request(name: &str, ms: u64, status: u16, expected: bool) -> HttpSample {
    HttpSample {
        tags: tags(&[("scenario", "thresholds"), ("name", name)]),
        status,
        expected,
        error_code: None,
        proto: None,
        timings: Timings {
            duration: Duration::from_millis(ms),
            ..Timings::default()
        },
        bytes_sent: 10,
        bytes_received: 20,
    }
}

/// fast: 10, 20, 30 ms; slow: 100 ms and a failed 200 ms; orders: 20 over
/// 10 s; vus: 3 then 8; checks: 3 of 4.
fn recorded() -> (Recorder, Aggregator) {
    let mut registry = MetricRegistry::with_builtins();
    let orders = registry
        .register("orders", MetricKind::Counter, ValueType::Default)
        .unwrap();
    let rec = Recorder::new(Arc::new(registry));
    let mut agg = Aggregator::new(&rec);
    for ms in [10, 20, 30] {
        rec.record_http(&request("fast", ms, 200, true));
    }
    rec.record_http(&request("slow", 100, 200, true));
    rec.record_http(&request("slow", 200, 500, false));
    let t = tags(&[("scenario", "thresholds")]);
    rec.add(orders, t, 5.0);
    rec.add(orders, tags(&[("scenario", "other")]), 15.0);
    rec.gauge(builtin::VUS, t, 3.0);
    rec.gauge(builtin::VUS, t, 8.0);
    for ok in [true, true, false, true] {
        rec.rate(builtin::CHECKS, t, ok);
    }
    agg.flush();
    agg.set_duration(Duration::from_secs(10));
    (rec, agg)
}

fn outcomes(summary: &Summary) -> Vec<(String, Option<f64>, bool)> {
    summary
        .thresholds
        .iter()
        .map(|o| {
            let key = format!(
                "{}: {}",
                o.threshold.selector.source, o.threshold.expr.source
            );
            (key, o.observed, o.passed)
        })
        .collect()
}

#[test]
fn every_aggregation_is_computed_over_matching_series() {
    let (_rec, agg) = recorded();
    let list = [
        threshold("http_req_duration", "avg==72"),
        threshold("http_req_duration", "min==10"),
        threshold("http_req_duration", "max<200"),
        threshold("http_req_duration", "count==5"),
        threshold("http_req_duration{name:slow}", "count==2"),
        threshold("http_req_duration{name:fast}", "avg==20"),
        threshold("http_req_duration{name:fast,status:200}", "max==30"),
        threshold("http_req_duration{expected_response:false}", "min==200"),
        threshold("orders", "count==20"),
        threshold("orders", "rate==2"),
        threshold("orders{scenario:other}", "count>=15"),
        threshold("http_req_failed", "rate<0.1"),
        threshold("http_req_failed{name:fast}", "rate==0"),
        threshold("checks", "rate==0.75"),
        threshold("vus", "value==8"),
        threshold("vus", "min==3"),
        threshold("vus", "max!=8"),
    ];
    let summary = agg.summary(&list, RunEnd::Completed);
    assert_eq!(
        outcomes(&summary),
        [
            ("http_req_duration: avg==72".to_string(), Some(72.0), true),
            ("http_req_duration: min==10".to_string(), Some(10.0), true),
            ("http_req_duration: max<200".to_string(), Some(200.0), false),
            ("http_req_duration: count==5".to_string(), Some(5.0), true),
            (
                "http_req_duration{name:slow}: count==2".to_string(),
                Some(2.0),
                true
            ),
            (
                "http_req_duration{name:fast}: avg==20".to_string(),
                Some(20.0),
                true
            ),
            (
                "http_req_duration{name:fast,status:200}: max==30".to_string(),
                Some(30.0),
                true
            ),
            (
                "http_req_duration{expected_response:false}: min==200".to_string(),
                Some(200.0),
                true
            ),
            ("orders: count==20".to_string(), Some(20.0), true),
            ("orders: rate==2".to_string(), Some(2.0), true),
            (
                "orders{scenario:other}: count>=15".to_string(),
                Some(15.0),
                true
            ),
            ("http_req_failed: rate<0.1".to_string(), Some(0.2), false),
            (
                "http_req_failed{name:fast}: rate==0".to_string(),
                Some(0.0),
                true
            ),
            ("checks: rate==0.75".to_string(), Some(0.75), true),
            ("vus: value==8".to_string(), Some(8.0), true),
            ("vus: min==3".to_string(), Some(3.0), true),
            ("vus: max!=8".to_string(), Some(8.0), false),
        ]
    );
    assert!(!summary.thresholds_passed());
}

#[test]
fn percentiles_and_median_use_merged_histograms() {
    let (_rec, agg) = recorded();
    let list = [
        threshold("http_req_duration", "med<31"),
        threshold("http_req_duration", "p(90)<=200"),
        threshold("http_req_duration{name:fast}", "p(50)<25"),
        threshold("http_req_duration{name:slow}", "p(99)>150"),
    ];
    let summary = agg.summary(&list, RunEnd::Completed);
    let observed: Vec<f64> = summary
        .thresholds
        .iter()
        .map(|o| o.observed.unwrap())
        .collect();
    let expected = [30.0, 200.0, 20.0, 200.0];
    for (o, e) in observed.iter().zip(expected) {
        assert!(
            (o - e).abs() <= e * 0.001,
            "observed {o}, expected {e} ± 0.1%"
        );
    }
    let passed: Vec<bool> = summary.thresholds.iter().map(|o| o.passed).collect();
    assert_eq!(passed, [true, true, true, true]);
}

#[test]
fn no_matching_data_fails_the_threshold() {
    let (_rec, agg) = recorded();
    let list = [
        threshold("http_req_duration{name:missing}", "p(95)<500"),
        threshold("iterations", "count>=0"),
        threshold("not_a_metric", "count>=0"),
        // An aggregation that means nothing for the kind has no value either.
        threshold("http_req_duration", "rate<1"),
        threshold("checks", "count>0"),
    ];
    let summary = agg.summary(&list, RunEnd::Completed);
    for o in &summary.thresholds {
        assert_eq!(
            (o.observed, o.passed),
            (None, false),
            "{:?}",
            o.threshold.selector
        );
    }
}

#[test]
fn evaluate_threshold_works_on_a_summary_alone() {
    let (_rec, agg) = recorded();
    let summary = agg.summary(&[], RunEnd::Completed);
    let t = threshold("orders", "rate>=4");
    let ten_s = evaluate_threshold(&t, &summary.metrics, Duration::from_secs(10));
    assert_eq!((ten_s.observed, ten_s.passed), (Some(2.0), false));
    let five_s = evaluate_threshold(&t, &summary.metrics, Duration::from_secs(5));
    assert_eq!((five_s.observed, five_s.passed), (Some(4.0), true));
    let zero = evaluate_threshold(&t, &summary.metrics, Duration::ZERO);
    assert_eq!((zero.observed, zero.passed), (None, false));
}

#[test]
fn snapshots_carry_every_threshold_judged_on_the_data_so_far() {
    let rec = Recorder::new(Arc::new(MetricRegistry::with_builtins()));
    let mut agg = Aggregator::new(&rec);
    let list = [
        threshold("http_req_failed", "rate<0.5"),
        threshold("http_req_duration{name:missing}", "max<1"),
        threshold("http_req_duration", "p(95)<150"),
    ];
    agg.judge_thresholds(&list);
    let marks = |s: &stampede::metrics::Snapshot| -> Vec<(String, String, bool)> {
        s.thresholds
            .iter()
            .map(|m| (m.metric.clone(), m.threshold.clone(), m.passed))
            .collect()
    };
    // No request yet: nothing to judge, no state.
    assert_eq!(marks(&agg.flush()), Vec::new());
    // One fast success: both judged thresholds pass; the one without data
    // stays out.
    rec.record_http(&request("fast", 10, 200, true));
    let first = agg.flush();
    assert_eq!(
        marks(&first),
        [
            ("http_req_failed".into(), "rate<0.5".into(), true),
            ("http_req_duration".into(), "p(95)<150".into(), true),
        ]
    );
    // Two slow failures: on the cumulative data (3 requests) both now fail.
    rec.record_http(&request("slow", 300, 500, false));
    rec.record_http(&request("slow", 300, 500, false));
    let second = agg.flush();
    assert_eq!(
        marks(&second),
        [
            ("http_req_failed".into(), "rate<0.5".into(), false),
            ("http_req_duration".into(), "p(95)<150".into(), false),
        ]
    );
    // An aggregator not asked to judge thresholds sends none.
    let mut plain = Aggregator::new(&rec);
    rec.record_http(&request("fast", 10, 200, true));
    assert_eq!(marks(&plain.flush()), Vec::new());
}

#[test]
fn abort_thresholds_wait_for_their_delay() {
    let (_rec, agg) = recorded();
    let list = [
        threshold("http_req_failed", "rate<0.1"), // failing, but not abort_on_fail
        abort("http_req_duration{name:missing}", "max<1", 0), // no data yet: not failing
        abort("http_req_duration", "avg<100", 0), // passing
        abort("http_req_failed", "rate<0.1", 30), // failing after 30 s
        abort("checks", "rate>0.9", 60),
    ];
    assert_eq!(
        agg.failing_abort_threshold(&list, Duration::from_secs(29)),
        None
    );
    assert_eq!(
        agg.failing_abort_threshold(&list, Duration::from_secs(30)),
        Some(&list[3])
    );
    assert_eq!(
        agg.failing_abort_threshold(&list[4..], Duration::from_secs(60)),
        Some(&list[4])
    );
    // Counter rates during the run are per second of the time so far.
    let rate = [abort("orders", "rate<3", 0)];
    assert_eq!(
        agg.failing_abort_threshold(&rate, Duration::from_secs(5)),
        Some(&rate[0])
    );
    assert_eq!(
        agg.failing_abort_threshold(&rate, Duration::from_secs(10)),
        None
    );
}

#[test]
fn aggregations_are_checked_against_metric_kinds() {
    assert!(aggregation_applies(
        MetricKind::Trend,
        Aggregation::Percentile(95.0)
    ));
    assert!(aggregation_applies(MetricKind::Counter, Aggregation::Rate));
    assert!(aggregation_applies(MetricKind::Gauge, Aggregation::Value));
    assert!(!aggregation_applies(MetricKind::Rate, Aggregation::Count));
    assert!(!aggregation_applies(MetricKind::Trend, Aggregation::Value));
    assert!(!aggregation_applies(MetricKind::Counter, Aggregation::Avg));
}
