//! `--http-debug`: every exchange printed to stderr, secrets redacted (the
//! URL's user info and secret query parameters, credential headers, and
//! with `=full` secret fields of JSON and form bodies).
//!
//! Two sizes are printed and labelled apart: the body (decompressed, what
//! checks read) and the wire (status line, headers and body as sent, what
//! `data_received` and `data_sent` count). They differ by the headers and
//! by compression.

mod body;

use std::io::{self, Write};

use http::HeaderMap;
use http::header::CONTENT_TYPE;

use crate::protocol::http::{HttpRequest, HttpResponse, redact_headers};
use crate::util::duration::format_millis;
use crate::util::url_secrets::redact_url;

pub use body::BODY_PRINT_LIMIT;
use body::{ShownBody, shown_body};

/// How much `--http-debug` prints (k6's vocabulary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpDebug {
    #[default]
    Off,
    /// `--http-debug`: request and response lines, headers and sizes.
    Headers,
    /// `--http-debug=full`: bodies too, up to [`BODY_PRINT_LIMIT`] bytes each.
    Full,
}

impl HttpDebug {
    pub fn is_on(self) -> bool {
        self != HttpDebug::Off
    }

    /// Prints a request about to be sent.
    pub fn request(self, request: &HttpRequest) {
        if self.is_on() {
            let _ = write_request(self, request, &mut io::stderr().lock());
        }
    }

    /// Prints a response whose body was kept.
    pub fn response(self, response: &HttpResponse) {
        if self.is_on() {
            let _ = write_response(self, response, Body::Kept, &mut io::stderr().lock());
        }
    }

    /// Prints the response of an event stream, whose body went to the
    /// event parser, not into the response.
    pub fn stream_response(self, response: &HttpResponse) {
        if self.is_on() {
            let _ = write_response(self, response, Body::Streamed, &mut io::stderr().lock());
        }
    }
}

/// Where a response's body went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    Kept,
    Streamed,
}

pub fn write_request(
    mode: HttpDebug,
    request: &HttpRequest,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "> {} {}", request.method, redact_url(&request.url))?;
    for (name, value) in redact_headers(&request.headers) {
        writeln!(out, "> {name}: {value}")?;
    }
    if !request.body.is_empty() {
        writeln!(out, "> [body: {}]", bytes(request.body.len() as u64))?;
        if mode == HttpDebug::Full {
            write_body(out, ">", &request.body, &request.headers)?;
        }
    }
    Ok(())
}

pub fn write_response(
    mode: HttpDebug,
    response: &HttpResponse,
    body: Body,
    out: &mut impl Write,
) -> io::Result<()> {
    let took = format_millis(response.timings.duration.as_secs_f64() * 1000.0);
    if let Some(error) = &response.error {
        writeln!(
            out,
            "< error {} after {took}: {}",
            error.code.as_str(),
            error.message
        )?;
        return writeln!(out);
    }
    writeln!(
        out,
        "< {} {} ({took})",
        response.proto.as_str(),
        response.status
    )?;
    for (name, value) in redact_headers(&response.headers) {
        writeln!(out, "< {name}: {value}")?;
    }
    let wire = format!(
        "wire: {} received, {} sent",
        bytes(response.bytes_received),
        bytes(response.bytes_sent)
    );
    match body {
        Body::Kept => {
            writeln!(
                out,
                "< [body: {}; {wire}]",
                bytes(response.body.len() as u64)
            )?;
            if mode == HttpDebug::Full {
                write_body(out, "<", &response.body, &response.headers)?;
            }
        }
        Body::Streamed => writeln!(out, "< [body: read as events; {wire}]")?,
    }
    writeln!(out)
}

fn bytes(n: u64) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

fn write_body(
    out: &mut impl Write,
    side: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> io::Result<()> {
    if body.is_empty() {
        return Ok(());
    }
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    match shown_body(body, content_type) {
        ShownBody::Binary => writeln!(out, "{side} [binary body not shown]"),
        ShownBody::Text { text, more } => {
            for line in text.lines() {
                writeln!(out, "{side} {line}")?;
            }
            if more > 0 {
                let unit = if more == 1 { "byte" } else { "bytes" };
                writeln!(out, "{side} … ({more} more {unit})")?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
