//! Sends encoded payloads to one HTTP endpoint on a task of its own: a
//! bounded FIFO buffer, retry with backoff on network errors, 408, 429 and
//! 5xx (honouring `Retry-After`), no retry on other 4xx, and counts of
//! points sent, retried and dropped.
//!
//! It rides on the project's own HTTP client, so outputs and load share one
//! HTTP stack and one TLS setup (no second client library with its own
//! connection pool and retry policy).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use tokio::time::Instant;

use super::retry::{is_retryable_status, parse_retry_after};
use super::retry_queue::{Attempt, RetryQueue, Weighted};
use super::sender::{AttemptFn, QueueSender};
use super::spec::{CommonOptions, OutputConfigError, OutputSpec};
use crate::metrics::{DeliveryStats, SinkError};
use crate::protocol::http::proxy::ProxyConfig;
use crate::protocol::http::tls::{HostPattern, HostTls, TlsConfig, load_ca, load_identity};
use crate::protocol::http::{
    ClientConfig, ClientShared, HttpClient, HttpRequest, NetworkConfig, ProtoChoice,
};

/// One request's worth of encoded data.
#[derive(Clone, Debug)]
pub struct Payload {
    pub body: Bytes,
    /// Points (samples or series values) it carries, for the counts.
    pub points: u64,
}

impl Weighted for Payload {
    fn points(&self) -> u64 {
        self.points
    }
}

/// Delivers payloads to one URL: the sink queues them, a task of the
/// delivery's own sends them ([`QueueSender`]).
pub struct Delivery {
    name: String,
    url: String,
    /// For the health check: the proxy, when one carries the requests.
    proxy: ProxyConfig,
    sender: QueueSender<Payload>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("name", &self.name)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// A delivery to `url` for the output `spec` (its name, credentials, TLS
    /// and limits). `content_type`, `content_encoding` and `extra` headers
    /// are the kind's own (e.g. remote-write's version header).
    pub fn new(
        spec: &OutputSpec,
        url: &str,
        content_type: &'static str,
        content_encoding: Option<&'static str>,
        extra: HeaderMap,
    ) -> Result<Self, OutputConfigError> {
        let common = &spec.common;
        let bad = |message: String| OutputConfigError::BadTarget {
            origin: spec.origin.clone(),
            message,
        };
        let parsed = url::Url::parse(url).map_err(|e| bad(format!("invalid URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad(format!("URL must be http:// or https://, got {url:?}")));
        }
        let ca_certificates = match &common.ca_file {
            // The scenario's `http.tls.ca_file` loader: a file or a directory.
            Some(path) => load_ca(path).map_err(|e| OutputConfigError::BadOption {
                origin: spec.origin.clone(),
                key: "ca_file".into(),
                message: e.to_string(),
            })?,
            None => Vec::new(),
        };
        let identity = match client_identity(common) {
            Ok(identity) => identity,
            Err((key, message)) => {
                return Err(OutputConfigError::BadOption {
                    origin: spec.origin.clone(),
                    key: key.into(),
                    message,
                });
            }
        };
        let shared = ClientShared::new(ClientConfig {
            max_redirects: 3,
            insecure_skip_tls_verify: common.insecure_skip_tls_verify,
            cookies: false,
            network: NetworkConfig {
                tls: TlsConfig {
                    ca_certificates,
                    hosts: identity.into_iter().collect(),
                    ..TlsConfig::default()
                },
                // Connections go through the proxy the load's would: the
                // same client code (absolute form or CONNECT).
                proxy: common.proxy.clone(),
                ..NetworkConfig::default()
            },
            ..ClientConfig::default()
        })
        .map_err(|e| bad(e.to_string()))?;
        let headers = request_headers(spec, common, content_type, content_encoding, extra)?;
        let name = spec.display_name();
        let target = Arc::new(Target {
            client: HttpClient::new(shared),
            url: url.to_string(),
            headers,
            timeout: common.timeout,
            name: name.clone(),
        });
        let attempt: AttemptFn<Payload> = Arc::new(move |payload| {
            let target = target.clone();
            Box::pin(async move { target.attempt(payload).await })
        });
        Ok(Delivery {
            sender: QueueSender::new(RetryQueue::new(name.clone(), common.buffer_points), attempt),
            name,
            url: url.to_string(),
            proxy: common.proxy.clone(),
        })
    }

    /// The counts this delivery keeps (shared with the summary).
    pub fn stats(&self) -> Arc<DeliveryStats> {
        self.sender.stats()
    }

    /// Points waiting to be sent or being sent.
    pub fn pending_points(&self) -> u64 {
        self.sender.pending_points()
    }

    /// Queues a payload behind those waiting and returns at once; see
    /// [`RetryQueue::enqueue`].
    pub fn enqueue(&mut self, payload: Payload) {
        self.sender.enqueue(payload);
    }

    /// The oldest delivery failure not reported yet.
    pub fn take_error(&self) -> Option<SinkError> {
        self.sender.take_error()
    }

    /// Sends nothing before `other` has settled what it held (InfluxDB v1:
    /// the database is created before the first write).
    pub fn after(&mut self, other: &Delivery) {
        self.sender.after(&other.sender);
    }

    /// Waits until nothing is pending or in flight, for at most `timeout`.
    pub async fn settled_within(&self, timeout: Duration) -> bool {
        self.sender.settled_within(timeout).await
    }

    /// The final delivery, until `deadline`; what is left is dropped and
    /// counted. See [`QueueSender::finish`].
    pub async fn finish(&mut self, deadline: Instant, budget: Duration) -> Result<(), SinkError> {
        self.sender.finish(deadline, budget).await
    }

    /// Checks that the endpoint (or the proxy to it) accepts connections
    /// (DNS and TCP, within `timeout`), without sending data.
    pub async fn health_check(&self, timeout: Duration) -> Result<(), String> {
        health_check_url(&self.url, &self.proxy, timeout).await
    }
}

/// Where and how one delivery sends, shared by its attempts.
struct Target {
    client: HttpClient,
    url: String,
    headers: HeaderMap,
    timeout: Duration,
    name: String,
}

impl Target {
    async fn attempt(&self, payload: Payload) -> Attempt {
        let request = HttpRequest {
            method: Method::POST,
            url: self.url.clone(),
            headers: self.headers.clone(),
            body: payload.body,
            timeout: self.timeout,
            keep_body: true,
            // `retry-after` decides when to try again.
            keep_headers: true,
            proto: ProtoChoice::Auto,
            tls: None,
        };
        let response = self.client.send(request).await.response;
        if let Some(error) = &response.error {
            return Attempt::Retry {
                message: format!("{} ({})", error.message, error.code.as_str()),
                after: None,
            };
        }
        let status = response.status;
        if (200..300).contains(&status) {
            return Attempt::sent();
        }
        let body = excerpt(&response.body);
        if is_retryable_status(status) {
            let after = response
                .headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            return Attempt::Retry {
                message: format!("HTTP {status}{body}"),
                after,
            };
        }
        if status == 401 || status == 403 {
            return Attempt::Fatal(format!(
                "HTTP {status}: check the credentials for output {}{body}",
                self.name
            ));
        }
        Attempt::Rejected(format!("HTTP {status}{body}"))
    }
}

/// `: <first line of the body, at most 200 characters>`, or nothing.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(l) => {
            let cut: String = l.chars().take(200).collect();
            format!(": {cut}")
        }
        None => String::new(),
    }
}

fn request_headers(
    spec: &OutputSpec,
    common: &CommonOptions,
    content_type: &'static str,
    content_encoding: Option<&'static str>,
    extra: HeaderMap,
) -> Result<HeaderMap, OutputConfigError> {
    let bad = |key: &str, message: String| OutputConfigError::BadOption {
        origin: spec.origin.clone(),
        key: key.to_string(),
        message,
    };
    let mut headers = extra;
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(encoding) = content_encoding {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    if let Some(auth) = &common.basic_auth {
        let raw = format!("{}:{}", auth.username, auth.password.expose());
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        );
        headers.insert(
            AUTHORIZATION,
            sensitive(&value).map_err(|m| bad("basic_auth", m))?,
        );
    }
    if let Some(token) = &common.bearer_token {
        let value = format!("Bearer {}", token.expose());
        headers.insert(
            AUTHORIZATION,
            sensitive(&value).map_err(|m| bad("bearer_token", m))?,
        );
    }
    for (name, value) in &common.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad("headers", format!("invalid header name {name:?}")))?;
        let value =
            sensitive(value.expose()).map_err(|m| bad("headers", format!("{name}: {m}")))?;
        headers.insert(header, value);
    }
    Ok(headers)
}

/// A header value marked sensitive (never shown by `--http-debug`-style dumps).
fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| "contains characters not allowed in a header value".to_string())?;
    v.set_sensitive(true);
    Ok(v)
}

/// The client certificate of `client_cert` and `client_key`, shown to the
/// backend whatever its name; on failure, the option at fault and why.
pub(super) fn client_identity(
    common: &CommonOptions,
) -> Result<Option<HostTls>, (&'static str, String)> {
    let (cert, key) = match (&common.client_cert, &common.client_key) {
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) => return Err(("client_cert", "has no client_key".into())),
        (None, Some(_)) => return Err(("client_key", "has no client_cert".into())),
        (None, None) => return Ok(None),
    };
    let identity = load_identity(cert, key).map_err(|e| {
        let option = if e.path == *key {
            "client_key"
        } else {
            "client_cert"
        };
        (option, e.to_string())
    })?;
    Ok(Some(HostTls {
        pattern: HostPattern::new("*").expect("* is a host pattern"),
        identity: Some(identity),
        server_name: None,
    }))
}

/// DNS and TCP connect to the URL's host and port within `timeout`, or to
/// the proxy's when `proxy` sends the URL through one: no `CONNECT` is
/// tried (a proxy may allow tunnels to port 443 only, while plain
/// `http://` is forwarded on any port), so a reachable proxy passes.
pub async fn health_check_url(
    url: &str,
    proxy: &ProxyConfig,
    timeout: Duration,
) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    let host = parsed.host_str().ok_or("URL has no host")?.to_string();
    let port = parsed
        .port_or_known_default()
        .ok_or("URL has no port and no known default")?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    // `what` names the peer in messages: the proxy, never its URL (which
    // may hold a password).
    let (what, dial, port) = match proxy.for_host(parsed.scheme() == "https", &host) {
        Some(server) => ("proxy ", server.host.clone(), server.port),
        None => ("", host, port),
    };
    match tokio::time::timeout(
        timeout,
        tokio::net::TcpStream::connect((dial.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("cannot connect to {what}{dial}:{port}: {e}")),
        Err(_) => Err(format!(
            "cannot connect to {what}{dial}:{port} within {:.1}s",
            timeout.as_secs_f64()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http::proxy::ProxyServer;

    #[tokio::test]
    async fn the_health_check_reaches_the_proxy_when_one_carries_the_pushes() {
        let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/v1/write", backend.local_addr().unwrap());
        let timeout = Duration::from_secs(2);
        // The backend listens, but the pushes would go through a proxy
        // that does not: unhealthy, and the message names the proxy by
        // address only.
        let dead = ProxyServer::parse("http://agent:s3cret@127.0.0.1:1").unwrap();
        let proxied = ProxyConfig::default().overridden(Some(dead), None);
        let err = health_check_url(&url, &proxied, timeout).await.unwrap_err();
        assert!(
            err.starts_with("cannot connect to proxy 127.0.0.1:1: "),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
        // NO_PROXY naming the backend: checked directly.
        let bypassed = proxied.overridden(None, Some("127.0.0.1"));
        health_check_url(&url, &bypassed, timeout).await.unwrap();
    }
}
