//! The remote-write sink: merges snapshots between pushes, encodes a push
//! when the [`PushSchedule`] says so, and hands the bodies to the shared
//! [`Delivery`], which sends them on its own task.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::encoder::{RemoteWriteEncoder, into_payloads};
use super::naming::{base_labels, with_name};
use super::proto::{Sample, TimeSeries};
use crate::metrics::{DeliveryStats, Sink, SinkError, SinkFuture, Snapshot, Summary};
use crate::output::Delivery;
use crate::output::markers::{RunMarkers, ThresholdMark, end_time, threshold_marks, unix_seconds};
use crate::output::push_schedule::PushSchedule;

/// Gauge with the run's start as Unix seconds, in every push (dashboard
/// annotations read it; a value, not a sample time, so staleness cannot
/// move it).
pub const TEST_START_METRIC: &str = "stampede_test_start_timestamp_seconds";
/// Gauge with the run's end as Unix seconds, in the final push.
pub const TEST_END_METRIC: &str = "stampede_test_end_timestamp_seconds";
/// 1 for a threshold that passed, 0 for one that failed, in the final
/// push; labels `metric` and `threshold` hold the selector and expression.
pub const THRESHOLD_METRIC: &str = "stampede_threshold_passed";

/// Sends stampede's series to a Prometheus remote-write 1.0 endpoint.
pub struct RemoteWriteSink {
    name: String,
    encoder: RemoteWriteEncoder,
    delivery: Delivery,
    schedule: PushSchedule,
    batch_size: usize,
    flush_timeout: Duration,
    health_timeout: Duration,
    required: bool,
    /// Timestamp (ms) of the newest snapshot taken in.
    last_timestamp: i64,
    /// Timestamp of the last push, so no two pushes share one.
    last_pushed_timestamp: i64,
    /// Timestamp of the last push that carried the thresholds' running
    /// states: the end marks must not reuse it (a second value at one
    /// timestamp is refused as a duplicate sample).
    thresholds_pushed_at: Option<i64>,
    markers: RunMarkers,
    testid: String,
}

impl std::fmt::Debug for RemoteWriteSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteWriteSink")
            .field("name", &self.name)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

impl RemoteWriteSink {
    pub(super) fn new(
        name: String,
        encoder: RemoteWriteEncoder,
        delivery: Delivery,
        common: &crate::output::CommonOptions,
        testid: String,
    ) -> Self {
        RemoteWriteSink {
            name,
            encoder,
            delivery,
            schedule: PushSchedule::new(common.push_interval),
            batch_size: common.batch_size,
            flush_timeout: common.flush_timeout,
            health_timeout: common.timeout,
            required: common.required,
            last_timestamp: 0,
            last_pushed_timestamp: i64::MIN,
            thresholds_pushed_at: None,
            markers: RunMarkers::default(),
            testid,
        }
    }

    /// A gauge carrying only the run's labels (testid, job, instance) plus `extra`.
    fn run_gauge(
        &self,
        name: &str,
        extra: &[(&str, &str)],
        value: f64,
        timestamp: i64,
    ) -> TimeSeries {
        let tags = crate::metrics::TagSet::new(
            self.markers
                .instance()
                .map(|i| ("instance", i))
                .into_iter()
                .chain(extra.iter().copied()),
        );
        TimeSeries {
            labels: with_name(&base_labels(&tags, &self.testid), name),
            samples: vec![Sample { value, timestamp }],
            histograms: Vec::new(),
        }
    }

    /// One `stampede_threshold_passed` gauge per threshold (1 passed, 0 failed).
    fn threshold_series(&self, marks: &[ThresholdMark], timestamp: i64) -> Vec<TimeSeries> {
        marks
            .iter()
            .map(|mark| {
                self.run_gauge(
                    THRESHOLD_METRIC,
                    &[("metric", &mark.metric), ("threshold", &mark.threshold)],
                    f64::from(u8::from(mark.passed)),
                    timestamp,
                )
            })
            .collect()
    }

    fn start_marker(&self, timestamp: i64) -> Option<TimeSeries> {
        let start = self.markers.start()?;
        Some(self.run_gauge(TEST_START_METRIC, &[], unix_seconds(start), timestamp))
    }

    /// Encodes the current state and queues it for delivery, with the
    /// thresholds' states so far when given (during the run; the final
    /// push leaves them to the end marks, which carry the same timestamp).
    fn push(&mut self, thresholds: Option<&[ThresholdMark]>) {
        let timestamp = self
            .last_timestamp
            .max(self.last_pushed_timestamp.saturating_add(1));
        self.last_pushed_timestamp = timestamp;
        let mut series = self.encoder.series_at(timestamp);
        series.extend(self.start_marker(timestamp));
        if let Some(marks) = thresholds.filter(|m| !m.is_empty()) {
            series.extend(self.threshold_series(marks, timestamp));
            self.thresholds_pushed_at = Some(timestamp);
        }
        self.enqueue(series);
    }

    fn enqueue(&mut self, series: Vec<super::proto::TimeSeries>) {
        let (payloads, unencodable) = into_payloads(series, self.batch_size);
        if unencodable > 0 {
            self.delivery.stats().add_dropped(unencodable);
        }
        for payload in payloads {
            self.delivery.enqueue(payload);
        }
    }
}

/// Milliseconds since the Unix epoch (0 for times before it).
fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Sink for RemoteWriteSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        Box::pin(async move {
            self.encoder.observe(&snapshot);
            self.markers.observe(&snapshot);
            self.last_timestamp = unix_ms(snapshot.time);
            if self.schedule.due(&snapshot) {
                self.push(Some(&snapshot.thresholds));
            }
            // Sending happens on the delivery's task; this reports what it met.
            self.delivery.take_error().map_or(Ok(()), Err)
        })
    }

    fn finish(&mut self, summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async move {
            let deadline = Instant::now() + self.flush_timeout;
            if self.encoder.has_changes() || self.last_pushed_timestamp == i64::MIN {
                self.push(None);
            }
            let mut at = self.last_pushed_timestamp;
            if self.thresholds_pushed_at == Some(at) {
                at = at.saturating_add(1);
            }
            let mut final_marks =
                vec![self.run_gauge(TEST_END_METRIC, &[], unix_seconds(end_time(&summary)), at)];
            final_marks.extend(self.threshold_series(&threshold_marks(&summary), at));

            if self.encoder.options().stale_markers {
                // One millisecond after the last values, so the markers are
                // not duplicates of them.
                let at = self.last_pushed_timestamp.saturating_add(1);
                final_marks.extend(self.encoder.stale_markers(at));
            }
            // One request for the end marker, the threshold outcomes and
            // the stale markers.
            self.enqueue(final_marks);
            self.delivery.finish(deadline, self.flush_timeout).await
        })
    }

    fn health_check(&mut self) -> SinkFuture<'_> {
        Box::pin(async move {
            self.delivery
                .health_check(self.health_timeout)
                .await
                .map_err(SinkError::Retryable)
        })
    }

    fn required(&self) -> bool {
        self.required
    }

    fn delivery_stats(&self) -> Option<Arc<DeliveryStats>> {
        Some(self.delivery.stats())
    }
}
