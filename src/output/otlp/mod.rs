//! OTLP metrics output (`--out otlp=URL`): HTTP/protobuf or gRPC, explicit
//! or exponential histograms, cumulative or delta temporality.
//!
//! stampede aggregates on its own (HDR histograms per interval and since
//! the start), so it sends OTLP messages built from the OpenTelemetry
//! project's generated types (`opentelemetry-proto`) rather than through
//! the SDK's instruments, which would aggregate every sample a second time
//! (docs/outputs/otlp.md records why).

pub mod buckets;
pub mod config;
pub mod encode;
pub mod grpc;
pub mod layout;
pub mod sink;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

pub use config::{HistogramMode, OtlpConfig, Protocol, Temporality};
pub use encode::{Batch, Encoder, PushTimes, SeriesEntry};
pub use sink::OtlpSink;

use crate::metrics::Sink;
use crate::output::{Delivery, OutputConfigError, OutputContext, OutputSpec};
use sink::{SinkTiming, Transport};

/// Content type of OTLP/HTTP protobuf bodies.
pub const CONTENT_TYPE: &str = "application/x-protobuf";

/// Builds the OTLP sink for `spec`, reading the standard `OTEL_EXPORTER_OTLP_*`
/// variables from the process environment.
pub fn build(spec: &OutputSpec, ctx: &OutputContext) -> Result<Box<dyn Sink>, OutputConfigError> {
    build_with_env(spec, ctx, &|name| std::env::var(name).ok())
}

/// [`build`] with the environment given (tests).
pub fn build_with_env(
    spec: &OutputSpec,
    ctx: &OutputContext,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn Sink>, OutputConfigError> {
    let config = config::parse(spec, env)?;
    let transport = match config.protocol {
        Protocol::HttpProtobuf => {
            let mut extra = HeaderMap::new();
            for (name, value) in &config.headers {
                let bad = |message: String| OutputConfigError::BadOption {
                    origin: spec.origin.clone(),
                    key: "OTEL_EXPORTER_OTLP_HEADERS".into(),
                    message,
                };
                let header = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| bad(format!("invalid header name {name:?}")))?;
                let mut value = HeaderValue::from_str(value.expose())
                    .map_err(|_| bad(format!("{name}: value has characters not allowed")))?;
                value.set_sensitive(true);
                extra.insert(header, value);
            }
            Transport::Http {
                delivery: Box::new(Delivery::new(
                    spec,
                    &config.endpoint,
                    CONTENT_TYPE,
                    None,
                    extra,
                )?),
            }
        }
        Protocol::Grpc => Transport::Grpc(Box::new(grpc::GrpcDelivery::new(
            spec,
            &config.endpoint,
            &config.headers,
        )?)),
    };
    let encoder = Encoder::new(
        ctx.registry.clone(),
        ctx.testid.clone(),
        config.temporality,
        config.histograms,
        spec.common.batch_size,
    )
    .with_resource_attributes(config.resource_attributes);
    let timing = SinkTiming {
        push_interval: spec.common.push_interval,
        timeout: spec.common.timeout,
        flush_timeout: spec.common.flush_timeout,
        required: spec.common.required,
    };
    Ok(Box::new(OtlpSink::new(
        spec.display_name(),
        encoder,
        transport,
        timing,
    )))
}
