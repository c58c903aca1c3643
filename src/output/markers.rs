//! Run markers every backend gets besides the measurements: when the test
//! started and ended, and how each threshold came out. Dashboards draw the
//! start and end as annotations and list the threshold results; a
//! `testid` alone says nothing about when a run happened.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::metrics::ThresholdMark;
use crate::metrics::{Snapshot, Summary, ThresholdVerdict};

/// What is known of the run from its snapshots.
#[derive(Clone, Debug, Default)]
pub struct RunMarkers {
    start: Option<SystemTime>,
    instance: Option<String>,
}

impl RunMarkers {
    /// Takes the start time (snapshot time minus elapsed) and the
    /// `instance` tag from the first snapshot that carries them.
    pub fn observe(&mut self, snapshot: &Snapshot) {
        if self.start.is_none() {
            self.start = snapshot.time.checked_sub(snapshot.elapsed);
        }
        if self.instance.is_none() {
            self.instance = snapshot
                .series
                .iter()
                .find_map(|p| p.tags.get("instance").map(str::to_string));
        }
    }

    /// When the test started (from the first snapshot).
    pub fn start(&self) -> Option<SystemTime> {
        self.start
    }

    /// The run's `instance` tag, when it has one.
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }
}

/// When the last VU stopped.
pub fn end_time(summary: &Summary) -> SystemTime {
    summary.started_at + summary.duration
}

/// Every judged threshold's outcome, in the order they were declared.
/// Skipped thresholds (scenario not selected) are left out, as they are
/// from every snapshot: a `passed` series of 0 or 1 would claim a verdict
/// the run never reached.
pub fn threshold_marks(summary: &Summary) -> Vec<ThresholdMark> {
    summary
        .thresholds
        .iter()
        .filter(|t| t.verdict != ThresholdVerdict::Skipped)
        .map(|t| ThresholdMark {
            metric: t.threshold.selector.source.clone(),
            threshold: t.threshold.expr.source.clone(),
            passed: t.verdict == ThresholdVerdict::Passed,
        })
        .collect()
}

/// Seconds since the Unix epoch, with sub-second precision.
pub fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

/// Nanoseconds since the Unix epoch.
pub fn unix_nanos(time: SystemTime) -> u64 {
    let d = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
