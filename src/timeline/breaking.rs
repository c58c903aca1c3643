//! Breaking points: the planned load at which a ramp's error rate or
//! latency first crossed a bound. Every ramping scenario gets them with
//! default bounds, threshold or not (error rate 5 %; the p(N) bound of the
//! file's `http_req_duration` threshold when it has one), and a
//! `breaking_point(...)` threshold finds one for its own condition.

use serde::{Deserialize, Serialize};

use super::Timeline;
use super::windows::{Part, SeriesOverTime, buckets_in, resolve_span};
use crate::metrics::MetricKind;
use crate::metrics::threshold::{
    Aggregation, Comparison, MetricSelector, Threshold, parse_expression, parse_selector,
};
use crate::metrics::threshold_time::{Condition, Span};
use crate::scenario::TestPlan;

/// The error rate a ramp may reach before it counts as broken, by default.
pub const DEFAULT_ERROR_RATE_BOUND: f64 = 0.05;

/// What a breaking point is looked for: a statistic of a series, and the
/// bound it must stay within.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakingCriterion {
    pub scenario: String,
    pub metric: String,
    pub filter: Vec<(String, String)>,
    pub kind: MetricKind,
    pub aggregation: Aggregation,
    pub condition: Condition,
    /// The condition as written, e.g. `rate<0.05`.
    pub source: String,
}

/// One breaking point, as the summary export keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakingPoint {
    pub scenario: String,
    /// The series judged, e.g. `http_req_failed{scenario:ramp}`.
    pub metric: String,
    /// The bound it had to stay within, e.g. `rate<0.05`.
    pub condition: String,
    /// The first interval where it did not, ms of test time; absent when
    /// the ramp never broke it.
    #[serde(default)]
    pub start_ms: Option<u64>,
    #[serde(default)]
    pub end_ms: Option<u64>,
    /// The statistic in that interval.
    #[serde(default)]
    pub observed: Option<f64>,
    /// The planned load in the middle of that interval.
    #[serde(default)]
    pub load: Option<f64>,
    /// The highest planned load of the part judged.
    pub max_load: f64,
    /// `VUs` or `iterations/s`.
    pub unit: String,
}

/// Where a condition first failed over the windows of one part of a
/// scenario's run.
pub struct Break {
    pub part: Part,
    pub observed: f64,
    pub load: f64,
}

/// The first window of `n` buckets (sliding) in `part` whose statistic
/// fails `condition`, with the planned load of `scenario` at its middle.
/// Windows without a value are passed over.
pub fn first_break(
    timeline: &Timeline,
    scenario: &str,
    part: Part,
    series: &SeriesOverTime<'_>,
    aggregation: Aggregation,
    condition: Condition,
    n: usize,
) -> Option<Break> {
    let len = series.buckets.len();
    let ranges = super::windows::window_starts(len, n, false);
    ranges.into_iter().find_map(|range| {
        let observed = series.statistic(range.clone(), aggregation)?;
        if condition.comparison.holds(observed, condition.value) {
            return None;
        }
        let window = series.span_of(&range);
        let clipped = Part {
            start_ms: window.start_ms.max(part.start_ms),
            end_ms: window.end_ms.min(part.end_ms).max(window.start_ms),
        };
        let middle = (clipped.start_ms + clipped.end_ms) / 2;
        Some(Break {
            part: window,
            observed,
            load: planned_load(timeline, scenario, middle)?.0,
        })
    })
}

/// `scenario`'s planned load at `at_ms`, interpolated within its stage,
/// with its unit.
pub fn planned_load(timeline: &Timeline, scenario: &str, at_ms: u64) -> Option<(f64, String)> {
    let marks: Vec<_> = timeline
        .stages
        .iter()
        .filter(|m| m.scenario == scenario)
        .collect();
    let mark = marks.iter().find(|m| at_ms < m.end_ms).or(marks.last())?;
    let load = mark.load.as_ref()?;
    let length = mark.end_ms.saturating_sub(mark.start_ms);
    let into = at_ms.clamp(mark.start_ms, mark.end_ms) - mark.start_ms;
    let share = if length == 0 {
        1.0
    } else {
        into as f64 / length as f64
    };
    Some((load.from + (load.to - load.from) * share, load.unit.clone()))
}

/// The highest planned load of `scenario` within `part`.
pub fn max_load(timeline: &Timeline, scenario: &str, part: Part) -> f64 {
    timeline
        .stages
        .iter()
        .filter(|m| m.scenario == scenario && m.end_ms > part.start_ms && m.start_ms < part.end_ms)
        .filter_map(|m| m.load.as_ref())
        .map(|l| l.from.max(l.to))
        .fold(0.0, f64::max)
}

/// The default breaking-point criteria of `plan`: for every scenario whose
/// planned load changes, its error rate above 5 %, and its latency above
/// the bound of the file's first `p(N)<X` threshold on all of
/// `http_req_duration` (or on this scenario's).
pub fn breaking_point_criteria(plan: &TestPlan) -> Vec<BreakingCriterion> {
    let marks = super::stage_marks(plan);
    let mut out = Vec::new();
    for scenario in &plan.scenarios {
        let loads: Vec<_> = marks
            .iter()
            .filter(|m| m.scenario == scenario.name)
            .filter_map(|m| m.load.as_ref())
            .collect();
        let ramps = loads.iter().any(|l| l.from != l.to || l.to != loads[0].to);
        if !ramps {
            continue;
        }
        let filter = vec![("scenario".to_string(), scenario.name.clone())];
        out.push(BreakingCriterion {
            scenario: scenario.name.clone(),
            metric: "http_req_failed".into(),
            filter: filter.clone(),
            kind: MetricKind::Rate,
            aggregation: Aggregation::Rate,
            condition: Condition {
                comparison: Comparison::Lt,
                value: DEFAULT_ERROR_RATE_BOUND,
            },
            source: format!("rate<{DEFAULT_ERROR_RATE_BOUND}"),
        });
        if let Some(latency) = latency_bound(&plan.thresholds, &scenario.name) {
            out.push(BreakingCriterion {
                scenario: scenario.name.clone(),
                metric: "http_req_duration".into(),
                filter,
                kind: MetricKind::Trend,
                aggregation: latency.expr.aggregation,
                condition: Condition {
                    comparison: latency.expr.comparison,
                    value: latency.expr.value,
                },
                source: latency.expr.source.clone(),
            });
        }
    }
    out
}

/// The first whole-run `p(N)<X` threshold on `http_req_duration`, unfiltered
/// or filtered to `scenario` only.
fn latency_bound<'t>(thresholds: &'t [Threshold], scenario: &str) -> Option<&'t Threshold> {
    thresholds.iter().find(|t| {
        t.selector.metric == "http_req_duration"
            && t.expr.time.is_none()
            && matches!(t.expr.aggregation, Aggregation::Percentile(_))
            && matches!(t.expr.comparison, Comparison::Lt | Comparison::Le)
            && t.selector
                .filter
                .iter()
                .all(|(k, v)| k == "scenario" && v == scenario)
    })
}

/// Every criterion judged on `timeline`, one bucket at a time over the
/// scenario's whole planned run.
pub fn find_breaking_points(
    timeline: &Timeline,
    criteria: &[BreakingCriterion],
) -> Vec<BreakingPoint> {
    criteria
        .iter()
        .filter_map(|c| {
            let span = Span {
                scenario: Some(c.scenario.clone()),
                stage: None,
            };
            let part = resolve_span(timeline, Some(&span)).ok()?;
            let buckets = buckets_in(timeline, part);
            let series = SeriesOverTime::new(buckets, &c.metric, &c.filter, c.kind);
            let found = first_break(
                timeline,
                &c.scenario,
                part,
                &series,
                c.aggregation,
                c.condition,
                1,
            );
            let unit = super::breaking::planned_load(timeline, &c.scenario, part.start_ms)
                .map_or_else(String::new, |(_, unit)| unit);
            Some(BreakingPoint {
                scenario: c.scenario.clone(),
                metric: super::selection_key(&c.metric, &c.filter),
                condition: c.source.clone(),
                start_ms: found.as_ref().map(|b| b.part.start_ms),
                end_ms: found.as_ref().map(|b| b.part.end_ms),
                observed: found.as_ref().map(|b| b.observed),
                load: found.as_ref().map(|b| b.load),
                max_load: max_load(timeline, &c.scenario, part),
                unit,
            })
        })
        .collect()
}

/// The breaking points of `points` found again on `timeline`, for the
/// criteria they name: after the buckets changed (instances merged).
pub fn refresh_breaking_points(
    points: &[BreakingPoint],
    timeline: &Timeline,
) -> Vec<BreakingPoint> {
    let criteria: Vec<BreakingCriterion> = points
        .iter()
        .filter_map(|point| {
            let selector: MetricSelector = parse_selector(&point.metric).ok()?;
            let expr = parse_expression(&point.condition).ok()?;
            // The default criteria judge these two built-ins only.
            let kind = if selector.metric == "http_req_failed" {
                MetricKind::Rate
            } else {
                MetricKind::Trend
            };
            Some(BreakingCriterion {
                scenario: point.scenario.clone(),
                metric: selector.metric,
                filter: selector.filter,
                kind,
                aggregation: expr.aggregation,
                condition: Condition {
                    comparison: expr.comparison,
                    value: expr.value,
                },
                source: point.condition.clone(),
            })
        })
        .collect();
    find_breaking_points(timeline, &criteria)
}
