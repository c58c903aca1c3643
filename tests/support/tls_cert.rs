//! A self-signed certificate for 127.0.0.1 and localhost, made in-process
//! with `rcgen`, and a rustls server configuration from it, for tests that
//! need a TLS server on loopback. Nothing outside the test process is
//! needed, so no TLS test can skip itself for a missing tool.

use std::sync::Arc;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A rustls server configuration with a fresh self-signed certificate for
/// `localhost` and `127.0.0.1`, offering `alpn` in that order of preference.
pub fn server_config(alpn: &[&[u8]]) -> rustls::ServerConfig {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("rcgen makes a self-signed certificate");
    let cert = made.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring offers the default protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("rustls accepts the certificate");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}
