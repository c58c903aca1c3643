//! HTTP/2 streams against an `h2` server in the test that does what a
//! well-behaved server rarely does: a small window for a large upload, a
//! response larger than the client's windows, a refused stream, a reset
//! after a complete response, and a GOAWAY mid-request.

mod http_client_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use http::{HeaderValue, Method, Request, Response};
use http_client_support::{client, get};
use stampede::protocol::http::{ClientConfig, ErrorCode, HttpResponse, Proto, ProtoChoice};
use tokio::net::TcpListener;

/// A body 64 times the server's 16 KiB window.
const UPLOAD: usize = 1 << 20;
/// More than the client's 4 MiB connection window: read only if the client
/// gives the credit back.
const DOWNLOAD: usize = 6 << 20;

/// An h2c server; `/goaway` makes it end the connection with a GOAWAY
/// instead of answering. Counts accepted connections.
async fn h2_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let counted = accepts.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut conn = h2::server::Builder::new()
                    .initial_window_size(16 << 10)
                    .handshake::<_, Bytes>(tcp)
                    .await
                    .unwrap();
                while let Some(Ok((req, respond))) = conn.accept().await {
                    if req.uri().path() == "/goaway" {
                        conn.abrupt_shutdown(Reason::ENHANCE_YOUR_CALM);
                    } else {
                        tokio::spawn(answer(req, respond));
                    }
                }
            });
        }
    });
    (format!("http://127.0.0.1:{port}"), accepts)
}

async fn answer(req: Request<RecvStream>, mut respond: SendResponse<Bytes>) {
    let (head, mut body) = req.into_parts();
    let reply = |respond: &mut SendResponse<Bytes>, data: Bytes, end: bool| {
        let mut send = respond.send_response(Response::new(()), false).unwrap();
        send.send_data(data, end).unwrap();
        send
    };
    match head.uri.path() {
        "/upload" => {
            let mut len = 0;
            while let Some(chunk) = body.data().await {
                let chunk = chunk.unwrap();
                len += chunk.len();
                body.flow_control().release_capacity(chunk.len()).unwrap();
            }
            let mut names: Vec<&str> = head.headers.keys().map(|n| n.as_str()).collect();
            names.sort_unstable();
            let length = head.headers.get("content-length").map(HeaderValue::to_str);
            let text = format!("{len} {length:?} {}", names.join(","));
            reply(&mut respond, text.into(), true);
        }
        "/download" => {
            reply(&mut respond, vec![b'x'; DOWNLOAD].into(), true);
        }
        "/refused" => respond.send_reset(Reason::REFUSED_STREAM),
        "/early" => {
            // A complete response, then "stop sending" (RFC 9113 §8.1); the
            // pause lets the DATA frame leave before the reset.
            let mut send = reply(&mut respond, Bytes::from_static(b"done"), false);
            tokio::time::sleep(Duration::from_millis(50)).await;
            send.send_reset(Reason::NO_ERROR);
        }
        _ => {
            reply(&mut respond, Bytes::from_static(b"ok"), true);
        }
    }
}

fn h2c_client() -> stampede::protocol::http::HttpClient {
    client(ClientConfig {
        http2_prior_knowledge: true,
        ..ClientConfig::default()
    })
}

async fn send(
    client: &stampede::protocol::http::HttpClient,
    req: stampede::protocol::http::HttpRequest,
) -> HttpResponse {
    let r = client.send(req).await.response;
    assert_eq!(r.proto, Proto::Http2);
    r
}

#[tokio::test]
async fn an_upload_larger_than_the_window_arrives_whole_without_connection_headers() {
    let (base, _) = h2_server().await;
    let client = h2c_client();
    let mut post = get(&format!("{base}/upload"));
    post.method = Method::POST;
    post.proto = ProtoChoice::Http2;
    post.body = vec![b'u'; UPLOAD].into();
    for (name, value) in [
        ("connection", "keep-alive, x-hop"),
        ("x-hop", "1"),
        ("keep-alive", "timeout=5"),
        ("transfer-encoding", "chunked"),
        ("te", "gzip"),
        ("x-kept", "2"),
    ] {
        post.headers.insert(name, HeaderValue::from_static(value));
    }
    let r = send(&client, post).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        format!("{UPLOAD} Some(Ok(\"{UPLOAD}\")) accept-encoding,content-length,user-agent,x-kept")
    );
    // Sending lasted until the last byte was handed over, which took the
    // server's window updates.
    assert!(r.timings.sending > Duration::ZERO);

    // An empty POST still says it is empty; an empty GET says nothing.
    let mut empty = get(&format!("{base}/upload"));
    empty.method = Method::POST;
    let r = send(&client, empty).await;
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "0 Some(Ok(\"0\")) accept-encoding,content-length,user-agent"
    );
    let r = send(&client, get(&format!("{base}/upload"))).await;
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "0 None accept-encoding,user-agent"
    );
}

#[tokio::test]
async fn a_response_larger_than_the_windows_is_read_whole() {
    let (base, _) = h2_server().await;
    let r = send(&h2c_client(), get(&format!("{base}/download"))).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.body.len(), DOWNLOAD);
    // Alone on its connection: exact counts, the handshake included.
    assert!(r.bytes_received > DOWNLOAD as u64, "{}", r.bytes_received);
}

#[tokio::test]
async fn a_refused_stream_is_a_reset_and_a_reset_after_the_response_is_not() {
    let (base, accepts) = h2_server().await;
    let client = h2c_client();
    let r = send(&client, get(&format!("{base}/refused"))).await;
    assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::Reset));
    let r = send(&client, get(&format!("{base}/early"))).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(&r.body[..], b"done");
    // Stream-level resets leave the connection in use.
    assert_eq!(accepts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_goaway_drops_the_connection_and_the_next_request_opens_another() {
    let (base, accepts) = h2_server().await;
    let client = h2c_client();
    let r = send(&client, get(&format!("{base}/first"))).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    let mut post = get(&format!("{base}/goaway"));
    // Not repeated on a new connection: the failure is reported.
    post.method = Method::POST;
    let r = send(&client, post).await;
    assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::Reset));
    let r = send(&client, get(&format!("{base}/after"))).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(&r.body[..], b"ok");
    assert_eq!(accepts.load(Ordering::SeqCst), 2);
}
