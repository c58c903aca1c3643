//! Sends export requests over OTLP/gRPC: the same bounded buffer, sending
//! task, backoff and counts as the HTTP [`Delivery`](crate::output::Delivery), with gRPC's
//! status codes classified as the OTLP spec asks.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use http::Uri;
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use tokio::time::Instant;
use tonic::Code;
use tonic::codegen::Service;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, MetadataMap};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use super::encode::Batch;
use crate::metrics::{DeliveryStats, SinkError};
use crate::output::retry_queue::{Attempt, RetryQueue, Weighted};
use crate::output::sender::{AttemptFn, QueueSender};
use crate::output::spec::{OutputConfigError, OutputSpec, Secret};
use crate::protocol::http::proxy::ProxyConfig;

impl Weighted for Batch {
    fn points(&self) -> u64 {
        self.points
    }
}

/// Delivers export requests to one gRPC endpoint: the sink queues them, a
/// task of the delivery's own sends them ([`QueueSender`]).
pub struct GrpcDelivery {
    name: String,
    url: String,
    /// For the health check: the proxy, when one carries the channel.
    proxy: ProxyConfig,
    sender: QueueSender<Batch>,
}

impl std::fmt::Debug for GrpcDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcDelivery")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("sender", &self.sender)
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
            // Checked (pairing, PEM, key) by the loader the HTTP outputs
            // use; tonic then takes the files' PEM text as it is.
            let identity = crate::output::delivery::client_identity(common)
                .map_err(|(key, message)| bad(key, message))?;
            if let (Some(_), Some(cert), Some(key)) =
                (identity, &common.client_cert, &common.client_key)
            {
                let read = |option: &str, path: &std::path::Path| {
                    std::fs::read(path)
                        .map_err(|e| bad(option, format!("cannot read {}: {e}", path.display())))
                };
                tls = tls.identity(Identity::from_pem(
                    read("client_cert", cert)?,
                    read("client_key", key)?,
                ));
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
        let name = spec.display_name();
        let https = url.starts_with("https://");
        let through_proxy = endpoint
            .uri()
            .host()
            .map(|host| host.trim_start_matches('[').trim_end_matches(']'))
            .is_some_and(|host| common.proxy.for_host(https, host).is_some());
        let target = Arc::new(Target {
            endpoint,
            proxy: through_proxy.then(|| ProxyConnector {
                proxy: Arc::new(common.proxy.clone()),
                https,
            }),
            client: OnceLock::new(),
            metadata: metadata(spec, headers)?,
            timeout: common.timeout,
            name: name.clone(),
        });
        let attempt: AttemptFn<Batch> = Arc::new(move |batch| {
            let target = target.clone();
            Box::pin(async move { target.attempt(batch).await })
        });
        Ok(GrpcDelivery {
            sender: QueueSender::new(RetryQueue::new(name.clone(), common.buffer_points), attempt),
            name,
            url: url.to_string(),
            proxy: common.proxy.clone(),
        })
    }

    pub fn stats(&self) -> Arc<DeliveryStats> {
        self.sender.stats()
    }

    /// Queues a request and returns at once; see [`RetryQueue::enqueue`].
    pub fn enqueue(&mut self, batch: Batch) {
        self.sender.enqueue(batch);
    }

    /// The oldest delivery failure not reported yet.
    pub fn take_error(&self) -> Option<SinkError> {
        self.sender.take_error()
    }

    /// The final delivery, until `deadline`; what is left is dropped and
    /// counted. See [`QueueSender::finish`].
    pub async fn finish(&mut self, deadline: Instant, budget: Duration) -> Result<(), SinkError> {
        self.sender.finish(deadline, budget).await
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The proxy settings the channel's connections follow.
    pub fn proxy(&self) -> &ProxyConfig {
        &self.proxy
    }
}

/// What every export request needs, shared by the attempts.
struct Target {
    endpoint: Endpoint,
    /// Set when a proxy carries the endpoint's connections.
    proxy: Option<ProxyConnector>,
    /// Connected on first use: a channel needs the runtime, `build` may not
    /// run inside it. Clones share the channel.
    client: OnceLock<MetricsServiceClient<Channel>>,
    metadata: MetadataMap,
    timeout: Duration,
    name: String,
}

impl Target {
    async fn attempt(&self, batch: Batch) -> Attempt {
        let mut client = self
            .client
            .get_or_init(|| {
                let channel = match &self.proxy {
                    Some(connector) => self.endpoint.connect_with_connector_lazy(connector.clone()),
                    None => self.endpoint.connect_lazy(),
                };
                MetricsServiceClient::new(channel)
            })
            .clone();
        let mut request = tonic::Request::new(batch.request);
        *request.metadata_mut() = self.metadata.clone();
        request.set_timeout(self.timeout);
        match client.export(request).await {
            Ok(response) => {
                let partial = response.into_inner().partial_success.unwrap_or_default();
                Attempt::Sent {
                    refused: u64::try_from(partial.rejected_data_points).unwrap_or(0),
                    message: partial.error_message,
                }
            }
            Err(status) => classify(&status, &self.name),
        }
    }
}

/// Opens the channel's connections through the output's proxy: a `CONNECT`
/// tunnel (also for `http://`: h2c cannot be forwarded request by
/// request), by the load client's own code; tonic runs TLS (for
/// `https://`) and HTTP/2 inside it.
#[derive(Clone)]
struct ProxyConnector {
    proxy: Arc<ProxyConfig>,
    https: bool,
}

impl Service<Uri> for ProxyConnector {
    type Response = TokioIo<tokio::net::TcpStream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let (proxy, https) = (self.proxy.clone(), self.https);
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| std::io::Error::other("the endpoint has no host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            proxy
                .connect(https, &host, port)
                .await
                .map(TokioIo::new)
                .map_err(|e| std::io::Error::other(e.message))
        })
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
        | Code::DataLoss => Attempt::Retry {
            message,
            after: None,
        },
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
            Attempt::Retry { .. } => "retry",
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
