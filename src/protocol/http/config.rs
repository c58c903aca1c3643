//! Client settings and the state every VU's client shares: the rustls
//! configuration (built once, it holds the root store and session cache) and
//! the pre-encoded default headers.

use std::sync::Arc;

use http::HeaderValue;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_rustls::TlsConnector;

use super::dns::DnsCache;

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
    /// DER certificates trusted in addition to the public roots (an
    /// output's `ca_file`).
    pub ca_certificates: Vec<Vec<u8>>,
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
            ca_certificates: Vec::new(),
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
    /// ALPN offers `h2` then `http/1.1`.
    pub(super) tls: TlsConnector,
    /// ALPN offers only `http/1.1` (requests that ask for HTTP/1.1). Same
    /// roots and session cache as `tls`.
    pub(super) tls_http1: TlsConnector,
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
        let tls_config =
            build_tls_config(config.insecure_skip_tls_verify, &config.ca_certificates)?;
        let mut http1_only = tls_config.clone();
        http1_only.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(ClientShared {
            config,
            tls: TlsConnector::from(Arc::new(tls_config)),
            tls_http1: TlsConnector::from(Arc::new(http1_only)),
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

fn build_tls_config(
    insecure: bool,
    extra_roots: &[Vec<u8>],
) -> Result<rustls::ClientConfig, rustls::Error> {
    // An explicit provider: the process-wide default may be unset (or differ)
    // in the embedding program.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for der in extra_roots {
            roots.add(CertificateDer::from(der.clone()))?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Skips certificate chain and name validation but still checks that the
/// server holds the key of the certificate it presented, so the handshake
/// costs what a verified one costs (a load test should measure real work).
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
