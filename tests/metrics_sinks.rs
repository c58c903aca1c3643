//! SinkSet: one task and one bounded queue per sink.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use stampede::metrics::{
    DeliveryStats, PointCounts, RunEnd, SINK_QUEUE_CAPACITY, Sink, SinkError, SinkFuture,
    SinkReport, SinkSet, Snapshot, Summary,
};
use tokio::sync::{Semaphore, mpsc};

/// What a test sink saw: snapshot `elapsed` seconds in order, and the summary's duration.
#[derive(Default)]
struct Seen {
    snapshots: Vec<u64>,
    summary: Option<Duration>,
}

/// Writes succeed; optionally each write first waits for a permit, and
/// announces that it is waiting, so a test controls exactly how far it gets.
struct TestSink {
    name: &'static str,
    seen: Arc<Mutex<Seen>>,
    gate: Option<(Arc<Semaphore>, mpsc::UnboundedSender<()>)>,
    fail_with: Option<fn(String) -> SinkError>,
    finish_delay: Duration,
}

impl TestSink {
    fn new(name: &'static str) -> (Self, Arc<Mutex<Seen>>) {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let sink = TestSink {
            name,
            seen: seen.clone(),
            gate: None,
            fail_with: None,
            finish_delay: Duration::ZERO,
        };
        (sink, seen)
    }
}

impl Sink for TestSink {
    fn name(&self) -> &str {
        self.name
    }

    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        Box::pin(async move {
            if let Some((permits, entered)) = &self.gate {
                let _ = entered.send(());
                permits.acquire().await.unwrap().forget();
            }
            if let Some(fail) = self.fail_with {
                return Err(fail(format!(
                    "rejected snapshot {}",
                    snapshot.elapsed.as_secs()
                )));
            }
            self.seen
                .lock()
                .unwrap()
                .snapshots
                .push(snapshot.elapsed.as_secs());
            Ok(())
        })
    }

    fn finish(&mut self, summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async move {
            tokio::time::sleep(self.finish_delay).await;
            self.seen.lock().unwrap().summary = Some(summary.duration);
            Ok(())
        })
    }
}

fn snapshot(second: u64) -> Arc<Snapshot> {
    Arc::new(Snapshot {
        time: SystemTime::UNIX_EPOCH + Duration::from_secs(second),
        elapsed: Duration::from_secs(second),
        interval: Duration::from_secs(1),
        series: Vec::new(),
        samples: None,
        thresholds: Vec::new(),
    })
}

fn summary() -> Arc<Summary> {
    Arc::new(Summary {
        started_at: SystemTime::UNIX_EPOCH,
        duration: Duration::from_secs(42),
        metrics: Vec::new(),
        thresholds: Vec::new(),
        end: RunEnd::Completed,
        generator: None,
        breaking_points: Vec::new(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sink_drops_and_counts_while_a_normal_one_gets_everything_in_order() {
    let (normal, normal_seen) = TestSink::new("normal");
    let (mut slow, slow_seen) = TestSink::new("slow");
    let permits = Arc::new(Semaphore::new(0));
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    slow.gate = Some((permits.clone(), entered_tx));
    let sinks = SinkSet::start(vec![Box::new(normal), Box::new(slow)]);

    // The slow sink takes snapshot 0 and blocks inside write.
    sinks.publish(snapshot(0));
    entered.recv().await.unwrap();
    // Its queue now holds 8 more; the other 12 are dropped. The normal sink
    // keeps up because we wait for it between publishes.
    for second in 1..=20 {
        sinks.publish(snapshot(second));
        wait_until(|| normal_seen.lock().unwrap().snapshots.len() == second as usize + 1).await;
    }
    assert_eq!(sinks.dropped(), 12);
    permits.add_permits(1000);

    let reports = sinks.finish(summary(), Duration::from_secs(10)).await;
    assert_eq!(
        reports,
        [
            SinkReport {
                name: "normal".into(),
                snapshots_written: 21,
                snapshots_dropped: 0,
                errors: vec![],
                points: None,
            },
            SinkReport {
                name: "slow".into(),
                snapshots_written: 1 + SINK_QUEUE_CAPACITY as u64,
                snapshots_dropped: 12,
                errors: vec![],
                points: None,
            },
        ]
    );
    let normal = normal_seen.lock().unwrap();
    assert_eq!(normal.snapshots, (0..=20).collect::<Vec<u64>>());
    assert_eq!(normal.summary, Some(Duration::from_secs(42)));
    let slow = slow_seen.lock().unwrap();
    assert_eq!(slow.snapshots, (0..=8).collect::<Vec<u64>>());
    assert_eq!(slow.summary, Some(Duration::from_secs(42)));
}

#[tokio::test]
async fn finish_drains_the_queue_before_the_summary() {
    let (sink, seen) = TestSink::new("file");
    let sinks = SinkSet::start(vec![Box::new(sink)]);
    // On a current-thread runtime the sink task has not run yet: all 5 are queued.
    for second in 0..5 {
        sinks.publish(snapshot(second));
    }
    let reports = sinks.finish(summary(), Duration::from_secs(5)).await;
    assert_eq!(
        (reports[0].snapshots_written, reports[0].snapshots_dropped),
        (5, 0)
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.snapshots, [0, 1, 2, 3, 4]);
    assert_eq!(seen.summary, Some(Duration::from_secs(42)));
}

#[tokio::test]
async fn write_errors_are_reported_and_a_fatal_one_stops_the_sink() {
    let (mut retryable, _) = TestSink::new("flaky");
    retryable.fail_with = Some(SinkError::Retryable);
    let (mut fatal, fatal_seen) = TestSink::new("bad-auth");
    fatal.fail_with = Some(SinkError::Fatal);
    let sinks = SinkSet::start(vec![Box::new(retryable), Box::new(fatal)]);
    for second in 0..3 {
        sinks.publish(snapshot(second));
    }
    let reports = sinks.finish(summary(), Duration::from_secs(5)).await;
    assert_eq!(
        reports,
        [
            SinkReport {
                name: "flaky".into(),
                snapshots_written: 0,
                snapshots_dropped: 0,
                errors: vec![
                    "write: rejected snapshot 0".into(),
                    "write: rejected snapshot 1".into(),
                    "write: rejected snapshot 2".into(),
                ],
                points: None,
            },
            SinkReport {
                name: "bad-auth".into(),
                snapshots_written: 0,
                snapshots_dropped: 2,
                errors: vec!["write: rejected snapshot 0".into()],
                points: None,
            },
        ]
    );
    // finish is still called so the sink can release what it holds.
    assert_eq!(
        fatal_seen.lock().unwrap().summary,
        Some(Duration::from_secs(42))
    );
}

#[tokio::test]
async fn a_sink_that_does_not_finish_in_time_is_stopped() {
    let (mut stuck, seen) = TestSink::new("stuck");
    stuck.finish_delay = Duration::from_secs(3600);
    let sinks = SinkSet::start(vec![Box::new(stuck)]);
    sinks.publish(snapshot(0));
    let reports = sinks.finish(summary(), Duration::from_millis(100)).await;
    assert_eq!(reports[0].snapshots_written, 1);
    assert_eq!(reports[0].errors, ["did not finish within 0.1s; stopped"]);
    assert_eq!(seen.lock().unwrap().summary, None);
}

async fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("condition not reached within 2 s");
}

/// Encodes 10 points per snapshot, like a network output, and has them
/// dropped once its delivery was refused for good (as the delivery does).
struct SeriesSink {
    stats: Arc<DeliveryStats>,
    refused: bool,
    writes: Arc<Mutex<u64>>,
}

impl Sink for SeriesSink {
    fn name(&self) -> &str {
        "remote"
    }

    fn write(&mut self, _snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        Box::pin(async move {
            *self.writes.lock().unwrap() += 1;
            self.stats.add_dropped(10);
            if std::mem::replace(&mut self.refused, true) {
                return Ok(());
            }
            Err(SinkError::Fatal("HTTP 401: check the credentials".into()))
        })
    }

    fn finish(&mut self, _summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async { Ok(()) })
    }

    fn delivery_stats(&self) -> Option<Arc<DeliveryStats>> {
        Some(self.stats.clone())
    }
}

#[tokio::test]
async fn after_a_fatal_error_a_sink_counting_series_points_still_sees_every_snapshot() {
    let writes = Arc::new(Mutex::new(0));
    let sink = SeriesSink {
        stats: Arc::new(DeliveryStats::default()),
        refused: false,
        writes: writes.clone(),
    };
    let sinks = SinkSet::start(vec![Box::new(sink)]);
    for second in 0..4 {
        sinks.publish(snapshot(second));
    }
    let reports = sinks.finish(summary(), Duration::from_secs(5)).await;
    // Every snapshot is encoded, so all 40 points it made are counted as
    // lost, not only the 10 of the refused request; the snapshots after
    // the 401 still count as dropped ones.
    assert_eq!(*writes.lock().unwrap(), 4);
    assert_eq!(
        reports,
        [SinkReport {
            name: "remote".into(),
            snapshots_written: 0,
            snapshots_dropped: 3,
            errors: vec!["write: HTTP 401: check the credentials".into()],
            points: Some(PointCounts {
                sent: 0,
                retried: 0,
                dropped: 40
            }),
        }]
    );
}

/// Holds 5 points in its delivery and 7 encoded for its next push, and
/// never finishes.
struct HoldingSink {
    stats: Arc<DeliveryStats>,
}

impl Sink for HoldingSink {
    fn name(&self) -> &str {
        "holding"
    }

    fn write(&mut self, _snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        Box::pin(async move {
            self.stats.set_pending(5);
            self.stats.set_staged(7);
            Ok(())
        })
    }

    fn finish(&mut self, _summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(std::future::pending())
    }

    fn delivery_stats(&self) -> Option<Arc<DeliveryStats>> {
        Some(self.stats.clone())
    }
}

#[tokio::test]
async fn a_sink_stopped_at_the_end_loses_what_it_held_and_what_it_staged() {
    let sink = HoldingSink {
        stats: Arc::new(DeliveryStats::default()),
    };
    let sinks = SinkSet::start(vec![Box::new(sink)]);
    sinks.publish(snapshot(0));
    let reports = sinks.finish(summary(), Duration::from_millis(100)).await;
    assert_eq!(reports[0].errors, ["did not finish within 0.1s; stopped"]);
    assert_eq!(
        reports[0].points,
        Some(PointCounts {
            sent: 0,
            retried: 0,
            dropped: 12
        })
    );
}
