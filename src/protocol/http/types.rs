//! The request a VU sends and the record it gets back.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};

use super::tls::TlsProfile;

/// One request, fully rendered (templates already applied).
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: Method,
    /// Absolute `http://` or `https://` URL, query included.
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Whole-exchange deadline (connect + send + wait + receive).
    pub timeout: Duration,
    /// Keep the (decompressed) body in the response. When false the body is
    /// read and counted but not stored: nothing needs it, so no copy is made.
    pub keep_body: bool,
    /// Keep every response header in [`HttpResponse::headers`]. When false
    /// only those the client itself acts on are kept (`set-cookie`,
    /// `location`, `content-encoding`) and, over HTTP/1.1, no map is built
    /// for the others: nothing would read them.
    pub keep_headers: bool,
    /// Which HTTP version this request may use; see [`ProtoChoice`].
    pub proto: ProtoChoice,
    /// TLS settings of this request instead of the client's (a request
    /// step's own `tls`); `None`: the client's. Connections are pooled per
    /// profile, so none made with other settings is reused for it.
    pub tls: Option<Arc<TlsProfile>>,
}

/// The HTTP version a request asks for. Connections are pooled by origin
/// *and* protocol, so requests of different choices to one origin never
/// share a connection they did not ask for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProtoChoice {
    /// `https://`: ALPN offers `h2` then `http/1.1` and the server picks.
    /// `http://`: HTTP/1.1, or h2c when the client's
    /// [`ClientConfig::http2_prior_knowledge`](super::ClientConfig) is set.
    #[default]
    Auto,
    /// HTTP/1.1 only; over TLS, ALPN offers only `http/1.1`.
    Http1,
    /// HTTP/2 only: h2c with prior knowledge over `http://`; over TLS the
    /// server must pick `h2` in ALPN, else the request fails with
    /// [`ErrorCode::Protocol`].
    Http2,
}

/// Timing phases, named as k6 names them. Each is zero when it did not happen
/// (e.g. `connecting` on a reused keep-alive connection).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// Waiting for a connection: DNS lookup and pool wait (k6's `blocked`).
    pub blocked: Duration,
    /// TCP connect.
    pub connecting: Duration,
    /// TLS handshake.
    pub tls_handshaking: Duration,
    /// Writing the request to the socket.
    pub sending: Duration,
    /// From the request written to the first response byte (TTFB).
    pub waiting: Duration,
    /// From the first response byte to the last.
    pub receiving: Duration,
    /// `sending + waiting + receiving`, what k6 calls `http_req_duration`.
    pub duration: Duration,
}

/// Why an exchange failed; becomes the `error_code` tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Timeout,
    Dns,
    Refused,
    Reset,
    Tls,
    /// The server's certificate is not signed by a trusted CA (a private CA
    /// not given in `http.tls.ca_file`, a self-signed certificate).
    TlsUnknownIssuer,
    /// The server's certificate is expired or not yet valid.
    TlsExpired,
    /// The server's certificate does not name the host connected to.
    TlsNameMismatch,
    /// The proxy refused the `CONNECT` tunnel (or answered it with nonsense).
    Proxy,
    /// The response body could not be read or decoded.
    Body,
    /// A body that had to be kept (a check, extraction or record reads it)
    /// is larger than its `max_body_size`.
    BodyTooLarge,
    /// Decompressing a kept body went past `max_body_size` or past
    /// `max_decompression_ratio` times its compressed size (a gzip bomb).
    DecompressionLimit,

    /// The peer spoke malformed HTTP.
    Protocol,
    InvalidUrl,
    TooManyRedirects,
    /// This process hit its open-file limit (EMFILE/ENFILE) opening a socket.
    FileLimit,
    Other,
}

impl ErrorCode {
    /// Every code, for validating the `error_code` a condition names.
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::Timeout,
        ErrorCode::Dns,
        ErrorCode::Refused,
        ErrorCode::Reset,
        ErrorCode::Tls,
        ErrorCode::TlsUnknownIssuer,
        ErrorCode::TlsExpired,
        ErrorCode::TlsNameMismatch,
        ErrorCode::Proxy,
        ErrorCode::Body,
        ErrorCode::BodyTooLarge,
        ErrorCode::DecompressionLimit,
        ErrorCode::Protocol,
        ErrorCode::InvalidUrl,
        ErrorCode::TooManyRedirects,
        ErrorCode::FileLimit,
        ErrorCode::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Timeout => "timeout",
            ErrorCode::Dns => "dns",
            ErrorCode::Refused => "refused",
            ErrorCode::Reset => "reset",
            ErrorCode::Tls => "tls",
            ErrorCode::TlsUnknownIssuer => "tls_unknown_issuer",
            ErrorCode::TlsExpired => "tls_expired",
            ErrorCode::TlsNameMismatch => "tls_name_mismatch",
            ErrorCode::Proxy => "proxy",
            ErrorCode::Body => "body",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::DecompressionLimit => "decompression_limit",
            ErrorCode::Protocol => "protocol",
            ErrorCode::InvalidUrl => "invalid_url",
            ErrorCode::TooManyRedirects => "too_many_redirects",
            ErrorCode::FileLimit => "file_limit",
            ErrorCode::Other => "other",
        }
    }
}

#[derive(Clone, Debug)]
pub struct HttpError {
    pub code: ErrorCode,
    /// Human-readable cause, never containing header values.
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Proto {
    #[default]
    Http1,
    Http2,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Http1 => "HTTP/1.1",
            Proto::Http2 => "HTTP/2.0",
        }
    }
}

/// The result of one HTTP exchange (one hop; see [`HttpOutcome`] for redirects).
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    /// 0 when no response arrived.
    pub status: u16,
    pub headers: HeaderMap,
    /// Decompressed body; empty unless `keep_body` was set.
    pub body: Bytes,
    pub timings: Timings,
    /// Bytes written to the socket for this exchange (request line, headers, body).
    pub bytes_sent: u64,
    /// Bytes read from the socket for this exchange (status line, headers, body as sent on the wire).
    pub bytes_received: u64,
    pub proto: Proto,
    /// The URL this hop requested.
    pub url: String,
    pub error: Option<HttpError>,
}

/// A request's full story: every redirect hop (each is measured and recorded
/// on its own, as k6 does) and the final response.
#[derive(Clone, Debug, Default)]
pub struct HttpOutcome {
    pub redirects: Vec<HttpResponse>,
    pub response: HttpResponse,
}
