//! Forward proxies: which requests go through one (`HTTP_PROXY`,
//! `HTTPS_PROXY`, `NO_PROXY`, or `http.proxy` in the scenario), and how.
//! Plain `http://` requests over HTTP/1.1 are sent to the proxy in absolute
//! form (`GET http://host/path`); everything else (TLS, h2c, WebSocket)
//! goes through a `CONNECT` tunnel. Credentials come from the proxy URL's
//! `user:password@`, which the scenario may only take from the environment;
//! they are sent as `Proxy-Authorization: Basic` and never printed.

mod no_proxy;
mod tunnel;

use std::sync::Arc;

use http::HeaderValue;
use tokio::net::TcpStream;

use super::connect::connect_any;
use super::dns::resolve_uncached;
use super::error::{self, http_error};
use super::types::{ErrorCode, HttpError};

pub use no_proxy::NoProxy;
pub(super) use tunnel::open_tunnel;

/// A proxy to connect through.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyServer {
    /// Without IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// `Basic base64(user:password)`, marked sensitive.
    pub(super) authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "credentials",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl ProxyServer {
    /// `http://[user:password@]host[:port]` (a bare `host:port` is taken
    /// as `http://`). Errors never repeat the URL: it may hold a password.
    pub fn parse(text: &str) -> Result<ProxyServer, String> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let url = url::Url::parse(&with_scheme)
            .map_err(|e| format!("the proxy URL is not a URL ({e})"))?;
        if url.scheme() != "http" {
            return Err(format!(
                "proxy scheme {:?} is not supported (use http://; the tunnel to https:// targets is still encrypted end to end)",
                url.scheme()
            ));
        }
        let host = url.host_str().ok_or("the proxy URL has no host")?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port().unwrap_or(80);
        let authorization = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let userinfo = match url.password() {
                Some(password) => format!("{}:{password}", url.username()),
                None => url.username().to_string(),
            };
            let mut value = super::target::basic_auth_from_userinfo(&userinfo)
                .ok_or("the proxy credentials are not valid header text")?;
            value.set_sensitive(true);
            Some(value)
        };
        Ok(ProxyServer {
            host,
            port,
            authorization,
        })
    }

    /// Whether the URL carried credentials.
    pub fn has_credentials(&self) -> bool {
        self.authorization.is_some()
    }
}

/// Which proxy, if any, each request uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    /// For `http://` and `ws://`.
    pub http: Option<Arc<ProxyServer>>,
    /// For `https://` and `wss://`.
    pub https: Option<Arc<ProxyServer>>,
    /// Hosts reached directly.
    pub no_proxy: NoProxy,
}

impl ProxyConfig {
    /// From `http_proxy`/`HTTP_PROXY`, `https_proxy`/`HTTPS_PROXY` and
    /// `no_proxy`/`NO_PROXY` (lowercase first, as curl reads them); the
    /// error names the variable, not its value.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<ProxyConfig, String> {
        let var = |lower: &str, upper: &str| -> Option<(String, String)> {
            [lower, upper].into_iter().find_map(|name| {
                get(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (name.to_string(), v))
            })
        };
        let server = |lower, upper| -> Result<Option<Arc<ProxyServer>>, String> {
            match var(lower, upper) {
                Some((name, value)) => ProxyServer::parse(&value)
                    .map(|p| Some(Arc::new(p)))
                    .map_err(|e| format!("{name}: {e}")),
                None => Ok(None),
            }
        };
        Ok(ProxyConfig {
            http: server("http_proxy", "HTTP_PROXY")?,
            https: server("https_proxy", "HTTPS_PROXY")?,
            no_proxy: var("no_proxy", "NO_PROXY")
                .map(|(_, v)| NoProxy::parse(&v))
                .unwrap_or_default(),
        })
    }

    /// The rule of every place that names a proxy (a scenario's
    /// `http.proxy`, an output's `proxy` options): an explicit proxy
    /// replaces both variables' for every scheme, an explicit `no_proxy`
    /// replaces `NO_PROXY`'s list.
    pub fn overridden(
        mut self,
        server: Option<ProxyServer>,
        no_proxy: Option<&str>,
    ) -> ProxyConfig {
        if let Some(server) = server {
            let server = Arc::new(server);
            self.http = Some(server.clone());
            self.https = Some(server);
        }
        if let Some(list) = no_proxy {
            self.no_proxy = NoProxy::parse(list);
        }
        self
    }

    /// The proxy for a connection to `host` (no brackets), if any.
    pub fn for_host(&self, tls: bool, host: &str) -> Option<&Arc<ProxyServer>> {
        let proxy = if tls { &self.https } else { &self.http };
        proxy.as_ref().filter(|_| !self.no_proxy.matches(host))
    }

    /// A TCP connection to `host:port` (no brackets), through a `CONNECT`
    /// tunnel when a proxy applies, for clients that bring their own
    /// protocol stack over it (the OTLP gRPC channel): `tls` says which
    /// variable applies (`HTTPS_PROXY` for a connection that will run TLS).
    /// DNS is looked up per connection, not cached.
    pub async fn connect(&self, tls: bool, host: &str, port: u16) -> Result<TcpStream, HttpError> {
        let proxy = self.for_host(tls, host);
        let (dial_host, dial_port) = proxy.map_or((host, port), |p| (p.host.as_str(), p.port));
        let addrs = resolve_uncached(dial_host, dial_port)
            .await
            .map_err(|err| error::dns(dial_host, err.0.as_ref()))?;
        let mut tcp = connect_any(&addrs).await?;
        tcp.set_nodelay(true)
            .map_err(|err| http_error(ErrorCode::Other, format!("set TCP_NODELAY: {err}")))?;
        if let Some(proxy) = proxy {
            open_tunnel(&mut tcp, proxy, host, port).await?;
        }
        Ok(tcp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_encoded_and_never_shown() {
        let proxy = ProxyServer::parse("http://agent:s3cret@proxy.test:3128").unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.test", 3128));
        let auth = proxy.authorization.as_ref().unwrap();
        assert_eq!(auth.to_str().unwrap(), "Basic YWdlbnQ6czNjcmV0");
        assert!(auth.is_sensitive());
        let shown = format!("{proxy:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("YWdlbnQ6"),
            "{shown}"
        );
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        let err = ProxyServer::parse("socks5://u:s3cret@proxy.test:1080").unwrap_err();
        assert!(err.starts_with("proxy scheme \"socks5\" is not supported"));
        assert!(!err.contains("s3cret"));
        let bare = ProxyServer::parse("[::1]:8888").unwrap();
        assert_eq!((bare.host.as_str(), bare.port), ("::1", 8888));
    }

    #[test]
    fn the_environment_picks_proxies_per_scheme_and_no_proxy_bypasses() {
        let env = |name: &str| match name {
            "HTTP_PROXY" => Some("http://127.0.0.1:3128".to_string()),
            "https_proxy" => Some("127.0.0.1:3129".to_string()),
            "HTTPS_PROXY" => Some("http://ignored:1".to_string()),
            "NO_PROXY" => Some("internal.test, 10.0.0.1".to_string()),
            _ => None,
        };
        let config = ProxyConfig::from_env(env).unwrap();
        assert_eq!(config.for_host(false, "api.test").unwrap().port, 3128);
        assert_eq!(config.for_host(true, "api.test").unwrap().port, 3129);
        assert!(config.for_host(true, "x.internal.test").is_none());
        assert!(config.for_host(false, "10.0.0.1").is_none());
        let bad = ProxyConfig::from_env(|n| (n == "HTTPS_PROXY").then(|| "ftp://u:p@x".into()));
        assert_eq!(
            bad.unwrap_err(),
            "HTTPS_PROXY: proxy scheme \"ftp\" is not supported (use http://; the tunnel to https:// targets is still encrypted end to end)"
        );
    }
}
