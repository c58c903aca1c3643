//! HTTP/1.1 behaviour of the client against scripted in-process servers.

mod http_client_support;

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use http_client_support::*;
use stampede::protocol::http::{
    ClientConfig, DEFAULT_USER_AGENT, ErrorCode, HttpRequest, Proto, redact_headers,
};

const MS: Duration = Duration::from_millis(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phases_are_measured_and_ordered() {
    // 50 ms before the head, then the body in two parts 30 ms apart.
    let server = raw_server(|_, _| {
        let mut first = response("200 OK", &[], b"helloworld");
        let rest = first.split_off(first.len() - 5);
        vec![
            Step::Sleep(50),
            Step::Write(first),
            Step::Sleep(30),
            Step::Write(rest),
        ]
    })
    .await;
    let client = client(ClientConfig::default());

    let outcome = client.send(get(&server.url("/slow"))).await;
    let r = &outcome.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], b"helloworld");
    assert_eq!(r.proto, Proto::Http1);
    assert_eq!(r.url, server.url("/slow"));
    let t = r.timings;
    assert!(t.waiting >= 50 * MS, "{t:?}");
    assert!(t.waiting < 500 * MS, "{t:?}");
    // The server's 50 + 30 ms both lie between the end of sending and the
    // last byte, so their sum is a hard bound. The split is not: the client
    // stamps the first byte when it is woken, and a late wake-up (2.4 ms in
    // a busy CI run) moves that much from receiving into waiting. 10 ms of
    // receiving still proves the stamp is the first part's, not the last's.
    assert!(t.waiting + t.receiving >= 80 * MS, "{t:?}");
    assert!(t.receiving >= 10 * MS, "{t:?}");
    assert!(t.receiving < 500 * MS, "{t:?}");
    assert!(t.sending < 20 * MS, "{t:?}");
    assert!(t.connecting > Duration::ZERO, "{t:?}");
    assert_eq!(t.tls_handshaking, Duration::ZERO);
    assert_eq!(t.duration, t.sending + t.waiting + t.receiving);

    // The second request rides the same connection: no connect phase.
    let outcome = client.send(get(&server.url("/slow"))).await;
    let t = outcome.response.timings;
    assert!(outcome.response.error.is_none());
    assert_eq!(t.connecting, Duration::ZERO);
    assert!(t.waiting >= 50 * MS, "{t:?}");
    assert_eq!(server.accepts(), 1);
    assert_eq!(
        server.seen().iter().map(|s| s.conn).collect::<Vec<_>>(),
        [0, 0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_are_exact_wire_counts() {
    let reply = response(
        "201 Created",
        &[("content-type", "application/json"), ("x-id", "7")],
        br#"{"id":7}"#,
    );
    let reply_len = reply.len() as u64;
    let server = raw_server(move |_, _| vec![Step::Write(reply.clone())]).await;
    let client = client(ClientConfig::default());

    for round in 0..2 {
        let mut request = get(&server.url("/items?x=1"));
        request.method = Method::POST;
        request.body = Bytes::from_static(b"{\"name\":\"a\"}");
        request
            .headers
            .insert("content-type", HeaderValue::from_static("application/json"));
        let outcome = client.send(request).await;
        let r = &outcome.response;
        assert!(r.error.is_none(), "{:?}", r.error);
        assert_eq!(r.status, 201);
        let seen = &server.seen()[round];
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.path, "/items?x=1");
        assert_eq!(seen.body, b"{\"name\":\"a\"}");
        assert_eq!(seen.header("content-length").as_deref(), Some("12"));
        assert_eq!(r.bytes_sent, seen.raw_len as u64, "round {round}");
        assert_eq!(r.bytes_received, reply_len, "round {round}");
    }
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn default_headers_are_sent_unless_the_request_sets_them() {
    let server = raw_server(|_, _| ok("x")).await;
    let client = client(ClientConfig::default());
    client.send(get(&server.url("/a"))).await;
    let mut request = get(&server.url("/b"));
    request
        .headers
        .insert("user-agent", HeaderValue::from_static("mine/1"));
    request
        .headers
        .insert("accept-encoding", HeaderValue::from_static("identity"));
    client.send(request).await;

    let seen = server.seen();
    assert_eq!(
        seen[0].header("host"),
        Some(format!("127.0.0.1:{}", server.port))
    );
    assert_eq!(
        seen[0].header("user-agent").as_deref(),
        Some(DEFAULT_USER_AGENT)
    );
    assert_eq!(
        seen[0].header("accept-encoding").as_deref(),
        Some("gzip, deflate")
    );
    assert_eq!(seen[1].header("user-agent").as_deref(), Some("mine/1"));
    assert_eq!(
        seen[1].header("accept-encoding").as_deref(),
        Some("identity")
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn gzip_body_is_decoded_and_wire_bytes_counted() {
    let text = "compressible ".repeat(200);
    let reply = response(
        "200 OK",
        &[("content-encoding", "gzip")],
        &gzip(text.as_bytes()),
    );
    let reply_len = reply.len() as u64;
    let server = raw_server(move |_, _| vec![Step::Write(reply.clone())]).await;
    let client = client(ClientConfig::default());

    let r = client.send(get(&server.url("/gz"))).await.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(&r.body[..], text.as_bytes());
    assert_eq!(r.bytes_received, reply_len);
    assert!(reply_len < text.len() as u64);

    // Not kept: nothing stored, everything counted.
    let mut request = get(&server.url("/gz"));
    request.keep_body = false;
    let r = client.send(request).await.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.bytes_received, reply_len);
}

#[tokio::test]
async fn corrupt_gzip_is_a_body_error() {
    let reply = response(
        "200 OK",
        &[("content-encoding", "gzip")],
        b"definitely not gzip",
    );
    let server = raw_server(move |_, _| vec![Step::Write(reply.clone())]).await;
    let r = client(ClientConfig::default())
        .send(get(&server.url("/")))
        .await
        .response;
    assert_eq!(r.status, 200);
    assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::Body));
}

#[tokio::test]
async fn cookies_are_stored_and_sent_back() {
    let server = raw_server(|seen, _| {
        if seen.path == "/login" {
            vec![Step::Write(response(
                "200 OK",
                &[
                    ("set-cookie", "sid=xyz; Path=/"),
                    ("set-cookie", "pref=dark"),
                ],
                b"",
            ))]
        } else {
            ok("in")
        }
    })
    .await;
    let client = client(ClientConfig::default());
    client.send(get(&server.url("/login"))).await;
    let mut request = get(&server.url("/me"));
    request
        .headers
        .insert("cookie", HeaderValue::from_static("own=1"));
    client.send(request).await;

    let seen = server.seen();
    assert_eq!(seen[0].header("cookie"), None);
    let cookie = seen[1].header("cookie").unwrap();
    let mut parts: Vec<&str> = cookie.split("; ").collect();
    assert_eq!(parts[0], "own=1");
    parts.sort();
    assert_eq!(parts, ["own=1", "pref=dark", "sid=xyz"]);

    // With the jar off, nothing is remembered.
    let no_jar = http_client_support::client(ClientConfig {
        cookies: false,
        ..ClientConfig::default()
    });
    no_jar.send(get(&server.url("/login"))).await;
    no_jar.send(get(&server.url("/me"))).await;
    assert_eq!(server.seen()[3].header("cookie"), None);
}

#[tokio::test]
async fn redirect_chain_is_followed_and_recorded_per_hop() {
    let server = raw_server(|seen, _| match seen.path.as_str() {
        "/start" => vec![Step::Write(response(
            "302 Found",
            &[("location", "/mid")],
            b"",
        ))],
        "/mid" => vec![Step::Write(response(
            "303 See Other",
            &[("location", "end?done=1")],
            b"",
        ))],
        _ => ok("arrived"),
    })
    .await;
    let client = client(ClientConfig::default());
    let mut request = get(&server.url("/start"));
    request.method = Method::POST;
    request.body = Bytes::from_static(b"payload");

    let outcome = client.send(request).await;
    assert_eq!(outcome.redirects.len(), 2);
    assert_eq!(outcome.redirects[0].status, 302);
    assert_eq!(outcome.redirects[0].url, server.url("/start"));
    assert_eq!(outcome.redirects[1].status, 303);
    assert_eq!(outcome.redirects[1].url, server.url("/mid"));
    let r = &outcome.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], b"arrived");
    assert_eq!(r.url, server.url("/end?done=1"));
    assert!(
        outcome
            .redirects
            .iter()
            .all(|h| h.bytes_sent > 0 && h.bytes_received > 0)
    );

    let seen = server.seen();
    let lines: Vec<(String, String)> = seen
        .iter()
        .map(|s| (s.method.clone(), s.path.clone()))
        .collect();
    assert_eq!(
        lines,
        [
            ("POST".to_string(), "/start".to_string()),
            ("GET".to_string(), "/mid".to_string()),
            ("GET".to_string(), "/end?done=1".to_string()),
        ]
    );
    assert_eq!(seen[0].body, b"payload");
    assert!(seen[1].body.is_empty());
    assert_eq!(seen[1].header("content-length"), None);
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn too_many_redirects_stops_with_an_error() {
    let server = raw_server(|_, _| {
        vec![Step::Write(response(
            "302 Found",
            &[("location", "/loop")],
            b"",
        ))]
    })
    .await;
    let client = client(ClientConfig {
        max_redirects: 3,
        ..ClientConfig::default()
    });
    let outcome = client.send(get(&server.url("/loop"))).await;
    assert_eq!(outcome.redirects.len(), 3);
    assert_eq!(outcome.response.status, 302);
    let error = outcome.response.error.unwrap();
    assert_eq!(error.code, ErrorCode::TooManyRedirects);
    assert_eq!(error.message, "stopped after 3 redirects");
    assert_eq!(server.seen().len(), 4);

    // max_redirects = 0: the 3xx is the answer, not an error.
    let client = http_client_support::client(ClientConfig {
        max_redirects: 0,
        ..ClientConfig::default()
    });
    let outcome = client.send(get(&server.url("/loop"))).await;
    assert!(outcome.redirects.is_empty());
    assert_eq!(outcome.response.status, 302);
    assert!(outcome.response.error.is_none());
}

#[tokio::test]
async fn timeout_reports_the_phases_reached() {
    let server = raw_server(|_, _| {
        let mut steps = vec![Step::Sleep(2_000)];
        steps.extend(ok("late"));
        steps
    })
    .await;
    let client = client(ClientConfig::default());
    let mut request = get(&server.url("/slow"));
    request.timeout = Duration::from_millis(150);
    let started = std::time::Instant::now();
    let r = client.send(request).await.response;
    assert!(started.elapsed() < Duration::from_millis(1_000));
    let error = r.error.unwrap();
    assert_eq!(error.code, ErrorCode::Timeout);
    assert_eq!(error.message, "request timed out after 150ms");
    assert_eq!(r.status, 0);
    let t = r.timings;
    assert!(t.waiting >= 100 * MS, "{t:?}");
    assert_eq!(t.receiving, Duration::ZERO);
    assert!(r.bytes_sent > 0);
    assert_eq!(r.bytes_received, 0);
}

#[tokio::test]
async fn refused_connection() {
    let port = dead_port().await;
    let r = client(ClientConfig::default())
        .send(get(&format!("http://127.0.0.1:{port}/")))
        .await
        .response;
    assert_eq!(r.error.unwrap().code, ErrorCode::Refused);
    assert_eq!(r.status, 0);
    assert_eq!(r.bytes_sent, 0);
}

#[tokio::test]
async fn close_mid_body_is_a_reset() {
    let server = raw_server(|_, _| {
        let mut partial = response("200 OK", &[], &[b'x'; 100]);
        partial.truncate(partial.len() - 60);
        vec![Step::Write(partial), Step::Sleep(20), Step::Close]
    })
    .await;
    let r = client(ClientConfig::default())
        .send(get(&server.url("/")))
        .await
        .response;
    assert_eq!(r.status, 200);
    let code = r.error.unwrap().code;
    assert!(
        matches!(code, ErrorCode::Reset | ErrorCode::Body),
        "{code:?}"
    );
}

#[tokio::test]
async fn malformed_response_is_a_protocol_error() {
    let server = raw_server(|_, _| {
        vec![
            Step::Write(b"NOT HTTP AT ALL\r\n\r\n".to_vec()),
            Step::Close,
        ]
    })
    .await;
    let r = client(ClientConfig::default())
        .send(get(&server.url("/")))
        .await
        .response;
    assert_eq!(r.error.unwrap().code, ErrorCode::Protocol);
}

#[tokio::test]
async fn invalid_urls_are_reported_without_a_connection() {
    let client = client(ClientConfig::default());
    for url in ["ftp://127.0.0.1/", "/relative/path", "http://"] {
        let r = client.send(get(url)).await.response;
        assert_eq!(r.error.unwrap().code, ErrorCode::InvalidUrl, "{url}");
        assert_eq!(r.url, url);
    }
}

#[tokio::test]
async fn unresolvable_host_is_a_dns_error() {
    let r = client(ClientConfig::default())
        .send(get("http://no-such-host.invalid/"))
        .await
        .response;
    assert_eq!(r.error.unwrap().code, ErrorCode::Dns);
}

#[tokio::test]
async fn connection_closed_while_idle_is_retried_once_on_a_new_one() {
    // The first connection answers once, then drops the next request
    // unanswered: the race of a server's keep-alive timeout.
    let server = raw_server(|seen, _| {
        if seen.conn == 0 && seen.path == "/second" {
            vec![Step::Close]
        } else {
            ok(&seen.path)
        }
    })
    .await;
    let client = client(ClientConfig::default());
    assert!(
        client
            .send(get(&server.url("/first")))
            .await
            .response
            .error
            .is_none()
    );
    let r = client.send(get(&server.url("/second"))).await.response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(&r.body[..], b"/second");
    assert_eq!(server.accepts(), 2);
    // The retried exchange is reported as one on a new connection.
    assert!(r.timings.connecting > Duration::ZERO);
    assert_eq!(r.bytes_sent, server.seen()[2].raw_len as u64);

    // A POST (not idempotent) that was already written is not repeated.
    let mut post = get(&server.url("/second"));
    post.method = Method::POST;
    let server2 = raw_server(|seen, _| {
        if seen.conn == 0 && seen.method == "POST" {
            vec![Step::Close]
        } else {
            ok("ok")
        }
    })
    .await;
    post.url = server2.url("/second");
    let client = http_client_support::client(ClientConfig::default());
    assert!(
        client
            .send(get(&server2.url("/first")))
            .await
            .response
            .error
            .is_none()
    );
    let r = client.send(post).await.response;
    assert_eq!(r.error.unwrap().code, ErrorCode::Reset);
    assert_eq!(server2.accepts(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_from_one_client_all_succeed() {
    let server = raw_server(|seen, _| {
        let mut steps = vec![Step::Sleep(20)];
        steps.extend(ok(&seen.path));
        steps
    })
    .await;
    let client = client(ClientConfig::default());
    let sends = (0..10).map(|i| client.send(get(&server.url(&format!("/{i}")))));
    let outcomes = futures_util::future::join_all(sends).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        let r = &outcome.response;
        assert!(r.error.is_none(), "{i}: {:?}", r.error);
        assert_eq!(r.body, format!("/{i}").as_bytes());
    }
    // HTTP/1.1 carries one request at a time: ten connections, then reused.
    assert_eq!(server.accepts(), 10);
    let outcomes = futures_util::future::join_all(
        (0..10).map(|i| client.send(get(&server.url(&format!("/{i}"))))),
    )
    .await;
    assert!(outcomes.iter().all(|o| o.response.error.is_none()));
    assert_eq!(server.accepts(), 10);
}

#[test]
fn send_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let client = client(ClientConfig::default());
    let future = client.send(get("http://127.0.0.1:1/"));
    assert_send(&future);
}

#[test]
fn redact_headers_masks_credentials_only() {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("authorization", "Bearer abc"),
        ("proxy-authorization", "Basic x"),
        ("cookie", "sid=1"),
        ("set-cookie", "sid=2"),
        ("x-auth-token", "t"),
        ("x-client-secret", "s"),
        ("x-api-key", "k"),
        ("apikey", "k2"),
        ("content-type", "application/json"),
        ("accept", "*/*"),
    ] {
        headers.append(name, HeaderValue::from_static(value));
    }
    let shown = redact_headers(&headers);
    let expect = |name: &str, value: &str| (name.to_string(), value.to_string());
    assert_eq!(
        shown,
        [
            expect("authorization", "[REDACTED]"),
            expect("proxy-authorization", "[REDACTED]"),
            expect("cookie", "[REDACTED]"),
            expect("set-cookie", "[REDACTED]"),
            expect("x-auth-token", "[REDACTED]"),
            expect("x-client-secret", "[REDACTED]"),
            expect("x-api-key", "[REDACTED]"),
            expect("apikey", "[REDACTED]"),
            expect("content-type", "application/json"),
            expect("accept", "*/*"),
        ]
    );
}

#[tokio::test]
async fn error_messages_never_contain_header_values() {
    let port = dead_port().await;
    let mut request: HttpRequest = get(&format!("http://127.0.0.1:{port}/"));
    request.headers.insert(
        "authorization",
        HeaderValue::from_static("Bearer SECRET-TOKEN"),
    );
    let r = client(ClientConfig::default()).send(request).await.response;
    let message = r.error.unwrap().message;
    assert!(!message.contains("SECRET-TOKEN"), "{message}");
}

#[tokio::test]
async fn connection_close_response_is_not_reused() {
    let server = raw_server(|seen, _| {
        vec![
            Step::Write(response(
                "200 OK",
                &[("connection", "close")],
                seen.path.as_bytes(),
            )),
            Step::Close,
        ]
    })
    .await;
    let client = client(ClientConfig::default());
    for path in ["/a", "/b", "/c"] {
        let r = client.send(get(&server.url(path))).await.response;
        assert!(r.error.is_none(), "{path}: {:?}", r.error);
        assert_eq!(&r.body[..], path.as_bytes());
        assert!(r.timings.connecting > Duration::ZERO, "{path}");
    }
    assert_eq!(server.accepts(), 3);
    assert_eq!(
        server.seen().len(),
        3,
        "no request was sent on a closed connection"
    );
}

#[tokio::test]
async fn chunked_body_is_assembled_and_counted() {
    let reply = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let server = raw_server(move |_, _| {
        let (head, rest) = reply.split_at(60);
        vec![
            Step::Write(head.to_vec()),
            Step::Sleep(10),
            Step::Write(rest.to_vec()),
        ]
    })
    .await;
    let r = client(ClientConfig::default())
        .send(get(&server.url("/")))
        .await
        .response;
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(&r.body[..], b"hello world");
    assert_eq!(r.bytes_received, reply.len() as u64);
}

#[tokio::test]
async fn host_names_are_resolved_and_every_address_tried() {
    // localhost may resolve to ::1 first; the server only listens on IPv4.
    let server = raw_server(|_, _| ok("named")).await;
    let url = format!("http://localhost:{}/n", server.port);
    let client = client(ClientConfig::default());
    for _ in 0..2 {
        let r = client.send(get(&url)).await.response;
        assert!(r.error.is_none(), "{:?}", r.error);
        assert_eq!(&r.body[..], b"named");
    }
    assert_eq!(server.accepts(), 1);
    assert_eq!(
        server.seen()[0].header("host"),
        Some(format!("localhost:{}", server.port))
    );
}
