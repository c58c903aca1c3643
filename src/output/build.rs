//! One place that turns an [`OutputSpec`] into a running-ready sink: the
//! dispatch on the kind. Each kind's module owns its constructor and checks
//! its own options (`extra`).

use super::context::OutputContext;
use super::spec::{OutputConfigError, OutputKind, OutputSpec};
use crate::metrics::Sink;

/// Builds the sink of one output. Errors name the output's origin
/// (`--out #2`, `scenario.yaml:14:5`).
pub fn build_sink(
    spec: &OutputSpec,
    ctx: &OutputContext,
) -> Result<Box<dyn Sink>, OutputConfigError> {
    match spec.kind {
        OutputKind::PrometheusRw => super::prometheus_rw::build(spec, ctx),
        OutputKind::Otlp => super::otlp::build(spec, ctx),
        OutputKind::InfluxDb => super::influxdb::build(spec, ctx),
        OutputKind::Json => super::json_file::build(spec, ctx),
        OutputKind::Csv => super::csv_file::build(spec, ctx),
    }
}

/// Builds every output, in order; all errors are returned, not only the first.
pub fn build_sinks(
    specs: &[OutputSpec],
    ctx: &OutputContext,
) -> Result<Vec<Box<dyn Sink>>, Vec<OutputConfigError>> {
    let mut sinks = Vec::with_capacity(specs.len());
    let mut errors = Vec::new();
    for spec in specs {
        match build_sink(spec, ctx) {
            Ok(sink) => sinks.push(sink),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(sinks)
    } else {
        Err(errors)
    }
}
