//! Client settings and the state every VU's client shares: the rustls
//! configurations (built once, they hold the root store and session cache) and
//! the pre-encoded default headers.

use std::sync::Arc;

use super::dns::{DnsCache, DnsPolicy};
use super::hosts::HostOverrides;
use super::proxy::ProxyConfig;
use super::tls::{TlsConfig, TlsRoutes};
use http::HeaderValue;

/// How every VU's [`HttpClient`](super::HttpClient) behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Redirects followed per request; 0 returns the 3xx response as is.
    pub max_redirects: u32,
    /// Accept any server certificate (self-signed test targets).
    pub insecure_skip_tls_verify: bool,
    /// Sent as `user-agent` unless the request sets its own.
    pub user_agent: String,
    /// Keep a cookie jar per client (per VU): store `set-cookie`, send `cookie`.
    pub cookies: bool,
    /// Speak HTTP/2 without TLS (h2c) to `http://` URLs. With TLS, HTTP/2 is
    /// negotiated by ALPN regardless of this setting.
    pub http2_prior_knowledge: bool,
    /// TLS, proxy, host overrides and DNS caching.
    pub network: NetworkConfig,
    /// A kept gzip/deflate body may inflate to at most this many times its
    /// compressed size (once past [`RATIO_FLOOR`] bytes): a gzip bomb is
    /// stopped after a few megabytes, not after gigabytes.
    pub max_decompression_ratio: u64,
    /// Largest body kept when a request keeps its body, before and after
    /// decompression, unless the send names its own
    /// ([`HttpClient::send_limited`](super::HttpClient::send_limited)); a
    /// larger one fails with `body_too_large` (or `decompression_limit`)
    /// instead of growing the VU's memory. Bodies that are not kept are
    /// drained whatever their size.
    pub max_body_size: u64,
}

/// How a client reaches servers: the `http.tls`, `http.proxy`, `http.hosts`
/// and `http.dns` settings (and `--resolve`, the proxy variables).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Trusted roots, client certificates, versions and SNI (an output's
    /// `ca_file` too).
    pub tls: TlsConfig,
    /// Forward proxies (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`, `http.proxy`).
    pub proxy: ProxyConfig,
    /// Names sent to chosen addresses (`http.hosts`, `--resolve`).
    pub hosts: HostOverrides,
    /// Who shares DNS answers, and for how long.
    pub dns: DnsPolicy,
}

/// The default of [`ClientConfig::max_body_size`] (`http.max_body_size`).
pub const DEFAULT_MAX_BODY_SIZE: u64 = 10 << 20;

/// The default of [`ClientConfig::max_decompression_ratio`]. JSON and text
/// compress 5 to 20 times; a gzip bomb about 1,000 times.
pub const DEFAULT_MAX_DECOMPRESSION_RATIO: u64 = 100;

/// Decompressed output below this is never refused for its ratio: a small,
/// very repetitive body (a page of zeros) is not a bomb.
pub const RATIO_FLOOR: u64 = 1 << 20;

/// The `user-agent` sent when neither the config nor the request sets one.
pub const DEFAULT_USER_AGENT: &str = concat!("stampede/", env!("CARGO_PKG_VERSION"));

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_redirects: 10,
            insecure_skip_tls_verify: false,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            cookies: true,
            http2_prior_knowledge: false,
            network: NetworkConfig::default(),
            max_decompression_ratio: DEFAULT_MAX_DECOMPRESSION_RATIO,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
        }
    }
}

/// Why a [`ClientShared`] could not be built from a [`ClientConfig`].
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    #[error("user_agent contains characters not allowed in an HTTP header value")]
    InvalidUserAgent,
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
}

/// What all clients of a run share: the settings, the rustls configuration
/// (built here, once), the encoded `user-agent` and the DNS cache. Build it
/// once, and hand a clone of the `Arc` to each
/// [`HttpClient::new`](super::HttpClient::new): creating a client then
/// allocates nothing.
pub struct ClientShared {
    pub(super) config: ClientConfig,
    /// The rustls connectors, and which host uses which.
    pub(super) tls: TlsRoutes,
    pub(super) user_agent: HeaderValue,
    pub(super) dns: DnsCache,
}

impl ClientShared {
    pub fn new(config: ClientConfig) -> Result<Arc<Self>, ClientConfigError> {
        // Encoded once; every request clones it by reference count.
        let user_agent = HeaderValue::from_maybe_shared(bytes::Bytes::from(
            config.user_agent.clone().into_bytes(),
        ))
        .map_err(|_| ClientConfigError::InvalidUserAgent)?;
        let tls = TlsRoutes::build(&config.network.tls, config.insecure_skip_tls_verify)?;
        Ok(Arc::new(ClientShared {
            config,
            tls,
            user_agent,
            dns: DnsCache::default(),
        }))
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }
}

impl std::fmt::Debug for ClientShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientShared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
