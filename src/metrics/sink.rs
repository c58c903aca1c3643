//! The edge where outputs plug in. A sink receives every interval snapshot on
//! its own task through a bounded queue; a sink that falls behind loses
//! snapshots (counted), it never slows the VUs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::snapshot::Snapshot;
use super::summary::Summary;

pub type SinkFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SinkError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Worth trying again later (network error, 5xx, 429).
    #[error("{0}")]
    Retryable(String),
    /// The backend refused this data (a 4xx other than 401/403/408/429);
    /// it was dropped, later data is still offered.
    #[error("{0}")]
    Rejected(String),
    /// Will not succeed by retrying (bad credentials): the sink gets nothing more.
    #[error("{0}")]
    Fatal(String),
}

/// Counts of points (samples or series values) an output delivered, sent
/// again after a failure, and lost. Shared between the sink's task and the
/// summary.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    sent: AtomicU64,
    retried: AtomicU64,
    dropped: AtomicU64,
    /// Points held for delivery right now (lost if the sink is stopped).
    pending: AtomicU64,
    /// Points the sink encoded and holds until its next push, not yet
    /// handed to the delivery (lost too if the sink is stopped).
    staged: AtomicU64,
}

impl DeliveryStats {
    pub fn add_sent(&self, points: u64) {
        self.sent.fetch_add(points, Ordering::Relaxed);
    }
    /// Points of a failed attempt that stay queued for another.
    pub fn add_retried(&self, points: u64) {
        self.retried.fetch_add(points, Ordering::Relaxed);
    }
    /// Points that will never be delivered (buffer full, refused, end of run).
    pub fn add_dropped(&self, points: u64) {
        self.dropped.fetch_add(points, Ordering::Relaxed);
    }
    /// How many points the sink holds for delivery at the moment.
    pub fn set_pending(&self, points: u64) {
        self.pending.store(points, Ordering::Relaxed);
    }
    /// How many encoded points the sink holds until its next push.
    pub fn set_staged(&self, points: u64) {
        self.staged.store(points, Ordering::Relaxed);
    }
    /// The sink was stopped: what it still held is lost.
    pub fn abandon_pending(&self) {
        let left = self.pending.swap(0, Ordering::Relaxed) + self.staged.swap(0, Ordering::Relaxed);
        self.add_dropped(left);
    }
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// An output of measurements.
pub trait Sink: Send + 'static {
    /// Short name for messages and the summary, e.g. `prometheus-rw`.
    fn name(&self) -> &str;
    /// Called once per interval, in order.
    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_>;
    /// Called once at the end with the final summary; flushes what is buffered.
    fn finish(&mut self, summary: Arc<Summary>) -> SinkFuture<'_>;
    /// Checks before the test starts that the destination is reachable
    /// (endpoint accepts connections, file can be created). The default has
    /// nothing to check.
    fn health_check(&mut self) -> SinkFuture<'_> {
        Box::pin(async { Ok(()) })
    }
    /// Abort the run when the health check fails (`required: true`),
    /// instead of warning.
    fn required(&self) -> bool {
        false
    }
    /// Whether this sink needs every raw sample (`Snapshot::samples`):
    /// per-request InfluxDB points, JSON and CSV files. When any sink does,
    /// the recorder keeps them (bounded per interval).
    fn wants_samples(&self) -> bool {
        false
    }
    /// Points sent, retried and dropped, when the sink counts them.
    fn delivery_stats(&self) -> Option<Arc<DeliveryStats>> {
        None
    }
}
