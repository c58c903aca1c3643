//! Metric model, per-thread recording, aggregation into snapshots, thresholds
//! and the end-of-test summary.

mod metric;
pub mod sink;
mod snapshot;
mod summary;
mod tags;
pub mod threshold;

pub use metric::{
    MetricDef, MetricError, MetricId, MetricKind, MetricRegistry, ValueType, builtin,
};
pub use sink::{Sink, SinkError, SinkFuture};
pub use snapshot::{SeriesPoint, SeriesValue, Snapshot, TrendValue};
pub use summary::{MetricSummary, RunEnd, Summary, ThresholdOutcome};
pub use tags::{TagInterner, TagSet, TagSetId};
pub use threshold::Threshold;
