//! Merging in memory: what adds, what widens, how the span and end come
//! out, and the refusals the integration tests do not reach.

use std::time::{Duration, UNIX_EPOCH};

use std::collections::BTreeMap;

use super::combine::{MergeRefusal, MergedTimeline, merge_instances};
use super::identity::RunIdentity;
use super::read::InstanceExport;
use crate::metrics::{
    MetricId, MetricKind, MetricSummary, RunEnd, SeriesValue, Summary, TagSet, ValueType,
};
use crate::timeline::{Bucket, IntervalValue, Timeline};

fn gauge(name: &str, instance: &str, last: f64, min: f64, max: f64) -> MetricSummary {
    let value = SeriesValue::Gauge { last, min, max };
    MetricSummary {
        id: MetricId(0),
        name: name.into(),
        kind: MetricKind::Gauge,
        contains: ValueType::Default,
        total: value.clone(),
        series: vec![(TagSet::new([("instance", instance)]), value)],
    }
}

fn counter(instance: &str, sum: f64) -> MetricSummary {
    let value = SeriesValue::Counter { sum };
    MetricSummary {
        id: MetricId(0),
        name: "http_reqs".into(),
        kind: MetricKind::Counter,
        contains: ValueType::Default,
        total: value.clone(),
        series: vec![(TagSet::new([("instance", instance)]), value)],
    }
}

fn instance(
    segment: &str,
    start_ms: u64,
    duration_ms: u64,
    end: RunEnd,
) -> (String, InstanceExport) {
    let name = format!("gen-{segment}");
    let identity = RunIdentity {
        stampede_version: "0.1.0".into(),
        plan: "fnv1a64:0123456789abcdef".into(),
        testid: Some("t".into()),
        instance: name.clone(),
        segment: Some(segment.into()),
        start_at: None,
        start_lag_ms: None,
        late: false,
        merged_from: Vec::new(),
    };
    let summary = Summary {
        started_at: UNIX_EPOCH + Duration::from_millis(start_ms),
        duration: Duration::from_millis(duration_ms),
        metrics: vec![
            counter(&name, 10.0),
            gauge("vus", &name, 0.0, 0.0, 5.0),
            gauge("generator_cpu", &name, 0.2, 0.1, 0.4),
        ],
        thresholds: Vec::new(),
        end,
        generator: None,
        breaking_points: Vec::new(),
    };
    (
        format!("{name}.json"),
        InstanceExport {
            identity,
            summary,
            timeline: None,
        },
    )
}

#[test]
fn counters_and_gauges_add_generator_gauges_widen() {
    let mut second = instance("2/2", 1_500, 2_000, RunEnd::Completed);
    if let SeriesValue::Gauge { max, .. } = &mut second.1.summary.metrics[2].total {
        *max = 0.9;
    }
    let merged = merge_instances(&[instance("1/2", 1_000, 2_000, RunEnd::Completed), second])
        .unwrap()
        .summary;
    // From the earliest start (1.0 s) to the latest end (3.5 s).
    assert_eq!(merged.duration, Duration::from_millis(2_500));
    assert_eq!(merged.started_at, UNIX_EPOCH + Duration::from_millis(1_000));
    assert!(matches!(merged.metrics[0].total, SeriesValue::Counter { sum } if sum == 20.0));
    assert_eq!(merged.metrics[0].series.len(), 2);
    assert!(matches!(
        merged.metrics[1].total,
        SeriesValue::Gauge { last, min, max } if (last, min, max) == (0.0, 0.0, 10.0)
    ));
    assert!(matches!(
        merged.metrics[2].total,
        SeriesValue::Gauge { last, min, max } if (last, min, max) == (0.2, 0.1, 0.9)
    ));
    assert_eq!(merged.end, RunEnd::Completed);
}

#[test]
fn the_worst_end_wins() {
    let aborted = RunEnd::AbortedByThreshold("http_req_failed: rate<0.01".into());
    let merged = merge_instances(&[
        instance("1/2", 0, 1_000, RunEnd::Completed),
        instance("2/2", 0, 1_000, aborted.clone()),
    ])
    .unwrap();
    assert_eq!(merged.summary.end, aborted);
    let merged = merge_instances(&[
        instance("1/2", 0, 1_000, RunEnd::Interrupted),
        instance("2/2", 0, 1_000, aborted),
    ])
    .unwrap();
    assert_eq!(merged.summary.end, RunEnd::Interrupted);
    assert_eq!(merged.identity.instance, "merged");
    assert_eq!(merged.identity.segment, None);
    let segments: Vec<_> = merged
        .identity
        .merged_from
        .iter()
        .map(|i| i.segment.clone())
        .collect();
    assert_eq!(segments, [Some("1/2".to_string()), Some("2/2".to_string())]);
}

#[test]
fn refuses_other_testids_and_other_segment_counts() {
    let mut other = instance("2/2", 0, 1_000, RunEnd::Completed);
    other.1.identity.testid = Some("u".into());
    let refusal =
        merge_instances(&[instance("1/2", 0, 1_000, RunEnd::Completed), other]).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "gen-2/2.json is from a different test than gen-1/2.json: testid \"u\" vs \"t\""
    );
    let refusal = merge_instances(&[
        instance("1/2", 0, 1_000, RunEnd::Completed),
        instance("2/3", 0, 1_000, RunEnd::Completed),
    ])
    .unwrap_err();
    assert_eq!(
        refusal,
        MergeRefusal::SegmentCounts {
            first: "gen-1/2.json".into(),
            other: "gen-2/3.json".into(),
            ours: "1/2".into(),
            theirs: "2/3".into(),
        }
    );
    assert_eq!(
        refusal.to_string(),
        "gen-2/3.json ran segment 2/3 but gen-1/2.json ran 1/2: every instance needs the same n"
    );
}

/// `requests[i]` requests in the `i`-th second.
fn timeline(requests: &[f64]) -> Timeline {
    Timeline {
        bucket_ms: 1000,
        stages: Vec::new(),
        buckets: requests
            .iter()
            .enumerate()
            .map(|(i, count)| {
                let mut bucket = Bucket::empty(i as u64 * 1000, 1000);
                bucket.metrics = BTreeMap::from([(
                    "http_reqs".to_string(),
                    IntervalValue::Counter { count: *count },
                )]);
                bucket
            })
            .collect(),
    }
}

#[test]
fn timelines_combine_placed_by_each_instance_start() {
    let mut first = instance("1/2", 10_000, 3_000, RunEnd::Completed);
    first.1.timeline = Some(timeline(&[1.0, 2.0, 3.0]));
    // Started 1.2 s after the first: one bucket on.
    let mut second = instance("2/2", 11_200, 3_000, RunEnd::Completed);
    second.1.timeline = Some(timeline(&[10.0, 20.0, 30.0]));
    let merged = merge_instances(&[second, first]).unwrap();
    let combined = merged.timeline().expect("both had a timeline");
    let requests: Vec<f64> = combined.buckets.iter().map(Bucket::request_rate).collect();
    assert_eq!(requests, [1.0, 12.0, 23.0, 30.0]);
}

#[test]
fn a_timeline_missing_from_some_instances_is_left_out() {
    let mut first = instance("1/2", 0, 1_000, RunEnd::Completed);
    first.1.timeline = Some(timeline(&[1.0]));
    let second = instance("2/2", 0, 1_000, RunEnd::Completed);
    let merged = merge_instances(&[first, second.clone()]).unwrap();
    assert_eq!(
        merged.timeline,
        MergedTimeline::Partial {
            without: vec!["gen-2/2.json".into()]
        }
    );
    assert_eq!(merged.timeline(), None);
    let merged = merge_instances(&[instance("1/2", 0, 1_000, RunEnd::Completed), second]).unwrap();
    assert_eq!(merged.timeline, MergedTimeline::Absent);
}
