//! The end-of-test result: cumulative values of every series, threshold
//! outcomes and how the run ended. Report renderers and the summary JSON read
//! only this type.

use std::time::{Duration, SystemTime};

use super::generator::GeneratorHealth;
use super::metric::{MetricId, MetricKind, ValueType};
use super::snapshot::SeriesValue;
use super::tags::TagSet;
use super::threshold::Threshold;

#[derive(Clone, Debug)]
pub struct MetricSummary {
    pub id: MetricId,
    pub name: String,
    pub kind: MetricKind,
    pub contains: ValueType,
    /// All series of this metric merged (histograms merged exactly).
    pub total: SeriesValue,
    /// Each tag combination on its own, sorted by tags.
    pub series: Vec<(TagSet, SeriesValue)>,
}

#[derive(Clone, Debug)]
pub struct ThresholdOutcome {
    pub threshold: Threshold,
    /// The statistic's value over the matching series; `None` when no
    /// sample matched (a counter without samples is `Some(0.0)`) or when
    /// the threshold was skipped.
    pub observed: Option<f64>,
    pub verdict: ThresholdVerdict,
    /// For a time criterion: where on the timeline its figure comes from.
    pub detail: Option<TimeDetail>,
}

/// How a time criterion came out, beyond its one figure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimeDetail {
    /// One line for people, e.g. `worst 30 s window 40 s–70 s; 38 of 41
    /// windows passed`.
    pub text: String,
    pub windows_judged: Option<u64>,
    pub windows_passed: Option<u64>,
    /// The window the figure comes from, ms of test time.
    pub window: Option<(u64, u64)>,
    /// A breaking point's planned load, with its unit (`VUs`, `iterations/s`).
    pub load_unit: Option<String>,
}

/// How a threshold came out at the end of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdVerdict {
    Passed,
    /// Crossed, or no value to judge (a trend, rate or gauge without
    /// samples): fails the run.
    Failed,
    /// Not judged: its selector names a scenario `--scenario` did not
    /// select. Does not fail the run.
    Skipped,
}

impl ThresholdVerdict {
    /// `passed`, `failed` or `skipped`, as the summary JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdVerdict::Passed => "passed",
            ThresholdVerdict::Failed => "failed",
            ThresholdVerdict::Skipped => "skipped",
        }
    }
}

/// How the run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunEnd {
    Completed,
    /// A threshold with `abort_on_fail` failed; holds its text, e.g. `http_req_failed: rate<0.01`.
    AbortedByThreshold(String),
    /// SIGINT or SIGTERM.
    Interrupted,
}

#[derive(Clone, Debug)]
pub struct Summary {
    pub started_at: SystemTime,
    /// Wall time from the first VU starting to the last one stopping.
    pub duration: Duration,
    /// Metrics that received at least one sample, in registry order.
    pub metrics: Vec<MetricSummary>,
    pub thresholds: Vec<ThresholdOutcome>,
    pub end: RunEnd,
    /// stampede's own CPU and memory over the run; `None` where they cannot
    /// be read (not Linux).
    pub generator: Option<GeneratorHealth>,
    /// Where each ramping scenario's load first broke the default bounds,
    /// found on the run's timeline (empty without one).
    pub breaking_points: Vec<crate::timeline::BreakingPoint>,
}

impl Summary {
    pub fn metric(&self, name: &str) -> Option<&MetricSummary> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// No threshold failed; skipped thresholds do not count against the run.
    pub fn thresholds_passed(&self) -> bool {
        self.thresholds
            .iter()
            .all(|t| t.verdict != ThresholdVerdict::Failed)
    }

    /// `(failed, made)` when requests were made and every one of them
    /// failed (`http_req_failed` is 100 %): a target that never answered,
    /// refused every connection, or answered only with failures. `None`
    /// when no request was made or at least one succeeded.
    pub fn no_request_succeeded(&self) -> Option<(u64, u64)> {
        let failed = self
            .metrics
            .iter()
            .find(|m| m.id == super::metric::builtin::HTTP_REQ_FAILED)?;
        match failed.total {
            SeriesValue::Rate { trues, total } if total > 0 && trues == total => {
                Some((trues, total))
            }
            _ => None,
        }
    }
}
