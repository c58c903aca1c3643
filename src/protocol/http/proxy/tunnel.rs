//! `CONNECT host:port` (RFC 9110 §9.3.6): after a 2xx the proxy relays
//! bytes both ways, and TLS, h2c or a WebSocket upgrade run inside.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ProxyServer;
use crate::protocol::http::error::{self, http_error};
use crate::protocol::http::types::{ErrorCode, HttpError};

/// A proxy's answer to CONNECT larger than this is refused.
const MAX_HEAD: usize = 16 * 1024;

/// Asks `proxy` (already connected on `tcp`) for a tunnel to `host:port`.
pub(in crate::protocol::http) async fn open_tunnel(
    tcp: &mut TcpStream,
    proxy: &ProxyServer,
    host: &str,
    port: u16,
) -> Result<(), HttpError> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    if let Some(auth) = &proxy.authorization {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(auth.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    tcp.write_all(&head).await.map_err(|e| error::connect(&e))?;

    // Read up to the end of the head only: after a 2xx the next bytes are
    // the target's, and the target does not speak before the client does.
    let mut buf = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() >= MAX_HEAD {
            return Err(refused("its answer to CONNECT is larger than 16 KiB"));
        }
        match tcp.read(&mut byte).await {
            Ok(0) => return Err(refused("it closed the connection in answer to CONNECT")),
            Ok(_) => buf.push(byte[0]),
            Err(e) => return Err(error::connect(&e)),
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(&buf) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(refused("its answer to CONNECT is not HTTP")),
    }
    match response.code {
        Some(code) if (200..300).contains(&code) => Ok(()),
        Some(code) => Err(refused(&format!(
            "CONNECT {authority} was answered {code} {}",
            response.reason.unwrap_or_default()
        ))),
        None => Err(refused("its answer to CONNECT has no status")),
    }
}

fn refused(why: &str) -> HttpError {
    http_error(ErrorCode::Proxy, format!("proxy: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A one-shot proxy that records the CONNECT head and answers `answer`.
    async fn proxy_answering(answer: &'static str) -> (u16, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !seen.ends_with(b"\r\n\r\n") {
                let n = tcp.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            tcp.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8(seen).unwrap()
        });
        (port, task)
    }

    #[tokio::test]
    async fn a_tunnel_is_asked_for_with_credentials_and_opened_on_2xx() {
        let (port, seen) = proxy_answering("HTTP/1.1 200 Connection established\r\n\r\n").await;
        let proxy = ProxyServer::parse(&format!("http://u:p@127.0.0.1:{port}")).unwrap();
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        open_tunnel(&mut tcp, &proxy, "::1", 8443).await.unwrap();
        assert_eq!(
            seen.await.unwrap(),
            "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn a_refusal_has_the_proxy_code_and_the_status() {
        let (port, _seen) =
            proxy_answering("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await;
        let proxy = ProxyServer::parse(&format!("127.0.0.1:{port}")).unwrap();
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let err = open_tunnel(&mut tcp, &proxy, "api.test", 443)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Proxy);
        assert_eq!(
            err.message,
            "proxy: CONNECT api.test:443 was answered 407 Proxy Authentication Required"
        );
    }
}
