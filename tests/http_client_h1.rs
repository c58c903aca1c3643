//! HTTP/1.1 framing of the inline client: chunked bodies, interim
//! responses, bodiless statuses, read-to-close bodies, heads split into
//! single bytes, large bodies, and reuse of the connection afterwards.

mod http_client_support;

use bytes::Bytes;
use http::Method;
use http_client_support::*;
use stampede::protocol::http::{ClientConfig, HttpClient, HttpRequest, HttpResponse};

fn keep(mut request: HttpRequest) -> HttpRequest {
    request.keep_body = true;
    request
}

async fn send(client: &HttpClient, request: HttpRequest) -> HttpResponse {
    let r = client.send(request).await.response;
    assert!(r.error.is_none(), "{}: {:?}", r.url, r.error);
    r
}

/// The connection is still usable: one more request on it.
async fn next_request_reuses(client: &HttpClient, server: &RawServer, accepts: usize) {
    let r = send(client, keep(get(&server.url("/next")))).await;
    assert_eq!(&r.body[..], b"/next");
    assert_eq!(server.accepts(), accepts);
}

#[tokio::test]
async fn chunked_with_extensions_and_trailers() {
    let reply = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                  5;name=value\r\nhello\r\n6 ; x\r\n world\r\n\
                  0\r\nx-checksum: abc\r\nx-other: 1\r\n\r\n"
        .to_vec();
    let reply_len = reply.len() as u64;
    let server = raw_server(move |seen, _| {
        if seen.path == "/chunked" {
            vec![Step::Write(reply.clone())]
        } else {
            ok(&seen.path)
        }
    })
    .await;
    let client = client(ClientConfig::default());
    let r = send(&client, keep(get(&server.url("/chunked")))).await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], b"hello world");
    assert_eq!(r.bytes_received, reply_len);
    // Trailers are consumed, not reported as headers.
    assert!(r.headers.get("x-checksum").is_none());
    next_request_reuses(&client, &server, 1).await;
}

#[tokio::test]
async fn interim_100_continue_is_skipped() {
    let reply = b"HTTP/1.1 100 Continue\r\n\r\n\
                  HTTP/1.1 200 OK\r\nx-real: yes\r\ncontent-length: 2\r\n\r\nok"
        .to_vec();
    let reply_len = reply.len() as u64;
    let server = raw_server(move |seen, _| {
        if seen.path == "/continue" {
            vec![Step::Write(reply.clone())]
        } else {
            ok(&seen.path)
        }
    })
    .await;
    let client = client(ClientConfig::default());
    let mut post = keep(get(&server.url("/continue")));
    post.method = Method::POST;
    post.body = Bytes::from_static(b"data");
    let r = send(&client, post).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-real"], "yes");
    assert_eq!(&r.body[..], b"ok");
    assert_eq!(r.bytes_received, reply_len);
    assert_eq!(server.seen()[0].body, b"data");
    next_request_reuses(&client, &server, 1).await;
}

#[tokio::test]
async fn no_content_not_modified_and_head_have_no_body() {
    let server = raw_server(|seen, _| {
        let reply: &[u8] = match (seen.method.as_str(), seen.path.as_str()) {
            (_, "/204") => b"HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n",
            // A length that describes the entity, not this message.
            (_, "/304") => b"HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n",
            ("HEAD", _) => b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n",
            _ => return ok(&seen.path),
        };
        vec![Step::Write(reply.to_vec())]
    })
    .await;
    let client = client(ClientConfig::default());
    for (path, method, status, len) in [
        ("/204", Method::GET, 204, 35),
        ("/304", Method::GET, 304, 49),
        ("/head", Method::HEAD, 200, 40),
    ] {
        let mut request = keep(get(&server.url(path)));
        request.method = method;
        let r = send(&client, request).await;
        assert_eq!(r.status, status, "{path}");
        assert!(r.body.is_empty(), "{path}");
        assert_eq!(r.bytes_received, len, "{path}");
    }
    next_request_reuses(&client, &server, 1).await;
}

#[tokio::test]
async fn http10_body_without_length_is_read_to_close_and_not_reused() {
    let reply = b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nread until close".to_vec();
    let reply_len = reply.len() as u64;
    let server = raw_server(move |seen, _| {
        if seen.path == "/old" {
            vec![Step::Write(reply.clone()), Step::Close]
        } else {
            ok(&seen.path)
        }
    })
    .await;
    let client = client(ClientConfig::default());
    let r = send(&client, keep(get(&server.url("/old")))).await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], b"read until close");
    assert_eq!(r.bytes_received, reply_len);
    // A new connection for the next request.
    next_request_reuses(&client, &server, 2).await;
}

#[tokio::test]
async fn http10_keep_alive_is_reused() {
    let server = raw_server(|seen, _| {
        let body = seen.path.as_bytes();
        let head = format!(
            "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        vec![Step::Write([head.as_bytes(), body].concat())]
    })
    .await;
    let client = client(ClientConfig::default());
    for path in ["/a", "/b"] {
        let r = send(&client, keep(get(&server.url(path)))).await;
        assert_eq!(&r.body[..], path.as_bytes());
    }
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn head_and_body_written_one_byte_at_a_time() {
    let reply = b"HTTP/1.1 200 OK\r\nx-split: yes\r\ncontent-length: 5\r\n\r\nbytes".to_vec();
    let reply_len = reply.len() as u64;
    let server = raw_server(move |seen, _| {
        if seen.path != "/split" {
            return ok(&seen.path);
        }
        // A pause after each byte so each arrives in its own segment.
        reply
            .iter()
            .flat_map(|b| [Step::Write(vec![*b]), Step::Sleep(1)])
            .collect()
    })
    .await;
    let client = client(ClientConfig::default());
    let r = send(&client, keep(get(&server.url("/split")))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-split"], "yes");
    assert_eq!(&r.body[..], b"bytes");
    assert_eq!(r.bytes_received, reply_len);
    next_request_reuses(&client, &server, 1).await;
}

fn large_body() -> Vec<u8> {
    (0..1 << 20).map(|i: u32| (i % 251) as u8).collect()
}

#[tokio::test]
async fn one_mebibyte_bodies_kept_or_discarded() {
    let body = large_body();
    let fixed = response("200 OK", &[], &body);
    let mut chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(100_000) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (fixed_len, chunked_len) = (fixed.len() as u64, chunked.len() as u64);
    let server = raw_server(move |seen, _| match seen.path.as_str() {
        "/fixed" => vec![Step::Write(fixed.clone())],
        "/chunked" => vec![Step::Write(chunked.clone())],
        path => ok(path),
    })
    .await;
    let client = client(ClientConfig::default());
    for (path, wire_len) in [("/fixed", fixed_len), ("/chunked", chunked_len)] {
        for keep_body in [false, true] {
            let mut request = get(&server.url(path));
            request.keep_body = keep_body;
            let r = send(&client, request).await;
            assert_eq!(r.bytes_received, wire_len, "{path} keep={keep_body}");
            if keep_body {
                assert_eq!(r.body.len(), body.len(), "{path}");
                assert!(r.body[..] == body[..], "{path}: body differs");
            } else {
                assert!(r.body.is_empty(), "{path}");
            }
            next_request_reuses(&client, &server, 1).await;
        }
    }
}

#[tokio::test]
async fn connection_the_server_closed_while_idle_is_not_used() {
    // The server answers and then closes the keep-alive connection: the
    // close is noticed before the next request is written, so even a POST
    // (which is never retried) goes out on a new connection.
    let server = raw_server(|seen, _| {
        let mut steps = ok(&seen.path);
        if seen.path == "/first" {
            steps.push(Step::Close);
        }
        steps
    })
    .await;
    let client = client(ClientConfig::default());
    send(&client, get(&server.url("/first"))).await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let mut post = keep(get(&server.url("/post")));
    post.method = Method::POST;
    post.body = Bytes::from_static(b"x");
    let r = send(&client, post).await;
    assert_eq!(&r.body[..], b"/post");
    assert_eq!(server.accepts(), 2);
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn oversized_head_and_bad_chunks_are_errors() {
    use stampede::protocol::http::ErrorCode;
    let server = raw_server(|seen, _| {
        let reply = match seen.path.as_str() {
            "/huge" => {
                // Ten headers of 8 KiB: far below httparse's header-count
                // limit, so only the 64 KiB head limit can refuse them.
                let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
                for i in 0..10 {
                    head.extend_from_slice(
                        format!("x-{i}: {}\r\n", "v".repeat(8 * 1024)).as_bytes(),
                    );
                }
                head
            }
            _ => b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n".to_vec(),
        };
        vec![Step::Write(reply)]
    })
    .await;
    let client = client(ClientConfig::default());
    let r = client.send(get(&server.url("/huge"))).await.response;
    let error = r.error.unwrap();
    assert_eq!(error.code, ErrorCode::Protocol);
    assert_eq!(error.message, "response head larger than 64 KiB");
    let r = client.send(get(&server.url("/chunks"))).await.response;
    assert_eq!(r.status, 200);
    let error = r.error.unwrap();
    assert_eq!(error.code, ErrorCode::Body);
    assert_eq!(error.message, "reading body: invalid chunk size line");
}
