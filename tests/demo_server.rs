//! The demo server over real HTTP/1.1 on a loopback port: auth, graphs,
//! blocks, executions, errors and lifecycle.

mod demo_support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use demo_support::{Client, loopback, quick_config, start};
use http::{Method, Request, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};
use stampede::demo::{DemoConfig, DemoServer};

#[tokio::test]
async fn login_then_credits() {
    let server = start(quick_config()).await;
    assert_eq!(server.base_url(), format!("http://{}", server.addr()));
    let mut client = Client::connect(&server).await;

    let login = client.login("ada@example.com").await;
    assert_eq!(login["token_type"], "bearer");
    assert_eq!(login["expires_in"], 3600);
    let token = login["access_token"].as_str().unwrap();
    assert!(token.starts_with("stp_") && token.len() == 36, "{token}");
    let user_id = login["user_id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(user_id).is_ok(), "{user_id}");

    let credits = client.get("/api/credits").await;
    assert_eq!(credits.status, StatusCode::OK);
    assert_eq!(credits.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        credits.json(),
        json!({"credits": 10000, "user_id": user_id})
    );

    // The same email is the same user on a new login, with a new token.
    let mut other = Client::connect(&server).await;
    let again = other.login("ada@example.com").await;
    assert_eq!(again["user_id"], user_id);
    assert_ne!(again["access_token"], token);

    let stats = server.stats();
    assert_eq!(stats.logins, 2);
    assert_eq!(stats.total, 3);
    server.shutdown().await;
}

#[tokio::test]
async fn missing_or_foreign_token_is_401_and_counted() {
    let server = start(quick_config()).await;
    let mut client = Client::connect(&server).await;

    let reply = client.get("/api/credits").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(reply.text(), r#"{"error":"unauthorized"}"#);

    client.token = Some(format!("stp_{}", "0".repeat(32)));
    assert_eq!(
        client.get("/api/graphs").await.status,
        StatusCode::UNAUTHORIZED
    );
    client.token = Some("not-a-token".into());
    let reply = client.post("/api/graphs", json!({"name": "x"})).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // /health needs no token.
    client.token = None;
    let health = client.get("/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.text(), r#"{"status":"ok"}"#);

    let stats = server.stats();
    assert_eq!(stats.unauthorized, 3);
    assert_eq!(stats.total, 4);
    server.shutdown().await;
}

#[tokio::test]
async fn login_rejects_missing_empty_and_malformed_credentials() {
    let server = start(quick_config()).await;
    let mut client = Client::connect(&server).await;

    let reply = client.post("/auth/login", json!({"email": "a@b.c"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"error": "password is required and must not be empty"})
    );
    let reply = client
        .post("/auth/login", json!({"email": "  ", "password": "x"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"error": "email is required and must not be empty"})
    );

    let raw = Request::post("/auth/login")
        .header(header::HOST, "127.0.0.1")
        .body(Full::new(Bytes::from_static(b"{not json")))
        .unwrap();
    let reply = client.send_raw(raw).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON body")
    );

    assert_eq!(server.stats().logins, 0);
    server.shutdown().await;
}

#[tokio::test]
async fn graphs_paginate_over_the_whole_catalogue() {
    let server = start(quick_config()).await;
    let mut client = Client::connect(&server).await;
    client.login("pager@example.com").await;

    let first = client.get("/api/graphs").await.json();
    assert_eq!(first["total"], 250);
    assert_eq!(first["limit"], 20);
    assert_eq!(first["offset"], 0);
    assert_eq!(first["graphs"].as_array().unwrap().len(), 20);
    let graph = &first["graphs"][0];
    for field in ["id", "name", "version", "created_at"] {
        assert!(!graph[field].is_null(), "graph lacks {field}: {graph}");
    }

    let mut ids = std::collections::HashSet::new();
    let mut offset = 0;
    while offset < 300 {
        let page = client
            .get(&format!("/api/graphs?limit=100&offset={offset}"))
            .await
            .json();
        let graphs = page["graphs"].as_array().unwrap();
        let expected = 250usize.saturating_sub(offset).min(100);
        assert_eq!(graphs.len(), expected, "page at offset {offset}");
        ids.extend(graphs.iter().map(|g| g["id"].as_str().unwrap().to_string()));
        offset += 100;
    }
    assert_eq!(ids.len(), 250);

    for bad in ["limit=0", "limit=101", "limit=ten", "offset=-1", "offset=x"] {
        let reply = client.get(&format!("/api/graphs?{bad}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.json()["error"].is_string(), "{bad}");
    }
    let reply = client.get("/api/graphs?limit=101").await;
    assert_eq!(
        reply.json(),
        json!({"error": "limit must be an integer from 1 to 100, got \"101\""})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn create_graph_validates_its_body() {
    let server = start(quick_config()).await;
    let mut client = Client::connect(&server).await;
    client.login("maker@example.com").await;

    let reply = client
        .post("/api/graphs", json!({"name": "My agent", "nodes": []}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let created = reply.json();
    assert_eq!(created["name"], "My agent");
    assert_eq!(created["version"], 1);
    let created_at = created["created_at"].as_str().unwrap();
    assert!(
        created_at.len() == 20 && created_at.ends_with('Z'),
        "{created_at}"
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);

    let reply = client
        .post("/api/graphs", json!({"description": "x"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        json!({"error": "name is required and must not be empty"})
    );
    let raw = Request::post("/api/graphs")
        .header(header::HOST, "127.0.0.1")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", client.token.clone().unwrap()),
        )
        .body(Full::new(Bytes::from_static(b"[1,")))
        .unwrap();
    assert_eq!(client.send_raw(raw).await.status, StatusCode::BAD_REQUEST);

    // A created graph can be executed.
    let reply = client
        .post(&format!("/api/graphs/{id}/execute"), json!({"inputs": {}}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["graph_id"], id);
    server.shutdown().await;
}

#[tokio::test]
async fn blocks_catalogue_is_a_large_json_array() {
    let server = start(DemoConfig::default()).await;
    let mut client = Client::connect(&server).await;
    client.login("blocks@example.com").await;

    let reply = client.get("/api/blocks").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    assert!(reply.body.len() >= 1_000_000, "{} bytes", reply.body.len());
    assert_eq!(
        reply.headers[header::CONTENT_LENGTH].to_str().unwrap(),
        reply.body.len().to_string()
    );
    let blocks = reply.json();
    let blocks = blocks.as_array().unwrap();
    assert!(blocks.len() > 100);
    assert!(blocks[0]["input_schema"]["properties"].is_object());
    assert!(blocks[0]["output_schema"]["properties"].is_object());

    // Served from the same bytes every time.
    assert_eq!(client.get("/api/blocks").await.body, reply.body);
    server.shutdown().await;
}

#[tokio::test]
async fn execution_goes_queued_running_completed() {
    let server = start(DemoConfig {
        execution_time: Duration::from_millis(300),
        ..quick_config()
    })
    .await;
    let mut client = Client::connect(&server).await;
    client.login("runner@example.com").await;
    let graph_id = client.get("/api/graphs?limit=1").await.json()["graphs"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let started = client
        .post(&format!("/api/graphs/{graph_id}/execute"), json!({}))
        .await;
    assert_eq!(started.status, StatusCode::OK);
    let started = started.json();
    assert_eq!(started["status"], "queued");
    assert_eq!(started["graph_id"], graph_id.as_str());
    let execution = started["id"].as_str().unwrap().to_string();

    // The execute answer is the first observation: a slow first poll on a
    // busy machine may already miss the 60 ms queued window.
    let mut seen: Vec<String> = vec![started["status"].as_str().unwrap().to_string()];
    let mut last = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        last = client
            .get(&format!("/api/executions/{execution}"))
            .await
            .json();
        let status = last["status"].as_str().unwrap().to_string();
        let progress = last["progress"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&progress), "{last}");
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    assert_eq!(seen, ["queued", "running", "completed"]);
    assert_eq!(last["progress"], 1.0);
    assert_eq!(last["id"], execution.as_str());
    assert_eq!(last["result"]["duration_ms"], 300);
    assert!(last["result"]["output"].is_string());

    // Per-execution override: 0 completes at once; credits paid for both.
    let quick = client
        .post(
            &format!("/api/graphs/{graph_id}/execute?duration=0ms"),
            json!({}),
        )
        .await
        .json();
    let polled = client
        .get(&format!(
            "/api/executions/{}",
            quick["id"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(polled["status"], "completed");
    assert_eq!(client.get("/api/credits").await.json()["credits"], 9998);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404() {
    let server = start(quick_config()).await;
    let mut client = Client::connect(&server).await;
    client.login("lost@example.com").await;
    let unknown = "7c1f0d4e-3b52-4a8e-9d11-2f6b9a0c5e77";

    let reply = client.get(&format!("/api/executions/{unknown}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json(), json!({"error": "execution not found"}));
    let reply = client.get("/api/executions/not-a-uuid").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = client
        .post(&format!("/api/graphs/{unknown}/execute"), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json(), json!({"error": "graph not found"}));
    let reply = client
        .post(
            &format!("/api/graphs/{unknown}/execute?duration=soon"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let reply = client.get("/nope").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.text(), r#"{"error":"not found"}"#);
    let reply = client.send(Method::DELETE, "/api/credits", None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.json(), json!({"error": "method not allowed"}));
    server.shutdown().await;
}

#[tokio::test]
async fn keep_alive_connection_serves_many_requests_and_shutdown_stops_listening() {
    let server = start(quick_config()).await;
    let addr = server.addr();
    let mut client = Client::connect(&server).await;
    for _ in 0..50 {
        assert_eq!(client.get("/health").await.status, StatusCode::OK);
    }
    drop(client);
    assert_eq!(server.stats().total, 50);
    server.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn invalid_config_is_refused_at_start() {
    let err = DemoServer::start(
        loopback(),
        DemoConfig {
            fail_rate: 2.0,
            ..DemoConfig::default()
        },
    )
    .await
    .err()
    .expect("start must fail");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(err.to_string(), "fail rate must be between 0 and 1, got 2");
}
