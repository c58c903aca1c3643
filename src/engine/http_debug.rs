//! `--http-debug`: every exchange printed to stderr, secrets redacted (the
//! URL's user info and secret query parameters, credential headers).

use std::io::Write;

use crate::protocol::http::{HttpRequest, HttpResponse, redact_headers};
use crate::util::duration::format_millis;
use crate::util::url_secrets::redact_url;

pub fn request(request: &HttpRequest) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "> {} {}", request.method, redact_url(&request.url));
    for (name, value) in redact_headers(&request.headers) {
        let _ = writeln!(err, "> {name}: {value}");
    }
    if !request.body.is_empty() {
        let _ = writeln!(err, "> [body: {} bytes]", request.body.len());
    }
}

pub fn response(response: &HttpResponse) {
    let mut err = std::io::stderr().lock();
    let took = format_millis(response.timings.duration.as_secs_f64() * 1000.0);
    match &response.error {
        Some(error) => {
            let _ = writeln!(
                err,
                "< error {} after {took}: {}",
                error.code.as_str(),
                error.message
            );
        }
        None => {
            let _ = writeln!(
                err,
                "< {} {} ({took})",
                response.proto.as_str(),
                response.status
            );
            for (name, value) in redact_headers(&response.headers) {
                let _ = writeln!(err, "< {name}: {value}");
            }
            let _ = writeln!(err, "< [body: {} bytes]", response.bytes_received);
        }
    }
    let _ = writeln!(err);
}
