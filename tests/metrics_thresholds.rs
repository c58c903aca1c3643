//! Threshold evaluation against the aggregator's cumulative state.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use stampede::metrics::threshold::{Aggregation, parse_expression, parse_selector};
use stampede::metrics::{
    Aggregator, HttpSample, MetricKind, MetricRegistry, Recorder, RunEnd, Summary, TagInterner,
    TagSet, TagSetId, Threshold, ThresholdVerdict, ValueType, aggregation_applies, builtin,
    evaluate_threshold,
};
use stampede::output::markers::threshold_marks;
use stampede::protocol::http::Timings;
use stampede::report::{ConsoleOptions, render_console, summary_json};

const PASSED: ThresholdVerdict = ThresholdVerdict::Passed;
const FAILED: ThresholdVerdict = ThresholdVerdict::Failed;
const SKIPPED: ThresholdVerdict = ThresholdVerdict::Skipped;

fn tags(pairs: &[(&str, &str)]) -> TagSetId {
    TagInterner::global().intern(TagSet::new(pairs.iter().copied()))
}

/// A threshold as validation makes it: the metric's kind resolved (`orders`
/// is this file's own counter; a name nothing registers counts as a trend).
fn threshold(key: &str, expr: &str) -> Threshold {
    let selector = parse_selector(key).unwrap();
    let builtins = MetricRegistry::with_builtins();
    let kind = match selector.metric.as_str() {
        "orders" => MetricKind::Counter,
        name => builtins
            .lookup(name)
            .map_or(MetricKind::Trend, |id| builtins.get(id).kind),
    };
    Threshold {
        selector,
        expr: parse_expression(expr).unwrap(),
        abort_on_fail: false,
        delay_abort_eval: Duration::ZERO,
        kind,
        unselected_scenario: None,
    }
}

/// A threshold on a scenario `--scenario` left out.
fn unselected(key: &str, expr: &str, scenario: &str) -> Threshold {
    Threshold {
        unselected_scenario: Some(scenario.to_string()),
        ..threshold(key, expr)
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

fn outcomes(summary: &Summary) -> Vec<(String, Option<f64>, ThresholdVerdict)> {
    summary
        .thresholds
        .iter()
        .map(|o| {
            let key = format!(
                "{}: {}",
                o.threshold.selector.source, o.threshold.expr.source
            );
            (key, o.observed, o.verdict)
        })
        .collect()
}

/// The console summary's THRESHOLDS lines (blank lines dropped) and its
/// threshold verdict line.
fn threshold_lines(summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    render_console(summary, &mut out, &ConsoleOptions { color: false }).unwrap();
    let text = String::from_utf8(out).unwrap();
    let section = text
        .split("  █ ")
        .find_map(|s| s.strip_prefix("THRESHOLDS\n"))
        .unwrap();
    let mut lines: Vec<String> = section
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    lines.extend(
        text.lines()
            .filter(|l| l.contains("thresholds passed") || l.contains("thresholds crossed"))
            .map(str::to_string),
    );
    lines
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
            ("http_req_duration: avg==72".to_string(), Some(72.0), PASSED),
            ("http_req_duration: min==10".to_string(), Some(10.0), PASSED),
            (
                "http_req_duration: max<200".to_string(),
                Some(200.0),
                FAILED
            ),
            ("http_req_duration: count==5".to_string(), Some(5.0), PASSED),
            (
                "http_req_duration{name:slow}: count==2".to_string(),
                Some(2.0),
                PASSED
            ),
            (
                "http_req_duration{name:fast}: avg==20".to_string(),
                Some(20.0),
                PASSED
            ),
            (
                "http_req_duration{name:fast,status:200}: max==30".to_string(),
                Some(30.0),
                PASSED
            ),
            (
                "http_req_duration{expected_response:false}: min==200".to_string(),
                Some(200.0),
                PASSED
            ),
            ("orders: count==20".to_string(), Some(20.0), PASSED),
            ("orders: rate==2".to_string(), Some(2.0), PASSED),
            (
                "orders{scenario:other}: count>=15".to_string(),
                Some(15.0),
                PASSED
            ),
            ("http_req_failed: rate<0.1".to_string(), Some(0.2), FAILED),
            (
                "http_req_failed{name:fast}: rate==0".to_string(),
                Some(0.0),
                PASSED
            ),
            ("checks: rate==0.75".to_string(), Some(0.75), PASSED),
            ("vus: value==8".to_string(), Some(8.0), PASSED),
            ("vus: min==3".to_string(), Some(3.0), PASSED),
            ("vus: max!=8".to_string(), Some(8.0), FAILED),
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
    assert!(summary.thresholds_passed());
}

#[test]
fn trends_rates_and_gauges_without_samples_fail() {
    let (_rec, agg) = recorded();
    let list = [
        threshold("http_req_duration{name:missing}", "p(95)<500"),
        threshold("http_req_failed{name:missing}", "rate<0.01"),
        threshold("checks{scenario:other}", "rate>0.9"),
        threshold("vus{scenario:other}", "value<10"),
        threshold("not_a_metric", "count>=0"),
        // An aggregation that means nothing for the kind has no value either.
        threshold("http_req_duration", "rate<1"),
        threshold("checks", "count>0"),
    ];
    let summary = agg.summary(&list, RunEnd::Completed);
    for o in &summary.thresholds {
        assert_eq!(
            (o.observed, o.verdict),
            (None, FAILED),
            "{:?}",
            o.threshold.selector
        );
    }
    assert_eq!(
        threshold_lines(&summary),
        [
            "    http_req_duration{name:missing}",
            "    ✗ 'p(95)<500' p(95)=(no samples)",
            "    http_req_failed{name:missing}",
            "    ✗ 'rate<0.01' rate=(no samples)",
            "    checks{scenario:other}",
            "    ✗ 'rate>0.9' rate=(no samples)",
            "    vus{scenario:other}",
            "    ✗ 'value<10' value=(no samples)",
            "    not_a_metric",
            "    ✗ 'count>=0' count=(no samples)",
            "    http_req_duration",
            "    ✗ 'rate<1' rate=(no samples)",
            "    checks",
            "    ✗ 'count>0' count=(no samples)",
            "  ✗ 7 of 7 thresholds crossed",
        ]
    );
}

#[test]
fn a_counter_that_never_fired_counted_zero() {
    let (_rec, agg) = recorded();
    let list = [
        // Registered, never recorded: the metric is not in the summary at all.
        threshold("iterations", "count==0"),
        threshold("iterations", "rate<1"),
        // Recorded, but never with these tags.
        threshold("http_reqs{error_code:timeout}", "count==0"),
        threshold("http_reqs{error_code:timeout}", "count>0"),
        threshold("orders{scenario:missing}", "rate==0"),
        threshold("data_sent{name:missing}", "count<1"),
    ];
    let summary = agg.summary(&list, RunEnd::Completed);
    assert_eq!(
        outcomes(&summary),
        [
            ("iterations: count==0".to_string(), Some(0.0), PASSED),
            ("iterations: rate<1".to_string(), Some(0.0), PASSED),
            (
                "http_reqs{error_code:timeout}: count==0".to_string(),
                Some(0.0),
                PASSED
            ),
            (
                "http_reqs{error_code:timeout}: count>0".to_string(),
                Some(0.0),
                FAILED
            ),
            (
                "orders{scenario:missing}: rate==0".to_string(),
                Some(0.0),
                PASSED
            ),
            (
                "data_sent{name:missing}: count<1".to_string(),
                Some(0.0),
                PASSED
            ),
        ]
    );
    assert_eq!(
        threshold_lines(&summary),
        [
            "    iterations",
            "    ✓ 'count==0' count=0",
            "    ✓ 'rate<1' rate=0/s",
            "    http_reqs{error_code:timeout}",
            "    ✓ 'count==0' count=0",
            "    ✗ 'count>0' count=0",
            "    orders{scenario:missing}",
            "    ✓ 'rate==0' rate=0/s",
            "    data_sent{name:missing}",
            "    ✓ 'count<1' count=0 B",
            "  ✗ 1 of 6 thresholds crossed",
        ]
    );
    // The summary JSON writes the same zero, as a k6 sub-metric too.
    let doc = summary_json(&summary);
    assert_eq!(
        doc["thresholds"][2],
        json!({ "metric": "http_reqs{error_code:timeout}", "expression": "count==0",
                "observed": 0, "ok": true, "state": "passed", "abort_on_fail": false })
    );
    assert_eq!(
        doc["metrics"]["http_reqs{error_code:timeout}"],
        json!({ "type": "counter", "contains": "default", "count": 0, "rate": 0,
                "thresholds": { "count==0": { "ok": true }, "count>0": { "ok": false } } })
    );
}

#[test]
fn a_counter_without_samples_is_judged_alike_during_the_run_and_at_its_end() {
    let rec = Recorder::new(Arc::new(MetricRegistry::with_builtins()));
    let mut agg = Aggregator::new(&rec);
    let list = [
        threshold("http_reqs{error_code:timeout}", "count==0"),
        threshold("iterations", "count>0"),
        threshold("http_req_duration", "p(95)<500"),
    ];
    agg.judge_thresholds(&list);
    rec.record_http(&request("fast", 10, 200, true));
    let marks: Vec<(String, bool)> = agg
        .flush()
        .thresholds
        .iter()
        .map(|m| (format!("{}: {}", m.metric, m.threshold), m.passed))
        .collect();
    assert_eq!(
        marks,
        [
            ("http_reqs{error_code:timeout}: count==0".to_string(), true),
            ("iterations: count>0".to_string(), false),
            ("http_req_duration: p(95)<500".to_string(), true),
        ]
    );
    let summary = agg.summary(&list, RunEnd::Completed);
    let end: Vec<(String, bool)> = threshold_marks(&summary)
        .into_iter()
        .map(|m| (format!("{}: {}", m.metric, m.threshold), m.passed))
        .collect();
    assert_eq!(end, marks);
}

#[test]
fn thresholds_on_unselected_scenarios_are_skipped() {
    let (_rec, agg) = recorded();
    let list = [
        threshold("orders{scenario:thresholds}", "count==5"),
        // `other` has samples, yet a skipped threshold is never judged.
        unselected("orders{scenario:other}", "count==0", "other"),
        unselected("http_req_duration{scenario:stress}", "p(95)<1", "stress"),
        Threshold {
            abort_on_fail: true,
            ..unselected("http_req_failed{scenario:stress}", "rate<0.01", "stress")
        },
    ];
    let summary = agg.summary(&list, RunEnd::Completed);
    assert_eq!(
        outcomes(&summary),
        [
            (
                "orders{scenario:thresholds}: count==5".to_string(),
                Some(5.0),
                PASSED
            ),
            (
                "orders{scenario:other}: count==0".to_string(),
                None,
                SKIPPED
            ),
            (
                "http_req_duration{scenario:stress}: p(95)<1".to_string(),
                None,
                SKIPPED
            ),
            (
                "http_req_failed{scenario:stress}: rate<0.01".to_string(),
                None,
                SKIPPED
            ),
        ]
    );
    assert!(summary.thresholds_passed());
    assert_eq!(
        threshold_lines(&summary),
        [
            "    orders{scenario:thresholds}",
            "    ✓ 'count==5' count=5",
            "    orders{scenario:other}",
            "    - 'count==0' skipped: scenario \"other\" not selected",
            "    http_req_duration{scenario:stress}",
            "    - 'p(95)<1' skipped: scenario \"stress\" not selected",
            "    http_req_failed{scenario:stress}",
            "    - 'rate<0.01' skipped: scenario \"stress\" not selected",
            "  ✓ all thresholds passed, 3 skipped",
        ]
    );
    let doc = summary_json(&summary);
    assert_eq!(
        doc["thresholds"][1],
        json!({ "metric": "orders{scenario:other}", "expression": "count==0",
                "observed": null, "ok": true, "state": "skipped",
                "skipped_because": "scenario \"other\" not selected", "abort_on_fail": false })
    );
    // Not judged means no verdict anywhere: no k6 metric entry verdict, no
    // threshold series, no mark during the run, no abort.
    assert_eq!(
        doc["metrics"]["orders{scenario:other}"].get("thresholds"),
        None
    );
    let marks: Vec<String> = threshold_marks(&summary)
        .into_iter()
        .map(|m| m.metric)
        .collect();
    assert_eq!(marks, ["orders{scenario:thresholds}"]);
    assert_eq!(agg.threshold_marks(&list, Duration::from_secs(10)).len(), 1);
    assert_eq!(
        agg.failing_abort_threshold(&list, Duration::from_secs(10)),
        None
    );
}

#[test]
fn evaluate_threshold_works_on_a_summary_alone() {
    let (_rec, agg) = recorded();
    let summary = agg.summary(&[], RunEnd::Completed);
    let t = threshold("orders", "rate>=4");
    let ten_s = evaluate_threshold(&t, &summary.metrics, Duration::from_secs(10));
    assert_eq!((ten_s.observed, ten_s.verdict), (Some(2.0), FAILED));
    let five_s = evaluate_threshold(&t, &summary.metrics, Duration::from_secs(5));
    assert_eq!((five_s.observed, five_s.verdict), (Some(4.0), PASSED));
    let zero = evaluate_threshold(&t, &summary.metrics, Duration::ZERO);
    assert_eq!((zero.observed, zero.verdict), (None, FAILED));
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
