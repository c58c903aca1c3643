//! Judging thresholds with a time clause (`p(95)<500 over 30s`,
//! `change(...)`, `recovery(...)`, `breaking_point(...)`) on the timeline.
//! The whole-run evaluation leaves them failed with "not judged"; this
//! replaces that verdict wherever a timeline exists.

use std::ops::Range;

use super::Timeline;
use super::breaking::{first_break, max_load, planned_load};
use super::windows::{
    Part, SeriesOverTime, buckets_in, buckets_per_window, only_scenario, resolve_span, test_time,
    window_starts,
};
use crate::metrics::threshold::{Comparison, Threshold};
use crate::metrics::threshold_time::{Condition, Span, TimeCriterion, Window};
use crate::metrics::{MetricSummary, ThresholdOutcome, ThresholdVerdict, TimeDetail};
use crate::report::{format_number, format_percent, format_value};

/// Judges every time criterion among `outcomes` on `timeline` (`metrics`
/// give the units for the details). Skipped thresholds stay skipped.
pub fn judge_time_criteria(
    outcomes: &mut [ThresholdOutcome],
    timeline: Option<&Timeline>,
    metrics: &[MetricSummary],
) {
    for outcome in outcomes.iter_mut() {
        let Some(time) = outcome.threshold.expr.time.clone() else {
            continue;
        };
        if outcome.verdict == ThresholdVerdict::Skipped {
            continue;
        }
        let Some(timeline) = timeline else {
            continue;
        };
        let time = time.with_default_scenario(outcome.threshold.selector.scenario());
        let units = Units::of(metrics, &outcome.threshold);
        let judged =
            judge(&outcome.threshold, &time, timeline, units).unwrap_or_else(|why| Judged {
                observed: None,
                passed: false,
                detail: TimeDetail {
                    text: why,
                    ..TimeDetail::default()
                },
            });
        outcome.observed = judged.observed;
        outcome.verdict = if judged.passed {
            ThresholdVerdict::Passed
        } else {
            ThresholdVerdict::Failed
        };
        outcome.detail = Some(judged.detail);
    }
}

struct Judged {
    observed: Option<f64>,
    passed: bool,
    detail: TimeDetail,
}

/// Formats the threshold's statistic in its metric's units: a rate
/// metric's rate as a percentage, a time as ms or s.
#[derive(Clone, Copy)]
struct Units {
    contains: crate::metrics::ValueType,
    percent: bool,
    per_second: bool,
}

impl Units {
    fn of(metrics: &[MetricSummary], t: &Threshold) -> Self {
        Units {
            contains: metrics
                .iter()
                .find(|m| m.name == t.selector.metric)
                .map_or(crate::metrics::ValueType::Default, |m| m.contains),
            percent: t.kind == crate::metrics::MetricKind::Rate,
            per_second: t.kind == crate::metrics::MetricKind::Counter
                && t.expr.aggregation == crate::metrics::threshold::Aggregation::Rate,
        }
    }

    fn show(self, value: f64) -> String {
        if self.percent {
            format_percent(value)
        } else if self.per_second {
            format!("{}/s", format_value(self.contains, value))
        } else {
            format_value(self.contains, value)
        }
    }
}

fn judge(
    t: &Threshold,
    time: &TimeCriterion,
    timeline: &Timeline,
    units: Units,
) -> Result<Judged, String> {
    match time {
        TimeCriterion::Windows {
            window,
            share,
            span,
        } => windows(t, timeline, *window, *share, span.as_ref(), units),
        TimeCriterion::Change {
            window,
            relative,
            span,
        } => change(t, timeline, *window, *relative, span.as_ref(), units),
        TimeCriterion::Recovery {
            condition,
            window,
            after,
        } => recovery(t, timeline, *condition, *window, after),
        TimeCriterion::BreakingPoint {
            condition,
            window,
            span,
        } => breaking_point(t, timeline, *condition, *window, span.as_ref(), units),
    }
}

fn series<'t>(t: &Threshold, timeline: &'t Timeline, part: Part) -> SeriesOverTime<'t> {
    SeriesOverTime::new(
        buckets_in(timeline, part),
        &t.selector.metric,
        &t.selector.filter,
        t.kind,
    )
}

fn span_name(span: Option<&Span>) -> String {
    span.map_or_else(|| "the run".into(), Span::describe)
}

fn between(part: Part) -> String {
    format!("{}–{}", test_time(part.start_ms), test_time(part.end_ms))
}

/// The window width actually used, when whole buckets made it wider.
fn width_note(timeline: &Timeline, width: std::time::Duration, n: usize) -> String {
    let used = n as u64 * timeline.bucket_ms;
    if used == width.as_millis() as u64 {
        String::new()
    } else {
        format!(
            " (windows of {} in {} intervals)",
            test_time(used),
            test_time(timeline.bucket_ms)
        )
    }
}

/// Every window (or the span as one) must pass, or `share` of them.
fn windows(
    t: &Threshold,
    timeline: &Timeline,
    window: Option<Window>,
    share: f64,
    span: Option<&Span>,
    units: Units,
) -> Result<Judged, String> {
    let part = resolve_span(timeline, span)?;
    let series = series(t, timeline, part);
    let len = series.buckets.len();
    let n = window.map_or(len.max(1), |w| buckets_per_window(timeline, w.width));
    let tumbling = window.is_some_and(|w| w.tumbling);
    let judged: Vec<(Range<usize>, f64)> = window_starts(len, n, tumbling)
        .into_iter()
        .filter_map(|r| Some((r.clone(), series.statistic(r, t.expr.aggregation)?)))
        .collect();
    if judged.is_empty() {
        return Err(format!("no samples during {}", span_name(span)));
    }
    let holds = |v: f64| t.expr.comparison.holds(v, t.expr.value);
    let passed = judged.iter().filter(|(_, v)| holds(*v)).count();
    let (worst_range, worst) = worst(&judged, t.expr.comparison, &holds);
    let worst_part = series.span_of(&worst_range);
    let ok = passed as f64 >= share * judged.len() as f64 - 1e-9;
    let text = match window {
        None => format!(
            "{} during {} ({})",
            units.show(worst),
            span_name(span),
            between(worst_part)
        ),
        Some(w) => {
            let needed = if share < 1.0 {
                format!(", {} % needed", format_number(share * 100.0))
            } else {
                String::new()
            };
            format!(
                "worst {} window {}: {}; {} of {} windows passed{}{}",
                test_time(w.width.as_millis() as u64),
                between(worst_part),
                units.show(worst),
                passed,
                judged.len(),
                needed,
                width_note(timeline, w.width, n)
            )
        }
    };
    Ok(Judged {
        observed: Some(worst),
        passed: ok,
        detail: TimeDetail {
            text,
            windows_judged: Some(judged.len() as u64),
            windows_passed: Some(passed as u64),
            window: Some((worst_part.start_ms, worst_part.end_ms)),
            load_unit: None,
        },
    })
}

/// The window furthest on the failing side of the bound: the highest
/// value for `<`, the lowest for `>`, else the first failing one.
fn worst(
    judged: &[(Range<usize>, f64)],
    comparison: Comparison,
    holds: &dyn Fn(f64) -> bool,
) -> (Range<usize>, f64) {
    // The first of equals: the window where it first got that bad.
    let further = |a: f64, b: f64| match comparison {
        Comparison::Lt | Comparison::Le => a > b,
        Comparison::Gt | Comparison::Ge => a < b,
        Comparison::Eq | Comparison::Ne => false,
    };
    let pick = match comparison {
        Comparison::Eq | Comparison::Ne => judged.iter().find(|(_, v)| !holds(*v)),
        _ => judged
            .iter()
            .fold(None, |best: Option<&(Range<usize>, f64)>, w| match best {
                Some(b) if !further(w.1, b.1) => Some(b),
                _ => Some(w),
            }),
    };
    pick.unwrap_or(&judged[0]).clone()
}

/// The last window's statistic against the first's.
fn change(
    t: &Threshold,
    timeline: &Timeline,
    width: std::time::Duration,
    relative: bool,
    span: Option<&Span>,
    units: Units,
) -> Result<Judged, String> {
    let part = resolve_span(timeline, span)?;
    let series = series(t, timeline, part);
    let len = series.buckets.len();
    let n = buckets_per_window(timeline, width);
    if len < 2 * n {
        return Err(format!(
            "{} has {} of test time: too short for two {} windows",
            span_name(span),
            test_time(len as u64 * timeline.bucket_ms),
            test_time(width.as_millis() as u64)
        ));
    }
    let (first_range, last_range) = (0..n, len - n..len);
    let aggregation = t.expr.aggregation;
    let first = series
        .statistic(first_range.clone(), aggregation)
        .ok_or("no samples in the first window")?;
    let last = series
        .statistic(last_range.clone(), aggregation)
        .ok_or("no samples in the last window")?;
    let (first_part, last_part) = (series.span_of(&first_range), series.span_of(&last_range));
    let text = format!(
        "first window {}: {}, last window {}: {}{}",
        between(first_part),
        units.show(first),
        between(last_part),
        units.show(last),
        width_note(timeline, width, n)
    );
    let observed = if !relative {
        Some(last - first)
    } else if first != 0.0 {
        Some((last - first) / first * 100.0)
    } else if last == 0.0 {
        Some(0.0)
    } else {
        None
    };
    let detail = TimeDetail {
        text: match observed {
            Some(v) if relative => format!("{:+.1} %: {text}", v),
            Some(v) => format!(
                "{}{}: {text}",
                if v >= 0.0 { "+" } else { "" },
                units.show(v)
            ),
            None => format!("{text}; a change from 0 has no percentage"),
        },
        windows_judged: Some(2),
        windows_passed: None,
        window: Some((first_part.start_ms, last_part.end_ms)),
        load_unit: None,
    };
    Ok(Judged {
        observed,
        passed: observed.is_some_and(|v| t.expr.comparison.holds(v, t.expr.value)),
        detail,
    })
}

/// Seconds from the end of `after` until the condition holds in every
/// window from there to the end of the next stage (or of the run).
fn recovery(
    t: &Threshold,
    timeline: &Timeline,
    condition: Condition,
    window: Option<std::time::Duration>,
    after: &Span,
) -> Result<Judged, String> {
    let stage = resolve_span(timeline, Some(after))?;
    let scenario = match &after.scenario {
        Some(s) => s.clone(),
        None => only_scenario(timeline)?,
    };
    let next_end = timeline
        .stages
        .iter()
        .filter(|m| m.scenario == scenario && m.start_ms >= stage.end_ms)
        .map(|m| m.end_ms)
        .next();
    let run_end = resolve_span(timeline, None)?.end_ms;
    if stage.end_ms >= run_end {
        // An iteration-bound run can stop before its stage's planned end:
        // nothing comes after the stage to recover in.
        return Err(format!(
            "{} was planned to end at {}, after the run ended at {}: nothing after it to judge",
            after.describe(),
            test_time(stage.end_ms),
            test_time(run_end)
        ));
    }
    let search = Part {
        start_ms: stage.end_ms,
        end_ms: next_end.unwrap_or(run_end),
    };
    let series = series(t, timeline, search);
    let n = window.map_or(1, |w| buckets_per_window(timeline, w));
    let ranges = window_starts(series.buckets.len(), n, false);
    let passes: Vec<bool> = ranges
        .iter()
        .map(|r| {
            series
                .statistic(r.clone(), t.expr.aggregation)
                .is_some_and(|v| condition.comparison.holds(v, condition.value))
        })
        .collect();
    let from = passes.iter().rposition(|p| !p).map_or(0, |i| i + 1);
    if from >= ranges.len() {
        return Ok(Judged {
            observed: None,
            passed: false,
            detail: TimeDetail {
                text: format!(
                    "not recovered by {} ({} ended at {})",
                    test_time(search.end_ms),
                    after.describe(),
                    test_time(stage.end_ms)
                ),
                window: Some((search.start_ms, search.end_ms)),
                ..TimeDetail::default()
            },
        });
    }
    let recovered = series.span_of(&ranges[from]);
    // Bucket edges are flush instants, a few ms off the grid: the figure is
    // rounded to a tenth of a bucket, the precision it has.
    let step = (timeline.bucket_ms / 10).max(1) as f64;
    let ms = recovered.start_ms.saturating_sub(stage.end_ms) as f64;
    let seconds = (ms / step).round() * step / 1000.0;
    Ok(Judged {
        observed: Some(seconds),
        passed: t.expr.comparison.holds(seconds, t.expr.value),
        detail: TimeDetail {
            text: format!(
                "recovered in {} s: {} ended at {}; held from {} to {}",
                format_number(seconds),
                after.describe(),
                test_time(stage.end_ms),
                test_time(recovered.start_ms.max(stage.end_ms)),
                test_time(search.end_ms)
            ),
            window: Some((stage.end_ms, recovered.start_ms.max(stage.end_ms))),
            ..TimeDetail::default()
        },
    })
}

/// The planned load at the first window where the condition failed; a
/// ramp that never broke it counts as an infinite load.
fn breaking_point(
    t: &Threshold,
    timeline: &Timeline,
    condition: Condition,
    window: Option<std::time::Duration>,
    span: Option<&Span>,
    units: Units,
) -> Result<Judged, String> {
    let scenario = match span.and_then(|s| s.scenario.clone()) {
        Some(s) => s,
        None => only_scenario(timeline)?,
    };
    let whole_scenario = Span {
        scenario: Some(scenario.clone()),
        stage: None,
    };
    let part = resolve_span(timeline, Some(span.unwrap_or(&whole_scenario)))?;
    let series = series(t, timeline, part);
    let n = window.map_or(1, |w| buckets_per_window(timeline, w));
    let unit = planned_load(timeline, &scenario, part.start_ms)
        .map(|(_, unit)| unit)
        .unwrap_or_default();
    let found = first_break(
        timeline,
        &scenario,
        part,
        &series,
        t.expr.aggregation,
        condition,
        n,
    );
    let Some(found) = found else {
        return Ok(Judged {
            observed: None,
            passed: t.expr.comparison.holds(f64::INFINITY, t.expr.value),
            detail: TimeDetail {
                text: format!(
                    "not reached up to {} {unit}",
                    format_number(max_load(timeline, &scenario, part))
                ),
                load_unit: Some(unit),
                ..TimeDetail::default()
            },
        });
    };
    Ok(Judged {
        observed: Some(found.load),
        passed: t.expr.comparison.holds(found.load, t.expr.value),
        detail: TimeDetail {
            text: format!(
                "broke at {} {unit} planned: {} in {}",
                format_number(found.load),
                units.show(found.observed),
                between(found.part)
            ),
            window: Some((found.part.start_ms, found.part.end_ms)),
            load_unit: Some(unit),
            ..TimeDetail::default()
        },
    })
}

#[cfg(test)]
#[path = "criteria_tests.rs"]
mod tests;
