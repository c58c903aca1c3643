//! Turning IO, TLS and HTTP/2 errors into an [`ErrorCode`] and a message.
//! Messages come from the error chain of the transport (never from request or
//! response headers), so they cannot leak tokens.

use std::error::Error as StdError;
use std::io;

use super::types::{ErrorCode, HttpError};

pub(super) fn http_error(code: ErrorCode, message: impl Into<String>) -> HttpError {
    HttpError {
        code,
        message: message.into(),
    }
}

/// An error while resolving a host name.
pub(super) fn dns(host: &str, err: Option<&io::Error>) -> HttpError {
    let message = match err {
        Some(err) => format!("DNS lookup of {host} failed: {err}"),
        None => format!("DNS lookup of {host} returned no addresses"),
    };
    http_error(ErrorCode::Dns, message)
}

/// An error while opening the TCP connection.
pub(super) fn connect(err: &io::Error) -> HttpError {
    http_error(io_code(err), format!("connect: {}", chain(err)))
}

/// Any failure during the TLS handshake is a TLS error, including a peer that
/// hangs up: from the user's point of view the handshake did not complete.
/// A rejected server certificate says which check failed, with its own code.
pub(super) fn tls(err: &io::Error) -> HttpError {
    if let Some(rustls_err) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        let (code, what) = describe_tls(rustls_err);
        return http_error(code, format!("TLS handshake: {what}"));
    }
    http_error(ErrorCode::Tls, format!("TLS handshake: {}", chain(err)))
}

/// The code and a plain-words account of a rustls error: which certificate
/// check failed and what usually fixes it.
pub(super) fn describe_tls(err: &rustls::Error) -> (ErrorCode, String) {
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error};
    match err {
        Error::InvalidCertificate(cert) => match cert {
            Cert::UnknownIssuer => (
                ErrorCode::TlsUnknownIssuer,
                "server certificate rejected: unknown issuer (its CA is not trusted; \
                 add the CA with http.tls.ca_file)"
                    .into(),
            ),
            Cert::Expired | Cert::ExpiredContext { .. } => (
                ErrorCode::TlsExpired,
                "server certificate rejected: expired".into(),
            ),
            Cert::NotValidYet | Cert::NotValidYetContext { .. } => (
                ErrorCode::TlsExpired,
                "server certificate rejected: not valid yet".into(),
            ),
            Cert::NotValidForName | Cert::NotValidForNameContext { .. } => (
                ErrorCode::TlsNameMismatch,
                "server certificate rejected: name mismatch (it does not name this host; \
                 set http.tls.hosts[].server_name when the host is reached by another name)"
                    .into(),
            ),
            other => (
                ErrorCode::Tls,
                format!("server certificate rejected: {other:?}"),
            ),
        },
        Error::AlertReceived(Alert::CertificateRequired) => (
            ErrorCode::Tls,
            "the server requires a client certificate (http.tls.hosts[].client_cert)".into(),
        ),
        Error::AlertReceived(
            alert @ (Alert::BadCertificate | Alert::UnknownCA | Alert::CertificateUnknown),
        ) => (
            ErrorCode::Tls,
            format!("the server refused the client certificate ({alert:?})"),
        ),
        other => (ErrorCode::Tls, other.to_string()),
    }
}

/// An HTTP/2 error while opening the connection, sending the request or
/// awaiting the response head.
pub(super) fn h2_exchange(err: &h2::Error) -> HttpError {
    http_error(h2_code(err), format!("http2 error: {}", chain(err)))
}

/// An HTTP/2 error while reading the response body: a dropped connection or
/// a stream the server reset keeps its code, anything else is a body error.
pub(super) fn h2_body(err: &h2::Error) -> HttpError {
    let code = match h2_code(err) {
        code @ (ErrorCode::Reset | ErrorCode::Timeout) => code,
        _ => ErrorCode::Body,
    };
    http_error(code, format!("reading body: http2 error: {}", chain(err)))
}

/// A RST_STREAM or GOAWAY from the server (refused streams included) is a
/// reset, as a dropped connection is; one this side sent because the server
/// broke the protocol is a protocol error.
pub(super) fn h2_code(err: &h2::Error) -> ErrorCode {
    if let Some(io_err) = err.get_io() {
        return io_code(io_err);
    }
    if err.is_reset() || err.is_go_away() {
        return if err.is_remote() {
            ErrorCode::Reset
        } else {
            ErrorCode::Protocol
        };
    }
    ErrorCode::Other
}

pub(super) fn io_code(err: &io::Error) -> ErrorCode {
    if let Some(inner) = err.get_ref()
        && let Some(tls) = inner.downcast_ref::<rustls::Error>()
    {
        return describe_tls(tls).0;
    }
    // EMFILE / ENFILE: the generator, not the target, ran out of sockets.
    if matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
        return ErrorCode::FileLimit;
    }
    match err.kind() {
        io::ErrorKind::ConnectionRefused => ErrorCode::Refused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => ErrorCode::Reset,
        io::ErrorKind::TimedOut => ErrorCode::Timeout,
        _ => ErrorCode::Other,
    }
}

/// `outer: cause: root cause`, skipping a cause whose text repeats its parent's.
pub(super) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut last = text.clone();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !last.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        last = part;
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_of_files_has_its_own_code() {
        assert_eq!(
            io_code(&io::Error::from_raw_os_error(libc::EMFILE)),
            ErrorCode::FileLimit
        );
        assert_eq!(
            io_code(&io::Error::from_raw_os_error(libc::ENFILE)),
            ErrorCode::FileLimit
        );
        assert_eq!(
            io_code(&io::Error::from_raw_os_error(libc::ECONNREFUSED)),
            ErrorCode::Refused
        );
    }

    #[test]
    fn io_kinds_map_to_codes() {
        let code = |kind| io_code(&io::Error::from(kind));
        assert_eq!(code(io::ErrorKind::ConnectionRefused), ErrorCode::Refused);
        assert_eq!(code(io::ErrorKind::ConnectionReset), ErrorCode::Reset);
        assert_eq!(code(io::ErrorKind::BrokenPipe), ErrorCode::Reset);
        assert_eq!(code(io::ErrorKind::UnexpectedEof), ErrorCode::Reset);
        assert_eq!(code(io::ErrorKind::TimedOut), ErrorCode::Timeout);
        assert_eq!(code(io::ErrorKind::PermissionDenied), ErrorCode::Other);
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::General("bad".into()),
        );
        assert_eq!(io_code(&tls), ErrorCode::Tls);
    }

    #[test]
    fn rejected_certificates_say_which_check_failed() {
        let handshake = |cert| {
            tls(&io::Error::new(
                io::ErrorKind::InvalidData,
                rustls::Error::InvalidCertificate(cert),
            ))
        };
        let unknown = handshake(rustls::CertificateError::UnknownIssuer);
        assert_eq!(unknown.code, ErrorCode::TlsUnknownIssuer);
        assert_eq!(
            unknown.message,
            "TLS handshake: server certificate rejected: unknown issuer (its CA is not \
             trusted; add the CA with http.tls.ca_file)"
        );
        let expired = handshake(rustls::CertificateError::Expired);
        assert_eq!(
            (expired.code, expired.message.as_str()),
            (
                ErrorCode::TlsExpired,
                "TLS handshake: server certificate rejected: expired"
            )
        );
        let name = handshake(rustls::CertificateError::NotValidForName);
        assert_eq!(name.code, ErrorCode::TlsNameMismatch);
        assert!(
            name.message
                .starts_with("TLS handshake: server certificate rejected: name mismatch")
        );
        assert_eq!(ErrorCode::TlsNameMismatch.as_str(), "tls_name_mismatch");
    }

    #[test]
    fn chain_joins_distinct_causes() {
        let inner = io::Error::other("root");
        let outer = io::Error::other(inner);
        // io::Error with a custom inner displays the inner text itself.
        assert_eq!(chain(&outer), "root");
    }
}
