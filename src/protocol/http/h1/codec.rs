//! HTTP/1.1 wire format: the request head as hyper wrote it (so byte counts
//! stay what they were) and the response head parsed with httparse.

use std::io::Write;
use std::mem::MaybeUninit;

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING, USER_AGENT,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use crate::protocol::http::exchange::ACCEPT_ENCODING_DEFAULT;

/// hyper's default limit, kept so the same responses are accepted.
const MAX_HEADERS: usize = 100;

/// How the request body goes on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BodyEncoding {
    /// As is (after a `content-length`, or nothing when empty).
    Raw,
    /// The request set `transfer-encoding` itself: one chunk and the last one.
    Chunked,
}

/// What the exchange needs to know about the request head it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RequestHead {
    pub encoding: BodyEncoding,
    /// The request said `connection: close`.
    pub close: bool,
}

/// Headers added when the request has none of its own.
pub(super) struct Defaults<'a> {
    pub user_agent: &'a HeaderValue,
    /// `host[:port]` from the URL.
    pub host: &'a str,
    /// Sent to a forward proxy rather than to the origin.
    pub forward: Option<Forward<'a>>,
}

/// A request sent to a forward proxy (RFC 9112 §3.2.2): the target in
/// absolute form, and the proxy's credentials, if any.
pub(super) struct Forward<'a> {
    pub proxy_authorization: Option<&'a HeaderValue>,
}

/// Writes the request line and headers into `out`, in one pass over the
/// request's headers. Header spelling follows hyper's HTTP/1 client: the
/// request's headers in map order (lowercase names), then `user-agent`,
/// `accept-encoding` and `host` when missing, then `content-length` when the
/// body is not empty and the request set no length or encoding.
pub(super) fn encode_head(
    out: &mut Vec<u8>,
    method: &Method,
    path: &Uri,
    headers: &HeaderMap,
    defaults: &Defaults<'_>,
    body_len: usize,
) -> RequestHead {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    if defaults.forward.is_some() {
        // Only plain http:// is forwarded; https:// goes through a tunnel.
        out.extend_from_slice(b"http://");
        out.extend_from_slice(defaults.host.as_bytes());
    }
    let target = path.path_and_query().map_or("/", |pq| pq.as_str());
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");

    // An empty body is sent with no framing at all: hyper drops a
    // transfer-encoding the request set; a content-length it set stays.
    let chunked = body_len > 0 && headers.contains_key(TRANSFER_ENCODING);
    let mut seen = Seen::default();
    // `iter` yields each name's values together, in map order.
    for (name, value) in headers {
        if *name == TRANSFER_ENCODING {
            seen.transfer_encoding = true;
            if chunked && !seen.transfer_encoding_written {
                seen.transfer_encoding_written = true;
                for value in headers.get_all(TRANSFER_ENCODING) {
                    write_header(out, name.as_str(), value.as_bytes());
                }
                if !is_chunked_last(headers) {
                    write_header(out, "transfer-encoding", b"chunked");
                }
            }
            continue;
        }
        if *name == CONTENT_LENGTH {
            seen.content_length = true;
            if chunked {
                continue;
            }
        } else if *name == HOST {
            seen.host = true;
        } else if *name == USER_AGENT {
            seen.user_agent = true;
        } else if *name == ACCEPT_ENCODING {
            seen.accept_encoding = true;
        } else if *name == CONNECTION {
            seen.close |= has_token(value.as_bytes(), "close");
        }
        write_header(out, name.as_str(), value.as_bytes());
    }
    if !seen.user_agent {
        write_header(out, "user-agent", defaults.user_agent.as_bytes());
    }
    if !seen.accept_encoding {
        write_header(out, "accept-encoding", ACCEPT_ENCODING_DEFAULT.as_bytes());
    }
    if !seen.host {
        write_header(out, "host", defaults.host.as_bytes());
    }
    if let Some(auth) = defaults
        .forward
        .as_ref()
        .and_then(|f| f.proxy_authorization)
    {
        write_header(out, "proxy-authorization", auth.as_bytes());
    }
    if body_len > 0 && !seen.transfer_encoding && !seen.content_length {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "content-length: {body_len}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    RequestHead {
        encoding: if chunked {
            BodyEncoding::Chunked
        } else {
            BodyEncoding::Raw
        },
        close: seen.close,
    }
}

/// An upper bound, in the common case, of the bytes `encode_head` writes:
/// the write buffer of a new connection is sized once instead of doubling
/// its way up from empty (five reallocations and copies for a 150-byte
/// head, on every connection of a `Connection: close` test).
pub(super) fn head_len_hint(
    method: &Method,
    path: &Uri,
    headers: &HeaderMap,
    defaults: &Defaults<'_>,
) -> usize {
    // "METHOD SP target SP HTTP/1.1 CRLF", the final CRLF, and room for
    // `content-length: N` or a chunked transfer-encoding line.
    const FIXED: usize = " HTTP/1.1\r\n".len() + 1 + 2 + 48;
    let target = path.path_and_query().map_or(1, |pq| pq.as_str().len());
    let given: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let added = "user-agent: \r\n".len()
        + defaults.user_agent.len()
        + "accept-encoding: \r\n".len()
        + ACCEPT_ENCODING_DEFAULT.len()
        + "host: \r\n".len()
        + defaults.host.len()
        + defaults.forward.as_ref().map_or(0, |forward| {
            "http://".len()
                + defaults.host.len()
                + forward
                    .proxy_authorization
                    .map_or(0, |auth| "proxy-authorization: \r\n".len() + auth.len())
        });
    FIXED + method.as_str().len() + target + given + added
}

/// Request headers that change what `encode_head` adds.
#[derive(Default)]
struct Seen {
    transfer_encoding: bool,
    transfer_encoding_written: bool,
    content_length: bool,
    host: bool,
    user_agent: bool,
    accept_encoding: bool,
    close: bool,
}

fn write_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Whether the last transfer coding listed is `chunked`.
fn is_chunked_last(headers: &HeaderMap) -> bool {
    headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .next_back()
        .is_some_and(|value| last_coding_is_chunked(value.as_bytes()))
}

/// Whether the last coding in one `transfer-encoding` value is `chunked`
/// (false when the value is not visible ASCII).
fn last_coding_is_chunked(value: &[u8]) -> bool {
    is_visible_ascii(value)
        && value
            .rsplit(|&b| b == b',')
            .next()
            .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

/// Whether a `connection` value lists `token` (values that are not visible
/// ASCII list nothing).
fn has_token(value: &[u8], token: &str) -> bool {
    is_visible_ascii(value)
        && value
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// What `HeaderValue::to_str` accepts.
fn is_visible_ascii(value: &[u8]) -> bool {
    value.iter().all(|&b| (32..127).contains(&b) || b == b'\t')
}

/// A parsed response head.
#[derive(Debug)]
pub(super) struct ResponseHead {
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: HeaderMap,
    /// Read while parsing, so that framing and keep-alive need no lookups.
    framing: FramingHeaders,
}

/// The response headers that delimit the body and decide keep-alive.
#[derive(Debug, Default)]
struct FramingHeaders {
    /// `Some` when a `transfer-encoding` is present: whether the last one
    /// ends in `chunked`.
    transfer_encoding: Option<bool>,
    /// The agreed `content-length`, if any...
    content_length: Option<u64>,
    /// ...unless one was malformed or two disagreed.
    content_length_invalid: bool,
    close: bool,
    keep_alive: bool,
}

impl FramingHeaders {
    fn see(&mut self, name: Known, value: &[u8]) {
        match name {
            Known::TransferEncoding => {
                self.transfer_encoding = Some(last_coding_is_chunked(value));
            }
            Known::ContentLength => self.see_content_length(value),
            Known::Connection if is_visible_ascii(value) => {
                // One pass over the list for both options.
                for option in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    self.close |= option.eq_ignore_ascii_case(b"close");
                    self.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            Known::Connection => {}
            Known::ClientUse | Known::Other => {}
        }
    }

    /// Repeated values (or a list) are fine only when they agree.
    fn see_content_length(&mut self, value: &[u8]) {
        if !is_visible_ascii(value) {
            self.content_length_invalid = true;
            return;
        }
        for part in value.split(|&b| b == b',') {
            match parse_decimal(part.trim_ascii()) {
                Some(n) if self.content_length.is_none_or(|seen| seen == n) => {
                    self.content_length = Some(n);
                }
                _ => self.content_length_invalid = true,
            }
        }
    }
}

/// A non-empty run of ASCII digits as a u64; `None` for anything else or
/// on overflow.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let digit = d.wrapping_sub(b'0');
        (digit < 10).then_some(())?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Response header names this module reads, told apart by their raw bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    TransferEncoding,
    ContentLength,
    Connection,
    /// Read by the client after the exchange (cookies, redirects, body
    /// decoding), so kept even when the caller wants no headers.
    ClientUse,
    Other,
}

impl Known {
    fn of(name: &[u8]) -> Known {
        let is = |known: &str| name.eq_ignore_ascii_case(known.as_bytes());
        // The length picks the one candidate to compare.
        match name.len() {
            17 if is("transfer-encoding") => Known::TransferEncoding,
            14 if is("content-length") => Known::ContentLength,
            10 if is("connection") => Known::Connection,
            10 if is("set-cookie") => Known::ClientUse,
            8 if is("location") => Known::ClientUse,
            16 if is("content-encoding") => Known::ClientUse,
            _ => Known::Other,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(super) enum HeadError {
    #[error("invalid response head: {0}")]
    Parse(httparse::Error),
    #[error("invalid response header")]
    Header,
    #[error("invalid content-length")]
    ContentLength,
}

/// Parses a complete head at the start of `buf`: `Ok(None)` when more bytes
/// are needed, else the head and its length in bytes. Without `keep_all`,
/// `headers` holds only what the client itself reads afterwards
/// (`set-cookie`, `location`, `content-encoding`): building a header map of
/// every response costs more than the rest of the parse, and most load-test
/// steps never look at it.
pub(super) fn parse_head(
    buf: &[u8],
    keep_all: bool,
) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    // Uninitialised slots: httparse writes only those it fills, so the 3 KB
    // array is not zeroed for every response.
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut response, buf, &mut slots)
        .map_err(HeadError::Parse)?;
    let len = match parsed {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => return Ok(None),
    };
    // One copy of the head backs every kept header value (no allocation per
    // value); made when the first header is kept.
    let mut raw: Option<Bytes> = None;
    let mut headers = HeaderMap::new();
    let mut framing = FramingHeaders::default();
    for header in response.headers.iter() {
        let known = Known::of(header.name.as_bytes());
        framing.see(known, header.value);
        if !keep_all && known != Known::ClientUse {
            continue;
        }
        let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| HeadError::Header)?;
        let raw = raw.get_or_insert_with(|| Bytes::copy_from_slice(&buf[..len]));
        // httparse's slices point into `buf`; the same range of `raw`.
        let start = header.value.as_ptr() as usize - buf.as_ptr() as usize;
        let value = raw.slice(start..start + header.value.len());
        let value = HeaderValue::from_maybe_shared(value).map_err(|_| HeadError::Header)?;
        if headers.capacity() == 0 && keep_all {
            headers.reserve(response.headers.len());
        }
        headers.append(name, value);
    }
    let head = ResponseHead {
        status: response.code.unwrap_or_default(),
        minor_version: response.version.unwrap_or(1),
        headers,
        framing,
    };
    Ok(Some((head, len)))
}

/// How the response body is delimited (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    Eof,
}

pub(super) fn framing(method: &Method, head: &ResponseHead) -> Result<Framing, HeadError> {
    if *method == Method::HEAD
        || (100..200).contains(&head.status)
        || head.status == 204
        || head.status == 304
    {
        return Ok(Framing::Empty);
    }
    let headers = &head.framing;
    if let Some(chunked) = headers.transfer_encoding {
        return Ok(if chunked {
            Framing::Chunked
        } else {
            Framing::Eof
        });
    }
    if headers.content_length_invalid {
        return Err(HeadError::ContentLength);
    }
    Ok(match headers.content_length {
        Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
        None => Framing::Eof,
    })
}

/// Whether the connection may carry another request after this response;
/// `request_close` when the request said `connection: close`.
pub(super) fn keeps_alive(request_close: bool, head: &ResponseHead) -> bool {
    if request_close || head.framing.close {
        return false;
    }
    head.minor_version >= 1 || head.framing.keep_alive
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(method: Method, headers: &HeaderMap, body_len: usize) -> (String, BodyEncoding) {
        let mut out = Vec::new();
        let path = Uri::from_static("/a?b=1");
        let defaults = Defaults {
            user_agent: &HeaderValue::from_static("ua"),
            host: "h:8080",
            forward: None,
        };
        let head = encode_head(&mut out, &method, &path, headers, &defaults, body_len);
        (String::from_utf8(out).unwrap(), head.encoding)
    }

    #[test]
    fn the_head_length_hint_covers_the_head_without_wasting_much() {
        let auth = HeaderValue::from_static("Basic dXNlcjpzZWNyZXQ=");
        let ua = HeaderValue::from_static("stampede/0.1.0");
        let mut own = HeaderMap::new();
        own.insert("user-agent", HeaderValue::from_static("mine/2"));
        own.insert(
            "authorization",
            HeaderValue::from_static("Bearer abc.def.ghi"),
        );
        own.append("x-trace", HeaderValue::from_static("1"));
        own.append("x-trace", HeaderValue::from_static("2"));
        let mut chunked = HeaderMap::new();
        chunked.insert("transfer-encoding", HeaderValue::from_static("gzip"));
        let path = Uri::from_static("/v1/agents/42/executions?wait=false&page=3");
        for headers in [HeaderMap::new(), own, chunked] {
            for forward in [None, Some(&auth)] {
                for body_len in [0, 1, 16 * 1024, usize::MAX] {
                    let defaults = Defaults {
                        user_agent: &ua,
                        host: "api.example.test:8443",
                        forward: forward.map(|auth| Forward {
                            proxy_authorization: Some(auth),
                        }),
                    };
                    let mut out = Vec::new();
                    encode_head(
                        &mut out,
                        &Method::POST,
                        &path,
                        &headers,
                        &defaults,
                        body_len,
                    );
                    let hint = head_len_hint(&Method::POST, &path, &headers, &defaults);
                    assert!(hint >= out.len(), "{hint} < {}", out.len());
                    assert!(hint <= out.len() + 100, "{hint} for {}", out.len());
                }
            }
        }
    }

    #[test]
    fn decimal_lengths_are_digits_only_and_fit_in_u64() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"18446744073709551616",
            b"+1",
            b"-1",
            b"1a",
            b"1 2",
            b"0x10",
        ] {
            assert_eq!(
                parse_decimal(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn head_orders_headers_like_hyper() {
        let mut headers = HeaderMap::new();
        headers.insert("user-agent", HeaderValue::from_static("ua"));
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        let (text, enc) = encode(Method::POST, &headers, 12);
        assert_eq!(
            text,
            "POST /a?b=1 HTTP/1.1\r\nuser-agent: ua\r\nx-a: 1\r\nx-a: 2\r\n\
             accept-encoding: gzip, deflate\r\nhost: h:8080\r\ncontent-length: 12\r\n\r\n"
        );
        assert_eq!(enc, BodyEncoding::Raw);
        let (text, _) = encode(Method::GET, &HeaderMap::new(), 0);
        assert_eq!(
            text,
            "GET /a?b=1 HTTP/1.1\r\nuser-agent: ua\r\naccept-encoding: gzip, deflate\r\n\
             host: h:8080\r\n\r\n"
        );
    }

    #[test]
    fn request_transfer_encoding_is_kept_only_with_a_body() {
        let mut headers = HeaderMap::new();
        headers.insert("transfer-encoding", HeaderValue::from_static("gzip"));
        headers.insert("content-length", HeaderValue::from_static("3"));
        let (text, enc) = encode(Method::POST, &headers, 3);
        assert_eq!(
            text,
            "POST /a?b=1 HTTP/1.1\r\ntransfer-encoding: gzip\r\n\
             transfer-encoding: chunked\r\nuser-agent: ua\r\n\
             accept-encoding: gzip, deflate\r\nhost: h:8080\r\n\r\n"
        );
        assert_eq!(enc, BodyEncoding::Chunked);
        let (text, enc) = encode(Method::POST, &headers, 0);
        assert_eq!(
            text,
            "POST /a?b=1 HTTP/1.1\r\ncontent-length: 3\r\nuser-agent: ua\r\n\
             accept-encoding: gzip, deflate\r\nhost: h:8080\r\n\r\n"
        );
        assert_eq!(enc, BodyEncoding::Raw);
    }

    fn head(text: &str) -> ResponseHead {
        parse_head(text.as_bytes(), true).unwrap().unwrap().0
    }

    #[test]
    fn parses_heads_and_waits_for_partial_ones() {
        let text = "HTTP/1.1 200 OK\r\nX-One: a\r\nx-one: b\r\n\r\nbody";
        let (h, len) = parse_head(text.as_bytes(), true).unwrap().unwrap();
        assert_eq!(len, text.len() - 4);
        assert_eq!(h.status, 200);
        assert_eq!(h.minor_version, 1);
        let values: Vec<_> = h.headers.get_all("x-one").iter().collect();
        assert_eq!(values, ["a", "b"]);
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nX-One:", true)
                .unwrap()
                .is_none()
        );
        assert!(parse_head(b"garbage\r\n\r\n", true).is_err());
    }

    #[test]
    fn without_keep_all_only_what_the_client_reads_is_kept() {
        let text = "HTTP/1.1 302 Found\r\nServer: x\r\nSet-Cookie: a=1\r\n\
                    Location: /next\r\nContent-Encoding: gzip\r\nX-Other: y\r\n\
                    Connection: close\r\nContent-Length: 3\r\n\r\n";
        let (h, len) = parse_head(text.as_bytes(), false).unwrap().unwrap();
        assert_eq!(len, text.len());
        let names: Vec<_> = h.headers.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["set-cookie", "location", "content-encoding"]);
        assert_eq!(h.headers["location"], "/next");
        // Framing and keep-alive still read every header.
        assert_eq!(framing(&Method::GET, &h), Ok(Framing::Length(3)));
        assert!(!keeps_alive(false, &h));
        let plain = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 0\r\n\r\n";
        let (h, _) = parse_head(plain.as_bytes(), false).unwrap().unwrap();
        assert!(h.headers.is_empty());
        assert_eq!(h.headers.capacity(), 0, "no map is allocated");
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let get = Method::GET;
        let f = |m: &Method, t: &str| framing(m, &head(t));
        assert_eq!(
            f(&get, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f(
                &Method::HEAD,
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
            ),
            Ok(Framing::Empty)
        );
        assert_eq!(f(&get, "HTTP/1.1 204 No\r\n\r\n"), Ok(Framing::Empty));
        assert_eq!(f(&get, "HTTP/1.1 304 No\r\n\r\n"), Ok(Framing::Empty));
        assert_eq!(
            f(
                &get,
                "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\n\r\n"
            ),
            Ok(Framing::Chunked)
        );
        assert_eq!(f(&get, "HTTP/1.0 200 OK\r\n\r\n"), Ok(Framing::Eof));
        assert_eq!(
            f(&get, "HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f(
                &get,
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n"
            ),
            Err(HeadError::ContentLength)
        );
        assert_eq!(
            f(&get, "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n"),
            Err(HeadError::ContentLength)
        );
    }

    #[test]
    fn keep_alive_rules() {
        assert!(keeps_alive(false, &head("HTTP/1.1 200 OK\r\n\r\n")));
        assert!(!keeps_alive(
            false,
            &head("HTTP/1.1 200 OK\r\nconnection: Close\r\n\r\n")
        ));
        assert!(!keeps_alive(
            false,
            &head("HTTP/1.1 200 OK\r\nconnection: upgrade, close\r\n\r\n")
        ));
        assert!(!keeps_alive(false, &head("HTTP/1.0 200 OK\r\n\r\n")));
        assert!(keeps_alive(
            false,
            &head("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\n")
        ));
        assert!(!keeps_alive(true, &head("HTTP/1.1 200 OK\r\n\r\n")));
    }

    #[test]
    fn request_head_reports_connection_close_and_keeps_own_defaults() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static("Keep-Alive, Close"));
        headers.insert(USER_AGENT, HeaderValue::from_static("mine"));
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        headers.insert(HOST, HeaderValue::from_static("other"));
        let mut out = Vec::new();
        let defaults = Defaults {
            user_agent: &HeaderValue::from_static("ua"),
            host: "h",
            forward: None,
        };
        let path = Uri::from_static("/");
        let head = encode_head(&mut out, &Method::GET, &path, &headers, &defaults, 0);
        assert!(head.close);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET / HTTP/1.1\r\nconnection: Keep-Alive, Close\r\nuser-agent: mine\r\n\
             accept-encoding: identity\r\nhost: other\r\n\r\n"
        );
    }

    #[test]
    fn malformed_or_disagreeing_lengths_anywhere_are_refused() {
        let get = Method::GET;
        for text in [
            "HTTP/1.1 200 OK\r\ncontent-length: 5,\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5, x\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 5 6\r\n\r\n",
        ] {
            assert_eq!(
                framing(&get, &head(text)),
                Err(HeadError::ContentLength),
                "{text}"
            );
        }
        // A transfer-encoding wins over any content-length, valid or not.
        let text = "HTTP/1.1 200 OK\r\ncontent-length: x\r\ntransfer-encoding: gzip\r\n\r\n";
        assert_eq!(framing(&get, &head(text)), Ok(Framing::Eof));
    }

    #[test]
    fn a_forwarded_request_has_an_absolute_target_and_the_proxy_credentials() {
        let mut out = Vec::new();
        let auth = HeaderValue::from_static("Basic dTpw");
        let defaults = Defaults {
            user_agent: &HeaderValue::from_static("ua"),
            host: "[::1]:8080",
            forward: Some(Forward {
                proxy_authorization: Some(&auth),
            }),
        };
        let path = Uri::from_static("/a?b=1");
        encode_head(
            &mut out,
            &Method::GET,
            &path,
            &HeaderMap::new(),
            &defaults,
            0,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET http://[::1]:8080/a?b=1 HTTP/1.1\r\nuser-agent: ua\r\n\
             accept-encoding: gzip, deflate\r\nhost: [::1]:8080\r\n\
             proxy-authorization: Basic dTpw\r\n\r\n"
        );
    }
}
