//! One hop: get a connection (pooled or new), send the request, read the
//! response to its end, and give the connection back. Redirects, cookies and
//! the deadline are the caller's business.

use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, HeaderValue, Method};

use super::body;
use super::clock::HopClock;
use super::config::ClientShared;
use super::connect;
use super::dns::DnsScope;
use super::error::{self, http_error};
use super::h1::H1Conn;
use super::h2::{self, Http2Conn};
use super::pool::{Found, Origin, Pool, Pooled, Want};
use super::target::Target;
use super::tls::TlsProfile;
use super::types::{ErrorCode, HttpError, HttpResponse, Proto, ProtoChoice};

/// Sent when the request sets no `accept-encoding`.
pub(super) const ACCEPT_ENCODING_DEFAULT: HeaderValue = HeaderValue::from_static("gzip, deflate");

/// Everything one hop sends, borrowed from the caller.
pub(super) struct HopRequest<'a> {
    pub method: &'a Method,
    /// The parsed URL: absolute form for HTTP/2, origin form and `host` for
    /// HTTP/1, the origin to connect to.
    pub target: &'a Target,
    /// Sent when `headers` has no `user-agent`; likewise
    /// [`ACCEPT_ENCODING_DEFAULT`]. Added on the wire rather than to
    /// `headers`, so that a plain request needs no header map at all.
    pub user_agent: &'a HeaderValue,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub keep_body: bool,
    /// See [`HttpRequest::max_body_size`](super::types::HttpRequest::max_body_size).
    pub max_body: u64,
    /// See [`HttpRequest::keep_headers`](super::types::HttpRequest::keep_headers);
    /// HTTP/2 responses come with their map built.
    pub keep_headers: bool,
    pub proto: ProtoChoice,
    /// The request's own TLS settings; `None`: the client's.
    pub tls: Option<&'a Arc<TlsProfile>>,
}

impl HopRequest<'_> {
    /// Where the connection goes, and with which TLS settings.
    pub(super) fn origin(&self) -> Origin<'_> {
        self.target.origin().with_tls(self.tls)
    }
}

/// A failed attempt, and whether it may be repeated on a fresh connection.
struct Failure {
    error: HttpError,
    retry: bool,
}

impl From<HttpError> for Failure {
    fn from(error: HttpError) -> Self {
        Failure {
            error,
            retry: false,
        }
    }
}

/// Runs the hop and fills `hop`'s status, headers, body and proto; the caller
/// reads timings and byte counts from `clock` (also after a timeout).
pub(super) async fn run_hop(
    shared: &ClientShared,
    pool: &Pool,
    req: &HopRequest<'_>,
    clock: &mut HopClock,
    hop: &mut HttpResponse,
) -> Result<(), HttpError> {
    let mut retried = false;
    loop {
        let (conn, reused) = acquire(shared, pool, req.origin(), req.proto, clock, retried).await?;
        let result = match conn {
            Pooled::Http1(conn) => send_http1(shared, pool, req, conn, reused, clock, hop).await,
            Pooled::Http2(conn) => send_http2(shared, pool, req, conn, reused, clock, hop).await,
        };
        match result {
            Ok(()) => return Ok(()),
            // A kept-alive connection the server closed while idle: repeat
            // once on a new connection, as browsers and Go's client do. The
            // dead attempt is not reported (its time stays in `blocked`).
            Err(failure) if failure.retry && reused && !retried => {
                retried = true;
                clock.restart_attempt();
            }
            Err(failure) => return Err(failure.error),
        }
    }
}

/// A pooled connection of the protocol `choice` allows that is ready, or a
/// new one (`force_new` after a pooled one failed). Returns whether the
/// connection was reused. Time spent waiting for a concurrent send's
/// HTTP/2 connection is `blocked` time, as waiting for a pool slot is.
pub(super) async fn acquire(
    shared: &ClientShared,
    pool: &Pool,
    origin: Origin<'_>,
    choice: ProtoChoice,
    clock: &mut HopClock,
    force_new: bool,
) -> Result<(Pooled, bool), HttpError> {
    let want = Want::resolve(choice, origin.https, shared.config.http2_prior_knowledge);
    let opening = if force_new {
        None
    } else {
        loop {
            match pool.take(origin, want) {
                // Checked for a close while idle when taken.
                Found::Conn(Pooled::Http1(conn)) => return Ok((Pooled::Http1(conn), true)),
                Found::Conn(Pooled::Http2(mut conn)) => {
                    if conn.ready().await.is_ok() {
                        return Ok((Pooled::Http2(conn), true));
                    }
                    pool.remove_http2(&conn.stats);
                }
                Found::Wait(lock) => drop(lock.lock().await),
                Found::Open(opening) => break opening,
            }
        }
    };
    // Boxed: opening (DNS, TCP; TLS and HTTP/2 boxed again inside) happens
    // once per connection; inline it would make every request's future
    // larger, and each request moves its future into a box.
    let vu_dns = (shared.config.network.dns.scope == DnsScope::PerVu).then(|| pool.vu_dns());
    let conn = Box::pin(connect::open(shared, vu_dns, origin, want, clock)).await?;
    if let Pooled::Http2(conn) = &conn {
        pool.put_http2(origin, conn);
    }
    // Shared (or failed): sends waiting for this connection look again.
    drop(opening);
    Ok((conn, false))
}

async fn send_http1(
    shared: &ClientShared,
    pool: &Pool,
    req: &HopRequest<'_>,
    mut conn: H1Conn,
    reused: bool,
    clock: &mut HopClock,
    hop: &mut HttpResponse,
) -> Result<(), Failure> {
    hop.proto = Proto::Http1;
    check_http1_host(req)?;
    clock.acquired_http1(conn.stats.clone(), !reused);
    let received = match conn.exchange(req, hop).await {
        Ok(received) => received,
        Err(error) => {
            // Nothing of a response arrived: the request may be repeated.
            let (sent, received) = clock.bytes();
            let retry = error.code == ErrorCode::Reset
                && received == 0
                && (sent == 0 || is_idempotent(req.method));
            return Err(Failure { error, retry });
        }
    };
    clock.finished();
    if received.reusable {
        pool.put_http1(conn);
    }
    store_body(hop, received.data, inflate_limits(shared, req))
}

/// HTTP/1 writes the URL's `host[:port]` into the head as is.
pub(super) fn check_http1_host(req: &HopRequest<'_>) -> Result<(), HttpError> {
    if req.target.host_is_valid_header {
        Ok(())
    } else {
        Err(http_error(
            ErrorCode::InvalidUrl,
            "host is not a valid header value",
        ))
    }
}

async fn send_http2(
    shared: &ClientShared,
    pool: &Pool,
    req: &HopRequest<'_>,
    mut conn: Http2Conn,
    reused: bool,
    clock: &mut HopClock,
    hop: &mut HttpResponse,
) -> Result<(), Failure> {
    hop.proto = Proto::Http2;
    let (head, mut body) = open_http2(pool, req, &mut conn, reused, clock)
        .await
        .map_err(|error| {
            let retry = error.code == ErrorCode::Reset && is_idempotent(req.method);
            Failure { error, retry }
        })?;
    hop.status = head.status.as_u16();
    hop.headers = head.headers;
    let hint = content_length(&hop.headers);
    let (data, wire_len) = body
        .read_to_end(clock, req.keep_body, hint, req.max_body)
        .await?;
    clock.body_received(wire_len);
    clock.finished();
    store_body(hop, data, inflate_limits(shared, req))
}

/// Sends `req` on `conn` and waits for the response head, which is stamped
/// on the clock; the body is left to read. A connection that fails here is
/// dropped from the pool.
pub(super) async fn open_http2(
    pool: &Pool,
    req: &HopRequest<'_>,
    conn: &mut Http2Conn,
    reused: bool,
    clock: &mut HopClock,
) -> Result<(http::response::Parts, h2::ResponseBody), HttpError> {
    let head = h2::build_head(req);
    let estimate = h2::estimate::request(&head, req.body.len() as u64);
    clock.acquired_http2(conn.stats.clone(), !reused, !req.body.is_empty(), estimate);
    let (head, body) = h2::send(conn, head, req.body, clock).await.map_err(|err| {
        if conn.is_closed() || err.is_go_away() || err.is_io() {
            pool.remove_http2(&conn.stats);
        }
        error::h2_exchange(&err)
    })?;
    clock.head_received(h2::estimate::response_head(&head.headers));
    Ok((head, body))
}

/// A kept body longer than the request's `max_body_size`.
pub(super) fn body_too_large(max: u64) -> HttpError {
    http_error(
        ErrorCode::BodyTooLarge,
        format!("response body larger than max_body_size ({max} bytes)"),
    )
}

fn inflate_limits(shared: &ClientShared, req: &HopRequest<'_>) -> body::InflateLimits {
    body::InflateLimits {
        max_size: req.max_body,
        max_ratio: shared.config.max_decompression_ratio,
    }
}

fn store_body(
    hop: &mut HttpResponse,
    data: Bytes,
    limits: body::InflateLimits,
) -> Result<(), Failure> {
    if !data.is_empty() {
        hop.body = body::decode(&hop.headers, data, limits).map_err(|err| {
            let code = match err {
                body::DecodeError::Corrupt { .. } => ErrorCode::Body,
                body::DecodeError::TooLarge { .. } | body::DecodeError::Ratio { .. } => {
                    ErrorCode::DecompressionLimit
                }
            };
            http_error(code, err.to_string())
        })?;
    }
    Ok(())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// Methods RFC 9110 calls idempotent: safe to repeat after a connection
/// dropped before any response byte, even if the request may have been sent.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_methods() {
        assert!(is_idempotent(&Method::GET));
        assert!(is_idempotent(&Method::PUT));
        assert!(!is_idempotent(&Method::POST));
        assert!(!is_idempotent(&Method::PATCH));
    }
}
