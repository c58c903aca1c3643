//! A self-signed certificate for 127.0.0.1 and localhost, made with the
//! `openssl` CLI (`scripts/test.sh` installs it), and a rustls server
//! configuration from it, for tests that need a TLS server on loopback.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A self-signed certificate for 127.0.0.1 and localhost, as DER.
fn self_signed(dir: &Path) -> Option<(CertificateDer<'static>, PrivateKeyDer<'static>)> {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map(|out| out.status.success())
            .unwrap_or(false)
    };
    let made = run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.der",
        "-outform",
        "DER",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]) && run(&[
        "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der",
    ]);
    if !made {
        return None;
    }
    let cert = std::fs::read(dir.join("cert.der")).ok()?;
    let key = std::fs::read(dir.join("key.der")).ok()?;
    Some((
        CertificateDer::from(cert),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
    ))
}

/// A rustls server configuration with a fresh self-signed certificate,
/// offering `alpn` in that order of preference; None without openssl.
pub fn server_config(alpn: &[&[u8]]) -> Option<rustls::ServerConfig> {
    let dir = tempfile::tempdir().ok()?;
    let (cert, key) = self_signed(dir.path())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .ok()?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Some(config)
}
