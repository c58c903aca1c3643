//! The timelines of concurrent instances of one test (the segments of a
//! distributed run, started together) combined into the test's timeline:
//! the instances' buckets over the same interval add up, so the combined
//! timeline holds every request of every instance in the interval it
//! happened in, exactly as one process running the whole test would.

use std::collections::BTreeMap;

use super::{Bucket, MAX_BUCKETS, StageMark, Timeline};

/// One instance's timeline and when it started.
#[derive(Clone, Copy, Debug)]
pub struct ConcurrentTimeline<'a> {
    pub timeline: &'a Timeline,
    /// How long after the earliest instance this one started, in ms.
    /// Instances started with one `--start-at` are a few ms apart: that
    /// rounds to no shift at all.
    pub offset_ms: u64,
}

/// The instances' timelines as one. Buckets are aligned by test time: an
/// instance's bucket `i` covers its `i`-th interval, moved by its offset
/// rounded to the bucket width. Widths differ when one instance ran long
/// enough to coarsen: every timeline is then coarsened to the widest by
/// merging neighbours ([`Bucket::merge`]), and further, doubling, while the
/// result would pass [`MAX_BUCKETS`]. Buckets over the same interval then add
/// up ([`Bucket::combine_concurrent`]: gauges summed). Stages are the
/// test's plan, the same in every instance: each distinct mark once.
pub fn combine_concurrent(instances: &[ConcurrentTimeline<'_>]) -> Timeline {
    let Some(mut width) = instances.iter().map(|i| i.timeline.bucket_ms.max(1)).max() else {
        return Timeline::default();
    };
    let mut slots = place(instances, width);
    while span(&slots) > MAX_BUCKETS {
        width *= 2;
        slots = place(instances, width);
    }
    Timeline {
        bucket_ms: width,
        stages: combine_stages(instances),
        buckets: contiguous(slots, width),
    }
}

/// Each distinct stage mark once: every instance marks the whole test's
/// plan (`--segment` takes its share at run time, not in the plan).
fn combine_stages(instances: &[ConcurrentTimeline<'_>]) -> Vec<StageMark> {
    let mut stages: Vec<StageMark> = Vec::new();
    for mark in instances.iter().flat_map(|i| &i.timeline.stages) {
        if !stages.contains(mark) {
            stages.push(mark.clone());
        }
    }
    stages
}

/// Every instance's buckets in slots of `width` ms (slot `k` covers
/// `[k * width, (k + 1) * width)` of the test), neighbours within an
/// instance merged, instances combined.
fn place(instances: &[ConcurrentTimeline<'_>], width: u64) -> BTreeMap<u64, Bucket> {
    let mut slots: BTreeMap<u64, Bucket> = BTreeMap::new();
    for instance in instances {
        let own_width = instance.timeline.bucket_ms.max(1);
        let offset_slots = (instance.offset_ms + width / 2) / width;
        let shift_ms = offset_slots * width;
        let Some(first) = instance.timeline.buckets.first() else {
            continue;
        };
        // By position, as the collector made them: bucket `i` is the
        // `i`-th interval of `own_width` (only the last may be shorter), so
        // a flush that came late does not move a bucket into its neighbour's
        // slot.
        let first_slot = (first.start_ms + own_width / 2) / own_width;
        let mut own: BTreeMap<u64, Bucket> = BTreeMap::new();
        for (i, bucket) in instance.timeline.buckets.iter().enumerate() {
            let slot = (first_slot + i as u64) * own_width / width + offset_slots;
            let mut shifted = bucket.clone();
            shifted.start_ms += shift_ms;
            match own.get_mut(&slot) {
                Some(earlier) => earlier.merge(&shifted),
                None => {
                    own.insert(slot, shifted);
                }
            }
        }
        for (slot, bucket) in own {
            match slots.get_mut(&slot) {
                Some(combined) => combined.combine_concurrent(&bucket),
                None => {
                    slots.insert(slot, bucket);
                }
            }
        }
    }
    slots
}

/// How many buckets the slots make, gaps included.
fn span(slots: &BTreeMap<u64, Bucket>) -> usize {
    match (slots.first_key_value(), slots.last_key_value()) {
        (Some((first, _)), Some((last, _))) => (last - first + 1) as usize,
        _ => 0,
    }
}

/// The slots as a timeline's buckets: in order, without gaps (a slot no
/// instance recorded in is an empty bucket), each `width` long but the
/// last, which ends where the last instance's last bucket ended.
fn contiguous(mut slots: BTreeMap<u64, Bucket>, width: u64) -> Vec<Bucket> {
    let (Some(&first), Some(&last)) = (slots.keys().next(), slots.keys().next_back()) else {
        return Vec::new();
    };
    (first..=last)
        .map(|slot| {
            let start_ms = slot * width;
            let mut bucket = slots
                .remove(&slot)
                .unwrap_or_else(|| Bucket::empty(start_ms, width));
            let end_ms = if slot == last {
                (bucket.start_ms + bucket.duration_ms).max(start_ms)
            } else {
                start_ms + width
            };
            bucket.start_ms = start_ms;
            bucket.duration_ms = end_ms - start_ms;
            bucket
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::TrendValue;
    use crate::timeline::{EndpointInterval, ErrorInterval, IntervalValue, TrendInterval};

    fn trend(values_ms: &[f64]) -> TrendInterval {
        TrendInterval::from_value(&TrendValue::of(values_ms))
    }

    /// One instance's interval: a request per duration, the first one
    /// failed, `vus` VUs at the end (min 1, max `vus`).
    fn bucket(start_ms: u64, duration_ms: u64, vus: f64, durations: &[f64]) -> Bucket {
        let requests = durations.len() as u64;
        Bucket {
            start_ms,
            duration_ms,
            metrics: BTreeMap::from([
                (
                    "http_reqs".into(),
                    IntervalValue::Counter {
                        count: requests as f64,
                    },
                ),
                (
                    "iterations".into(),
                    IntervalValue::Counter {
                        count: requests as f64,
                    },
                ),
                (
                    "http_req_failed".into(),
                    IntervalValue::Rate {
                        trues: 1,
                        total: requests,
                    },
                ),
                (
                    "vus".into(),
                    IntervalValue::Gauge {
                        value: vus,
                        min: 1.0,
                        max: vus,
                    },
                ),
                (
                    "http_req_duration".into(),
                    IntervalValue::Trend(trend(durations)),
                ),
            ]),
            endpoints: vec![EndpointInterval {
                name: "credits".into(),
                method: "GET".into(),
                requests,
                failures: 1,
                bytes_received: requests as f64 * 100.0,
                duration: trend(durations),
            }],
            errors: vec![ErrorInterval {
                name: "credits".into(),
                method: "GET".into(),
                status: "500".into(),
                error_code: "1500".into(),
                count: 1,
            }],
            selections: BTreeMap::new(),
        }
    }

    /// Contiguous buckets of `width` ms, the `i`-th with `durations[i]`
    /// and `vus[i]`; the last one `last_ms` long.
    fn timeline(width: u64, last_ms: u64, buckets: &[(f64, Vec<f64>)]) -> Timeline {
        let n = buckets.len();
        Timeline {
            bucket_ms: width,
            stages: vec![StageMark {
                scenario: "steady".into(),
                start_ms: 0,
                end_ms: 3000,
                label: "6 VUs".into(),
                load: None,
            }],
            buckets: buckets
                .iter()
                .enumerate()
                .map(|(i, (vus, durations))| {
                    let length = if i + 1 == n { last_ms } else { width };
                    // Flushes come a few ms late, as in a real run.
                    bucket(i as u64 * width + 3, length, *vus, durations)
                })
                .collect(),
        }
    }

    fn at(timeline: &Timeline, offset_ms: u64) -> ConcurrentTimeline<'_> {
        ConcurrentTimeline {
            timeline,
            offset_ms,
        }
    }

    fn counter(bucket: &Bucket, metric: &str) -> f64 {
        match bucket.metrics.get(metric) {
            Some(IntervalValue::Counter { count }) => *count,
            other => panic!("{metric}: {other:?}"),
        }
    }

    fn requests(timeline: &Timeline) -> Vec<f64> {
        timeline
            .buckets
            .iter()
            .map(|b| counter(b, "http_reqs"))
            .collect()
    }

    #[test]
    fn same_interval_buckets_add_exactly_and_gauges_sum() {
        let first = timeline(
            1000,
            400,
            &[
                (2.0, vec![10.0, 20.0]),
                (4.0, vec![30.0, 40.0, 50.0]),
                (1.0, vec![60.0]),
            ],
        );
        let second = timeline(
            1000,
            700,
            &[
                (3.0, vec![15.0, 25.0, 35.0]),
                (5.0, vec![45.0]),
                (2.0, vec![55.0, 65.0]),
                (1.0, vec![75.0]),
            ],
        );
        // 120 ms apart: rounds to the same instant.
        let combined = combine_concurrent(&[at(&first, 0), at(&second, 120)]);
        assert_eq!(combined.bucket_ms, 1000);
        let spans: Vec<(u64, u64)> = combined
            .buckets
            .iter()
            .map(|b| (b.start_ms, b.duration_ms))
            .collect();
        // The last bucket ends where the second instance's last one did.
        assert_eq!(spans, [(0, 1000), (1000, 1000), (2000, 1000), (3000, 703)]);
        assert_eq!(requests(&combined), [5.0, 4.0, 3.0, 1.0]);
        let iterations: f64 = combined
            .buckets
            .iter()
            .map(|b| counter(b, "iterations"))
            .sum();
        assert_eq!(iterations, 13.0);
        let b = &combined.buckets[1];
        assert_eq!(
            b.metrics["http_req_failed"],
            IntervalValue::Rate { trues: 2, total: 4 }
        );
        assert_eq!(
            b.metrics["vus"],
            IntervalValue::Gauge {
                value: 9.0,
                min: 2.0,
                max: 9.0
            }
        );
        let credits = b.endpoint("credits", "GET").unwrap();
        assert_eq!(
            (credits.requests, credits.failures, credits.bytes_received),
            (4, 2, 400.0)
        );
        assert_eq!(b.errors.len(), 1);
        assert_eq!(b.errors[0].count, 2);
        // The last interval only the second instance reached.
        assert_eq!(combined.buckets[3].gauge("vus"), Some(1.0));
        // One plan, one set of stage marks.
        assert_eq!(combined.stages, first.stages);
    }

    #[test]
    fn a_combined_percentile_is_the_percentile_of_all_samples() {
        let a: Vec<f64> = (1..=40).map(|i| f64::from(i) * 3.5).collect();
        let b: Vec<f64> = (1..=25).map(|i| 100.0 + f64::from(i) * 11.0).collect();
        let first = timeline(1000, 1000, &[(1.0, a.clone())]);
        let second = timeline(1000, 1000, &[(1.0, b.clone())]);
        let combined = combine_concurrent(&[at(&first, 0), at(&second, 0)]);
        let all = trend(&[a, b].concat());
        let merged = combined.buckets[0].trend("http_req_duration").unwrap();
        assert_eq!(
            (merged.count, merged.sum, merged.min, merged.max),
            (all.count, all.sum, all.min, all.max)
        );
        for p in [50.0, 90.0, 95.0, 99.0, 100.0] {
            assert_eq!(merged.percentile(p), all.percentile(p), "p({p})");
        }
        let endpoint = &combined.buckets[0].endpoints[0].duration;
        assert_eq!(endpoint.percentile(95.0), all.percentile(95.0));
    }

    #[test]
    fn a_finer_timeline_is_coarsened_to_the_wider_one() {
        // One instance kept 1 s buckets, the other ran long enough for 2 s.
        let fine = timeline(
            1000,
            500,
            &[
                (1.0, vec![10.0]),
                (2.0, vec![10.0, 20.0]),
                (3.0, vec![10.0, 20.0, 30.0]),
                (4.0, vec![10.0]),
                (5.0, vec![10.0, 20.0]),
            ],
        );
        let wide = timeline(
            2000,
            2000,
            &[(10.0, vec![5.0]), (20.0, vec![5.0]), (30.0, vec![5.0])],
        );
        let combined = combine_concurrent(&[at(&fine, 0), at(&wide, 0)]);
        assert_eq!(combined.bucket_ms, 2000);
        assert_eq!(requests(&combined), [4.0, 5.0, 3.0]);
        // Within the fine instance the later gauge value stands (as in one
        // timeline's coarsening), then the instances add.
        let vus: Vec<Option<f64>> = combined.buckets.iter().map(|b| b.gauge("vus")).collect();
        assert_eq!(vus, [Some(12.0), Some(24.0), Some(35.0)]);
        let spans: Vec<(u64, u64)> = combined
            .buckets
            .iter()
            .map(|b| (b.start_ms, b.duration_ms))
            .collect();
        assert_eq!(spans, [(0, 2000), (2000, 2000), (4000, 2003)]);
        let duration = combined.buckets[1].trend("http_req_duration").unwrap();
        assert_eq!(duration.count, 5);
        assert_eq!(duration.percentile(100.0), 30.0);
    }

    #[test]
    fn a_later_start_shifts_by_whole_buckets_and_gaps_stay_empty() {
        let first = timeline(1000, 1000, &[(1.0, vec![10.0]), (1.0, vec![10.0])]);
        let late = timeline(1000, 1000, &[(2.0, vec![10.0, 20.0])]);
        // 3.4 s later: three buckets on, the fourth slot's.
        let combined = combine_concurrent(&[at(&first, 0), at(&late, 3400)]);
        assert_eq!(combined.buckets.len(), 4);
        assert_eq!(combined.buckets[2], Bucket::empty(2000, 1000));
        assert_eq!(counter(&combined.buckets[3], "http_reqs"), 2.0);
        assert_eq!(combined.buckets[3].start_ms, 3000);
    }

    #[test]
    fn the_combination_stays_within_the_bucket_limit() {
        let buckets: Vec<(f64, Vec<f64>)> = (0..200).map(|_| (1.0, vec![10.0])).collect();
        let first = timeline(1000, 1000, &buckets);
        let second = timeline(1000, 1000, &buckets);
        // 100 s apart: 300 one-second slots, too many; 150 of 2 s.
        let combined = combine_concurrent(&[at(&first, 0), at(&second, 100_000)]);
        assert_eq!(combined.bucket_ms, 2000);
        assert_eq!(combined.buckets.len(), 150);
        assert!(combined.buckets.len() <= MAX_BUCKETS);
        assert_eq!(requests(&combined).iter().sum::<f64>(), 400.0);
        assert_eq!(requests(&combined)[60], 4.0);
    }

    #[test]
    fn nothing_to_combine_is_an_empty_timeline() {
        assert_eq!(combine_concurrent(&[]), Timeline::default());
        let empty = Timeline {
            bucket_ms: 1000,
            stages: Vec::new(),
            buckets: Vec::new(),
        };
        assert_eq!(combine_concurrent(&[at(&empty, 0)]).buckets, Vec::new());
    }
}
