//! `http.tls`, `http.proxy`, `http.hosts` and `http.dns`: from the file's
//! text (and the environment's proxy variables) to the HTTP client's
//! settings. Certificate and key files are read here, so a missing or
//! malformed one is a load error with its line, not a failed first request.
//! No message quotes a proxy URL or a key: either may hold a secret.

use std::path::PathBuf;
use std::sync::Arc;

use super::Validator;
use crate::protocol::http::proxy::{ProxyConfig, ProxyServer};
use crate::protocol::http::tls::{
    HostPattern, HostTls, TlsConfig, TlsProfile, TlsVersion, load_ca, load_identity,
};
use crate::protocol::http::{DnsPolicy, DnsScope, HostOverride, HostOverrides, NetworkConfig};
use crate::scenario::locate::FieldPath;
use crate::scenario::model::HttpDef;
use crate::scenario::model_types::Text;
use crate::scenario::net_model::{DnsDef, ProxyDef, TlsDef, TlsHostDef};

impl Validator<'_> {
    pub(crate) fn network_settings(&mut self, def: &HttpDef, path: &FieldPath) -> NetworkConfig {
        let tls = match &def.tls {
            Some(tls) => self.tls_config(tls, &path.key("tls"), TlsConfig::default()),
            None => TlsConfig::default(),
        };
        self.file_tls = tls.clone();
        let proxy = self.proxy_config(def.proxy.as_ref(), &path.key("proxy"));
        let mut hosts = HostOverrides::default();
        for (key, value) in &def.hosts.0 {
            let at = path.key("hosts").key(key);
            let Some(value) = self.render_load_time(&value.0, &at) else {
                continue;
            };
            match HostOverride::parse(key, &value) {
                Ok(entry) => hosts.add(entry),
                Err(message) => self.problem(&at, message, None),
            }
        }
        let dns = match &def.dns {
            Some(dns) => self.dns_policy(dns, &path.key("dns")),
            None => DnsPolicy::default(),
        };
        NetworkConfig {
            tls,
            proxy,
            hosts,
            dns,
        }
    }

    /// A scenario's `tls`: its fields over `http.tls`'s, its `hosts` first.
    pub(crate) fn scenario_tls(&mut self, def: &TlsDef, path: &FieldPath) -> TlsConfig {
        let base = self.file_tls.clone();
        self.tls_config(def, path, base)
    }

    /// A request's own `tls`: its fields over its scenario's (`ctx_tls`, or
    /// `http.tls` when the scenario sets none), its `hosts` first; built
    /// into rustls configurations here, so a key rustls refuses is a load
    /// error at the request's `tls`.
    pub(crate) fn request_tls(
        &mut self,
        def: &TlsDef,
        path: &FieldPath,
        scenario: Option<&TlsConfig>,
    ) -> Option<Arc<TlsProfile>> {
        let base = scenario.unwrap_or(&self.file_tls).clone();
        let problems = self.problems.len();
        let config = self.tls_config(def, path, base);
        if self.problems.len() > problems {
            return None;
        }
        if let Some(same) = self.request_tls.iter().find(|p| *p.config() == config) {
            return Some(same.clone());
        }
        match TlsProfile::build(config, self.insecure_skip_tls_verify) {
            Ok(profile) => {
                self.request_tls.push(profile.clone());
                Some(profile)
            }
            Err(e) => {
                self.problem(path, format!("TLS setup failed: {e}"), None);
                None
            }
        }
    }

    /// `def` over `base`: what `def` sets replaces `base`'s, and `def`'s host
    /// rules are tried before `base`'s.
    fn tls_config(&mut self, def: &TlsDef, path: &FieldPath, base: TlsConfig) -> TlsConfig {
        let inherited_hosts = base.hosts.clone();
        let mut config = TlsConfig {
            hosts: Vec::new(),
            ..base
        };
        if let Some(file) = &def.ca_file {
            let at = path.key("ca_file");
            if let Some(file) = self.file_path(file, &at) {
                match load_ca(&file) {
                    Ok(certs) => config.ca_certificates = certs,
                    Err(e) => self.problem(&at, e.to_string(), None),
                }
            }
        }
        if let Some(replace) = self.optional_value(
            def.replace_default_roots.as_ref(),
            &path.key("replace_default_roots"),
        ) {
            config.replace_default_roots = replace;
        }
        if config.replace_default_roots
            && def.ca_file.is_none()
            && config.ca_certificates.is_empty()
        {
            self.problem(
                &path.key("replace_default_roots"),
                "replaces the public roots with nothing: no server could be trusted",
                Some("set ca_file too".into()),
            );
        }
        if let Some(min) = self.tls_version(def.min_version.as_ref(), &path.key("min_version")) {
            config.min_version = Some(min);
        }
        if let Some(max) = self.tls_version(def.max_version.as_ref(), &path.key("max_version")) {
            config.max_version = Some(max);
        }
        if let (Some(min), Some(max)) = (config.min_version, config.max_version)
            && min > max
        {
            self.problem(
                &path.key("min_version"),
                format!("{} is above max_version {}", min.as_str(), max.as_str()),
                None,
            );
        }
        for (i, host) in def.hosts.iter().enumerate() {
            if let Some(entry) = self.tls_host(host, &path.key("hosts").index(i)) {
                config.hosts.push(entry);
            }
        }
        config.hosts.extend(inherited_hosts);
        config
    }

    fn tls_host(&mut self, def: &TlsHostDef, path: &FieldPath) -> Option<HostTls> {
        let pattern = match HostPattern::new(&def.host) {
            Ok(pattern) => pattern,
            Err(message) => {
                self.problem(&path.key("host"), message, None);
                return None;
            }
        };
        let identity = match (&def.client_cert, &def.client_key) {
            (Some(cert), Some(key)) => {
                let cert = self.file_path(cert, &path.key("client_cert"))?;
                let key_at = path.key("client_key");
                let key = self.file_path(key, &key_at)?;
                match load_identity(&cert, &key) {
                    Ok(identity) => Some(identity),
                    Err(e) => {
                        let at = if e.path == key {
                            key_at
                        } else {
                            path.key("client_cert")
                        };
                        self.problem(&at, e.to_string(), None);
                        return None;
                    }
                }
            }
            (Some(_), None) => {
                self.problem(&path.key("client_cert"), "has no client_key", None);
                return None;
            }
            (None, Some(_)) => {
                self.problem(&path.key("client_key"), "has no client_cert", None);
                return None;
            }
            (None, None) => None,
        };
        let server_name = match &def.server_name {
            Some(name) => {
                let at = path.key("server_name");
                let name = self.render_load_time(name, &at)?.into_owned();
                if rustls::pki_types::ServerName::try_from(name.as_str()).is_err() {
                    self.problem(
                        &at,
                        format!("{name:?} is not a valid TLS server name"),
                        None,
                    );
                    return None;
                }
                Some(name)
            }
            None => None,
        };
        Some(HostTls {
            pattern,
            identity,
            server_name,
        })
    }

    fn tls_version(&mut self, text: Option<&Text>, path: &FieldPath) -> Option<TlsVersion> {
        let text = self.render_load_time(&text?.0, path)?;
        let version = TlsVersion::parse(&text);
        if version.is_none() {
            self.problem(
                path,
                format!("unknown TLS version {text:?}"),
                Some("use 1.2 or 1.3".into()),
            );
        }
        version
    }

    fn proxy_config(&mut self, def: Option<&ProxyDef>, path: &FieldPath) -> ProxyConfig {
        let from_env = def
            .and_then(|d| self.value_or(d.from_env.as_ref(), &path.key("from_env"), true))
            .unwrap_or(true);
        let config = if from_env {
            let env = &self.options.process_env;
            match ProxyConfig::from_env(|name| env.get(name).cloned()) {
                Ok(config) => config,
                Err(message) => {
                    let (var, why) = message.split_once(": ").unwrap_or(("HTTP_PROXY", &message));
                    self.option_problem(var, why.to_string(), None);
                    ProxyConfig::default()
                }
            }
        } else {
            ProxyConfig::default()
        };
        let Some(def) = def else {
            return config;
        };
        let server = def
            .url
            .as_ref()
            .and_then(|url| self.proxy_server(url, &path.key("url")));
        let no_proxy = def.no_proxy.as_ref().and_then(|list| {
            // A list is the comma-separated string written another way.
            let mut hosts = Vec::with_capacity(list.0.len());
            for (i, item) in list.0.iter().enumerate() {
                let at = match list.0.len() {
                    1 => path.key("no_proxy"),
                    _ => path.key("no_proxy").index(i),
                };
                hosts.push(self.render_load_time(item, &at)?);
            }
            Some(hosts.join(","))
        });
        config.overridden(server, no_proxy.as_deref())
    }

    fn proxy_server(&mut self, url: &str, path: &FieldPath) -> Option<ProxyServer> {
        let rendered = self.render_load_time(url, path)?;
        match ProxyServer::parse(&rendered) {
            // Credentials written in the file would be committed with it.
            Ok(server) if server.has_credentials() && !url.contains("{{") => {
                self.problem(
                    path,
                    "proxy credentials may not be written in the file",
                    Some(
                        "take the whole URL from the environment: url: \"{{ PROXY_URL }}\"".into(),
                    ),
                );
                None
            }
            Ok(server) => Some(server),
            Err(message) => {
                self.problem(path, message, None);
                None
            }
        }
    }

    fn dns_policy(&mut self, def: &DnsDef, path: &FieldPath) -> DnsPolicy {
        let mut policy = DnsPolicy::default();
        if let Some(scope) = &def.scope {
            match DnsScope::parse(scope) {
                Some(scope) => policy.scope = scope,
                None => self.problem(
                    &path.key("scope"),
                    format!("unknown DNS scope {scope:?}"),
                    Some("use shared, per-vu or per-connection".into()),
                ),
            }
        }
        if let Some(ttl) = &def.ttl
            && let Some(ttl) = self.positive_duration(ttl, &path.key("ttl"))
        {
            policy.ttl = ttl;
        }
        policy
    }

    /// A file named in the scenario (templated), relative to the scenario's
    /// directory.
    fn file_path(&mut self, text: &str, path: &FieldPath) -> Option<PathBuf> {
        let rendered = self.render_load_time(text, path)?;
        Some(self.base_dir.join(rendered.as_ref()))
    }
}
