//! Sends export requests over OTLP/gRPC: the same bounded buffer, backoff
//! and counts as the HTTP [`Delivery`](crate::output::Delivery), with gRPC's
//! status codes classified as the OTLP spec asks.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use tokio::time::Instant;
use tonic::Code;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::encode::Batch;
use crate::metrics::{DeliveryStats, SinkError};
use crate::output::retry::Backoff;
use crate::output::spec::{OutputConfigError, OutputSpec, Secret};

enum Attempt {
    /// Delivered; the receiver may have refused some points (partial success).
    Sent {
        rejected: u64,
        message: String,
    },
    Retry(String),
    Rejected(String),
    Fatal(String),
}

/// Delivers export requests to one gRPC endpoint. Owned by its sink's task.
pub struct GrpcDelivery {
    name: String,
    endpoint: Endpoint,
    /// Connected on first use: a channel needs the runtime, `build` may not
    /// run inside it.
    client: Option<MetricsServiceClient<Channel>>,
    url: String,
    metadata: MetadataMap,
    timeout: Duration,
    buffer_points: u64,
    pending: VecDeque<Batch>,
    pending_points: u64,
    backoff: Backoff,
    not_before: Option<Instant>,
    fatal: bool,
    failing: bool,
    stats: Arc<DeliveryStats>,
}

impl std::fmt::Debug for GrpcDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcDelivery")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl GrpcDelivery {
    /// A delivery to `url` (`http://host:4317` or `https://...`) with the
    /// spec's credentials and limits, plus `headers` from the environment.
    pub fn new(
        spec: &OutputSpec,
        url: &str,
        headers: &[(String, Secret)],
    ) -> Result<Self, OutputConfigError> {
        let common = &spec.common;
        let bad_target = |message: String| OutputConfigError::BadTarget {
            origin: spec.origin.clone(),
            message,
        };
        let bad = |key: &str, message: String| OutputConfigError::BadOption {
            origin: spec.origin.clone(),
            key: key.into(),
            message,
        };
        let mut endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| bad_target(format!("invalid gRPC URL {url:?}: {e}")))?
            .connect_timeout(common.timeout)
            .timeout(common.timeout);
        if url.starts_with("https://") {
            let mut tls = ClientTlsConfig::new().with_webpki_roots();
            if let Some(path) = &common.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| bad("ca_file", format!("cannot read {}: {e}", path.display())))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| bad_target(format!("TLS setup failed: {e}")))?;
        }
        if common.insecure_skip_tls_verify {
            return Err(bad(
                "insecure_skip_tls_verify",
                "is not supported over gRPC; use HTTP/protobuf (http://host:4318) or ca_file"
                    .into(),
            ));
        }
        Ok(GrpcDelivery {
            name: spec.display_name(),
            endpoint,
            client: None,
            url: url.to_string(),
            metadata: metadata(spec, headers)?,
            timeout: common.timeout,
            buffer_points: common.buffer_points.max(1),
            pending: VecDeque::new(),
            pending_points: 0,
            backoff: Backoff::default(),
            not_before: None,
            fatal: false,
            failing: false,
            stats: Arc::new(DeliveryStats::default()),
        })
    }

    pub fn stats(&self) -> Arc<DeliveryStats> {
        self.stats.clone()
    }

    /// Queues a request; the oldest are dropped (and counted) beyond the
    /// buffer's limit.
    pub fn enqueue(&mut self, batch: Batch) {
        if self.fatal {
            self.stats.add_dropped(batch.points);
            return;
        }
        while !self.pending.is_empty() && self.pending_points + batch.points > self.buffer_points {
            if let Some(old) = self.pending.pop_front() {
                self.pending_points -= old.points;
                self.stats.add_dropped(old.points);
                self.stats.set_pending(self.pending_points);
                tracing::warn!(output = %self.name, points = old.points, "output buffer full; dropped the oldest data");
            }
        }
        self.pending_points += batch.points;
        self.pending.push_back(batch);
        self.stats.set_pending(self.pending_points);
    }

    /// Sends what is queued, oldest first, for at most `budget`; see
    /// [`Delivery::flush`](crate::output::Delivery::flush).
    pub async fn flush(&mut self, budget: Duration) -> Result<(), SinkError> {
        let deadline = Instant::now() + budget;
        let mut result = Ok(());
        while let Some(batch) = self.pending.front() {
            if let Some(at) = self.not_before {
                if at > deadline {
                    break;
                }
                tokio::time::sleep_until(at).await;
            }
            let points = batch.points;
            let request = batch.request.clone();
            match self.attempt(request).await {
                Attempt::Sent { rejected, message } => {
                    self.pop_front();
                    let rejected = rejected.min(points);
                    self.stats.add_sent(points - rejected);
                    self.backoff.reset();
                    self.not_before = None;
                    if std::mem::take(&mut self.failing) {
                        tracing::info!(output = %self.name, "output delivers again");
                    }
                    if rejected > 0 {
                        self.stats.add_dropped(rejected);
                        tracing::warn!(output = %self.name, rejected, error = %message, "receiver refused some data points");
                        result = Err(SinkError::Rejected(format!(
                            "{rejected} data points refused: {message}"
                        )));
                    }
                }
                Attempt::Retry(message) => {
                    self.stats.add_retried(points);
                    self.not_before = Some(Instant::now() + self.backoff.next_delay());
                    if !std::mem::replace(&mut self.failing, true) {
                        tracing::warn!(output = %self.name, error = %message, "output cannot deliver; keeping data and retrying");
                        result = Err(SinkError::Retryable(message));
                    }
                }
                Attempt::Rejected(message) => {
                    self.pop_front();
                    self.stats.add_dropped(points);
                    tracing::warn!(output = %self.name, error = %message, "output refused data; dropped it");
                    result = Err(SinkError::Rejected(message));
                }
                Attempt::Fatal(message) => {
                    self.drop_pending();
                    self.fatal = true;
                    return Err(SinkError::Fatal(message));
                }
            }
        }
        result
    }

    /// The final delivery within `budget`; what is left is dropped and counted.
    pub async fn finish(&mut self, budget: Duration) -> Result<(), SinkError> {
        self.not_before = None;
        let result = self.flush(budget).await;
        let left = self.pending_points;
        self.drop_pending();
        match result {
            Err(e) => Err(e),
            Ok(()) if left > 0 => Err(SinkError::Retryable(format!(
                "{left} points could not be delivered within {:.1}s at the end",
                budget.as_secs_f64()
            ))),
            Ok(()) => Ok(()),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn pop_front(&mut self) {
        if let Some(b) = self.pending.pop_front() {
            self.pending_points -= b.points;
        }
        self.stats.set_pending(self.pending_points);
    }

    fn drop_pending(&mut self) {
        for b in self.pending.drain(..) {
            self.stats.add_dropped(b.points);
        }
        self.pending_points = 0;
        self.stats.set_pending(0);
    }

    async fn attempt(
        &mut self,
        request: opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
    ) -> Attempt {
        let client = self
            .client
            .get_or_insert_with(|| MetricsServiceClient::new(self.endpoint.connect_lazy()));
        let mut request = tonic::Request::new(request);
        *request.metadata_mut() = self.metadata.clone();
        request.set_timeout(self.timeout);
        match client.export(request).await {
            Ok(response) => {
                let partial = response.into_inner().partial_success.unwrap_or_default();
                Attempt::Sent {
                    rejected: u64::try_from(partial.rejected_data_points).unwrap_or(0),
                    message: partial.error_message,
                }
            }
            Err(status) => classify(&status, &self.name),
        }
    }
}

/// The OTLP spec's retryable codes, plus RESOURCE_EXHAUSTED (a receiver
/// shedding load); credentials errors end the output.
fn classify(status: &tonic::Status, name: &str) -> Attempt {
    let message = format!("gRPC {:?}: {}", status.code(), status.message());
    match status.code() {
        Code::Unavailable
        | Code::ResourceExhausted
        | Code::DeadlineExceeded
        | Code::Cancelled
        | Code::Aborted
        | Code::OutOfRange
        | Code::DataLoss => Attempt::Retry(message),
        Code::Unauthenticated | Code::PermissionDenied => Attempt::Fatal(format!(
            "gRPC {:?}: check the credentials for output {name}: {}",
            status.code(),
            status.message()
        )),
        _ => Attempt::Rejected(message),
    }
}

/// Request metadata: basic auth, bearer token, the spec's headers and the
/// environment's, all lower-cased as gRPC wants.
fn metadata(
    spec: &OutputSpec,
    env_headers: &[(String, Secret)],
) -> Result<MetadataMap, OutputConfigError> {
    let common = &spec.common;
    let bad = |key: &str, message: String| OutputConfigError::BadOption {
        origin: spec.origin.clone(),
        key: key.into(),
        message,
    };
    let mut map = MetadataMap::new();
    let mut insert = |key: &str, name: &str, value: &str| -> Result<(), OutputConfigError> {
        let k = AsciiMetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|_| bad(key, format!("invalid header name {name:?}")))?;
        let v = AsciiMetadataValue::try_from(value)
            .map_err(|_| bad(key, format!("{name}: value has characters not allowed")))?;
        map.insert(k, v);
        Ok(())
    };
    for (name, value) in env_headers {
        insert("OTEL_EXPORTER_OTLP_HEADERS", name, value.expose())?;
    }
    if let Some(auth) = &common.basic_auth {
        let raw = format!("{}:{}", auth.username, auth.password.expose());
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        );
        insert("basic_auth", "authorization", &value)?;
    }
    if let Some(token) = &common.bearer_token {
        insert(
            "bearer_token",
            "authorization",
            &format!("Bearer {}", token.expose()),
        )?;
    }
    for (name, value) in &common.headers {
        insert("headers", name, value.expose())?;
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_classified_like_the_otlp_spec() {
        let kind = |code| match classify(&tonic::Status::new(code, "x"), "otlp (h)") {
            Attempt::Retry(_) => "retry",
            Attempt::Fatal(m) => {
                assert!(
                    m.contains("check the credentials for output otlp (h)"),
                    "{m}"
                );
                "fatal"
            }
            Attempt::Rejected(_) => "rejected",
            Attempt::Sent { .. } => "sent",
        };
        for code in [
            Code::Unavailable,
            Code::ResourceExhausted,
            Code::DeadlineExceeded,
        ] {
            assert_eq!(kind(code), "retry", "{code:?}");
        }
        for code in [Code::Unauthenticated, Code::PermissionDenied] {
            assert_eq!(kind(code), "fatal", "{code:?}");
        }
        for code in [Code::InvalidArgument, Code::Unimplemented] {
            assert_eq!(kind(code), "rejected", "{code:?}");
        }
    }
}
