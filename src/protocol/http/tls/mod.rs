//! TLS settings of a client, shared by requests, `wss://` sessions and the
//! outputs: which server certificates are trusted, which client certificate
//! (mTLS) is shown to which hosts, the protocol versions, and the name sent
//! in SNI. One rustls configuration is built per distinct client identity,
//! once per run, because rustls chooses a client certificate without knowing
//! the server's name.

mod build;
mod files;
mod verify;

pub(super) use build::TlsRoutes;
pub use files::{TlsFileError, load_ca, load_identity};

/// The TLS settings of a request that sets its own (`tls:` on a request
/// step), built once at load time: the rustls configurations are made here,
/// not per request. Its connections are pooled apart from the client's and
/// from every other profile's, compared by identity (the pool holds an
/// `Arc` of the profile, so no other profile can take its address), so a
/// connection made with one client certificate never carries a request
/// that asked for another, or for none.
pub struct TlsProfile {
    config: TlsConfig,
    pub(in crate::protocol::http) routes: TlsRoutes,
}

impl TlsProfile {
    /// `insecure` is the client's `insecure_skip_tls_verify`.
    pub fn build(
        config: TlsConfig,
        insecure: bool,
    ) -> Result<std::sync::Arc<TlsProfile>, rustls::Error> {
        let routes = TlsRoutes::build(&config, insecure)?;
        Ok(std::sync::Arc::new(TlsProfile { config, routes }))
    }

    /// The settings it was built from.
    pub fn config(&self) -> &TlsConfig {
        &self.config
    }
}

impl std::fmt::Debug for TlsProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `TlsConfig`'s `Debug` redacts client keys.
        f.debug_struct("TlsProfile")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// `1.2` or `1.3` (also `tls1.2`, `TLSv1.3`); TLS 1.0 and 1.1 are not
    /// offered by rustls and are refused rather than silently ignored.
    pub fn parse(text: &str) -> Option<TlsVersion> {
        let lower = text.trim().to_ascii_lowercase();
        let bare = lower
            .strip_prefix("tlsv")
            .or_else(|| lower.strip_prefix("tls"))
            .unwrap_or(&lower);
        match bare {
            "1.2" => Some(TlsVersion::Tls12),
            "1.3" => Some(TlsVersion::Tls13),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        }
    }
}

/// How a client's TLS behaves. `Default` trusts the public web roots only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// DER certificates trusted besides (or instead of) the public roots.
    pub ca_certificates: Vec<Vec<u8>>,
    /// Trust only `ca_certificates`, not the bundled public (Mozilla) roots:
    /// a private environment where a public certificate would be a mistake.
    pub replace_default_roots: bool,
    /// Lowest and highest version offered; `None` is rustls' own bound.
    pub min_version: Option<TlsVersion>,
    pub max_version: Option<TlsVersion>,
    /// Settings for the hosts a pattern matches; the first match wins.
    pub hosts: Vec<HostTls>,
}

/// TLS settings for the hosts `pattern` matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostTls {
    pub pattern: HostPattern,
    /// Shown when the server asks for a client certificate.
    pub identity: Option<ClientIdentity>,
    /// Sent in SNI and checked against the certificate instead of the URL's
    /// host: an address-only URL (`https://10.0.0.5/`) of a named service.
    pub server_name: Option<String>,
}

/// A client certificate chain and its private key (DER). The key never
/// appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub chain: Vec<Vec<u8>>,
    pub(crate) key: KeyDer,
}

/// A private key in one of the encodings rustls accepts.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum KeyDer {
    Pkcs8(Vec<u8>),
    Pkcs1(Vec<u8>),
    Sec1(Vec<u8>),
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("certificates", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// `api.example.com` (that host), `*.example.com` (any name under it, at
/// any depth, not the bare domain) or `*` (every host). Case-insensitive;
/// IDN names are compared in their punycode (`xn--`) form, as URLs carry them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    pub fn new(pattern: &str) -> Result<HostPattern, String> {
        let lower = pattern.trim().to_ascii_lowercase();
        let name = lower.strip_prefix("*.").unwrap_or(&lower);
        if lower == "*" {
            return Ok(HostPattern(lower));
        }
        // An IPv6 address, bracketed or not, is compared bare (as URLs
        // hand the host to TLS).
        let bare = lower.trim_start_matches('[').trim_end_matches(']');
        if let Ok(v6) = bare.parse::<std::net::Ipv6Addr>() {
            return Ok(HostPattern(v6.to_string()));
        }
        if name.is_empty() || name.contains('*') || name.contains(['/', ':', ' ']) {
            return Err(format!(
                "{pattern:?} is not a host pattern (use api.example.com, *.example.com or *)"
            ));
        }
        // Unicode names are written as the user knows them; URLs reach the
        // client in punycode, so the pattern is converted the same way.
        let ascii = url::Host::parse(name)
            .map_err(|e| format!("{pattern:?} is not a host name: {e}"))?
            .to_string();
        let ascii = ascii.trim_start_matches('[').trim_end_matches(']');
        Ok(HostPattern(if lower.starts_with("*.") {
            format!("*.{ascii}")
        } else {
            ascii.to_string()
        }))
    }

    /// Whether `host` (no brackets, punycode) is one this pattern names.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        match self.0.strip_prefix('*') {
            Some("") => true,
            Some(suffix) => {
                host.len() > suffix.len()
                    && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            }
            None => host.eq_ignore_ascii_case(&self.0),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_in_the_usual_spellings() {
        assert_eq!(TlsVersion::parse("1.2"), Some(TlsVersion::Tls12));
        assert_eq!(TlsVersion::parse("TLSv1.3"), Some(TlsVersion::Tls13));
        assert_eq!(TlsVersion::parse("tls1.3"), Some(TlsVersion::Tls13));
        assert_eq!(TlsVersion::parse("1.1"), None);
    }

    #[test]
    fn patterns_match_hosts_subdomains_or_everything() {
        let exact = HostPattern::new("API.example.com").unwrap();
        assert!(exact.matches("api.example.com"));
        assert!(!exact.matches("x.api.example.com"));
        let wild = HostPattern::new("*.example.com").unwrap();
        assert!(wild.matches("a.b.example.com"));
        assert!(!wild.matches("example.com"));
        assert!(!wild.matches("badexample.com"));
        assert!(HostPattern::new("*").unwrap().matches("127.0.0.1"));
        assert!(HostPattern::new("[::1]").unwrap().matches("::1"));
        assert!(HostPattern::new("0:0::1").unwrap().matches("::1"));
        assert_eq!(
            HostPattern::new("*.bücher.test").unwrap().as_str(),
            "*.xn--bcher-kva.test"
        );
        assert!(HostPattern::new("a*.example.com").is_err());
        assert!(HostPattern::new("example.com:443").is_err());
    }
}
