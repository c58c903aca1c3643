//! Exact `--http-debug` text for hand-made exchanges.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

use super::*;
use crate::protocol::http::{ProtoChoice, Timings};

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_static(value));
    }
    map
}

fn login() -> HttpRequest {
    HttpRequest {
        method: Method::POST,
        url: "http://127.0.0.1:8080/auth/login?api_key=k".into(),
        headers: headers(&[
            ("content-type", "application/json"),
            ("authorization", "Bearer t"),
        ]),
        body: Bytes::from_static(br#"{"email":"a@example.com","password":"hunter2"}"#),
        timeout: Duration::from_secs(5),
        keep_body: true,
        keep_headers: true,
        proto: ProtoChoice::Auto,
        tls: None,
    }
}

fn rejected() -> HttpResponse {
    HttpResponse {
        status: 400,
        headers: headers(&[("content-type", "application/json")]),
        body: Bytes::from_static(b"{\"error\":\"email is not registered\",\n\"session\":\"s-1\"}"),
        timings: Timings {
            duration: Duration::from_micros(1_250),
            ..Timings::default()
        },
        bytes_sent: 171,
        bytes_received: 142,
        ..HttpResponse::default()
    }
}

fn text(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn headers_mode_labels_body_and_wire_sizes_apart() {
    let request = text(|out| write_request(HttpDebug::Headers, &login(), out));
    assert_eq!(
        request,
        "> POST http://127.0.0.1:8080/auth/login?api_key=[REDACTED]\n\
         > content-type: application/json\n\
         > authorization: [REDACTED]\n\
         > [body: 46 bytes]\n"
    );
    let response = text(|out| write_response(HttpDebug::Headers, &rejected(), Body::Kept, out));
    assert_eq!(
        response,
        "< HTTP/1.1 400 (1.25ms)\n\
         < content-type: application/json\n\
         < [body: 52 bytes; wire: 142 bytes received, 171 bytes sent]\n\
         \n"
    );
}

#[test]
fn full_mode_prints_bodies_with_secret_fields_masked() {
    let request = text(|out| write_request(HttpDebug::Full, &login(), out));
    assert!(
        request.ends_with(
            "> [body: 46 bytes]\n\
             > {\"email\":\"a@example.com\",\"password\":\"[REDACTED]\"}\n"
        ),
        "{request}"
    );
    let response = text(|out| write_response(HttpDebug::Full, &rejected(), Body::Kept, out));
    assert_eq!(
        response,
        "< HTTP/1.1 400 (1.25ms)\n\
         < content-type: application/json\n\
         < [body: 52 bytes; wire: 142 bytes received, 171 bytes sent]\n\
         < {\"error\":\"email is not registered\",\n\
         < \"session\":\"[REDACTED]\"}\n\
         \n"
    );
}

#[test]
fn long_bodies_end_with_what_was_left_out() {
    let page = HttpResponse {
        status: 200,
        headers: headers(&[("content-type", "text/html")]),
        body: Bytes::from("x".repeat(BODY_PRINT_LIMIT + 100)),
        bytes_received: 2_250,
        bytes_sent: 80,
        ..HttpResponse::default()
    };
    let shown = text(|out| write_response(HttpDebug::Full, &page, Body::Kept, out));
    let expected = format!(
        "< HTTP/1.1 200 (0s)\n\
         < content-type: text/html\n\
         < [body: 2148 bytes; wire: 2250 bytes received, 80 bytes sent]\n\
         < {}\n\
         < … (100 more bytes)\n\
         \n",
        "x".repeat(BODY_PRINT_LIMIT)
    );
    assert_eq!(shown, expected);
}

#[test]
fn streams_errors_and_binary_bodies() {
    let stream = HttpResponse {
        status: 200,
        bytes_received: 9_000,
        bytes_sent: 120,
        ..HttpResponse::default()
    };
    assert_eq!(
        text(|out| write_response(HttpDebug::Full, &stream, Body::Streamed, out)),
        "< HTTP/1.1 200 (0s)\n< [body: read as events; wire: 9000 bytes received, 120 bytes sent]\n\n"
    );
    let image = HttpResponse {
        status: 200,
        body: Bytes::from_static(&[0x89, b'P', b'N', b'G', 0xff, 0x00]),
        bytes_received: 1,
        ..HttpResponse::default()
    };
    assert_eq!(
        text(|out| write_response(HttpDebug::Full, &image, Body::Kept, out)),
        "< HTTP/1.1 200 (0s)\n< [body: 6 bytes; wire: 1 byte received, 0 bytes sent]\n< [binary body not shown]\n\n"
    );
    let refused = HttpResponse {
        error: Some(crate::protocol::http::HttpError {
            code: crate::protocol::http::ErrorCode::Refused,
            message: "connection refused".into(),
        }),
        ..HttpResponse::default()
    };
    let shown = text(|out| write_response(HttpDebug::Full, &refused, Body::Kept, out));
    assert!(shown.starts_with("< error "), "{shown}");
    assert!(
        shown.ends_with(" after 0s: connection refused\n\n"),
        "{shown}"
    );
}
