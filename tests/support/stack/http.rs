#![allow(dead_code)] // each test file uses a different part of these helpers
//! A minimal blocking HTTP/1.0 client for the stack tests: enough to query
//! Prometheus' and InfluxDB's APIs on 127.0.0.1. HTTP/1.0 makes the Go
//! servers answer with a plain body closed by the connection (no chunking).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Response {
    pub status: u16,
    pub body: String,
}

/// `GET http://127.0.0.1:{port}{path_and_query}`.
pub fn get(port: u16, path_and_query: &str) -> Result<Response, String> {
    request(port, "GET", path_and_query, None)
}

/// `POST` with an `application/x-www-form-urlencoded` body.
pub fn post_form(port: u16, path: &str, form: &str) -> Result<Response, String> {
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    request(port, "POST", path, Some((&headers, form.as_bytes())))
}

/// `POST` of a binary body with the given headers (Content-Length added).
pub fn post_bytes(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, String> {
    request(port, "POST", path, Some((headers, body)))
}

type Body<'a> = (&'a [(&'a str, &'a str)], &'a [u8]);

fn request(port: u16, method: &str, target: &str, body: Option<Body>) -> Result<Response, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect :{port}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut head = format!(
        "{method} {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
    );
    let (headers, body): Body = body.unwrap_or((&[], &[]));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .map_err(|e| e.to_string())?;
    stream.write_all(body).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read from :{port}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP header in {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    Ok(Response {
        status,
        body: body.to_string(),
    })
}

/// `k=v&k=v` with every value percent-encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}
