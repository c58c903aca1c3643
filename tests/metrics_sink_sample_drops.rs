//! A sink that writes raw samples and cannot keep up: the samples of every
//! snapshot it misses, and of what it still holds when it is stopped, are
//! counted as dropped points — exactly.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stampede::metrics::{
    DeliveryStats, MetricId, RawSample, RawValue, RunEnd, SINK_QUEUE_CAPACITY, SampleBatch, Sink,
    SinkFuture, SinkSet, Snapshot, Summary, TagSetId,
};
use stampede::protocol::http::Timings;
use tokio::sync::Semaphore;

/// Takes one snapshot, then blocks in `write` until the test is over.
struct StuckSampleSink {
    stats: Arc<DeliveryStats>,
    gate: Arc<Semaphore>,
}

impl Sink for StuckSampleSink {
    fn name(&self) -> &str {
        "stuck"
    }
    fn write(&mut self, _snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        Box::pin(async move {
            // Holds 7 points of its own, as if buffered for delivery.
            self.stats.set_pending(7);
            self.gate.acquire().await.unwrap().forget();
            Ok(())
        })
    }
    fn finish(&mut self, _summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async { Ok(()) })
    }
    fn wants_samples(&self) -> bool {
        true
    }
    fn delivery_stats(&self) -> Option<Arc<DeliveryStats>> {
        Some(self.stats.clone())
    }
}

/// A snapshot with `http` exchanges (11 points each) and `values` plain samples.
fn snapshot(second: u64, http: usize, values: usize) -> Arc<Snapshot> {
    let mut samples = Vec::new();
    for _ in 0..http {
        samples.push(RawSample {
            time_ns: second * 1_000_000_000,
            value: RawValue::Http {
                tags: TagSetId(0),
                timings: Timings::default(),
                failed: false,
                bytes_sent: 10,
                bytes_received: 20,
            },
        });
    }
    for _ in 0..values {
        samples.push(RawSample {
            time_ns: second * 1_000_000_000,
            value: RawValue::Value {
                metric: MetricId(11),
                tags: TagSetId(0),
                value: 1.0,
            },
        });
    }
    Arc::new(Snapshot {
        time: SystemTime::UNIX_EPOCH + Duration::from_secs(second),
        elapsed: Duration::from_secs(second),
        interval: Duration::from_secs(1),
        series: Vec::new(),
        samples: Some(Arc::new(SampleBatch {
            samples,
            dropped: 0,
        })),
        thresholds: Vec::new(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_and_abandoned_samples_are_dropped_points() {
    let stats = Arc::new(DeliveryStats::default());
    let gate = Arc::new(Semaphore::new(0));
    let sinks = SinkSet::start(vec![Box::new(StuckSampleSink {
        stats: stats.clone(),
        gate,
    })]);
    // The first snapshot is taken (the sink blocks in write), the next
    // SINK_QUEUE_CAPACITY wait in the queue, the rest are missed.
    sinks.publish(snapshot(0, 1, 0));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let total = 20u64;
    for second in 1..=total {
        sinks.publish(snapshot(second, 2, 3)); // 2 × 11 + 3 = 25 points
    }
    let missed = total - SINK_QUEUE_CAPACITY as u64;
    assert_eq!(stats.dropped(), missed * 25);

    let summary = Arc::new(Summary {
        started_at: SystemTime::UNIX_EPOCH,
        duration: Duration::from_secs(21),
        metrics: Vec::new(),
        thresholds: Vec::new(),
        end: RunEnd::Completed,
        generator: None,
        breaking_points: Vec::new(),
    });
    let reports = sinks.finish(summary, Duration::from_millis(300)).await;
    // Stopped: the queued snapshots and the 7 points it held are lost too.
    let queued = SINK_QUEUE_CAPACITY as u64 * 25;
    assert_eq!(stats.dropped(), missed * 25 + queued + 7);
    let points = reports[0].points.unwrap();
    assert_eq!((points.sent, points.dropped), (0, missed * 25 + queued + 7));
    assert_eq!(reports[0].snapshots_dropped, missed);
}
