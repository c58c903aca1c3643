//! Time criteria on hand-made timelines: every figure exact.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::judge_time_criteria;
use crate::metrics::threshold::{Threshold, parse_expression, parse_selector};
use crate::metrics::{
    MetricKind, ThresholdOutcome, ThresholdVerdict, TrendValue, display_to_micros,
    evaluate_threshold, new_histogram,
};
use crate::timeline::{
    BreakingCriterion, Bucket, IntervalValue, StageLoad, StageMark, Timeline, TrendInterval,
    find_breaking_points,
};

/// One second: `failed` of `total` requests failed, every duration `ms`.
fn second(at: u64, failed: u64, total: u64, ms: f64) -> Bucket {
    let mut h = new_histogram();
    h.record_n(display_to_micros(ms), total).unwrap();
    let trend = TrendValue {
        histogram: Arc::new(h),
        count: total,
        sum: ms * total as f64,
        min: ms,
        max: ms,
    };
    Bucket {
        start_ms: at * 1000,
        duration_ms: 1000,
        metrics: BTreeMap::from([
            (
                "http_req_failed".into(),
                IntervalValue::Rate {
                    trues: failed,
                    total,
                },
            ),
            (
                "http_reqs".into(),
                IntervalValue::Counter {
                    count: total as f64,
                },
            ),
            (
                "http_req_duration".into(),
                IntervalValue::Trend(TrendInterval::from_value(&trend)),
            ),
        ]),
        endpoints: Vec::new(),
        errors: Vec::new(),
        selections: BTreeMap::new(),
    }
}

fn mark(start: u64, end: u64, from: f64, to: f64) -> StageMark {
    StageMark {
        scenario: "ramp".into(),
        start_ms: start * 1000,
        end_ms: end * 1000,
        label: String::new(),
        load: Some(StageLoad {
            from,
            to,
            unit: "VUs".into(),
        }),
    }
}

/// 20 s in two stages, a ramp 0→20 VUs over 0–10 s then a hold. Errors
/// from second 7 to 12 (stage 1 ends at 10 s: recovery at 13 s, 3 s
/// later); durations 10 ms, 100 ms from second 8, 10 ms again from 15.
fn timeline() -> Timeline {
    let buckets = (0..20)
        .map(|s| {
            let failed = if (7..13).contains(&s) { 10 } else { 0 };
            let ms = if (8..15).contains(&s) { 100.0 } else { 10.0 };
            second(s, failed, 100, ms)
        })
        .collect();
    Timeline {
        bucket_ms: 1000,
        stages: vec![mark(0, 10, 0.0, 20.0), mark(10, 20, 20.0, 20.0)],
        buckets,
    }
}

fn judge(metric: &str, expression: &str) -> ThresholdOutcome {
    judge_on(&timeline(), metric, expression)
}

fn judge_on(timeline: &Timeline, metric: &str, expression: &str) -> ThresholdOutcome {
    let kind = match metric {
        "http_req_failed" => MetricKind::Rate,
        "http_reqs" => MetricKind::Counter,
        _ => MetricKind::Trend,
    };
    let threshold = Threshold {
        selector: parse_selector(metric).unwrap(),
        expr: parse_expression(expression).unwrap(),
        abort_on_fail: false,
        delay_abort_eval: Duration::ZERO,
        kind,
        unselected_scenario: None,
    };
    let mut outcomes = vec![evaluate_threshold(&threshold, &[], Duration::from_secs(20))];
    judge_time_criteria(&mut outcomes, Some(timeline), &[]);
    outcomes.pop().unwrap()
}

fn passed(o: &ThresholdOutcome) -> bool {
    o.verdict == ThresholdVerdict::Passed
}

#[test]
fn sliding_windows_count_every_window_and_report_the_worst() {
    let o = judge("http_req_failed", "rate<0.05 over 4s");
    let d = o.detail.as_ref().unwrap();
    // 17 windows (0–4 s … 16–20 s). Failures in seconds 7–12 are 10 %
    // of each: a window holding one such second is at 2.5 % and passes,
    // two or more (starts 5 to 11) fail.
    assert_eq!((d.windows_judged, d.windows_passed), (Some(17), Some(10)));
    assert!(!passed(&o));
    assert_eq!(o.observed, Some(0.1));
    assert_eq!(d.window, Some((7000, 11000)));
    // 10 of 17 is 59 %: "in 55%" passes, "in 60%" does not.
    assert!(passed(&judge(
        "http_req_failed",
        "rate<0.05 over 4s in 55%"
    )));
    assert!(!passed(&judge(
        "http_req_failed",
        "rate<0.05 over 4s in 60%"
    )));
}

#[test]
fn tumbling_windows_sit_side_by_side() {
    let o = judge("http_req_failed", "rate<0.05 every 5s");
    let d = o.detail.unwrap();
    // 0–5 s passes; 5–10 and 10–15 fail; 15–20 passes.
    assert_eq!((d.windows_judged, d.windows_passed), (Some(4), Some(2)));
}

#[test]
fn a_span_alone_judges_its_time_as_one_window() {
    // Stage 2 (10–20 s): 3 failing seconds of 10, 30 of 1000 requests.
    let o = judge("http_req_failed", "rate<0.05 during stage 2");
    assert_eq!(o.observed, Some(0.03));
    assert!(passed(&o));
    let o = judge("http_reqs", "rate>=100 during ramp stage 1");
    assert_eq!(o.observed, Some(100.0));
    assert!(passed(&o));
}

#[test]
fn change_compares_the_last_window_with_the_first() {
    // Stage 1: first 2 s at 10 ms, last 2 s (8–10 s) at 100 ms.
    let o = judge("http_req_duration", "avg<20");
    assert_eq!(o.detail, None, "whole-run thresholds stay as they were");
    let o = judge(
        "http_req_duration",
        "change(avg)<10% over 2s during stage 1",
    );
    assert_eq!(o.observed, Some(900.0));
    assert!(!passed(&o));
    let o = judge(
        "http_req_duration",
        "change(avg)<=90 over 2s during stage 1",
    );
    assert_eq!(o.observed, Some(90.0));
    assert!(passed(&o));
    // The whole run: 10 ms first and last.
    assert_eq!(
        judge("http_req_duration", "change(avg)<1% over 5s").observed,
        Some(0.0)
    );
    // Too short for two windows: failed, and said why.
    let o = judge(
        "http_req_duration",
        "change(avg)<10% over 6s during stage 1",
    );
    assert!(!passed(&o));
    assert!(
        o.detail
            .unwrap()
            .text
            .contains("too short for two 6 s windows")
    );
}

#[test]
fn recovery_is_the_time_until_the_criterion_holds_for_good() {
    let o = judge("http_req_failed", "recovery(rate<0.05)<=3s after stage 1");
    assert_eq!(o.observed, Some(3.0));
    assert!(passed(&o));
    assert!(!passed(&judge(
        "http_req_failed",
        "recovery(rate<0.05)<3s after stage 1"
    )));
    // Latency: 100 ms until 15 s, 5 s after stage 1.
    let o = judge("http_req_duration", "recovery(p(95)<50)<=5s after stage 1");
    assert_eq!(o.observed, Some(5.0));
    // Over 2 s windows the first all-clean window starts at 15 s too.
    let o = judge(
        "http_req_duration",
        "recovery(p(95)<50)<=5s over 2s after stage 1",
    );
    assert_eq!(o.observed, Some(5.0));
    // Never clean again: not recovered.
    let o = judge("http_req_failed", "recovery(rate<0.001)<=5s after stage 1");
    assert!(o.observed.is_some(), "clean from 13 s: {o:?}");
    let o = judge("http_req_duration", "recovery(p(95)<5)<=5s after stage 1");
    assert_eq!(o.observed, None);
    assert!(!passed(&o));
    assert!(o.detail.unwrap().text.starts_with("not recovered by 20 s"));
}

#[test]
fn recovery_after_a_stage_the_run_never_reached_the_end_of_is_not_judged() {
    // The run stopped at 5 s (an iteration-bound executor finishing early),
    // while stage 1 was planned to 10 s: no window after it, and no
    // "not recovered" with a window that ends before it starts.
    let mut short = timeline();
    short.buckets.truncate(5);
    let o = judge_on(
        &short,
        "http_req_failed",
        "recovery(rate<0.05)<=3s after stage 1",
    );
    assert!(!passed(&o));
    assert_eq!(o.observed, None);
    let detail = o.detail.unwrap();
    assert_eq!(
        detail.text,
        "stage 1 was planned to end at 10 s, after the run ended at 5 s: nothing after it to judge"
    );
    assert_eq!(detail.window, None);
}

#[test]
fn a_ramp_breaks_at_the_planned_load_of_the_first_failing_second() {
    // Errors start in second 7: the ramp plans 14 to 16 VUs then, 15 in
    // its middle.
    let o = judge("http_req_failed", "breaking_point(rate<0.05)>=15");
    assert_eq!(o.observed, Some(15.0));
    assert!(passed(&o));
    assert!(!passed(&judge(
        "http_req_failed",
        "breaking_point(rate<0.05)>15"
    )));
    // Latency from second 8: 17 VUs.
    let o = judge("http_req_duration", "breaking_point(p(95)<50)>=10");
    assert_eq!(o.observed, Some(17.0));
    // Never broken: passes a lower bound, with the highest load reached.
    let o = judge("http_req_failed", "breaking_point(rate<0.5)>=10");
    assert_eq!(o.observed, None);
    assert!(passed(&o));
    assert_eq!(o.detail.unwrap().text, "not reached up to 20 VUs");
    assert!(!passed(&judge(
        "http_req_failed",
        "breaking_point(rate<0.5)<10"
    )));
}

#[test]
fn default_breaking_points_find_the_same_loads() {
    let criteria = vec![BreakingCriterion {
        scenario: "ramp".into(),
        metric: "http_req_failed".into(),
        filter: Vec::new(),
        kind: MetricKind::Rate,
        aggregation: crate::metrics::threshold::Aggregation::Rate,
        condition: crate::metrics::threshold_time::Condition {
            comparison: crate::metrics::threshold::Comparison::Lt,
            value: 0.05,
        },
        source: "rate<0.05".into(),
    }];
    let points = find_breaking_points(&timeline(), &criteria);
    assert_eq!(points.len(), 1);
    let p = &points[0];
    assert_eq!(
        (p.start_ms, p.end_ms, p.observed, p.load, p.max_load),
        (Some(7000), Some(8000), Some(0.1), Some(15.0), 20.0)
    );
    assert_eq!(p.unit, "VUs");
    // Merged instances: the same criteria found again on new buckets.
    let again = crate::timeline::refresh_breaking_points(&points, &timeline());
    assert_eq!(again, points);
}

#[test]
fn without_a_timeline_a_time_criterion_is_not_judged_and_fails() {
    let threshold = Threshold {
        selector: parse_selector("http_req_failed").unwrap(),
        expr: parse_expression("rate<0.05 over 4s").unwrap(),
        abort_on_fail: false,
        delay_abort_eval: Duration::ZERO,
        kind: MetricKind::Rate,
        unselected_scenario: None,
    };
    let mut outcomes = vec![evaluate_threshold(&threshold, &[], Duration::from_secs(1))];
    judge_time_criteria(&mut outcomes, None, &[]);
    assert_eq!(outcomes[0].verdict, ThresholdVerdict::Failed);
    assert_eq!(
        outcomes[0].detail.as_ref().unwrap().text,
        "not judged: the run kept no timeline"
    );
}
