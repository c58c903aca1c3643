//! The raw serde model of the network settings under `http:` (TLS, proxy,
//! host overrides, DNS), as written (see `model` for the rest of the file).
//! Validated in `validate::network` into the HTTP client's settings.

use schemars::JsonSchema;
use serde::Deserialize;

use super::model_types::{Templated, Text, TextList};

/// `http.tls`: which servers are trusted, which client certificate is shown.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsDef {
    /// PEM file, or directory of `.pem`/`.crt` files, of CA certificates
    /// trusted besides the bundled public roots (relative to the scenario
    /// file; templated from the environment).
    pub ca_file: Option<String>,
    /// Trust only `ca_file`, not the bundled public roots. Default false.
    pub replace_default_roots: Option<Templated<bool>>,
    /// Lowest TLS version offered: `1.2` (default) or `1.3`.
    pub min_version: Option<Text>,
    /// Highest TLS version offered: `1.2` or `1.3` (default).
    pub max_version: Option<Text>,
    /// Settings per host pattern, the first match wins.
    #[serde(default)]
    pub hosts: Vec<TlsHostDef>,
}

/// `http.tls.hosts[]`: TLS settings for the hosts a pattern names.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsHostDef {
    /// `api.example.com`, `*.example.com` (names under it) or `*`.
    pub host: String,
    /// PEM client certificate (chain, leaf first) shown for mTLS.
    pub client_cert: Option<String>,
    /// PEM private key of `client_cert` (PKCS#8, PKCS#1 or SEC1).
    pub client_key: Option<String>,
    /// Name sent in SNI and checked against the server certificate instead
    /// of the URL's host.
    pub server_name: Option<String>,
}

/// `http.proxy`: a forward proxy set in the file instead of (or besides)
/// `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyDef {
    /// `http://host:port` for every request, instead of the environment's
    /// proxies. Credentials only from the environment (`{{ PROXY_URL }}`).
    pub url: Option<String>,
    /// Hosts reached directly, in curl's `NO_PROXY` syntax: a list, or one
    /// comma-separated string; replaces `NO_PROXY`.
    pub no_proxy: Option<TextList>,
    /// Read `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`. Default true.
    pub from_env: Option<Templated<bool>>,
}

/// `http.dns`: how host names are resolved and cached.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsDef {
    /// `shared` (default: one cache for the run), `per-vu` or
    /// `per-connection` (a lookup for every new connection).
    pub scope: Option<String>,
    /// How long an answer is cached. Default 5m.
    pub ttl: Option<Text>,
}
