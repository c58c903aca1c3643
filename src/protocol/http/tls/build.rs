//! From [`TlsConfig`] to rustls connectors, and the choice of connector and
//! server name for a host.

use std::sync::Arc;

use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
    ServerName,
};
use tokio_rustls::TlsConnector;

use super::verify::AcceptAnyCertificate;
use super::{ClientIdentity, HostPattern, KeyDer, TlsConfig, TlsVersion};

/// One rustls configuration, with the two ALPN offers requests need.
pub(in crate::protocol::http) struct TlsConnectors {
    /// ALPN offers `h2` then `http/1.1`.
    pub any: TlsConnector,
    /// ALPN offers only `http/1.1` (requests that ask for HTTP/1.1, and
    /// upgrades). Same roots and session cache as `any`.
    pub http1: TlsConnector,
}

struct Route {
    pattern: HostPattern,
    /// `None`: the default connectors (no client certificate).
    connectors: Option<TlsConnectors>,
    server_name: Option<ServerName<'static>>,
}

/// The connectors of a client and which host uses which.
pub(in crate::protocol::http) struct TlsRoutes {
    default: TlsConnectors,
    routes: Vec<Route>,
}

impl TlsRoutes {
    pub(in crate::protocol::http) fn build(
        config: &TlsConfig,
        insecure: bool,
    ) -> Result<TlsRoutes, rustls::Error> {
        let default = connectors(config, insecure, None)?;
        let mut routes = Vec::with_capacity(config.hosts.len());
        for host in &config.hosts {
            let connectors = match &host.identity {
                Some(identity) => Some(connectors(config, insecure, Some(identity))?),
                None => None,
            };
            let server_name = match &host.server_name {
                Some(name) => Some(ServerName::try_from(name.clone()).map_err(|_| {
                    rustls::Error::General(format!("{name:?} is not a valid TLS server name"))
                })?),
                None => None,
            };
            routes.push(Route {
                pattern: host.pattern.clone(),
                connectors,
                server_name,
            });
        }
        Ok(TlsRoutes { default, routes })
    }

    /// The connectors for `host` and the name to send in SNI and verify
    /// the certificate against (`None`: `host` is not a valid server name).
    pub(in crate::protocol::http) fn for_host(
        &self,
        host: &str,
    ) -> (&TlsConnectors, Option<ServerName<'static>>) {
        let route = self.routes.iter().find(|r| r.pattern.matches(host));
        let connectors = route
            .and_then(|r| r.connectors.as_ref())
            .unwrap_or(&self.default);
        let name = match route.and_then(|r| r.server_name.clone()) {
            Some(name) => Some(name),
            None => ServerName::try_from(host.to_owned()).ok(),
        };
        (connectors, name)
    }
}

fn connectors(
    config: &TlsConfig,
    insecure: bool,
    identity: Option<&ClientIdentity>,
) -> Result<TlsConnectors, rustls::Error> {
    let any = client_config(config, insecure, identity)?;
    let mut http1 = any.clone();
    http1.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnectors {
        any: TlsConnector::from(Arc::new(any)),
        http1: TlsConnector::from(Arc::new(http1)),
    })
}

fn client_config(
    config: &TlsConfig,
    insecure: bool,
    identity: Option<&ClientIdentity>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    // An explicit provider: the process-wide default may be unset (or differ)
    // in the embedding program.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(config.min_version, config.max_version)?)?;
    let builder = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
    } else {
        let mut roots = rustls::RootCertStore::empty();
        if !config.replace_default_roots {
            roots.roots = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        }
        for der in &config.ca_certificates {
            roots.add(CertificateDer::from(der.clone()))?;
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match identity {
        Some(identity) => {
            let chain = identity
                .chain
                .iter()
                .map(|der| CertificateDer::from(der.clone()))
                .collect();
            builder.with_client_auth_cert(chain, private_key(&identity.key))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn private_key(key: &KeyDer) -> PrivateKeyDer<'static> {
    match key {
        KeyDer::Pkcs8(der) => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.clone())),
        KeyDer::Pkcs1(der) => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der.clone())),
        KeyDer::Sec1(der) => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der.clone())),
    }
}

fn versions(
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, rustls::Error> {
    let low = min.unwrap_or(TlsVersion::Tls12);
    let high = max.unwrap_or(TlsVersion::Tls13);
    if low > high {
        return Err(rustls::Error::General(format!(
            "min_version {} is above max_version {}",
            low.as_str(),
            high.as_str()
        )));
    }
    let mut out = Vec::new();
    if low == TlsVersion::Tls12 {
        out.push(&rustls::version::TLS12);
    }
    if high == TlsVersion::Tls13 {
        out.push(&rustls::version::TLS13);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_bounds_select_the_offered_versions() {
        let names = |min, max| -> Vec<u16> {
            versions(min, max)
                .unwrap()
                .iter()
                .map(|v| u16::from(v.version))
                .collect()
        };
        assert_eq!(names(None, None), vec![0x0303, 0x0304]);
        assert_eq!(names(Some(TlsVersion::Tls13), None), vec![0x0304]);
        assert_eq!(names(None, Some(TlsVersion::Tls12)), vec![0x0303]);
        assert_eq!(
            versions(Some(TlsVersion::Tls13), Some(TlsVersion::Tls12))
                .unwrap_err()
                .to_string(),
            "unexpected error: min_version 1.3 is above max_version 1.2"
        );
    }
}
