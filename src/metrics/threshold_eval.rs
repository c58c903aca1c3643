//! Judging thresholds against cumulative values, as k6 does: the statistic
//! is computed over every series of the metric whose tags match the
//! threshold's filter, merged (histograms merged exactly, never an average
//! of percentiles).

use std::borrow::Cow;
use std::time::Duration;

use super::metric::MetricKind;
use super::snapshot::SeriesValue;
use super::summary::{MetricSummary, ThresholdOutcome, ThresholdVerdict, TimeDetail};
use super::threshold::{Aggregation, Threshold};

/// Whether `aggregation` means something for a metric of `kind`; the plan
/// validation can reject the others up front.
///
/// - trends: `avg`, `min`, `max`, `med`, `p(N)`, `count`
/// - counters: `count` (the sum), `rate` (sum per second of the run)
/// - rates: `rate` (trues / total)
/// - gauges: `value` (the last), `min`, `max`
pub fn aggregation_applies(kind: MetricKind, aggregation: Aggregation) -> bool {
    use Aggregation as A;
    match kind {
        MetricKind::Trend => matches!(
            aggregation,
            A::Avg | A::Min | A::Max | A::Med | A::Percentile(_) | A::Count
        ),
        MetricKind::Counter => matches!(aggregation, A::Count | A::Rate),
        MetricKind::Rate => matches!(aggregation, A::Rate),
        MetricKind::Gauge => matches!(aggregation, A::Value | A::Min | A::Max),
    }
}

/// The statistic a threshold tests, from one (merged) value. `duration` is
/// what counter rates divide by. `None` when the value has no samples, the
/// aggregation does not apply to the kind, or a counter rate is asked over
/// a zero duration.
pub fn statistic(value: &SeriesValue, aggregation: Aggregation, duration: Duration) -> Option<f64> {
    use Aggregation as A;
    match value {
        SeriesValue::Trend(t) => {
            if t.count == 0 {
                return None;
            }
            match aggregation {
                A::Avg => Some(t.avg()),
                A::Min => Some(t.min),
                A::Max => Some(t.max),
                A::Med => Some(t.med()),
                A::Percentile(p) => Some(t.percentile(p)),
                A::Count => Some(t.count as f64),
                A::Rate | A::Value => None,
            }
        }
        SeriesValue::Counter { sum } => match aggregation {
            A::Count => Some(*sum),
            A::Rate if !duration.is_zero() => Some(sum / duration.as_secs_f64()),
            _ => None,
        },
        SeriesValue::Rate { trues, total } => match aggregation {
            A::Rate if *total > 0 => Some(*trues as f64 / *total as f64),
            _ => None,
        },
        SeriesValue::Gauge { last, min, max } => match aggregation {
            A::Value => Some(*last),
            A::Min => Some(*min),
            A::Max => Some(*max),
            _ => None,
        },
    }
}

/// The statistic `threshold` tests, from the merged value of its matching
/// series (`matched`; `None` when no sample matched). The one rule behind
/// both the end-of-test verdict and the per-flush marks, so they agree:
///
/// - a counter that never fired counted nothing, and nothing is 0: `count`
///   is 0 and `rate` is 0 per second, so `http_reqs{error_code:timeout}:
///   count==0` passes on a clean run;
/// - a trend, rate or gauge without samples has no value (there is no p(95)
///   of no requests, no failure ratio of no requests, no last value), so
///   `None`: a threshold on it fails rather than pass on a test that never
///   exercised what it guards.
pub fn observe(
    threshold: &Threshold,
    matched: Option<&SeriesValue>,
    duration: Duration,
) -> Option<f64> {
    observe_kind(
        threshold.kind,
        threshold.expr.aggregation,
        matched,
        duration,
    )
}

/// [`observe`] for a metric of `kind` without a threshold: the same rule
/// judges a time window of the timeline.
pub fn observe_kind(
    kind: MetricKind,
    aggregation: Aggregation,
    matched: Option<&SeriesValue>,
    duration: Duration,
) -> Option<f64> {
    match matched {
        Some(value) => statistic(value, aggregation, duration),
        None if kind == MetricKind::Counter => {
            statistic(&SeriesValue::Counter { sum: 0.0 }, aggregation, duration)
        }
        None => None,
    }
}

/// Evaluates one threshold against a summary's metrics. `duration` is the
/// run's duration (`Summary::duration`), needed for `rate` on counters
/// (k6: count per second of the test). Without a tag filter the metric's
/// `total` is used; with one, every matching series is merged (for gauges,
/// `last` then comes from the last matching series in tag order). Without
/// matching samples see [`observe`]; no value fails the threshold. A
/// threshold on an unselected scenario is skipped, whatever the data.
pub fn evaluate_threshold(
    threshold: &Threshold,
    summary_metrics: &[MetricSummary],
    duration: Duration,
) -> ThresholdOutcome {
    if threshold.unselected_scenario.is_some() {
        return ThresholdOutcome {
            threshold: threshold.clone(),
            observed: None,
            verdict: ThresholdVerdict::Skipped,
            detail: None,
        };
    }
    if threshold.expr.time.is_some() {
        // Judged on the timeline by `judge_time_criteria`, which replaces
        // this; a reader without a timeline keeps it, and fails.
        return ThresholdOutcome {
            threshold: threshold.clone(),
            observed: None,
            verdict: ThresholdVerdict::Failed,
            detail: Some(TimeDetail {
                text: "not judged: the run kept no timeline".into(),
                ..TimeDetail::default()
            }),
        };
    }
    let matched = summary_metrics
        .iter()
        .find(|m| m.name == threshold.selector.metric)
        .and_then(|m| matching_value(m, &threshold.selector.filter));
    let observed = observe(threshold, matched.as_deref(), duration);
    let holds = observed.is_some_and(|v| threshold.expr.comparison.holds(v, threshold.expr.value));
    ThresholdOutcome {
        threshold: threshold.clone(),
        observed,
        verdict: if holds {
            ThresholdVerdict::Passed
        } else {
            ThresholdVerdict::Failed
        },
        detail: None,
    }
}

fn matching_value<'m>(
    metric: &'m MetricSummary,
    filter: &[(String, String)],
) -> Option<Cow<'m, SeriesValue>> {
    if filter.is_empty() {
        return Some(Cow::Borrowed(&metric.total));
    }
    let mut merged: Option<SeriesValue> = None;
    for (_, value) in metric
        .series
        .iter()
        .filter(|(tags, _)| tags.matches(filter))
    {
        match &mut merged {
            None => merged = Some(value.clone()),
            Some(m) => {
                m.merge(value);
            }
        }
    }
    merged.map(Cow::Owned)
}
