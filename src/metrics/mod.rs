//! Metric model, per-thread recording, aggregation into snapshots, thresholds
//! and the end-of-test summary.
//!
//! VUs record into a [`Recorder`] (per-thread shards, no message per
//! request); the engine's flush loop calls [`Aggregator::flush`] once per
//! interval and hands the [`Snapshot`] to a [`SinkSet`]; at the end
//! [`Aggregator::summary`] builds the [`Summary`] with thresholds judged.

mod aggregator;
pub mod generator;
mod histogram;
mod metric;
mod recorder;
mod series_state;
mod shard;
pub mod sink;
mod sink_set;
mod snapshot;
mod summary;
mod tags;
pub mod threshold;
mod threshold_eval;
pub mod threshold_time;

pub use aggregator::Aggregator;
pub use generator::{GeneratorHealth, GeneratorMonitor, GeneratorReading};
pub use histogram::{
    MAX_MICROS, SIGNIFICANT_DIGITS, deserialize_histogram, display_to_micros, micros_to_display,
    new_histogram, serialize_histogram,
};
pub use metric::{
    MetricDef, MetricError, MetricId, MetricKind, MetricRegistry, ValueType, builtin,
};
pub use recorder::{Batch, DEFAULT_RAW_SAMPLE_LIMIT, HttpSample, Recorder};
pub use sink::{DeliveryStats, Sink, SinkError, SinkFuture};
pub use sink_set::{PointCounts, SINK_QUEUE_CAPACITY, SinkReport, SinkSet};
pub use snapshot::{
    RawSample, RawValue, SampleBatch, SeriesPoint, SeriesValue, Snapshot, ThresholdMark, TrendValue,
};
pub use summary::{MetricSummary, RunEnd, Summary, ThresholdOutcome, ThresholdVerdict, TimeDetail};
pub use tags::{TagInterner, TagSet, TagSetId};
pub use threshold::Threshold;
pub use threshold_eval::{
    aggregation_applies, evaluate_threshold, observe, observe_kind, statistic,
};
