//! Prometheus remote-write 1.0 output: snappy-compressed protobuf
//! `WriteRequest`s POSTed to a receiver (Prometheus with
//! `--web.enable-remote-write-receiver`, Mimir, Grafana Cloud, Thanos,
//! VictoriaMetrics, ...).
//!
//! - [`proto`]: the wire messages, derived by hand with prost.
//! - [`native`]: HDR histogram → native (exponential) histogram.
//! - [`naming`]: series names and labels (`naming=stampede|k6`).
//! - [`options`]: `trend_stats`, `trend_stats_window`, `histograms`, `naming`, `stale_markers`,
//!   `histogram_schema`.
//! - [`encoder`]: snapshots → time series → request bodies (pure).
//! - `sink`: push interval, stale markers, delivery.

pub mod encoder;
pub mod naming;
pub mod native;
pub mod options;
pub mod proto;
mod sink;

use http::{HeaderMap, HeaderName, HeaderValue};

pub use encoder::RemoteWriteEncoder;
pub use options::{HistogramMode, Naming, RemoteWriteOptions, TrendStat, TrendStatsWindow};
pub use sink::{RemoteWriteSink, TEST_END_METRIC, TEST_START_METRIC, THRESHOLD_METRIC};

use crate::metrics::Sink;
use crate::output::{Delivery, OutputConfigError, OutputContext, OutputSpec};

pub const CONTENT_TYPE: &str = "application/x-protobuf";
pub const CONTENT_ENCODING: &str = "snappy";
pub const VERSION_HEADER: &str = "x-prometheus-remote-write-version";
pub const VERSION: &str = "0.1.0";

/// Builds the remote-write sink for `spec` (target: the receiver's write
/// URL, e.g. `http://127.0.0.1:9090/api/v1/write`).
pub fn build(spec: &OutputSpec, ctx: &OutputContext) -> Result<Box<dyn Sink>, OutputConfigError> {
    let options = RemoteWriteOptions::from_spec(spec)?;
    let mut extra = HeaderMap::new();
    extra.insert(
        HeaderName::from_static(VERSION_HEADER),
        HeaderValue::from_static(VERSION),
    );
    let delivery = Delivery::new(
        spec,
        &spec.target,
        CONTENT_TYPE,
        Some(CONTENT_ENCODING),
        extra,
    )?;
    let encoder = RemoteWriteEncoder::new(options, ctx.registry.clone(), ctx.testid.clone());
    Ok(Box::new(RemoteWriteSink::new(
        spec.display_name(),
        encoder,
        delivery,
        &spec.common,
        ctx.testid.clone(),
    )))
}
