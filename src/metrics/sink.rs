//! The edge where outputs plug in. A sink receives every interval snapshot on
//! its own task through a bounded queue; a sink that falls behind loses
//! snapshots (counted), it never slows the VUs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::snapshot::Snapshot;
use super::summary::Summary;

pub type SinkFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SinkError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Worth trying again later (network error, 5xx, 429).
    #[error("{0}")]
    Retryable(String),
    /// Will not succeed by retrying (bad credentials, bad request).
    #[error("{0}")]
    Fatal(String),
}

/// An output of measurements.
pub trait Sink: Send + 'static {
    /// Short name for messages and the summary, e.g. `prometheus-rw`.
    fn name(&self) -> &str;
    /// Called once per interval, in order.
    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_>;
    /// Called once at the end with the final summary; flushes what is buffered.
    fn finish(&mut self, summary: Arc<Summary>) -> SinkFuture<'_>;
}
