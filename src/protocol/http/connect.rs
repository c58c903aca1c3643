//! Opening a connection: DNS (or a host override), TCP (to the proxy, and
//! its CONNECT tunnel, when one is used), TLS with ALPN, and for HTTP/2 the
//! h2 handshake (HTTP/1 needs none).
//! Each phase is stamped on the hop's clock; reaching the proxy and the
//! tunnel through it count as connecting, as k6 counts them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpStream;

use super::clock::HopClock;
use super::config::ClientShared;
use super::dns::{DnsCache, DnsScope, resolve_uncached};
use super::error::{self, http_error};
use super::h1::{H1Conn, Io};
use super::h2;
use super::io::{ConnStats, Meter, MeteredIo};
use super::pool::{Origin, OriginKey, Pooled, Want};
use super::proxy::open_tunnel;
use super::types::{ErrorCode, HttpError};

/// Opens a connection speaking what `want` allows: over TLS, ALPN offers
/// only `http/1.1` for [`Want::Http1`] and fails the connection unless the
/// server picks `h2` for [`Want::Http2`]; over plain TCP, [`Want::Http2`] is
/// h2c with prior knowledge.
///
/// The tunnel, the TLS handshake and the HTTP/2 handshake are boxed: their
/// futures are several KB, and inline they would make every plain HTTP/1
/// connection's opening future (which the caller boxes) that large, moved
/// and allocated above malloc's per-thread cache on every connect.
pub(super) async fn open(
    shared: &ClientShared,
    vu_dns: Option<&DnsCache>,
    origin: Origin<'_>,
    want: Want,
    clock: &mut HopClock,
) -> Result<Pooled, HttpError> {
    let proxy = shared
        .config
        .network
        .proxy
        .for_host(origin.https, origin.host);
    let (host, port) = proxy.map_or((origin.host, origin.port), |p| (p.host.as_str(), p.port));
    let addrs = resolve(shared, vu_dns, host, port).await?;
    clock.connect_started();
    let mut tcp = connect_any(&addrs).await?;
    // Requests are small writes followed by a wait: Nagle would add delay.
    tcp.set_nodelay(true)
        .map_err(|err| http_error(ErrorCode::Other, format!("set TCP_NODELAY: {err}")))?;
    // Plain HTTP/1.1 is forwarded by the proxy request by request (absolute
    // form); TLS and h2c need the bytes relayed as they are: a tunnel.
    let forward = match proxy {
        Some(proxy) if !origin.https && want == Want::Http1 => Some(proxy.clone()),
        Some(proxy) => {
            Box::pin(open_tunnel(&mut tcp, proxy, origin.host, origin.port)).await?;
            None
        }
        None => None,
    };
    clock.connect_done();
    let stats = Arc::new(ConnStats::new());

    if origin.https {
        let (connectors, server_name) = origin.tls_routes(&shared.tls).for_host(origin.host);
        let server_name = server_name.ok_or_else(|| {
            http_error(ErrorCode::InvalidUrl, "host is not a valid TLS server name")
        })?;
        clock.tls_started();
        let tcp = MeteredIo::new(tcp, stats.clone(), Meter::Bytes);
        let connector = match want {
            Want::Http1 => &connectors.http1,
            Want::Any | Want::Http2 => &connectors.any,
        };
        let tls = Box::pin(connector.connect(server_name, tcp))
            .await
            .map_err(|err| error::tls(&err))?;
        clock.tls_done();
        let alpn = tls.get_ref().1.alpn_protocol();
        let h2 = alpn == Some(b"h2");
        if want == Want::Http2 && !h2 {
            let chosen = alpn.map_or_else(
                || "no protocol".to_string(),
                |p| String::from_utf8_lossy(p).into_owned(),
            );
            return Err(http_error(
                ErrorCode::Protocol,
                format!("HTTP/2 was required but the server chose {chosen} in ALPN"),
            ));
        }
        let io = MeteredIo::new(tls, stats.clone(), Meter::Instants);
        if h2 {
            Box::pin(h2::handshake(io, stats)).await.map(Pooled::Http2)
        } else {
            let io = Io::Tls(Box::new(io));
            Ok(Pooled::Http1(H1Conn::new(
                io,
                stats,
                OriginKey::new(origin),
                None,
            )))
        }
    } else {
        let io = MeteredIo::new(tcp, stats.clone(), Meter::Both);
        if want == Want::Http2 {
            Box::pin(h2::handshake(io, stats)).await.map(Pooled::Http2)
        } else {
            let io = Io::Plain(io);
            Ok(Pooled::Http1(H1Conn::new(
                io,
                stats,
                OriginKey::new(origin),
                forward,
            )))
        }
    }
}

/// The addresses to try for `host:port`: an IP literal as is, then the
/// host overrides, then DNS as `http.dns` says (`vu_dns` is the VU's own
/// cache for [`DnsScope::PerVu`]; without one, a lookup per connection).
pub(super) async fn resolve(
    shared: &ClientShared,
    vu_dns: Option<&DnsCache>,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, HttpError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if let Some(addr) = shared.config.network.hosts.lookup(host, port) {
        return Ok(vec![addr]);
    }
    let policy = shared.config.network.dns;
    let found = match (policy.scope, vu_dns) {
        (DnsScope::Shared, _) => shared.dns.resolve(host, port, policy.ttl).await,
        (DnsScope::PerVu, Some(cache)) => cache.resolve(host, port, policy.ttl).await,
        (DnsScope::PerVu, None) | (DnsScope::PerConnection, _) => {
            resolve_uncached(host, port).await
        }
    };
    found.map_err(|err| error::dns(host, err.0.as_ref()))
}

/// Tries each resolved address in order; the last failure is reported.
pub(super) async fn connect_any(addrs: &[SocketAddr]) -> Result<TcpStream, HttpError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => return Ok(tcp),
            Err(err) => last = Some(err),
        }
    }
    Err(last.map_or_else(
        || http_error(ErrorCode::Dns, "no address to connect to"),
        |err| error::connect(&err),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http::{ClientConfig, DnsPolicy, HostOverride, NetworkConfig};

    fn shared(scope: DnsScope) -> Arc<ClientShared> {
        let mut network = NetworkConfig {
            dns: DnsPolicy {
                scope,
                ..DnsPolicy::default()
            },
            ..NetworkConfig::default()
        };
        network
            .hosts
            .add(HostOverride::parse("api.stampede.test", "::1").unwrap());
        ClientShared::new(ClientConfig {
            network,
            ..ClientConfig::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn the_dns_scope_decides_which_cache_keeps_the_answer() {
        let vu = DnsCache::default();
        let run = shared(DnsScope::Shared);
        resolve(&run, Some(&vu), "localhost", 80).await.unwrap();
        assert_eq!((run.dns.len(), vu.len()), (1, 0));

        let per_vu = shared(DnsScope::PerVu);
        resolve(&per_vu, Some(&vu), "localhost", 80).await.unwrap();
        assert_eq!((per_vu.dns.len(), vu.len()), (0, 1));

        let per_connection = shared(DnsScope::PerConnection);
        let fresh = DnsCache::default();
        resolve(&per_connection, Some(&fresh), "localhost", 80)
            .await
            .unwrap();
        assert_eq!((per_connection.dns.len(), fresh.len()), (0, 0));
    }

    #[tokio::test]
    async fn an_idn_name_is_looked_up_in_punycode() {
        let target =
            crate::protocol::http::target::Target::parse("http://bücher.invalid/").unwrap();
        let origin = target.origin();
        assert_eq!(origin.host, "xn--bcher-kva.invalid");
        let run = shared(DnsScope::Shared);
        let err = resolve(&run, None, origin.host, origin.port)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Dns);
        assert_eq!(run.dns.names(), vec!["xn--bcher-kva.invalid".to_string()]);
    }

    #[tokio::test]
    async fn overrides_and_ip_literals_never_reach_dns() {
        let run = shared(DnsScope::Shared);
        let addrs = resolve(&run, None, "API.stampede.test", 8443)
            .await
            .unwrap();
        assert_eq!(addrs, vec!["[::1]:8443".parse().unwrap()]);
        let addrs = resolve(&run, None, "::1", 80).await.unwrap();
        assert_eq!(addrs, vec!["[::1]:80".parse().unwrap()]);
        assert_eq!(run.dns.len(), 0);
    }
}
