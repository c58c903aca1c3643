//! When a periodic network output (remote-write, OTLP, InfluxDB) encodes and
//! pushes: every `push_interval` of run time, counted on the snapshots the
//! engine takes every second, like k6's `PeriodicFlusher`. One schedule for
//! every such output, so a 5 s push means the same five snapshots whichever
//! output sends them. Sending itself never waits in the sink's task (see
//! [`QueueSender`](super::sender::QueueSender)); the final push at the end
//! of the run is the sink's `finish`, whatever the schedule says.

use std::time::Duration;

use crate::metrics::Snapshot;

/// Decides which snapshots close a push interval.
#[derive(Clone, Debug)]
pub struct PushSchedule {
    push_interval: Duration,
    /// Run time (`Snapshot::elapsed`) of the last push.
    last_push: Option<Duration>,
}

impl PushSchedule {
    pub fn new(push_interval: Duration) -> Self {
        PushSchedule {
            push_interval,
            last_push: None,
        }
    }

    pub fn push_interval(&self) -> Duration {
        self.push_interval
    }

    /// Whether `snapshot` closes a push interval; when it does, the next
    /// interval starts at it.
    pub fn due(&mut self, snapshot: &Snapshot) -> bool {
        self.due_at(snapshot.elapsed, snapshot.interval)
    }

    /// [`due`](Self::due) for a snapshot taken at run time `elapsed` after
    /// `snapshot_interval`. Snapshots come a little late or early (the
    /// ticker is not exact), so half a snapshot interval is slack: a 5 s
    /// push on 1 s snapshots happens every fifth snapshot, never every
    /// sixth or fourth.
    pub fn due_at(&mut self, elapsed: Duration, snapshot_interval: Duration) -> bool {
        let since = match self.last_push {
            Some(at) => elapsed.saturating_sub(at),
            None => elapsed,
        };
        let due = since + snapshot_interval / 2 >= self.push_interval;
        if due {
            self.last_push = Some(elapsed);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    /// Which of `elapsed` (ms) are push times for a schedule of `interval`.
    fn pushes(interval: Duration, elapsed_ms: &[u64]) -> Vec<u64> {
        let mut schedule = PushSchedule::new(interval);
        elapsed_ms
            .iter()
            .copied()
            .filter(|&ms| schedule.due_at(Duration::from_millis(ms), SECOND))
            .collect()
    }

    #[test]
    fn five_second_pushes_take_every_fifth_snapshot_despite_jitter() {
        // Snapshots a few ms early or late, as a real ticker delivers them.
        let elapsed = [
            1_002, 1_998, 3_004, 3_999, 4_997, 6_003, 7_001, 7_996, 9_002, 9_998, 11_004,
        ];
        assert_eq!(
            pushes(Duration::from_secs(5), &elapsed),
            [4_997, 9_998],
            "every fifth snapshot, counted from the run start"
        );
    }

    #[test]
    fn a_push_interval_of_one_snapshot_or_less_pushes_every_snapshot() {
        let elapsed = [1_000, 2_001, 2_999, 4_000];
        assert_eq!(pushes(SECOND, &elapsed), elapsed);
        assert_eq!(pushes(Duration::from_millis(200), &elapsed), elapsed);
    }

    #[test]
    fn a_push_interval_longer_than_the_run_never_pushes_before_the_end() {
        let elapsed = [1_000, 2_000, 3_000];
        assert!(pushes(Duration::from_secs(30), &elapsed).is_empty());
    }

    #[test]
    fn a_late_snapshot_starts_the_next_interval_from_itself() {
        // The 2 s push came 700 ms late (a busy machine): the next one is
        // 2 s after it, not after the planned time.
        let elapsed = [1_000, 2_700, 3_700, 4_700, 5_700];
        assert_eq!(
            pushes(Duration::from_secs(2), &elapsed),
            [2_700, 4_700],
            "pushes"
        );
    }
}
