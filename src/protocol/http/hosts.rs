//! Host overrides: a name (and optionally a port) sent to a chosen address,
//! like k6's `hosts` and curl's `--resolve`. The URL is unchanged, so the
//! `Host` header, SNI and certificate check still use the name.

use std::net::{IpAddr, SocketAddr};

/// One override: `host[:port]` to `address[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostOverride {
    /// Lowercase, punycode for IDN names.
    host: String,
    /// Only connections to this port; `None`: any port.
    port: Option<u16>,
    address: IpAddr,
    /// Connect to this port instead of the URL's.
    to_port: Option<u16>,
}

impl HostOverride {
    /// `key` is `host` or `host:port`; `value` is an IP address, optionally
    /// with a port (`10.0.0.5:8443`, `[::1]:8443`).
    pub fn parse(key: &str, value: &str) -> Result<HostOverride, String> {
        let (host, port) =
            split_port(key.trim()).ok_or_else(|| format!("{key:?} is not host or host:port"))?;
        let host = ascii_host(host).ok_or_else(|| format!("{key:?} is not a host name"))?;
        let value = value.trim();
        let (address, to_port) = match value.parse::<SocketAddr>() {
            Ok(addr) => (addr.ip(), Some(addr.port())),
            Err(_) => match value.trim_start_matches('[').trim_end_matches(']').parse() {
                Ok(ip) => (ip, None),
                Err(_) => {
                    return Err(format!(
                        "{value:?} is not an IP address (use 10.0.0.5, 10.0.0.5:8443 or [::1]:8443)"
                    ));
                }
            },
        };
        Ok(HostOverride {
            host,
            port,
            address,
            to_port,
        })
    }

    /// curl's `--resolve host:port:address` (address may be `[v6]`).
    pub fn parse_resolve(text: &str) -> Result<HostOverride, String> {
        let mut parts = text.splitn(3, ':');
        let (Some(host), Some(port), Some(address)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{text:?} is not host:port:address"));
        };
        if port.parse::<u16>().is_err() {
            return Err(format!("{text:?}: {port:?} is not a port"));
        }
        HostOverride::parse(&format!("{host}:{port}"), address)
    }
}

/// `host` or `host:port` (a port must be a number).
fn split_port(key: &str) -> Option<(&str, Option<u16>)> {
    match key.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((key, None)),
    }
}

/// The name as URLs carry it: lowercase, IDN in punycode.
fn ascii_host(host: &str) -> Option<String> {
    if host.is_empty() {
        return None;
    }
    match url::Host::parse(host).ok()? {
        url::Host::Domain(name) => Some(name),
        _ => None,
    }
}

/// Every override of a client; the first that fits wins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostOverrides(Vec<HostOverride>);

impl HostOverrides {
    /// Adds `entry` ahead of the others (the command line's `--resolve`
    /// is added after the file's `hosts:` and wins over it). An entry
    /// with a port is also tried before entries without one.
    pub fn add(&mut self, entry: HostOverride) {
        self.0
            .retain(|e| !(e.host == entry.host && e.port == entry.port));
        self.0.insert(0, entry);
        // Stable: among entries with (or without) a port, newest first.
        self.0.sort_by_key(|e| e.port.is_none());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Where to connect for `host:port`, if overridden.
    pub(super) fn lookup(&self, host: &str, port: u16) -> Option<SocketAddr> {
        let host = host.trim_end_matches('.');
        self.0
            .iter()
            .find(|e| e.host.eq_ignore_ascii_case(host) && e.port.is_none_or(|p| p == port))
            .map(|e| SocketAddr::new(e.address, e.to_port.unwrap_or(port)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_specific_entry_wins_and_the_url_port_is_kept_otherwise() {
        let mut hosts = HostOverrides::default();
        hosts.add(HostOverride::parse("API.example.com", "127.0.0.1").unwrap());
        hosts.add(HostOverride::parse("api.example.com:443", "[::1]:8443").unwrap());
        assert_eq!(
            hosts.lookup("api.example.com", 443),
            Some("[::1]:8443".parse().unwrap())
        );
        assert_eq!(
            hosts.lookup("api.example.com", 80),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(hosts.lookup("other.example.com", 80), None);
    }

    #[test]
    fn resolve_flags_read_like_curls_and_idn_names_match_in_punycode() {
        let mut hosts = HostOverrides::default();
        hosts.add(HostOverride::parse_resolve("bücher.test:8080:127.0.0.2").unwrap());
        assert_eq!(
            hosts.lookup("xn--bcher-kva.test", 8080),
            Some("127.0.0.2:8080".parse().unwrap())
        );
        hosts.add(HostOverride::parse_resolve("bücher.test:8080:[::1]").unwrap());
        assert_eq!(
            hosts.lookup("xn--bcher-kva.test", 8080),
            Some("[::1]:8080".parse().unwrap())
        );
        assert_eq!(
            HostOverride::parse_resolve("api.test:https:127.0.0.1").unwrap_err(),
            "\"api.test:https:127.0.0.1\": \"https\" is not a port"
        );
        assert_eq!(
            HostOverride::parse("api.test", "api.internal").unwrap_err(),
            "\"api.internal\" is not an IP address (use 10.0.0.5, 10.0.0.5:8443 or [::1]:8443)"
        );
    }
}
