//! HTTP/2 from scenario files against the in-process demo target over h2c:
//! the `proto` tag, one connection per protocol and origin, batch
//! multiplexing, and streams.

mod common;

use common::*;
use stampede::demo::DemoConfig;
use stampede::metrics::Summary;

fn demo_config() -> DemoConfig {
    DemoConfig {
        blocks_size_bytes: 10_000,
        ..DemoConfig::default()
    }
}

fn reqs(summary: &Summary, filter: &[(&str, &str)]) -> f64 {
    counter_where(summary, "http_reqs", filter)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_http2_runs_over_h2c_and_tags_proto() {
    let demo = demo(demo_config()).await;
    let yaml = r#"
scenarios:
  h2:
    executor: per-vu-iterations
    vus: 2
    iterations: 5
    http2: true
    flow:
      - request:
          name: health
          url: "{{ BASE_URL }}/health"
          checks: [ { status: 200 } ]
"#;
    let summary = run_yaml(yaml, &demo.base_url()).await.summary;
    assert_eq!(reqs(&summary, &[]), 10.0);
    assert_eq!(
        reqs(&summary, &[("proto", "HTTP/2.0"), ("status", "200")]),
        10.0
    );
    assert_eq!(reqs(&summary, &[("proto", "HTTP/1.1")]), 0.0);
    // Every http_* metric carries the tag, not only the counter.
    let duration = summary.metric("http_req_duration").unwrap();
    assert!(
        duration
            .series
            .iter()
            .all(|(tags, _)| tags.get("proto") == Some("HTTP/2.0"))
    );
    // One connection per VU: each VU has its own client.
    assert_eq!(demo.stats().connections, 2);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_and_h2c_to_one_origin_use_two_connections_and_tag_each() {
    let demo = demo(demo_config()).await;
    let yaml = r#"
scenarios:
  mixed:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    flow:
      - request: { name: two, url: "{{ BASE_URL }}/health", http2: true }
      - request: { name: default, url: "{{ BASE_URL }}/health" }
      - request: { name: one, url: "{{ BASE_URL }}/health", http2: false }
"#;
    let summary = run_yaml(yaml, &demo.base_url()).await.summary;
    assert_eq!(
        reqs(&summary, &[("name", "two"), ("proto", "HTTP/2.0")]),
        3.0
    );
    assert_eq!(
        reqs(&summary, &[("name", "default"), ("proto", "HTTP/1.1")]),
        3.0
    );
    assert_eq!(
        reqs(&summary, &[("name", "one"), ("proto", "HTTP/1.1")]),
        3.0
    );
    assert_eq!(reqs(&summary, &[]), 9.0);
    // One HTTP/1.1 keep-alive connection (shared by `default` and `one`)
    // and one h2c connection, both reused across iterations.
    assert_eq!(demo.stats().connections, 2);
    demo.shutdown().await;
}

const BATCH: &str = r#"
http:
  http2: HTTP2
scenarios:
  batch:
    executor: per-vu-iterations
    vus: 1
    iterations: 1
    flow:
      - batch:
          requests:
            - name: slow
              url: "{{ BASE_URL }}/health?delay=100ms"
              copies: 10
              checks: [ { status: 200 } ]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_http2_multiplexes_on_one_connection() {
    let demo = demo(demo_config()).await;
    let result = run_yaml(&BATCH.replace("HTTP2", "true"), &demo.base_url()).await;
    let summary = &result.summary;
    assert_eq!(
        reqs(summary, &[("proto", "HTTP/2.0"), ("status", "200")]),
        10.0
    );
    assert_eq!(rate_where(summary, "checks", &[]), (10, 10));
    let stats = demo.stats();
    assert_eq!(
        stats.connections, 1,
        "ten concurrent streams on one connection"
    );
    assert_eq!(stats.per_endpoint["GET /health"], 10);
    // Concurrent, not one after another: ten 100 ms answers well under 1 s.
    let iteration = summary.metric("iteration_duration").unwrap();
    let max_ms = match &iteration.total {
        stampede::metrics::SeriesValue::Trend(trend) => trend.max,
        other => panic!("iteration_duration is not a trend: {other:?}"),
    };
    assert!(max_ms < 600.0, "the batch took {max_ms} ms");
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_http1_needs_a_connection_per_concurrent_request() {
    let demo = demo(demo_config()).await;
    let result = run_yaml(&BATCH.replace("HTTP2", "false"), &demo.base_url()).await;
    assert_eq!(
        reqs(&result.summary, &[("proto", "HTTP/1.1"), ("status", "200")]),
        10.0
    );
    assert_eq!(demo.stats().connections, 10);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_over_h2c_carry_the_proto_tag() {
    let demo = demo(demo_config()).await;
    let yaml = r#"
scenarios:
  chat:
    executor: per-vu-iterations
    vus: 1
    iterations: 2
    http2: true
    flow:
      - sse:
          name: chat
          method: POST
          url: "{{ BASE_URL }}/api/chat/stream"
          json: { prompt: "hi", tokens: 5, delay_ms: 1, ttft_ms: 1 }
          until: "[DONE]"
          checks:
            - status: 200
            - { name: five tokens, events: 5 }
      - sse:
          name: chat h1
          http2: false
          method: POST
          url: "{{ BASE_URL }}/api/chat/stream"
          json: { prompt: "hi", tokens: 3, delay_ms: 1, ttft_ms: 1 }
          until: "[DONE]"
"#;
    let yaml = with_login(yaml);
    let summary = run_yaml(&yaml, &demo.base_url()).await.summary;
    assert_eq!(
        reqs(&summary, &[("name", "chat"), ("proto", "HTTP/2.0")]),
        2.0
    );
    assert_eq!(
        reqs(&summary, &[("name", "chat h1"), ("proto", "HTTP/1.1")]),
        2.0
    );
    assert_eq!(
        rate_where(&summary, "checks", &[("check", "five tokens")]),
        (2, 2)
    );
    demo.shutdown().await;
}

/// The chat route needs a token: log in first (over h2c as well).
fn with_login(yaml: &str) -> String {
    yaml.replace(
        "    flow:\n",
        r#"    setup:
      - request:
          name: login
          method: POST
          url: "{{ BASE_URL }}/auth/login"
          json: { email: "h2@example.com", password: "pw" }
          extract: { token: { json: access_token } }
    flow:
"#,
    )
    .replacen(
        "scenarios:",
        "http:\n  headers: { Authorization: \"Bearer {{ token }}\" }\nscenarios:",
        1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_response_have_no_proto_tag() {
    // A port with nothing listening: refused before any protocol is spoken.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let yaml = r#"
iterations: 2
http: { http2: true }
flow:
  - request: { name: refused, url: "{{ BASE_URL }}/x" }
"#;
    let summary = run_yaml(yaml, &base).await.summary;
    assert_eq!(reqs(&summary, &[("error_code", "refused")]), 2.0);
    let metric = summary.metric("http_reqs").unwrap();
    assert!(
        metric
            .series
            .iter()
            .all(|(tags, _)| tags.get("proto").is_none())
    );
}
