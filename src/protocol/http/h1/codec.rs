//! HTTP/1.1 wire format: the request head as hyper wrote it (so byte counts
//! stay what they were) and the response head parsed with httparse.

use std::io::Write;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

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

/// Writes the request line and headers into `out`. Header order and spelling
/// follow hyper's HTTP/1 client: the request's headers in map order
/// (lowercase names), `host` appended when missing, then `content-length`
/// when the body is not empty and the request set no length or encoding.
/// `host` is the value to add if the request has none.
pub(super) fn encode_head(
    out: &mut Vec<u8>,
    method: &Method,
    path: &Uri,
    headers: &HeaderMap,
    host: &HeaderValue,
    body_len: usize,
) -> BodyEncoding {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    let target = path.path_and_query().map_or("/", |pq| pq.as_str());
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");

    let has_te = headers.contains_key(TRANSFER_ENCODING);
    // An empty body is sent with no framing at all: hyper drops a
    // transfer-encoding the request set; a content-length it set stays.
    let chunked = has_te && body_len > 0;
    for name in headers.keys() {
        if name == TRANSFER_ENCODING && !chunked {
            continue;
        }
        if name == CONTENT_LENGTH && chunked {
            continue;
        }
        let values = headers.get_all(name);
        for value in values {
            write_header(out, name.as_str(), value.as_bytes());
        }
        if name == TRANSFER_ENCODING && !is_chunked_last(headers) {
            write_header(out, "transfer-encoding", b"chunked");
        }
    }
    if !headers.contains_key(HOST) {
        write_header(out, "host", host.as_bytes());
    }
    if body_len > 0 && !has_te && !headers.contains_key(CONTENT_LENGTH) {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "content-length: {body_len}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if chunked {
        BodyEncoding::Chunked
    } else {
        BodyEncoding::Raw
    }
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
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// A parsed response head.
#[derive(Debug)]
pub(super) struct ResponseHead {
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: HeaderMap,
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
/// are needed, else the head and its length in bytes.
pub(super) fn parse_head(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let len = match response.parse(buf).map_err(HeadError::Parse)? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => return Ok(None),
    };
    // One copy of the head backs every header value (no allocation per value).
    let raw = Bytes::copy_from_slice(&buf[..len]);
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for header in response.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| HeadError::Header)?;
        // httparse's slices point into `buf`; the same range of `raw`.
        let start = header.value.as_ptr() as usize - buf.as_ptr() as usize;
        let value = raw.slice(start..start + header.value.len());
        let value = HeaderValue::from_maybe_shared(value).map_err(|_| HeadError::Header)?;
        headers.append(name, value);
    }
    let head = ResponseHead {
        status: response.code.unwrap_or_default(),
        minor_version: response.version.unwrap_or(1),
        headers,
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
    if head.headers.contains_key(TRANSFER_ENCODING) {
        return Ok(if is_chunked_last(&head.headers) {
            Framing::Chunked
        } else {
            Framing::Eof
        });
    }
    let mut length = None;
    for value in head.headers.get_all(CONTENT_LENGTH) {
        let text = value.to_str().map_err(|_| HeadError::ContentLength)?;
        // Repeated values (or a list) are fine only when they agree.
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HeadError::ContentLength);
            }
            let n: u64 = part.parse().map_err(|_| HeadError::ContentLength)?;
            if length.is_some_and(|seen| seen != n) {
                return Err(HeadError::ContentLength);
            }
            length = Some(n);
        }
    }
    Ok(match length {
        Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
        None => Framing::Eof,
    })
}

/// Whether the connection may carry another request after this response.
pub(super) fn keeps_alive(request: &HeaderMap, head: &ResponseHead) -> bool {
    if has_token(request, "close") || has_token(&head.headers, "close") {
        return false;
    }
    head.minor_version >= 1 || has_token(&head.headers, "keep-alive")
}

fn has_token(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(method: Method, headers: &HeaderMap, body_len: usize) -> (String, BodyEncoding) {
        let mut out = Vec::new();
        let path = Uri::from_static("/a?b=1");
        let host = HeaderValue::from_static("h:8080");
        let enc = encode_head(&mut out, &method, &path, headers, &host, body_len);
        (String::from_utf8(out).unwrap(), enc)
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
             host: h:8080\r\ncontent-length: 12\r\n\r\n"
        );
        assert_eq!(enc, BodyEncoding::Raw);
        let (text, _) = encode(Method::GET, &HeaderMap::new(), 0);
        assert_eq!(text, "GET /a?b=1 HTTP/1.1\r\nhost: h:8080\r\n\r\n");
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
             transfer-encoding: chunked\r\nhost: h:8080\r\n\r\n"
        );
        assert_eq!(enc, BodyEncoding::Chunked);
        let (text, enc) = encode(Method::POST, &headers, 0);
        assert_eq!(
            text,
            "POST /a?b=1 HTTP/1.1\r\ncontent-length: 3\r\nhost: h:8080\r\n\r\n"
        );
        assert_eq!(enc, BodyEncoding::Raw);
    }

    fn head(text: &str) -> ResponseHead {
        parse_head(text.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn parses_heads_and_waits_for_partial_ones() {
        let text = "HTTP/1.1 200 OK\r\nX-One: a\r\nx-one: b\r\n\r\nbody";
        let (h, len) = parse_head(text.as_bytes()).unwrap().unwrap();
        assert_eq!(len, text.len() - 4);
        assert_eq!(h.status, 200);
        assert_eq!(h.minor_version, 1);
        let values: Vec<_> = h.headers.get_all("x-one").iter().collect();
        assert_eq!(values, ["a", "b"]);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nX-One:").unwrap().is_none());
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
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
        let none = HeaderMap::new();
        assert!(keeps_alive(&none, &head("HTTP/1.1 200 OK\r\n\r\n")));
        assert!(!keeps_alive(
            &none,
            &head("HTTP/1.1 200 OK\r\nconnection: Close\r\n\r\n")
        ));
        assert!(!keeps_alive(&none, &head("HTTP/1.0 200 OK\r\n\r\n")));
        assert!(keeps_alive(
            &none,
            &head("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\n")
        ));
        let mut close = HeaderMap::new();
        close.insert(CONNECTION, HeaderValue::from_static("close"));
        assert!(!keeps_alive(&close, &head("HTTP/1.1 200 OK\r\n\r\n")));
    }
}
