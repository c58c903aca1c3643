//! Parts of a run and windows over them: which buckets a stage or a
//! scenario covers, how they group into sliding or tumbling windows, and a
//! selector's value over one window (the merge of its buckets, histograms
//! merged exactly).

use std::time::Duration;

use super::{Bucket, IntervalValue, Timeline, selection_key};
use crate::metrics::threshold_time::Span;
use crate::metrics::{MetricKind, SeriesValue, observe_kind, threshold::Aggregation};

/// A part of the run in test time, ms: `[start_ms, end_ms)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    pub start_ms: u64,
    pub end_ms: u64,
}

/// The test time `span` names, from the timeline's stage marks; `None`
/// with a reason when the timeline has no such part.
pub fn resolve_span(timeline: &Timeline, span: Option<&Span>) -> Result<Part, String> {
    let whole = Part {
        start_ms: 0,
        end_ms: timeline
            .buckets
            .last()
            .map_or(0, |b| b.start_ms + b.duration_ms),
    };
    let Some(span) = span else {
        return Ok(whole);
    };
    let scenario = match &span.scenario {
        Some(name) => name.clone(),
        None => only_scenario(timeline)?,
    };
    let marks: Vec<_> = timeline
        .stages
        .iter()
        .filter(|m| m.scenario == scenario)
        .collect();
    if marks.is_empty() {
        return Err(format!("scenario {scenario:?} did not run"));
    }
    match span.stage {
        Some(n) => marks
            .get(n - 1)
            .map(|m| Part {
                start_ms: m.start_ms,
                end_ms: m.end_ms,
            })
            .ok_or_else(|| {
                format!(
                    "scenario {scenario:?} has {} stage(s), not {n}",
                    marks.len()
                )
            }),
        None => Ok(Part {
            start_ms: marks[0].start_ms,
            end_ms: marks[marks.len() - 1].end_ms,
        }),
    }
}

/// The one scenario of the timeline's stage marks.
pub fn only_scenario(timeline: &Timeline) -> Result<String, String> {
    let mut names: Vec<&str> = timeline
        .stages
        .iter()
        .map(|m| m.scenario.as_str())
        .collect();
    names.dedup();
    match names.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err("the timeline has no stages".into()),
        _ => Err("the test has several scenarios: name one, e.g. during NAME stage 2".into()),
    }
}

/// The buckets of `part`: those whose middle lies in it. A run's last
/// bucket shorter than half the width (the final flush) is left out: too
/// few samples to judge on its own, and its data is in the totals.
pub fn buckets_in(timeline: &Timeline, part: Part) -> &[Bucket] {
    let whole = |b: &&Bucket| b.duration_ms * 2 >= timeline.bucket_ms;
    let mid = |b: &Bucket| b.start_ms + b.duration_ms / 2;
    let first = timeline
        .buckets
        .iter()
        .position(|b| mid(b) >= part.start_ms)
        .unwrap_or(timeline.buckets.len());
    let count = timeline.buckets[first..]
        .iter()
        .take_while(|b| mid(b) < part.end_ms)
        .filter(whole)
        .count();
    &timeline.buckets[first..first + count]
}

/// Buckets per window of `width` (rounded up to whole buckets, at least one).
pub fn buckets_per_window(timeline: &Timeline, width: Duration) -> usize {
    let bucket = timeline.bucket_ms.max(1);
    (width.as_millis() as u64).div_ceil(bucket).max(1) as usize
}

/// Start indices of the windows of `n` buckets over `len` buckets:
/// sliding by one bucket, or tumbling side by side (a trailing partial
/// window is not judged). A part shorter than one window is one window.
pub fn window_starts(len: usize, n: usize, tumbling: bool) -> Vec<std::ops::Range<usize>> {
    if len == 0 {
        return Vec::new();
    }
    if len <= n {
        return std::iter::once(0..len).collect();
    }
    let step = if tumbling { n } else { 1 };
    (0..=len - n).step_by(step).map(|i| i..i + n).collect()
}

/// One selector's values per bucket, decoded once so that windows merge
/// histograms without re-encoding them.
pub struct SeriesOverTime<'t> {
    pub buckets: &'t [Bucket],
    values: Vec<Option<SeriesValue>>,
    kind: MetricKind,
}

impl<'t> SeriesOverTime<'t> {
    /// `metric` filtered by `filter`, over `buckets`; `kind` decides what a
    /// bucket without samples is worth (a counter 0, the others nothing).
    pub fn new(
        buckets: &'t [Bucket],
        metric: &str,
        filter: &[(String, String)],
        kind: MetricKind,
    ) -> Self {
        let key = (!filter.is_empty()).then(|| selection_key(metric, filter));
        let values = buckets
            .iter()
            .map(|b| {
                let value = match &key {
                    Some(key) => b.selections.get(key),
                    None => b.metrics.get(metric),
                };
                value.map(series_value)
            })
            .collect();
        SeriesOverTime {
            buckets,
            values,
            kind,
        }
    }

    /// The statistic over buckets `range`, or `None` when it has no value.
    pub fn statistic(
        &self,
        range: std::ops::Range<usize>,
        aggregation: Aggregation,
    ) -> Option<f64> {
        let mut merged: Option<SeriesValue> = None;
        for value in self.values[range.clone()].iter().flatten() {
            match &mut merged {
                Some(m) => {
                    m.merge(value);
                }
                None => merged = Some(value.clone()),
            }
        }
        let window = self.buckets[range.clone()]
            .iter()
            .map(|b| b.duration_ms)
            .sum::<u64>();
        observe_kind(
            self.kind,
            aggregation,
            merged.as_ref(),
            Duration::from_millis(window),
        )
    }

    /// Test time covered by buckets `range`, ms.
    pub fn span_of(&self, range: &std::ops::Range<usize>) -> Part {
        let first = &self.buckets[range.start];
        let last = &self.buckets[range.end - 1];
        Part {
            start_ms: first.start_ms,
            end_ms: last.start_ms + last.duration_ms,
        }
    }
}

fn series_value(value: &IntervalValue) -> SeriesValue {
    match value {
        IntervalValue::Counter { count } => SeriesValue::Counter { sum: *count },
        IntervalValue::Gauge { value, min, max } => SeriesValue::Gauge {
            last: *value,
            min: *min,
            max: *max,
        },
        IntervalValue::Rate { trues, total } => SeriesValue::Rate {
            trues: *trues,
            total: *total,
        },
        IntervalValue::Trend(t) => SeriesValue::Trend(t.to_value()),
    }
}

/// `40 s`, `1 m 05 s`: test time for people.
pub fn test_time(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if s < 60.0 {
        format!(
            "{} s",
            crate::report::format_number((s * 10.0).round() / 10.0)
        )
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_and_tumbling_windows() {
        assert_eq!(window_starts(5, 2, false), vec![0..2, 1..3, 2..4, 3..5]);
        assert_eq!(window_starts(5, 2, true), vec![0..2, 2..4]);
        assert_eq!(window_starts(2, 3, false), vec![0..2]);
        assert!(window_starts(0, 3, true).is_empty());
    }
}
