//! Opening a session: TCP (and TLS for `wss://`) through the HTTP client's
//! connect path, then the upgrade request over that stream. The whole of it
//! is bounded by the step's `connect_timeout` and timed for `ws_connecting`
//! and for the upgrade's `http_req_*` sample.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use http::{HeaderMap, HeaderValue};
use tokio_tungstenite::client_async_with_config;
use tokio_tungstenite::tungstenite::Error as TungsteniteError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::ProtocolError;

use super::buffers::session_config;
use super::error::{WsError, WsErrorCode};
use super::session::WsSession;
use crate::protocol::http::tls::TlsProfile;
use crate::protocol::http::{ByteCounters, ClientShared, ErrorCode, Timings, open_raw};

/// What to connect to.
#[derive(Debug)]
pub struct WsConnectRequest {
    /// `ws://` or `wss://` URL (`http://` and `https://` stand for them).
    pub url: String,
    /// Added to the upgrade request (never the handshake's own headers).
    pub headers: HeaderMap,
    /// Offered in `Sec-WebSocket-Protocol`; the server must pick one of them.
    pub subprotocols: Vec<String>,
    /// Bound on DNS, TCP, TLS and the upgrade together.
    pub timeout: Duration,
    /// The step's own TLS settings for `wss://`; `None`: the client's (its
    /// scenario's `tls`, else `http.tls`).
    pub tls: Option<Arc<TlsProfile>>,
}

/// The upgrade exchange as an HTTP request: recorded whether or not it succeeded.
#[derive(Clone, Copy, Debug, Default)]
pub struct WsHandshake {
    /// 101 on success; the refusing status; 0 when no answer arrived.
    pub status: u16,
    /// blocked (DNS), connecting (TCP), tls_handshaking, waiting (upgrade
    /// request written to its answer read); `duration` is the upgrade alone.
    pub timings: Timings,
    /// From the start of the connect to the `101` (or the failure).
    pub connect_time: Duration,
    /// Wire bytes up to the end of the handshake (all of them on failure).
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// Connects and upgrades. The handshake record is returned either way.
pub async fn connect(
    shared: &ClientShared,
    request: WsConnectRequest,
) -> (WsHandshake, Result<WsSession, WsError>) {
    let started = Instant::now();
    let mut handshake = WsHandshake::default();
    let mut counters = None;
    let timeout = request.timeout;
    let attempt = tokio::time::timeout(
        timeout,
        open(shared, request, &mut handshake, &mut counters),
    )
    .await;
    let result = match attempt {
        Ok(result) => result,
        Err(_elapsed) => Err(WsError::new(
            WsErrorCode::Connect,
            format!("not connected within {timeout:?}"),
        )),
    };
    handshake.connect_time = started.elapsed();
    if let Some(counters) = &counters {
        handshake.bytes_sent = counters.written();
        handshake.bytes_received = counters.read();
    }
    (handshake, result)
}

async fn open(
    shared: &ClientShared,
    request: WsConnectRequest,
    handshake: &mut WsHandshake,
    counters: &mut Option<ByteCounters>,
) -> Result<WsSession, WsError> {
    let mut url = url::Url::parse(&request.url)
        .map_err(|e| WsError::new(WsErrorCode::Connect, format!("invalid URL: {e}")))?;
    // http(s):// names the same server as ws(s)://, so a scenario can build
    // the URL from the BASE_URL its requests use.
    let tls = match url.scheme() {
        "ws" | "http" => false,
        "wss" | "https" => true,
        other => {
            return Err(WsError::new(
                WsErrorCode::Connect,
                format!("URL scheme must be ws or wss, got {other:?}"),
            ));
        }
    };
    let scheme = if tls { "wss" } else { "ws" };
    if url.scheme() != scheme && url.set_scheme(scheme).is_err() {
        return Err(WsError::new(WsErrorCode::Connect, "invalid URL scheme"));
    }
    // `user:password@` stands for Basic auth, as for HTTP requests; it must
    // not reach the upgrade request's target or Host header.
    let userinfo_auth = take_userinfo(&mut url);
    let host = url
        .host_str()
        .ok_or_else(|| WsError::new(WsErrorCode::Connect, "URL has no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port().unwrap_or(if tls { 443 } else { 80 });

    let raw = open_raw(shared, tls, host, port, request.tls.as_ref())
        .await
        .map_err(|e| {
            let code = match e.code {
                ErrorCode::FileLimit => WsErrorCode::FileLimit,
                _ => WsErrorCode::Connect,
            };
            WsError::new(code, e.message)
        })?;
    handshake.timings.blocked = raw.blocked;
    handshake.timings.connecting = raw.connecting;
    handshake.timings.tls_handshaking = raw.tls_handshaking;
    let stream_counters = raw.stream.counters();
    *counters = Some(stream_counters.clone());

    let mut upgrade = url
        .as_str()
        .into_client_request()
        .map_err(|e| WsError::new(WsErrorCode::Connect, format!("invalid URL: {e}")))?;
    let headers = upgrade.headers_mut();
    for (name, value) in &request.headers {
        headers.append(name, value.clone());
    }
    if let Some(auth) = userinfo_auth
        && !headers.contains_key(AUTHORIZATION)
    {
        headers.insert(AUTHORIZATION, auth);
    }
    if !request.subprotocols.is_empty() {
        let offered = HeaderValue::from_str(&request.subprotocols.join(", ")).map_err(|_| {
            WsError::new(
                WsErrorCode::Handshake,
                "subprotocols are not valid header text",
            )
        })?;
        headers.insert(SEC_WEBSOCKET_PROTOCOL, offered);
    }

    let upgrade_started = Instant::now();
    let outcome = client_async_with_config(upgrade, raw.stream, Some(session_config())).await;
    let waited = upgrade_started.elapsed();
    handshake.timings.waiting = waited;
    handshake.timings.duration = waited;
    match outcome {
        Ok((stream, response)) => {
            handshake.status = response.status().as_u16();
            let subprotocol = response
                .headers()
                .get(SEC_WEBSOCKET_PROTOCOL)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            Ok(WsSession::new(stream, stream_counters, subprotocol))
        }
        Err(TungsteniteError::Http(response)) => {
            handshake.status = response.status().as_u16();
            Err(WsError::new(
                WsErrorCode::Handshake,
                format!("upgrade refused with status {}", response.status()),
            ))
        }
        Err(err) => {
            if answered_101(&err) {
                handshake.status = 101;
            }
            Err(WsError::from_handshake(err))
        }
    }
}

/// Whether a failed upgrade had a `101` answer: tungstenite checks the
/// status first, so these are complaints about a `101`'s headers.
fn answered_101(err: &TungsteniteError) -> bool {
    matches!(
        err,
        TungsteniteError::Protocol(
            ProtocolError::MissingUpgradeWebSocketHeader
                | ProtocolError::MissingConnectionUpgradeHeader
                | ProtocolError::SecWebSocketAcceptKeyMismatch
                | ProtocolError::SecWebSocketSubProtocolError(_)
        )
    )
}

/// Removes `user:password@` from `url` and returns the Basic credentials it
/// stood for (the parts stay percent-encoded until the header is built).
fn take_userinfo(url: &mut url::Url) -> Option<HeaderValue> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let userinfo = match url.password() {
        Some(password) => format!("{}:{password}", url.username()),
        None => url.username().to_string(),
    };
    // Cannot fail for a URL with a host, which ws:// and wss:// have.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    crate::protocol::http::basic_auth_from_userinfo(&userinfo)
}
