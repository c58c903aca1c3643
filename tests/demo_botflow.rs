//! The demo's imitation of BotFlow's API (the k6 api-load-test suite):
//! exact answers over HTTP, the suite's flow run by the engine with a
//! seeded cache so hit counts repeat exactly, and the modelled latency.

mod common;
mod demo_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use demo_support::{Client, quick_config, start};
use http::StatusCode;
use serde_json::Value;
use stampede::demo::{DemoConfig, LogNormal};
use stampede::metrics::ThresholdVerdict;

/// Fast answers (no modelled latency), a fixed seed and cache hit rate.
fn seeded(seed: u64) -> DemoConfig {
    DemoConfig {
        seed: Some(seed),
        cache_hit_rate: 0.8,
        latency: BTreeMap::new(),
        ..quick_config()
    }
}

#[tokio::test]
async fn each_route_answers_as_the_suite_checks() {
    let server = start(seeded(1)).await;
    let mut client = Client::connect(&server).await;

    let reply = client.get("/health").await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, r#"{"status":"ok"}"#)
    );
    let reply = client.get("/botflow/health").await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, r#"{"status":"healthy"}"#)
    );

    // Without a bearer token the private lists refuse; templates are public.
    let reply = client.get("/api/bots").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.text(), r#"{"error":"unauthorized"}"#);
    let reply = client.get("/api/templates").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json().as_array().unwrap().len(), 8);
    assert!(["HIT", "MISS"].contains(&reply.headers["x-cache"].to_str().unwrap()));

    // Any bearer token passes: the suite sends its own AUTH_TOKEN.
    client.token = Some("test-token".into());
    for path in ["/api/bots", "/botflow/api/bots"] {
        let reply = client.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let bots = reply.json();
        assert_eq!(bots.as_array().unwrap().len(), 6);
        assert_eq!(bots[0]["id"], "bot_01");
        assert_eq!(bots[0]["name"], "Support Assistant");
        assert!(reply.headers.contains_key("x-cache"));
    }
    for (query, expected) in [
        ("", 20),
        ("?limit=20", 20),
        ("?limit=50", 50),
        ("?limit=100", 100),
    ] {
        let reply = client.get(&format!("/api/conversations{query}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        let list = reply.json();
        assert_eq!(list.as_array().unwrap().len(), expected, "{query}");
        assert_eq!(list[0]["id"], "conv_0001");
        // Conversations are never cached: no X-Cache.
        assert!(!reply.headers.contains_key("x-cache"));
    }
    let reply = client.get("/api/conversations?limit=0").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.text(),
        r#"{"error":"limit must be an integer from 1 to 100, got \"0\""}"#
    );
    let reply = client.get("/api/analytics/realtime").await;
    assert_eq!(reply.status, StatusCode::OK);
    let analytics = reply.json();
    let keys: Vec<&str> = analytics
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "active_conversations",
            "messages_last_minute",
            "avg_response_ms",
            "bots_online",
            "timestamp"
        ]
    );
    assert_eq!(analytics["bots_online"], 5);

    let stats = server.stats();
    assert_eq!(stats.per_endpoint["GET /api/bots"], 3);
    assert_eq!(stats.per_endpoint["GET /api/conversations"], 5);
    assert_eq!(stats.per_endpoint["GET /botflow/health"], 1);
    assert_eq!(stats.unauthorized, 1);
    server.shutdown().await;
}

/// BotFlow's api-load-test flow (without its sleeps); `VUS` and
/// `ITERATIONS` are replaced by the test.
const SUITE: &str = r##"
http:
  headers: { Authorization: "Bearer test-token" }
metrics:
  cache_hits: rate
scenarios:
  api:
    executor: per-vu-iterations
    vus: VUS
    iterations: ITERATIONS
    flow:
      - request:
          name: health
          url: "{{ BASE_URL }}/health"
          checks:
            - status: 200
            - { json: status, in: [healthy, ok] }
      - request:
          name: bots
          url: "{{ BASE_URL }}/api/bots"
          checks:
            - status: 200
            - { json: "#", equals: 6 }
          record:
            - { metric: cache_hits, when: { header: X-Cache, equals: HIT } }
      - request:
          name: conversations
          url: "{{ BASE_URL }}/api/conversations?limit=20"
          checks:
            - status: 200
            - { json: "#", equals: 20 }
      - request:
          name: analytics
          url: "{{ BASE_URL }}/api/analytics/realtime"
          checks:
            - status: 200
            - { json: active_conversations, exists: true }
      - request:
          name: templates
          url: "{{ BASE_URL }}/api/templates"
          checks:
            - status: 200
            - { json: "#", equals: 8 }
          record:
            - { metric: cache_hits, when: { header: X-Cache, equals: HIT } }
"##;

fn suite(vus: u64, iterations: u64) -> String {
    SUITE
        .replace("VUS", &vus.to_string())
        .replace("ITERATIONS", &iterations.to_string())
}

async fn suite_run(seed: u64) -> ((u64, u64), (u64, u64), (u64, u64)) {
    let server = common::demo(seeded(seed)).await;
    let summary = common::run_yaml(&suite(1, 50), &server.base_url())
        .await
        .summary;
    server.shutdown().await;
    (
        common::rate_where(&summary, "cache_hits", &[("name", "bots")]),
        common::rate_where(&summary, "cache_hits", &[("name", "templates")]),
        common::rate_where(&summary, "checks", &[]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_passes_and_a_seed_repeats_its_cache_hits_exactly() {
    let first = suite_run(42).await;
    // 50 draws at 80 % per route; the seed fixes how many hit.
    assert_eq!(first, ((42, 50), (42, 50), (500, 500)));
    assert_eq!(suite_run(42).await, first);
    let other = suite_run(7).await;
    assert_eq!(other.2, (500, 500));
    assert_ne!((other.0, other.1), (first.0, first.1));
}

/// The suite's own thresholds, and two that show each route's modelled
/// latency reaching the engine (their medians are 90 ms and 50 ms).
const THRESHOLDS: &str = r#"
thresholds:
  http_req_duration: ["p(50)<100", "p(95)<500", "p(99)<1000"]
  http_req_failed: ["rate<0.01"]
  "http_req_duration{name:health}": ["p(95)<50"]
  "http_req_duration{name:bots}": ["p(95)<200"]
  "http_req_duration{name:conversations}": ["p(95)<300", "p(50)>25"]
  "http_req_duration{name:analytics}": ["p(95)<500", "p(50)>45"]
  cache_hits: ["rate>0.8"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_thresholds_pass_with_the_default_latencies() {
    let server = common::demo(DemoConfig {
        seed: Some(3),
        ..quick_config()
    })
    .await;
    let yaml = format!("{}{THRESHOLDS}", suite(2, 15));
    let summary = common::run_yaml(&yaml, &server.base_url()).await.summary;
    server.shutdown().await;
    let not_passed: Vec<String> = summary
        .thresholds
        .iter()
        .filter(|t| t.verdict != ThresholdVerdict::Passed)
        .map(|t| format!("{t:?}"))
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
    assert_eq!(summary.thresholds.len(), 11);
    assert_eq!(common::rate_where(&summary, "checks", &[]), (300, 300));
}

#[tokio::test]
async fn misses_pay_the_modelled_latency_and_delay_replaces_it() {
    let mut latency = BTreeMap::new();
    latency.insert("GET /api/bots".to_string(), LogNormal::new(150, 150));
    let server = start(DemoConfig {
        cache_hit_rate: 0.0,
        latency,
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server).await;
    client.token = Some("t".into());
    let started = Instant::now();
    let reply = client.get("/api/bots").await;
    assert_eq!(reply.headers["x-cache"], "MISS");
    assert!(started.elapsed() >= Duration::from_millis(150));
    let started = Instant::now();
    let reply = client.get("/api/bots?delay=0").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(150));
    // Hits skip the model.
    let server_hits = start(DemoConfig {
        cache_hit_rate: 1.0,
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server_hits).await;
    client.token = Some("t".into());
    let reply = client.get("/api/bots").await;
    assert_eq!(reply.headers["x-cache"], "HIT");
    let body: Value = reply.json();
    assert_eq!(body.as_array().unwrap().len(), 6);
    server.shutdown().await;
    server_hits.shutdown().await;
}
