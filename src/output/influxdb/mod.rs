//! InfluxDB output: line protocol to the v2 API (`/api/v2/write`, token,
//! org, bucket) or v1 (`/write?db=`, database created when missing).
//!
//! Line protocol is written by hand ([`line`]) and sent through the shared
//! [`Delivery`](crate::output::Delivery) rather than the `influxdb2` crate,
//! which brings a second HTTP stack (reqwest) with its own TLS setup,
//! connection pool and retry policy (see docs/outputs/influxdb.md).

mod aggregate;
mod config;
mod line;
mod markers;
mod points;
mod sink;

pub use aggregate::{IntervalSeries, encode_series};
pub use config::{Api, DEFAULT_TOKEN_ENV, InfluxConfig, KNOWN_OPTIONS, Mode};
pub use points::{LineBatch, PointEncoder};
pub use sink::InfluxSink;

use crate::metrics::Sink;
use crate::output::{OutputConfigError, OutputContext, OutputSpec};

/// Builds the InfluxDB sink for `spec` (`--out influxdb=URL`).
pub fn build(spec: &OutputSpec, ctx: &OutputContext) -> Result<Box<dyn Sink>, OutputConfigError> {
    Ok(Box::new(InfluxSink::new(spec, ctx)?))
}
