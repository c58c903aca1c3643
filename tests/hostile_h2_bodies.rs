//! The body limits over HTTP/2, where hyper reads the body frames: a kept
//! body over `max_body_size` fails with `body_too_large` (at once from
//! `content-length`, or as the frames pass the limit when there is none), a
//! bomb with `decompression_limit`, and a body nothing keeps is drained.
//! Library level: the client against a hyper h2c server in the test.

use std::convert::Infallible;
use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use stampede::protocol::http::{
    ClientConfig, ClientShared, ErrorCode, HttpClient, HttpRequest, ProtoChoice,
};
use tokio::net::TcpListener;

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// 1 MiB of zeros gzipped, 64 times over: 64 MiB inflated from ~66 KiB.
fn bomb() -> Bytes {
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![0u8; 1 << 20]).unwrap();
    Bytes::from(member.finish().unwrap().repeat(64))
}

async fn answer(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let response = match req.uri().path() {
        // 1 MiB with a content-length.
        "/sized" => Response::new(Full::new(Bytes::from(vec![b'x'; 1 << 20])).boxed()),
        // 1 MiB in 64 frames, no content-length.
        "/frames" => {
            let frames = (0..64).map(|_| Ok(Frame::data(Bytes::from(vec![b'x'; 16 << 10]))));
            Response::new(StreamBody::new(futures_util::stream::iter(frames)).boxed())
        }
        _ => Response::builder()
            .header("content-encoding", "gzip")
            .body(Full::new(bomb()).boxed())
            .unwrap(),
    };
    Ok(response)
}

async fn h2c() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        // Bounded: the test makes a handful of connections.
        for _ in 0..32 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service_fn(answer)),
            );
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn get(url: String, keep_body: bool) -> HttpRequest {
    HttpRequest {
        method: Method::GET,
        url,
        headers: HeaderMap::new(),
        body: Bytes::new(),
        timeout: Duration::from_secs(10),
        keep_body,
        keep_headers: false,
        proto: ProtoChoice::Http2,
        tls: None,
    }
}

#[tokio::test]
async fn http2_bodies_stop_at_their_limits_and_unkept_ones_drain() {
    let base = h2c().await;
    let client = HttpClient::new(
        ClientShared::new(ClientConfig {
            http2_prior_knowledge: true,
            ..ClientConfig::default()
        })
        .unwrap(),
    );
    let code = |r: &stampede::protocol::http::HttpResponse| r.error.as_ref().map(|e| e.code);
    for path in ["/sized", "/frames"] {
        let limited = client
            .send_limited(get(format!("{base}{path}"), true), 512 << 10)
            .await
            .response;
        assert_eq!(code(&limited), Some(ErrorCode::BodyTooLarge), "{path}");
        assert_eq!(limited.status, 200, "{path}");
        assert!(limited.body.is_empty(), "{path}");
        let fits = client
            .send_limited(get(format!("{base}{path}"), true), 1 << 20)
            .await
            .response;
        assert_eq!(code(&fits), None, "{path}: {:?}", fits.error);
        assert_eq!(fits.body.len(), 1 << 20, "{path}");
        let drained = client
            .send_limited(get(format!("{base}{path}"), false), 1)
            .await
            .response;
        assert_eq!(code(&drained), None, "{path}");
        assert!(drained.bytes_received > 1 << 20, "{path}");
    }
    // The default limits: 10 MiB, and 100 times the compressed size.
    let bomb = client
        .send(get(format!("{base}/bomb"), true))
        .await
        .response;
    assert_eq!(code(&bomb), Some(ErrorCode::DecompressionLimit));
    let message = &bomb.error.as_ref().unwrap().message;
    assert!(message.contains("max_decompression_ratio"), "{message}");
    assert_eq!(
        ErrorCode::DecompressionLimit.as_str(),
        "decompression_limit"
    );
    assert_eq!(ErrorCode::BodyTooLarge.as_str(), "body_too_large");
}
