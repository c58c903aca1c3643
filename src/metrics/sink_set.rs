//! Fan-out of interval snapshots to the sinks: one task per sink, each fed
//! through a bounded queue. Publishing never waits; a sink that falls behind
//! loses snapshots (counted in its report) instead of slowing the VUs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::recorder::lock;
use super::sink::{DeliveryStats, Sink, SinkError};
use super::snapshot::Snapshot;
use super::summary::Summary;

/// Snapshots a sink may have waiting before new ones are dropped: 8 s of
/// backlog at the default 1 s interval.
pub const SINK_QUEUE_CAPACITY: usize = 8;

/// Error messages kept per sink; later ones are only counted.
const MAX_ERRORS_KEPT: usize = 20;

/// How one sink fared over the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkReport {
    pub name: String,
    /// Snapshots the sink accepted (`write` returned `Ok`).
    pub snapshots_written: u64,
    /// Snapshots whose data the sink did not take: its queue was full, or it
    /// had stopped after a fatal error (a sink that counts the points it
    /// encodes from the series still encodes these, to count their points
    /// as dropped).
    pub snapshots_dropped: u64,
    /// Failed writes and a failed finish, oldest first (at most 20, then a
    /// line saying how many more).
    pub errors: Vec<String>,
    /// Points delivered, sent again after a failure, and lost, for sinks
    /// that count points (`None` for those that do not).
    pub points: Option<PointCounts>,
}

/// A sink's point counts at the end of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PointCounts {
    pub sent: u64,
    pub retried: u64,
    pub dropped: u64,
}

#[derive(Default)]
struct SinkStats {
    written: AtomicU64,
    dropped: AtomicU64,
    errors: Mutex<Vec<String>>,
    errors_not_kept: AtomicU64,
    delivery: Option<Arc<DeliveryStats>>,
    /// Whether the sink writes raw samples: a snapshot it never gets is
    /// then lost data, counted as dropped points.
    wants_samples: bool,
    /// Raw-sample points in snapshots queued for the sink and not yet taken.
    queued_points: AtomicU64,
}

impl SinkStats {
    fn error(&self, message: String) {
        let mut errors = lock(&self.errors);
        if errors.len() < MAX_ERRORS_KEPT {
            errors.push(message);
        } else {
            self.errors_not_kept.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The raw-sample points `snapshot` carries for this sink (0 for sinks
    /// that do not write samples).
    fn sample_points(&self, snapshot: &Snapshot) -> u64 {
        match &snapshot.samples {
            Some(batch) if self.wants_samples => batch.point_count(),
            _ => 0,
        }
    }

    /// Whether the sink counts points it encodes from the series (remote
    /// write, OTLP, InfluxDB aggregates) rather than raw samples: the set
    /// cannot count those for it.
    fn counts_series_points(&self) -> bool {
        self.delivery.is_some() && !self.wants_samples
    }

    /// Counts points the sink will never write as dropped.
    fn lose_points(&self, points: u64) {
        if let Some(d) = &self.delivery
            && points > 0
        {
            d.add_dropped(points);
        }
    }

    fn report(&self, name: String) -> SinkReport {
        let mut errors = lock(&self.errors).clone();
        let more = self.errors_not_kept.load(Ordering::Relaxed);
        if more > 0 {
            errors.push(format!("... and {more} more errors"));
        }
        SinkReport {
            name,
            snapshots_written: self.written.load(Ordering::Relaxed),
            snapshots_dropped: self.dropped.load(Ordering::Relaxed),
            errors,
            points: self.delivery.as_ref().map(|d| PointCounts {
                sent: d.sent(),
                retried: d.retried(),
                dropped: d.dropped(),
            }),
        }
    }
}

struct SinkWorker {
    name: String,
    queue: mpsc::Sender<Arc<Snapshot>>,
    summary: oneshot::Sender<Arc<Summary>>,
    stats: Arc<SinkStats>,
    task: JoinHandle<()>,
}

/// The running sinks.
pub struct SinkSet {
    workers: Vec<SinkWorker>,
}

impl std::fmt::Debug for SinkSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.workers.iter().map(|w| w.name.as_str()).collect();
        f.debug_struct("SinkSet").field("sinks", &names).finish()
    }
}

impl SinkSet {
    /// Spawns one task per sink. Must be called within a tokio runtime.
    pub fn start(sinks: Vec<Box<dyn Sink>>) -> Self {
        let workers = sinks
            .into_iter()
            .map(|sink| {
                let name = sink.name().to_string();
                let (queue, snapshots) = mpsc::channel(SINK_QUEUE_CAPACITY);
                let (summary, summary_rx) = oneshot::channel();
                let stats = Arc::new(SinkStats {
                    delivery: sink.delivery_stats(),
                    wants_samples: sink.wants_samples(),
                    ..SinkStats::default()
                });
                let task = tokio::spawn(run_sink(sink, snapshots, summary_rx, stats.clone()));
                SinkWorker {
                    name,
                    queue,
                    summary,
                    stats,
                    task,
                }
            })
            .collect();
        SinkSet { workers }
    }

    /// Queues a snapshot for every sink. Never blocks: a sink whose queue is
    /// full (or whose task has ended) does not get it, and it is counted.
    pub fn publish(&self, snapshot: Arc<Snapshot>) {
        for worker in &self.workers {
            let points = worker.stats.sample_points(&snapshot);
            if worker.queue.try_send(snapshot.clone()).is_ok() {
                worker
                    .stats
                    .queued_points
                    .fetch_add(points, Ordering::Relaxed);
            } else {
                worker.stats.lose_points(points);
                let before = worker.stats.dropped.fetch_add(1, Ordering::Relaxed);
                if before == 0 {
                    tracing::warn!(sink = %worker.name, "sink is falling behind; dropping snapshots");
                }
            }
        }
    }

    /// Snapshots dropped so far, over all sinks.
    pub fn dropped(&self) -> u64 {
        self.workers
            .iter()
            .map(|w| w.stats.dropped.load(Ordering::Relaxed))
            .sum()
    }

    /// Lets every sink write what is queued, then calls its `finish` with
    /// the summary. Sinks still busy when `timeout` runs out are stopped and
    /// their report says so. Reports come in the order the sinks were given.
    pub async fn finish(self, summary: Arc<Summary>, timeout: Duration) -> Vec<SinkReport> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut running = Vec::with_capacity(self.workers.len());
        for worker in self.workers {
            // Closing the queue ends the task's write loop once it is drained.
            drop(worker.queue);
            // A send error means the task already ended; its join says why.
            let _ = worker.summary.send(summary.clone());
            running.push((worker.name, worker.stats, worker.task));
        }
        let mut reports = Vec::with_capacity(running.len());
        for (name, stats, mut task) in running {
            match tokio::time::timeout_at(deadline, &mut task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => stats.error(format!("sink task failed: {e}")),
                Err(_) => {
                    task.abort();
                    // What it still held, queued or buffered, is lost.
                    stats.lose_points(stats.queued_points.swap(0, Ordering::Relaxed));
                    if let Some(d) = &stats.delivery {
                        d.abandon_pending();
                    }
                    stats.error(format!(
                        "did not finish within {:.1}s; stopped",
                        timeout.as_secs_f64()
                    ));
                }
            }
            reports.push(stats.report(name));
        }
        reports
    }
}

async fn run_sink(
    mut sink: Box<dyn Sink>,
    mut snapshots: mpsc::Receiver<Arc<Snapshot>>,
    summary: oneshot::Receiver<Arc<Summary>>,
    stats: Arc<SinkStats>,
) {
    let mut stopped = false;
    while let Some(snapshot) = snapshots.recv().await {
        let points = stats.sample_points(&snapshot);
        stats.queued_points.fetch_sub(points, Ordering::Relaxed);
        if stopped {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            if stats.counts_series_points() {
                // Its points are made by encoding the series; the stopped
                // delivery counts them as dropped, so the summary shows
                // every point lost, not only those queued at the 401.
                let _ = sink.write(snapshot).await;
            } else {
                stats.lose_points(points);
            }
            continue;
        }
        match sink.write(snapshot).await {
            Ok(()) => {
                stats.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(sink = %sink.name(), error = %e, "sink write failed");
                // Retrying is the sink's own policy; a fatal error will not
                // go away, so the rest of the run's snapshots are not offered.
                stopped = matches!(e, SinkError::Fatal(_));
                stats.error(format!("write: {e}"));
            }
        }
    }
    if let Ok(summary) = summary.await
        && let Err(e) = sink.finish(summary).await
    {
        tracing::warn!(sink = %sink.name(), error = %e, "sink finish failed");
        stats.error(format!("finish: {e}"));
    }
}
