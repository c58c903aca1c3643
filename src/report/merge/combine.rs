//! Instances' summaries into one test's summary, exactly: series side by
//! side (each carries its `instance` tag), totals added (histograms bucket
//! by bucket, never averaged percentiles), the duration the whole test
//! spanned, the thresholds judged again on the merged values, and the
//! instances' timelines combined interval by interval.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::identity::{RunIdentity, parse_segment};
use super::read::InstanceExport;
use crate::metrics::{
    MetricKind, MetricSummary, RunEnd, SeriesValue, Summary, TagSet, evaluate_threshold,
};
use crate::timeline::{
    ConcurrentTimeline, Timeline, combine_concurrent, judge_time_criteria, refresh_breaking_points,
};

/// Why a set of summaries does not make one test.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum MergeRefusal {
    #[error("{other} is from a different test than {first}: {what}")]
    DifferentTests {
        first: String,
        other: String,
        what: String,
    },
    #[error("{other} covers the whole test (no --segment), so it overlaps {first}")]
    WholeAndSegment { first: String, other: String },
    #[error("{other} ran segment {theirs} but {first} ran {ours}: every instance needs the same n")]
    SegmentCounts {
        first: String,
        other: String,
        ours: String,
        theirs: String,
    },
    #[error("overlapping segments: {first} and {other} both ran segment {segment}")]
    Overlap {
        first: String,
        other: String,
        segment: String,
    },
    #[error("missing segments: {missing} of {count} (no summary given for them)")]
    Missing { missing: String, count: u64 },
}

/// The merged test.
#[derive(Debug)]
pub struct MergedRun {
    /// Thresholds judged on the merged values.
    pub summary: Summary,
    /// `instance` is `merged`, `merged_from` the instances in segment order.
    pub identity: RunIdentity,
    pub timeline: MergedTimeline,
}

/// What became of the instances' timelines.
#[derive(Debug, PartialEq)]
pub enum MergedTimeline {
    /// Every instance had one: the test's timeline, combined from them.
    Combined(Timeline),
    /// No instance had one.
    Absent,
    /// Only some had one. Left out: charts of part of the instances would
    /// pass for the whole test's. `without` names the summaries that had none.
    Partial { without: Vec<String> },
}

impl MergedRun {
    /// The combined timeline, when every instance had one.
    pub fn timeline(&self) -> Option<&Timeline> {
        match &self.timeline {
            MergedTimeline::Combined(timeline) => Some(timeline),
            MergedTimeline::Absent | MergedTimeline::Partial { .. } => None,
        }
    }
}

/// Merges `(name, export)` pairs (`name` is how messages call a summary,
/// e.g. its path). Refuses summaries of different tests (plan digest,
/// `--testid` or stampede version differ) and segments that overlap or
/// leave a gap.
pub fn merge_instances(instances: &[(String, InstanceExport)]) -> Result<MergedRun, MergeRefusal> {
    let ordered = check_one_test(instances)?;
    let summaries: Vec<&Summary> = ordered.iter().map(|i| &i.summary).collect();
    let started_at = summaries
        .iter()
        .map(|s| s.started_at)
        .min()
        .expect("non-empty");
    let ended_at = summaries
        .iter()
        .map(|s| s.started_at + s.duration)
        .max()
        .expect("non-empty");
    let duration = ended_at
        .duration_since(started_at)
        .unwrap_or(Duration::ZERO);
    let metrics = merge_metrics(&summaries);
    let thresholds = summaries[0]
        .thresholds
        .iter()
        .map(|outcome| evaluate_threshold(&outcome.threshold, &metrics, duration))
        .collect();
    let mut summary = Summary {
        started_at,
        duration,
        metrics,
        thresholds,
        end: merged_end(&summaries),
        generator: None,
        breaking_points: Vec::new(),
    };
    let timeline = merged_timeline(instances, &ordered, started_at);
    let merged = match &timeline {
        MergedTimeline::Combined(t) => Some(t),
        _ => None,
    };
    // Time criteria and breaking points judged again on the whole test's
    // timeline, as its thresholds are on its merged totals.
    judge_time_criteria(&mut summary.thresholds, merged, &summary.metrics);
    if let Some(t) = merged {
        summary.breaking_points = refresh_breaking_points(&summaries[0].breaking_points, t);
    }
    Ok(MergedRun {
        summary,
        identity: merged_identity(&ordered),
        timeline,
    })
}

/// The instances' timelines combined, each placed by when it started
/// (`state.startedAtUnixMs`) relative to the earliest instance, which
/// [`combine_concurrent`] rounds to its bucket width.
fn merged_timeline(
    instances: &[(String, InstanceExport)],
    ordered: &[&InstanceExport],
    started_at: SystemTime,
) -> MergedTimeline {
    let without: Vec<String> = instances
        .iter()
        .filter(|(_, export)| export.timeline.is_none())
        .map(|(name, _)| name.clone())
        .collect();
    if without.len() == instances.len() {
        return MergedTimeline::Absent;
    }
    if !without.is_empty() {
        return MergedTimeline::Partial { without };
    }
    let timelines: Vec<ConcurrentTimeline<'_>> = ordered
        .iter()
        .filter_map(|export| {
            let offset = export
                .summary
                .started_at
                .duration_since(started_at)
                .unwrap_or(Duration::ZERO);
            Some(ConcurrentTimeline {
                timeline: export.timeline.as_ref()?,
                offset_ms: offset.as_millis() as u64,
            })
        })
        .collect();
    MergedTimeline::Combined(combine_concurrent(&timelines))
}

/// The instances in segment order, once they are known to be one test.
fn check_one_test(
    instances: &[(String, InstanceExport)],
) -> Result<Vec<&InstanceExport>, MergeRefusal> {
    let (first_name, first) = instances.first().expect("merge needs a summary");
    let first_id = &first.identity;
    for (name, other) in &instances[1..] {
        let id = &other.identity;
        let differ = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
            MergeRefusal::DifferentTests {
                first: first_name.clone(),
                other: name.clone(),
                what: format!("{what} {b:?} vs {a:?}"),
            }
        };
        if id.plan != first_id.plan {
            return Err(differ("plan", &first_id.plan, &id.plan));
        }
        if id.testid != first_id.testid {
            let shown = |t: &Option<String>| t.clone().unwrap_or_else(|| "(none)".into());
            return Err(differ(
                "testid",
                &shown(&first_id.testid),
                &shown(&id.testid),
            ));
        }
        if id.stampede_version != first_id.stampede_version {
            let (a, b) = (&first_id.stampede_version, &id.stampede_version);
            return Err(differ("stampede version", a, b));
        }
    }
    let segment_of = |export: &InstanceExport| {
        export
            .identity
            .segment
            .as_deref()
            .and_then(parse_segment)
            .unwrap_or((1, 1))
    };
    let count = segment_of(first).1;
    let mut by_index: BTreeMap<u64, (&String, &InstanceExport)> = BTreeMap::new();
    for (name, export) in instances {
        let (index, n) = segment_of(export);
        if export.identity.segment.is_none() && instances.len() > 1 {
            let other = instances.iter().find(|(o, _)| o != name).expect("two");
            return Err(MergeRefusal::WholeAndSegment {
                first: other.0.clone(),
                other: name.clone(),
            });
        }
        if n != count {
            return Err(MergeRefusal::SegmentCounts {
                first: first_name.clone(),
                other: name.clone(),
                ours: first.identity.segment.clone().unwrap_or_default(),
                theirs: format!("{index}/{n}"),
            });
        }
        if let Some((earlier, _)) = by_index.insert(index, (name, export)) {
            return Err(MergeRefusal::Overlap {
                first: earlier.clone(),
                other: name.clone(),
                segment: format!("{index}/{n}"),
            });
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(MergeRefusal::Missing {
            missing: missing.join(", "),
            count,
        });
    }
    Ok(by_index.into_values().map(|(_, export)| export).collect())
}

/// Metrics in order of first appearance. Series of different instances
/// differ by their `instance` tag and stay apart; equal tag sets (two
/// instances given the same `--instance`) merge. Totals: counters, rates
/// and trends add exactly; gauges add too (`vus` of the test is the sum of
/// the instances' `vus`), so a peak is the sum of the instances' peaks,
/// which instances started together reach together. The generator's own
/// gauges are the exception: CPU per core and memory describe one machine,
/// so the test shows its busiest generator.
fn merge_metrics(summaries: &[&Summary]) -> Vec<MetricSummary> {
    let mut merged: Vec<MetricSummary> = Vec::new();
    for summary in summaries {
        for metric in &summary.metrics {
            match merged.iter_mut().find(|m| m.name == metric.name) {
                None => merged.push(metric.clone()),
                Some(into) => {
                    if metric.name.starts_with(GENERATOR_PREFIX) {
                        widen_gauge(&mut into.total, &metric.total);
                    } else {
                        add_total(&mut into.total, &metric.total);
                    }
                    add_series(&mut into.series, &metric.series);
                }
            }
        }
    }
    for metric in &mut merged {
        metric.series.sort_by(|a, b| a.0.cmp(&b.0));
        debug_assert!(metric.kind == metric.total.kind() || metric.kind == MetricKind::Gauge);
    }
    merged
}

/// The generator's health gauges (`generator_cpu`, `generator_memory`).
const GENERATOR_PREFIX: &str = "generator_";

fn widen_gauge(into: &mut SeriesValue, other: &SeriesValue) {
    if let (
        SeriesValue::Gauge { last, min, max },
        SeriesValue::Gauge {
            last: l,
            min: lo,
            max: hi,
        },
    ) = (into, other)
    {
        *last = last.max(*l);
        *min = min.min(*lo);
        *max = max.max(*hi);
    }
}

fn add_total(into: &mut SeriesValue, other: &SeriesValue) {
    match (into, other) {
        (
            SeriesValue::Gauge { last, min, max },
            SeriesValue::Gauge {
                last: l,
                min: lo,
                max: hi,
            },
        ) => {
            *last += l;
            *min += lo;
            *max += hi;
        }
        (into, other) => {
            into.merge(other);
        }
    }
}

fn add_series(into: &mut Vec<(TagSet, SeriesValue)>, other: &[(TagSet, SeriesValue)]) {
    for (tags, value) in other {
        match into.iter_mut().find(|(t, _)| t == tags) {
            Some((_, existing)) => {
                existing.merge(value);
            }
            None => into.push((tags.clone(), value.clone())),
        }
    }
}

/// Interrupted if any instance was; else aborted by a threshold if any was
/// (the first one's); else completed.
fn merged_end(summaries: &[&Summary]) -> RunEnd {
    if summaries.iter().any(|s| s.end == RunEnd::Interrupted) {
        return RunEnd::Interrupted;
    }
    summaries
        .iter()
        .find(|s| matches!(s.end, RunEnd::AbortedByThreshold(_)))
        .map_or(RunEnd::Completed, |s| s.end.clone())
}

fn merged_identity(ordered: &[&InstanceExport]) -> RunIdentity {
    let first = &ordered[0].identity;
    let start_at = first.start_at.clone().filter(|at| {
        ordered
            .iter()
            .all(|i| i.identity.start_at.as_ref() == Some(at))
    });
    let start_lag_ms = ordered
        .iter()
        .filter_map(|i| i.identity.start_lag_ms)
        .reduce(f64::max);
    RunIdentity {
        stampede_version: first.stampede_version.clone(),
        plan: first.plan.clone(),
        testid: first.testid.clone(),
        instance: "merged".into(),
        segment: None,
        start_at,
        start_lag_ms,
        late: ordered.iter().any(|i| i.identity.late),
        merged_from: ordered.iter().map(|i| i.identity.clone()).collect(),
    }
}
