//! HTTP/2 (prior knowledge and ALPN) and TLS behaviour of the client.
//! The TLS certificate is generated in-process (`support/tls_cert.rs`).

mod http_client_support;
#[path = "support/tls_cert.rs"]
mod tls_cert;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http_client_support::*;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use stampede::protocol::http::{ClientConfig, ErrorCode, Proto, ProtoChoice};
use tokio::net::TcpListener;

fn h2c_config() -> ClientConfig {
    ClientConfig {
        http2_prior_knowledge: true,
        ..ClientConfig::default()
    }
}

#[tokio::test]
async fn h2c_prior_knowledge_speaks_http2_and_reuses_the_connection() {
    let (base, accepts) = h2c_server().await;
    let client = client(h2c_config());

    let r = client.send(get(&format!("{base}/x"))).await.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.status, 200);
    assert_eq!(r.proto, Proto::Http2);
    assert_eq!(&r.body[..], b"HTTP/2.0:GET:/x");
    assert!(r.timings.connecting > Duration::ZERO);
    assert!(
        r.timings.waiting >= Duration::from_millis(20),
        "{:?}",
        r.timings
    );
    // Alone on its connection, so exact: at least the 24-byte preface plus
    // frames were written, and the 15-byte body plus frames read.
    assert!(r.bytes_sent > 24 + 9, "{}", r.bytes_sent);
    assert!(r.bytes_received > 15 + 9, "{}", r.bytes_received);

    let mut post = get(&format!("{base}/y"));
    post.method = Method::POST;
    post.body = Bytes::from_static(b"hello");
    let r = client.send(post).await.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(&r.body[..], b"HTTP/2.0:POST:/y");
    assert_eq!(r.timings.connecting, Duration::ZERO);
    assert_eq!(
        r.timings.duration,
        r.timings.sending + r.timings.waiting + r.timings.receiving
    );
    assert_eq!(accepts.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_concurrent_sends_share_one_connection() {
    let (base, accepts) = h2c_server().await;
    let client = client(h2c_config());
    assert!(
        client
            .send(get(&format!("{base}/warm")))
            .await
            .response
            .error
            .is_none()
    );

    let outcomes =
        futures_util::future::join_all((0..10).map(|i| client.send(get(&format!("{base}/{i}")))))
            .await;
    for (i, outcome) in outcomes.iter().enumerate() {
        let r = &outcome.response;
        assert!(r.error.is_none(), "{i}: {:?}", r.error);
        assert_eq!(r.proto, Proto::Http2);
        assert_eq!(r.body, format!("HTTP/2.0:GET:/{i}").as_bytes());
        assert_eq!(r.timings.connecting, Duration::ZERO);
        assert!(r.bytes_sent > 0 && r.bytes_received > 0);
    }
    assert_eq!(accepts.load(Ordering::SeqCst), 1);
}

/// An HTTPS server (HTTP/1.1 and HTTP/2 by ALPN) answering like `echo_path`.
async fn tls_server(alpn: &[&[u8]]) -> (String, Arc<AtomicUsize>) {
    let config = tls_cert::server_config(alpn);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let a = accepts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            a.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service_fn(echo_path))
                    .await;
            });
        }
    });
    (format!("https://127.0.0.1:{port}"), accepts)
}

fn insecure() -> ClientConfig {
    ClientConfig {
        insecure_skip_tls_verify: true,
        ..ClientConfig::default()
    }
}

#[tokio::test]
async fn tls_negotiates_http2_by_alpn_and_reuses_the_session() {
    let (base, accepts) = tls_server(&[b"h2", b"http/1.1"]).await;
    let client = client(insecure());
    let r = client.send(get(&format!("{base}/secure"))).await.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.proto, Proto::Http2);
    assert_eq!(&r.body[..], b"HTTP/2.0:GET:/secure");
    assert!(r.timings.connecting > Duration::ZERO);
    assert!(r.timings.tls_handshaking > Duration::ZERO);

    let r = client.send(get(&format!("{base}/again"))).await.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.timings.connecting, Duration::ZERO);
    assert_eq!(r.timings.tls_handshaking, Duration::ZERO);
    assert_eq!(accepts.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_http1_alpn_counts_encrypted_bytes() {
    let (base, accepts) = tls_server(&[b"http/1.1"]).await;
    let client = client(insecure());
    let first = client.send(get(&format!("{base}/one"))).await.response;
    assert!(first.error.is_none(), "{:?}", first.error);
    assert_eq!(first.proto, Proto::Http1);
    assert_eq!(&first.body[..], b"HTTP/1.1:GET:/one");
    assert!(first.timings.tls_handshaking > Duration::ZERO);
    // 20 ms server pause: TTFB is the response, not a post-handshake ticket.
    assert!(
        first.timings.waiting >= Duration::from_millis(20),
        "{:?}",
        first.timings
    );

    let second = client.send(get(&format!("{base}/two"))).await.response;
    assert!(second.error.is_none(), "{:?}", second.error);
    assert_eq!(second.timings.tls_handshaking, Duration::ZERO);
    assert!(
        second.timings.waiting >= Duration::from_millis(20),
        "{:?}",
        second.timings
    );
    // The first exchange carries the handshake bytes; the second only TLS
    // records (plaintext plus per-record overhead).
    assert!(first.bytes_sent > second.bytes_sent);
    assert!(first.bytes_received > second.bytes_received + 200);
    assert!(second.bytes_received > 17);
    assert_eq!(accepts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn untrusted_certificate_is_a_tls_error_naming_the_failed_check() {
    let (base, _) = tls_server(&[b"h2", b"http/1.1"]).await;
    let r = client(ClientConfig::default())
        .send(get(&format!("{base}/")))
        .await
        .response;
    let error = r.error.unwrap();
    // Self-signed: not issued by any trusted CA.
    assert_eq!(error.code, ErrorCode::TlsUnknownIssuer);
    assert_eq!(
        error.message,
        "TLS handshake: server certificate rejected: unknown issuer (its CA is not trusted; add the CA with http.tls.ca_file)"
    );
    assert!(r.timings.tls_handshaking > Duration::ZERO);
    assert_eq!(r.status, 0);
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_error() {
    // Like a plain server, answer the ClientHello with a 400 in cleartext.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 512];
        let _ = stream.read(&mut hello).await;
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
    });
    let url = format!("https://127.0.0.1:{port}/");
    let r = client(insecure()).send(get(&url)).await.response;
    assert_eq!(r.error.unwrap().code, ErrorCode::Tls);
}

/// Many clients sharing one `ClientShared` on a multi-threaded runtime, over
/// HTTP/1.1 and h2c: every exchange succeeds, and identical exchanges on
/// their own connections report identical exact byte counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_share_one_config_across_threads() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service_fn(echo_path))
                    .await;
            });
        }
    });
    for http2 in [false, true] {
        let shared = stampede::protocol::http::ClientShared::new(ClientConfig {
            http2_prior_knowledge: http2,
            ..ClientConfig::default()
        })
        .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let client = stampede::protocol::http::HttpClient::new(shared);
                    let url = format!("http://127.0.0.1:{port}/same");
                    let mut counts = Vec::new();
                    for _ in 0..20 {
                        let r = client.send(get(&url)).await.response;
                        assert!(r.error.is_none(), "{:?}", r.error);
                        counts.push((r.bytes_sent, r.bytes_received));
                    }
                    counts
                })
            })
            .collect();
        let mut steady = Vec::new();
        for task in tasks {
            let counts = task.await.unwrap();
            // The first exchange also carries the connection setup (h2 preface).
            steady.extend_from_slice(&counts[1..]);
        }
        let expected = steady[0];
        assert!(expected.0 > 0 && expected.1 > 0);
        if !http2 {
            assert!(
                steady.iter().all(|c| *c == expected),
                "http2={http2}: {steady:?}"
            );
        }
    }
}

fn with_proto(url: &str, proto: ProtoChoice) -> stampede::protocol::http::HttpRequest {
    let mut request = get(url);
    request.proto = proto;
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_concurrent_http2_sends_open_one_connection() {
    let (base, accepts) = h2c_server().await;
    // No client-wide prior knowledge: the requests ask for HTTP/2 themselves.
    let client = client(ClientConfig::default());
    let outcomes = futures_util::future::join_all(
        (0..10).map(|i| client.send(with_proto(&format!("{base}/{i}"), ProtoChoice::Http2))),
    )
    .await;
    let mut opened = 0;
    for (i, outcome) in outcomes.iter().enumerate() {
        let r = &outcome.response;
        assert!(r.error.is_none(), "{i}: {:?}", r.error);
        assert_eq!(r.body, format!("HTTP/2.0:GET:/{i}").as_bytes());
        opened += usize::from(r.timings.connecting > Duration::ZERO);
    }
    assert_eq!(accepts.load(Ordering::SeqCst), 1);
    assert_eq!(
        opened, 1,
        "one exchange opened the connection, nine waited for it"
    );
}

#[tokio::test]
async fn tls_http1_choice_offers_only_http1_in_alpn() {
    let (base, accepts) = tls_server(&[b"h2", b"http/1.1"]).await;
    let client = client(insecure());
    let r = client
        .send(with_proto(&format!("{base}/one"), ProtoChoice::Http1))
        .await
        .response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.proto, Proto::Http1);
    assert_eq!(&r.body[..], b"HTTP/1.1:GET:/one");
    // Auto takes what the pool holds: the idle HTTP/1.1 connection.
    let r = client.send(get(&format!("{base}/two"))).await.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.proto, Proto::Http1);
    let r = client
        .send(with_proto(&format!("{base}/three"), ProtoChoice::Http2))
        .await
        .response;
    assert_eq!(r.proto, Proto::Http2);
    assert_eq!(&r.body[..], b"HTTP/2.0:GET:/three");
    // Auto now finds the HTTP/2 connection first; HTTP/1.1 keeps its own.
    let r = client.send(get(&format!("{base}/four"))).await.response;
    assert_eq!(r.proto, Proto::Http2);
    let r = client
        .send(with_proto(&format!("{base}/five"), ProtoChoice::Http1))
        .await
        .response;
    assert_eq!(r.proto, Proto::Http1);
    assert_eq!(accepts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn tls_http2_choice_fails_when_the_server_picks_http1() {
    let (base, accepts) = tls_server(&[b"http/1.1"]).await;
    let client = client(insecure());
    let r = client
        .send(with_proto(&format!("{base}/x"), ProtoChoice::Http2))
        .await
        .response;
    let error = r.error.expect("HTTP/2 could not be had");
    assert_eq!(error.code, ErrorCode::Protocol);
    assert_eq!(
        error.message,
        "HTTP/2 was required but the server chose http/1.1 in ALPN"
    );
    assert_eq!(r.status, 0);
    assert!(r.timings.tls_handshaking > Duration::ZERO);
    assert_eq!(accepts.load(Ordering::SeqCst), 1);
}
