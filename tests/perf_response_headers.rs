//! The client builds a response header map only when a step reads headers
//! (checks, extract, record, a `repeat`'s `until`). Whole runs against a raw
//! HTTP/1.1 server check that every way of reading headers still sees them,
//! next to steps that read none.

mod common;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers every request (keep-alive) with headers a scenario can read.
async fn header_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut pending = Vec::new();
                loop {
                    let n = match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    // Requests here are GETs without bodies: one per blank line.
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        let body = b"{\"ok\":true}";
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nServer: raw\r\nX-Cache: HIT\r\nX-Depth: 7\r\n\
                             Set-Cookie: sid=abc; Path=/\r\nETag: \"v1\"\r\n\
                             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        if tcp.write_all(head.as_bytes()).await.is_err()
                            || tcp.write_all(body).await.is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_of_reading_headers_sees_them() {
    let base = header_server().await;
    let yaml = r#"
metrics:
  cache_hit: rate
  depth: trend
  depth_seen: counter
scenarios:
  main:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    flow:
      - request:
          name: plain
          url: "{{ BASE_URL }}/plain"
          checks: [ { status: 200 } ]
      - request:
          name: checked
          url: "{{ BASE_URL }}/checked"
          checks:
            - { name: cache header, header: X-Cache, equals: HIT }
            - { name: session cookie, cookie: sid, equals: abc }
          extract:
            etag: { header: ETag }
      - request:
          name: recorded
          url: "{{ BASE_URL }}/recorded"
          record:
            - { metric: cache_hit, when: { header: x-cache, equals: HIT } }
            - { metric: depth, value: { header: X-Depth } }
            - { metric: depth_seen, when: { header: X-Depth, exists: true } }
      - request:
          name: uses extracted
          url: "{{ BASE_URL }}/tag/{{ etag }}"
          checks: [ { status: 200 } ]
      - repeat:
          until: { name: until header, header: X-Cache, equals: HIT }
          max_attempts: 2
          interval: 10ms
          steps:
            - request:
                name: polled
                url: "{{ BASE_URL }}/poll"
"#;
    let result = run_yaml(yaml, &base).await;
    let s = &result.summary;
    // 2 VUs x 3 iterations x 5 requests (the repeat is satisfied at once).
    assert_eq!(counter(s, "http_reqs"), 30.0);
    assert_eq!(
        rate_where(s, "checks", &[("check", "cache header")]),
        (6, 6)
    );
    assert_eq!(
        rate_where(s, "checks", &[("check", "session cookie")]),
        (6, 6)
    );
    assert_eq!(
        rate_where(s, "checks", &[("check", "until header")]),
        (6, 6)
    );
    assert_eq!(rate_where(s, "cache_hit", &[]), (6, 6));
    assert_eq!(counter(s, "depth_seen"), 6.0);
    // The extracted ETag went into the next request's URL: a missing value
    // would have failed the iteration before that request was sent.
    assert_eq!(
        counter_where(s, "http_reqs", &[("name", "uses extracted")]),
        6.0
    );
    assert_eq!(rate_where(s, "checks", &[]), (30, 30));
}
