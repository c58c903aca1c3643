//! Host name resolution, cached like k6 caches it (by default shared by all
//! clients, 5 minutes). Without the cache, 50,000 VUs starting together
//! would queue 50,000 `getaddrinfo` calls on the blocking pool; with it,
//! concurrent lookups of one name wait for a single resolution. A load
//! balancer that rotates its DNS answers needs more lookups than that:
//! [`DnsScope::PerVu`] and [`DnsScope::PerConnection`] give them.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// How long a resolved address list is reused, by default.
pub const DNS_CACHE_TTL: Duration = Duration::from_secs(300);

/// Who shares a resolved address list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DnsScope {
    /// One cache for the whole run: one lookup per name per TTL.
    #[default]
    Shared,
    /// A cache per VU (per client): VUs spread over the answers the
    /// resolver rotates through. WebSocket sessions resolve per connection.
    PerVu,
    /// No cache: every new connection resolves its name.
    PerConnection,
}

impl DnsScope {
    pub fn parse(text: &str) -> Option<DnsScope> {
        match text {
            "shared" => Some(DnsScope::Shared),
            "per-vu" => Some(DnsScope::PerVu),
            "per-connection" => Some(DnsScope::PerConnection),
            _ => None,
        }
    }
}

/// How names are resolved and cached (`http.dns`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsPolicy {
    pub scope: DnsScope,
    /// How long a cached answer is used.
    pub ttl: Duration,
}

impl Default for DnsPolicy {
    fn default() -> Self {
        DnsPolicy {
            scope: DnsScope::Shared,
            ttl: DNS_CACHE_TTL,
        }
    }
}

type Addresses = Arc<[IpAddr]>;

#[derive(Debug, Default)]
pub(super) struct DnsCache {
    entries: Mutex<HashMap<Box<str>, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    created: Instant,
    addresses: Arc<OnceCell<Addresses>>,
}

/// Why a name did not resolve; the io error's text when there was one.
#[derive(Debug)]
pub(super) struct LookupError(pub Option<std::io::Error>);

impl DnsCache {
    /// The addresses of `host` (no brackets, not an IP literal) with `port`.
    pub(super) async fn resolve(
        &self,
        host: &str,
        port: u16,
        ttl: Duration,
    ) -> Result<Vec<SocketAddr>, LookupError> {
        let cell = self.cell(host, ttl);
        let addresses = cell.get_or_try_init(|| lookup(host)).await?;
        Ok(addresses
            .iter()
            .map(|ip| SocketAddr::new(*ip, port))
            .collect())
    }

    /// How many names are cached (or being resolved).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }

    /// The names looked up so far (failed lookups keep their entry).
    #[cfg(test)]
    pub(super) fn names(&self) -> Vec<String> {
        self.entries
            .lock()
            .unwrap()
            .keys()
            .map(|k| k.to_string())
            .collect()
    }

    /// The cell holding `host`'s addresses: fresh or still being resolved.
    fn cell(&self, host: &str, ttl: Duration) -> Arc<OnceCell<Addresses>> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(entry) = entries.get(host) {
            // An uninitialised cell is a lookup in flight, or one that failed
            // (failures are not cached: the next caller tries again).
            if entry.created.elapsed() < ttl || !entry.addresses.initialized() {
                return entry.addresses.clone();
            }
        }
        let entry = Entry {
            created: Instant::now(),
            addresses: Arc::new(OnceCell::new()),
        };
        entries.insert(host.into(), entry.clone());
        entry.addresses
    }
}

/// The addresses of `host` with `port`, without a cache.
pub(super) async fn resolve_uncached(
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, LookupError> {
    let addresses = lookup(host).await?;
    Ok(addresses
        .iter()
        .map(|ip| SocketAddr::new(*ip, port))
        .collect())
}

async fn lookup(host: &str) -> Result<Addresses, LookupError> {
    // The port is irrelevant to resolution; it is set per connection.
    let addrs = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|err| LookupError(Some(err)))?;
    let ips: Addresses = addrs.map(|addr| addr.ip()).collect();
    if ips.is_empty() {
        Err(LookupError(None))
    } else {
        Ok(ips)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_localhost_once_and_applies_the_port() {
        let cache = DnsCache::default();
        let first = cache
            .resolve("localhost", 8080, DNS_CACHE_TTL)
            .await
            .unwrap();
        assert!(!first.is_empty());
        assert!(
            first
                .iter()
                .all(|a| a.port() == 8080 && a.ip().is_loopback())
        );
        let cell = cache.cell("localhost", DNS_CACHE_TTL);
        assert!(cell.initialized());
        let second = cache
            .resolve("localhost", 9090, DNS_CACHE_TTL)
            .await
            .unwrap();
        assert_eq!(second.len(), first.len());
        assert!(second.iter().all(|a| a.port() == 9090));
        assert_eq!(cache.entries.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cache = DnsCache::default();
        assert!(
            cache
                .resolve("no-such-host.invalid", 80, DNS_CACHE_TTL)
                .await
                .is_err()
        );
        assert!(
            !cache
                .cell("no-such-host.invalid", DNS_CACHE_TTL)
                .initialized()
        );
    }
}
