//! The request head handed to h2: the hop's method, absolute URI (h2 takes
//! `:scheme` and `:authority` from it) and headers, minus what HTTP/2 forbids.

use http::header::{
    ACCEPT_ENCODING, CONNECTION, CONTENT_LENGTH, HeaderName, TE, TRANSFER_ENCODING, UPGRADE,
    USER_AGENT,
};
use http::{HeaderMap, HeaderValue, Method, Request};

use crate::protocol::http::exchange::{ACCEPT_ENCODING_DEFAULT, HopRequest};

/// Headers that describe one HTTP/1 connection rather than the message.
/// RFC 9113 §8.2.2 makes a request carrying them malformed, and h2 refuses
/// to send one, so they are dropped as hyper dropped them.
const CONNECTION_SPECIFIC: [HeaderName; 4] = [
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    TRANSFER_ENCODING,
    UPGRADE,
];

/// The head of `req` (its body goes separately, as DATA frames).
pub(in crate::protocol::http) fn build_head(req: &HopRequest<'_>) -> Request<()> {
    let mut head = Request::new(());
    *head.method_mut() = req.method.clone();
    *head.uri_mut() = req.target.uri.clone();
    let headers = head.headers_mut();
    *headers = req.headers.clone();
    if !headers.contains_key(USER_AGENT) {
        headers.insert(USER_AGENT, req.user_agent.clone());
    }
    if !headers.contains_key(ACCEPT_ENCODING) {
        headers.insert(ACCEPT_ENCODING, ACCEPT_ENCODING_DEFAULT);
    }
    strip_connection_specific(headers);
    set_content_length(headers, req.method, req.body.len() as u64);
    head
}

/// Removes the connection-specific headers, those a `connection` header
/// names, and a `te` other than `trailers` (the one value HTTP/2 allows).
fn strip_connection_specific(headers: &mut HeaderMap) {
    for name in &CONNECTION_SPECIFIC {
        headers.remove(name);
    }
    if headers.get(TE).is_some_and(|te| te != "trailers") {
        headers.remove(TE);
    }
    if let Some(connection) = headers.remove(CONNECTION)
        && let Ok(names) = connection.to_str()
    {
        for name in names.split(',') {
            headers.remove(name.trim());
        }
    }
}

/// The body's length, when the request does not state one: a body is
/// always in hand whole, so its length is known. An empty body is announced
/// only for methods whose requests are expected to carry one (RFC 9110
/// §8.6), as hyper did.
fn set_content_length(headers: &mut HeaderMap, method: &Method, len: u64) {
    let announce = len != 0
        || !matches!(
            *method,
            Method::GET | Method::HEAD | Method::DELETE | Method::CONNECT
        );
    if announce {
        headers
            .entry(CONTENT_LENGTH)
            .or_insert_with(|| HeaderValue::from(len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    fn names(headers: &HeaderMap) -> Vec<&str> {
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn connection_specific_headers_and_those_connection_names_are_dropped() {
        let mut headers = map(&[
            ("connection", "close, x-hop"),
            ("keep-alive", "timeout=5"),
            ("proxy-connection", "keep-alive"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("x-hop", "1"),
            ("x-kept", "2"),
            ("te", "gzip"),
        ]);
        strip_connection_specific(&mut headers);
        assert_eq!(names(&headers), ["x-kept"]);
    }

    #[test]
    fn te_trailers_is_the_one_te_kept() {
        let mut headers = map(&[("te", "trailers")]);
        strip_connection_specific(&mut headers);
        assert_eq!(headers.get(TE).unwrap(), "trailers");
    }

    #[test]
    fn content_length_is_set_when_missing_and_meaningful() {
        let length = |method: Method, len: u64, given: &[(&str, &str)]| {
            let mut headers = map(given);
            set_content_length(&mut headers, &method, len);
            headers
                .get(CONTENT_LENGTH)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(length(Method::GET, 0, &[]), None);
        assert_eq!(length(Method::DELETE, 0, &[]), None);
        assert_eq!(length(Method::POST, 0, &[]).as_deref(), Some("0"));
        assert_eq!(length(Method::GET, 3, &[]).as_deref(), Some("3"));
        assert_eq!(
            length(Method::PUT, 3, &[("content-length", "3")]).as_deref(),
            Some("3")
        );
    }
}
