//! The demo server's fault injection, rate limit and counters, over real HTTP/1.1.

mod demo_support;

use std::time::{Duration, Instant};

use demo_support::{Client, endpoints, quick_config, start};
use http::{StatusCode, header};
use serde_json::json;
use stampede::demo::{DemoConfig, DemoStats, RateLimit};

#[tokio::test]
async fn delay_injection_holds_the_response() {
    let server = start(quick_config()).await;
    let mut client = Client::connect(&server).await;
    for query in ["delay=50ms", "delay=0.05s"] {
        let begun = Instant::now();
        let reply = client.get(&format!("/health?{query}")).await;
        let took = begun.elapsed();
        assert_eq!(reply.status, StatusCode::OK);
        assert!(took >= Duration::from_millis(50), "{query}: {took:?}");
    }
    let reply = client.get("/health?delay=5").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    server.shutdown().await;

    // The server-wide default applies to every response, 401s included.
    let server = start(DemoConfig {
        default_delay: Duration::from_millis(60),
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server).await;
    let begun = Instant::now();
    assert_eq!(
        client.get("/api/credits").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(begun.elapsed() >= Duration::from_millis(60));
    // ... and the query replaces it.
    let begun = Instant::now();
    assert_eq!(client.get("/health?delay=0").await.status, StatusCode::OK);
    assert!(begun.elapsed() < Duration::from_millis(60));
    server.shutdown().await;
}

#[tokio::test]
async fn fail_injection_is_all_or_nothing_at_the_bounds() {
    let server = start(quick_config()).await;
    let mut client = Client::connect(&server).await;
    client.login("flaky@example.com").await;
    for _ in 0..25 {
        let reply = client.get("/api/credits?fail=1.0").await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(reply.text(), r#"{"error":"injected failure"}"#);
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            client.get("/api/credits?fail=0").await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        client.get("/health?fail=1.5").await.status,
        StatusCode::BAD_REQUEST
    );
    server.shutdown().await;

    let server = start(DemoConfig {
        fail_rate: 1.0,
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server).await;
    for _ in 0..10 {
        assert_eq!(
            client.get("/health").await.status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    assert_eq!(client.get("/health?fail=0").await.status, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_429_after_the_burst() {
    let server = start(DemoConfig {
        rate_limit: Some(RateLimit {
            per_second: 0.5,
            burst: 3,
        }),
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server).await;
    client.login("busy@example.com").await;
    for _ in 0..3 {
        assert_eq!(client.get("/api/credits").await.status, StatusCode::OK);
    }
    let reply = client.get("/api/credits").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // 0.5/s: the next token is 2 s away.
    assert_eq!(reply.headers[header::RETRY_AFTER], "2");
    assert_eq!(
        reply.json(),
        json!({"error": "rate limited", "retry_after": 2})
    );

    // The bucket is per token: a fresh login is not limited.
    let mut other = Client::connect(&server).await;
    other.login("busy@example.com").await;
    assert_eq!(other.get("/api/credits").await.status, StatusCode::OK);

    let stats = server.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.per_endpoint["GET /api/credits"], 5);
    server.shutdown().await;
}

#[tokio::test]
async fn stats_count_exactly() {
    let server = start(DemoConfig {
        execution_time: Duration::from_millis(10),
        rate_limit: Some(RateLimit {
            per_second: 0.1,
            burst: 4,
        }),
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server).await;
    client.get("/health").await;
    client.get("/api/graphs").await; // 401
    client.login("counted@example.com").await;
    let graph = client.get("/api/graphs?limit=1").await.json()["graphs"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let execution = client
        .post(&format!("/api/graphs/{graph}/execute"), json!({}))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    client.get(&format!("/api/executions/{execution}")).await;
    client.get("/api/blocks").await;
    client.get("/api/credits").await; // 5th with this token: 429
    client.get("/missing").await;

    let expected = DemoStats {
        logins: 1,
        unauthorized: 1,
        rate_limited: 1,
        quota_exceeded: 0,
        // One keep-alive connection carried every request.
        connections: 1,
        per_endpoint: endpoints(&[
            ("GET /health", 1),
            ("GET /api/graphs", 2),
            ("POST /auth/login", 1),
            ("POST /api/graphs/{id}/execute", 1),
            ("GET /api/executions/{id}", 1),
            ("GET /api/blocks", 1),
            ("GET /api/credits", 1),
        ]),
        total: 9,
    };
    assert_eq!(server.stats(), expected);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_are_counted_exactly() {
    let server = start(quick_config()).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let mut client = Client::connect(&server).await;
        tasks.push(tokio::spawn(async move {
            client.login(&format!("user{i}@example.com")).await;
            for _ in 0..50 {
                let reply = client.get("/api/credits").await;
                assert_eq!(reply.status, StatusCode::OK);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stats = server.stats();
    assert_eq!(stats.logins, 8);
    assert_eq!(
        stats.per_endpoint,
        endpoints(&[("GET /api/credits", 400), ("POST /auth/login", 8)])
    );
    assert_eq!(stats.total, 408);
    server.shutdown().await;
}
