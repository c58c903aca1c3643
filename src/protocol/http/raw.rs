//! A bare connection for protocols that take the socket over after an HTTP
//! upgrade (WebSocket): the run's DNS cache, host overrides, proxy (always a
//! CONNECT tunnel), TCP connect and rustls configuration (so no second TLS
//! stack), byte counting, and the time of each phase. ALPN offers only `http/1.1`: an upgrade is an HTTP/1.1
//! exchange, and a server that picked h2 could not answer it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::config::ClientShared;
use super::connect::{connect_any, resolve};
use super::error::{self, http_error};
use super::h1::Io;
use super::io::{ConnStats, Meter, MeteredIo};
use super::pool::Origin;
use super::proxy::open_tunnel;
use super::tls::TlsProfile;
use super::types::{ErrorCode, HttpError};

/// An open TCP (or TLS) connection and how long opening it took.
pub struct RawConnection {
    pub stream: RawStream,
    /// DNS lookup (zero for an IP literal or a cached name).
    pub blocked: Duration,
    /// TCP connect.
    pub connecting: Duration,
    /// TLS handshake (zero without TLS).
    pub tls_handshaking: Duration,
}

/// The byte stream of a [`RawConnection`]; counts wire bytes (TLS records
/// included) as the HTTP client does.
pub struct RawStream {
    io: Io,
    stats: Arc<ConnStats>,
}

impl RawStream {
    /// A handle on the byte counts that outlives the stream (an upgrade
    /// library takes the stream and may drop it on failure).
    pub fn counters(&self) -> ByteCounters {
        ByteCounters(self.stats.clone())
    }
}

/// Wire bytes of one [`RawStream`] so far.
#[derive(Clone)]
pub struct ByteCounters(Arc<ConnStats>);

impl ByteCounters {
    pub fn written(&self) -> u64 {
        self.0.bytes_written()
    }

    pub fn read(&self) -> u64 {
        self.0.bytes_read()
    }
}

/// Opens a connection to `host:port` (no IPv6 brackets), with TLS when `tls`:
/// with `profile`'s settings when given (a step's own `tls`), else the
/// client's. Nothing is pooled, so the profile only chooses the handshake.
pub async fn open_raw(
    shared: &ClientShared,
    tls: bool,
    host: &str,
    port: u16,
    profile: Option<&Arc<TlsProfile>>,
) -> Result<RawConnection, HttpError> {
    let origin = Origin {
        https: tls,
        host,
        port,
        tls: None,
    }
    .with_tls(profile);
    let started = Instant::now();
    let proxy = shared.config.network.proxy.for_host(origin.https, host);
    let (dial_host, dial_port) = proxy.map_or((host, port), |p| (p.host.as_str(), p.port));
    let addrs = resolve(shared, None, dial_host, dial_port).await?;
    let resolved = Instant::now();
    let mut tcp = connect_any(&addrs).await?;
    // Messages are small writes awaited by the peer: Nagle would add delay.
    tcp.set_nodelay(true)
        .map_err(|err| http_error(ErrorCode::Other, format!("set TCP_NODELAY: {err}")))?;
    // An upgrade always goes through a tunnel: the connection is the
    // target's once upgraded, which absolute-form forwarding cannot give.
    if let Some(proxy) = proxy {
        open_tunnel(&mut tcp, proxy, host, port).await?;
    }
    let connected = Instant::now();
    let stats = Arc::new(ConnStats::new());
    let (io, tls_handshaking) = if tls {
        let (connectors, server_name) = origin.tls_routes(&shared.tls).for_host(host);
        let server_name = server_name.ok_or_else(|| {
            http_error(ErrorCode::InvalidUrl, "host is not a valid TLS server name")
        })?;
        let tcp = MeteredIo::new(tcp, stats.clone(), Meter::Bytes);
        // HTTP/1.1 only: an upgrade cannot go over h2.
        let stream = connectors
            .http1
            .connect(server_name, tcp)
            .await
            .map_err(|err| error::tls(&err))?;
        let io = MeteredIo::new(stream, stats.clone(), Meter::Instants);
        (Io::Tls(Box::new(io)), connected.elapsed())
    } else {
        let io = MeteredIo::new(tcp, stats.clone(), Meter::Both);
        (Io::Plain(io), Duration::ZERO)
    };
    Ok(RawConnection {
        stream: RawStream { io, stats },
        blocked: resolved - started,
        connecting: connected - resolved,
        tls_handshaking,
    })
}

impl AsyncRead for RawStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for RawStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
