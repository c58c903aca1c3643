//! Opening a connection: DNS, TCP, TLS with ALPN, and for HTTP/2 the hyper
//! handshake (HTTP/1 needs none).
//! Each phase is stamped on the hop's clock.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::clock::HopClock;
use super::config::ClientShared;
use super::error::{self, http_error};
use super::h1::{H1Conn, Io};
use super::io::{ConnStats, Meter, MeteredIo};
use super::pool::{Http2Conn, Origin, OriginKey, Pooled, Want};
use super::types::{ErrorCode, HttpError};

/// Opens a connection speaking what `want` allows: over TLS, ALPN offers
/// only `http/1.1` for [`Want::Http1`] and fails the connection unless the
/// server picks `h2` for [`Want::Http2`]; over plain TCP, [`Want::Http2`] is
/// h2c with prior knowledge.
pub(super) async fn open(
    shared: &ClientShared,
    origin: Origin<'_>,
    want: Want,
    clock: &mut HopClock,
) -> Result<Pooled, HttpError> {
    let addrs = resolve(shared, origin).await?;
    clock.connect_started();
    let tcp = connect_any(&addrs).await?;
    clock.connect_done();
    // Requests are small writes followed by a wait: Nagle would add delay.
    tcp.set_nodelay(true)
        .map_err(|err| http_error(ErrorCode::Other, format!("set TCP_NODELAY: {err}")))?;
    let stats = Arc::new(ConnStats::new());

    if origin.https {
        let server_name = ServerName::try_from(origin.host.to_owned()).map_err(|_| {
            http_error(ErrorCode::InvalidUrl, "host is not a valid TLS server name")
        })?;
        clock.tls_started();
        let tcp = MeteredIo::new(tcp, stats.clone(), Meter::Bytes);
        let connector = match want {
            Want::Http1 => &shared.tls_http1,
            Want::Any | Want::Http2 => &shared.tls,
        };
        let tls = connector
            .connect(server_name, tcp)
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
            handshake_http2(io, stats).await
        } else {
            let io = Io::Tls(Box::new(io));
            Ok(Pooled::Http1(H1Conn::new(
                io,
                stats,
                OriginKey::new(origin),
            )))
        }
    } else {
        let io = MeteredIo::new(tcp, stats.clone(), Meter::Both);
        if want == Want::Http2 {
            handshake_http2(io, stats).await
        } else {
            let io = Io::Plain(io);
            Ok(Pooled::Http1(H1Conn::new(
                io,
                stats,
                OriginKey::new(origin),
            )))
        }
    }
}

pub(super) async fn resolve(
    shared: &ClientShared,
    origin: Origin<'_>,
) -> Result<Vec<SocketAddr>, HttpError> {
    if let Ok(ip) = origin.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, origin.port)]);
    }
    shared
        .dns
        .resolve(origin.host, origin.port)
        .await
        .map_err(|err| error::dns(origin.host, err.0.as_ref()))
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

async fn handshake_http2<T>(io: MeteredIo<T>, stats: Arc<ConnStats>) -> Result<Pooled, HttpError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http2_builder()
        .handshake(TokioIo::new(io))
        .await
        .map_err(|err| error::exchange(&err))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Pooled::Http2(Http2Conn { sender, stats }))
}

/// Larger flow-control windows than the 64 KiB default so that one stream
/// can download at line rate; they are credit, not buffers.
fn http2_builder() -> http2::Builder<TokioExecutor> {
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
        .initial_stream_window_size(2 << 20)
        .initial_connection_window_size(4 << 20);
    builder
}
