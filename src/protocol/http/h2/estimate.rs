//! Byte counts of one HTTP/2 exchange when it shares its connection.
//!
//! Streams on one connection interleave, so the socket counters cannot be
//! split between them: each exchange reports an estimate instead, a 9-byte
//! frame header per HEADERS frame and per 16 KiB DATA frame, header names
//! and values uncompressed (HPACK usually makes the real head smaller) and
//! the payload. An exchange that had the connection to itself reports exact
//! counts (see `clock`).

use http::{HeaderMap, Request};

const FRAME_HEADER: u64 = 9;
const DEFAULT_MAX_FRAME: u64 = 16_384;

/// Frame headers of `payload` bytes of DATA.
pub(in crate::protocol::http) fn frame_overhead(payload: u64) -> u64 {
    payload.div_ceil(DEFAULT_MAX_FRAME) * FRAME_HEADER
}

fn header_bytes(headers: &HeaderMap) -> u64 {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().len() + value.len()) as u64)
        .sum()
}

/// The request head and its `body_len` bytes of body.
pub(in crate::protocol::http) fn request(head: &Request<()>, body_len: u64) -> u64 {
    let uri = head.uri();
    let pseudo = head.method().as_str().len()
        + uri.scheme_str().map_or(0, str::len)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(1, |p| p.as_str().len());
    FRAME_HEADER
        + pseudo as u64
        + header_bytes(head.headers())
        + body_len
        + frame_overhead(body_len)
}

/// The response head.
pub(in crate::protocol::http) fn response_head(headers: &HeaderMap) -> u64 {
    // `:status` is three digits.
    FRAME_HEADER + 3 + header_bytes(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_overhead_counts_one_header_per_16k() {
        assert_eq!(frame_overhead(0), 0);
        assert_eq!(frame_overhead(1), 9);
        assert_eq!(frame_overhead(16_384), 9);
        assert_eq!(frame_overhead(16_385), 18);
    }

    #[test]
    fn a_request_counts_pseudo_headers_headers_and_body() {
        let mut head = Request::new(());
        *head.method_mut() = http::Method::POST;
        *head.uri_mut() = "http://a.test:8080/p?q=1".parse().unwrap();
        head.headers_mut()
            .insert("x-a", http::HeaderValue::from_static("bc"));
        // 9 + POST(4) + http(4) + a.test:8080(11) + /p?q=1(6) + x-a bc(5)
        // + 20 body bytes in one frame (9).
        assert_eq!(request(&head, 20), 9 + 4 + 4 + 11 + 6 + 5 + 20 + 9);
    }
}
