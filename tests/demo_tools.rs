//! `POST /api/tools/{name}/execute` on the demo target: each tool's exact
//! answer, the errors, the tools rate limit and the quota, counted exactly.

mod demo_support;

use std::time::{SystemTime, UNIX_EPOCH};

use demo_support::*;
use http::StatusCode;
use serde_json::{Value, json};
use stampede::demo::{DemoConfig, RateLimit};

fn unlimited() -> DemoConfig {
    DemoConfig {
        tools_rate_limit: None,
        tools_quota: None,
        ..quick_config()
    }
}

async fn call(client: &mut Client, tool: &str, args: Value) -> (StatusCode, String) {
    let reply = client
        .post(
            &format!("/api/tools/{tool}/execute"),
            json!({ "args": args }),
        )
        .await;
    (reply.status, reply.text().to_string())
}

#[tokio::test]
async fn each_tool_answers_exactly() {
    let server = start(unlimited()).await;
    let mut client = Client::connect(&server).await;
    client.login("tools@example.com").await;

    let (status, body) = call(&mut client, "echo", json!({"message": "hi", "n": [1, 2]})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"tool":"echo","result":{"message":"hi","n":[1,2]},"quota_used":1,"quota_remaining":null}"#
    );
    let (status, body) = call(
        &mut client,
        "calculator",
        json!({"op": "add", "a": 2, "b": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"tool":"calculator","result":5,"quota_used":2,"quota_remaining":null}"#
    );
    let (_, body) = call(
        &mut client,
        "calculator",
        json!({"op": "div", "a": 7, "b": 2}),
    )
    .await;
    assert_eq!(
        body,
        r#"{"tool":"calculator","result":3.5,"quota_used":3,"quota_remaining":null}"#
    );

    let before = unix_now();
    let reply = client
        .post("/api/tools/current_time/execute", json!({}))
        .await;
    let after = unix_now();
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["tool"], "current_time");
    let unix = body["result"]["unix"].as_u64().unwrap();
    assert!(
        (before..=after).contains(&unix),
        "{before} <= {unix} <= {after}"
    );
    let text = body["result"]["rfc3339"].as_str().unwrap();
    let re = regex::Regex::new(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$").unwrap();
    let caps = re
        .captures(text)
        .unwrap_or_else(|| panic!("not RFC 3339: {text}"));
    let field = |i: usize| caps[i].parse::<u64>().unwrap();
    assert_eq!(field(4) * 3600 + field(5) * 60 + field(6), unix % 86_400);
    assert_eq!(days_from_civil(field(1), field(2), field(3)), unix / 86_400);
    server.shutdown().await;
}

#[tokio::test]
async fn errors_are_distinct_json_answers() {
    let server = start(unlimited()).await;
    let mut client = Client::connect(&server).await;

    let reply = client.post("/api/tools/echo/execute", json!({})).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.text(), r#"{"error":"unauthorized"}"#);

    client.login("errors@example.com").await;
    let (status, body) = call(&mut client, "weather", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        r#"{"error":"unknown_tool","message":"tools: echo, calculator, current_time"}"#
    );
    let (status, body) = call(
        &mut client,
        "calculator",
        json!({"op": "div", "a": 1, "b": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        r#"{"error":"invalid_arguments","message":"division by zero"}"#
    );
    let (status, body) = call(&mut client, "calculator", json!({"op": "add", "a": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        r#"{"error":"invalid_arguments","message":"b must be a number"}"#
    );
    let reply = client
        .post("/api/tools/echo/execute", json!({"args": [1, 2]}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.text(),
        r#"{"error":"invalid_arguments","message":"args must be a JSON object"}"#
    );
    // An empty body means no arguments.
    let reply = client
        .send(http::Method::POST, "/api/tools/echo/execute", None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.text(),
        r#"{"tool":"echo","result":{},"quota_used":1,"quota_remaining":null}"#
    );
    server.shutdown().await;
}

#[tokio::test]
async fn rate_limit_admits_the_burst_then_answers_429_with_retry_after() {
    let server = start(DemoConfig {
        // One token per 1000 s: nothing refills during the test.
        tools_rate_limit: Some(RateLimit {
            per_second: 0.001,
            burst: 5,
        }),
        tools_quota: None,
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server).await;
    client.login("limited@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let reply = client
            .post("/api/tools/echo/execute", json!({"args": {}}))
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(
                reply.text(),
                r#"{"error":"rate_limited","retry_after":1000}"#
            );
            assert_eq!(reply.headers["retry-after"], "1000");
        }
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    // The API's other routes are not limited by the tools bucket.
    assert_eq!(client.get("/api/credits").await.status, StatusCode::OK);
    let stats = server.stats();
    assert_eq!(stats.rate_limited, 3);
    assert_eq!(stats.quota_exceeded, 0);
    assert_eq!(stats.per_endpoint["POST /api/tools/{name}/execute"], 8);
    server.shutdown().await;
}

#[tokio::test]
async fn quota_admits_exactly_its_size_per_token() {
    let server = start(DemoConfig {
        tools_rate_limit: None,
        tools_quota: Some(20),
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server).await;
    client.login("quota@example.com").await;
    // A refused execution is not charged.
    let (status, _) = call(
        &mut client,
        "calculator",
        json!({"op": "div", "a": 1, "b": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut ok = 0;
    let mut refused = 0;
    for i in 1..=30u64 {
        let (status, body) = call(&mut client, "echo", json!({})).await;
        match status {
            StatusCode::OK => {
                ok += 1;
                let expected = format!(
                    r#"{{"tool":"echo","result":{{}},"quota_used":{i},"quota_remaining":{}}}"#,
                    20 - i
                );
                assert_eq!(body, expected);
            }
            StatusCode::FORBIDDEN => {
                refused += 1;
                assert_eq!(body, r#"{"error":"quota_exceeded","quota":20}"#);
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, refused), (20, 10));
    assert_eq!(server.stats().quota_exceeded, 10);

    // A new token has a quota of its own.
    client.login("quota@example.com").await;
    assert_eq!(call(&mut client, "echo", json!({})).await.0, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_is_exact_under_concurrent_use_of_one_token() {
    let server = start(DemoConfig {
        tools_rate_limit: None,
        tools_quota: Some(50),
        ..quick_config()
    })
    .await;
    let mut first = Client::connect(&server).await;
    first.login("shared@example.com").await;
    let token = first.token.clone();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut client = Client::connect(&server).await;
        client.token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..10 {
                statuses.push(call(&mut client, "echo", json!({})).await.0);
            }
            statuses
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for task in tasks {
        for status in task.await.unwrap() {
            match status {
                StatusCode::OK => ok += 1,
                StatusCode::FORBIDDEN => refused += 1,
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!((ok, refused), (50, 30));
    server.shutdown().await;
}

#[tokio::test]
async fn demo_answers_h2c_prior_knowledge_on_the_same_port() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let server = start(unlimited()).await;
    let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake::<_, _, Full<bytes::Bytes>>(
        TokioExecutor::new(),
        TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    for _ in 0..3 {
        let request = http::Request::get(format!("{}/health", server.base_url()))
            .body(Full::default())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.version(), http::Version::HTTP_2);
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"status":"ok"}"#);
    }
    let stats = server.stats();
    assert_eq!(stats.connections, 1);
    assert_eq!(stats.per_endpoint["GET /health"], 3);
    server.shutdown().await;
}

#[tokio::test]
async fn cli_flags_set_the_tools_limits() {
    let bin = env!("CARGO_BIN_EXE_stampede");
    let out = std::process::Command::new(bin)
        .args(["demo", "--tools-quota", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("expected a whole number or off, got \"lots\""),
        "{stderr}"
    );
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm), to check the demo's date against an independent computation.
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as u64
}
