//! The run's timeline: what happened in each interval of the test, kept
//! small enough to ship inside the summary export. The HTML report draws
//! it, `compare` tests per-interval distributions from it, and time-window
//! criteria can be judged on it: every bucket holds each metric's interval
//! value (trends as HDR histograms), so any window is the merge of its
//! buckets, exactly as the whole run is the merge of all of them.
//! For the same reason the instances of a distributed run combine into the
//! test's timeline exactly ([`combine_concurrent`], for `stampede merge`).
//!
//! Buckets start at the flush interval (1 s) and double in width whenever
//! their number would pass [`MAX_BUCKETS`], so a file's size is bounded by
//! the number of series, not by the run's length.

mod breaking;
mod bucket;
mod collect;
mod concurrent;
mod criteria;
mod stages;
mod windows;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use breaking::{
    BreakingCriterion, BreakingPoint, breaking_point_criteria, find_breaking_points,
    refresh_breaking_points,
};
pub use bucket::{TIMELINE_DIGITS, TrendInterval};
pub use collect::TimelineCollector;
pub use concurrent::{ConcurrentTimeline, combine_concurrent};
pub use criteria::judge_time_criteria;
pub use stages::stage_marks;

/// Most buckets a timeline keeps. At 1 s per bucket a run of up to 4 min 16 s
/// keeps every second; a 10-minute run gets 4 s buckets, an hour 16 s ones.
/// With histograms at [`TIMELINE_DIGITS`] that keeps an hour with 20
/// endpoints under 5 MB (4.2 MB in the test below; docs/reports.md) and leaves
/// `compare` 128 to 256 intervals to test.
pub const MAX_BUCKETS: usize = 256;

/// Every interval of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeline {
    /// Width of every bucket but possibly the last, in ms: the flush
    /// interval, doubled each time the run outgrew [`MAX_BUCKETS`].
    pub bucket_ms: u64,
    /// The load's planned shape: one mark per stage of each scenario.
    pub stages: Vec<StageMark>,
    /// In time order, without gaps.
    pub buckets: Vec<Bucket>,
}

/// The key of a selector's values in [`Bucket::selections`]: the metric
/// and its filter sorted, `http_req_failed{scenario:ramp}`, so selectors
/// written in another order or spacing share one series.
pub fn selection_key(metric: &str, filter: &[(String, String)]) -> String {
    let mut pairs: Vec<String> = filter.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    pairs.sort();
    format!("{metric}{{{}}}", pairs.join(","))
}

/// One planned stage, for marking charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageMark {
    pub scenario: String,
    /// Planned start and end, ms since the test started.
    pub start_ms: u64,
    pub end_ms: u64,
    /// What the stage does, e.g. `ramp to 20 VUs`, `50 iterations/s`.
    pub label: String,
    /// The planned load from the stage's start to its end, for breaking
    /// points. Absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<StageLoad>,
}

/// A stage's planned load, changing linearly from `from` to `to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageLoad {
    pub from: f64,
    pub to: f64,
    /// `VUs`, or `iterations/s` for arrival-rate executors.
    pub unit: String,
}

/// What happened during `[start_ms, start_ms + duration_ms)` of test time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    pub start_ms: u64,
    pub duration_ms: u64,
    /// Every metric with samples in the interval, all its series merged.
    pub metrics: BTreeMap<String, IntervalValue>,
    /// HTTP requests per endpoint (`name` and `method` tags), sorted.
    pub endpoints: Vec<EndpointInterval>,
    /// Failed requests (`http_req_failed`) per endpoint, status and
    /// error code, sorted.
    pub errors: Vec<ErrorInterval>,
    /// The series a time-window threshold or a breaking point selects with
    /// a tag filter, merged, keyed by [`selection_key`]: the per-metric
    /// values above have no tags left to filter on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selections: BTreeMap<String, IntervalValue>,
}

/// A metric's value over one bucket. Rates keep `trues` and `total` so
/// windows add up exactly (for `http_req_failed`, `trues` are failures).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum IntervalValue {
    Counter {
        count: f64,
    },
    /// `value` is the last one set in the interval.
    Gauge {
        value: f64,
        min: f64,
        max: f64,
    },
    Rate {
        trues: u64,
        total: u64,
    },
    Trend(TrendInterval),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointInterval {
    pub name: String,
    pub method: String,
    pub requests: u64,
    pub failures: u64,
    pub bytes_received: f64,
    /// `http_req_duration` of this endpoint's requests.
    pub duration: TrendInterval,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorInterval {
    pub name: String,
    pub method: String,
    /// `status` tag (`0` when no response came).
    pub status: String,
    /// `error_code` tag; empty when the series has none.
    pub error_code: String,
    pub count: u64,
}

impl Timeline {
    /// Requests per second in each bucket (all endpoints), with the bucket's
    /// start in seconds.
    pub fn request_rates(&self) -> Vec<(f64, f64)> {
        self.buckets
            .iter()
            .map(|b| (b.start_ms as f64 / 1000.0, b.request_rate()))
            .collect()
    }
}
