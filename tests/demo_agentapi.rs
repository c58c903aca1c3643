//! The demo's imitation of AgentAPI (the k6 suite's agent and its MCP
//! OAuth endpoints): exact answers, the agent's busy period, token refresh
//! and revocation, and the suite's tool-execution flow run by the engine.

mod common;
mod demo_support;

use std::collections::BTreeMap;
use std::time::Duration;

use demo_support::{Client, quick_config, start};
use http::StatusCode;
use serde_json::json;
use stampede::demo::DemoConfig;

fn fast() -> DemoConfig {
    DemoConfig {
        latency: BTreeMap::new(),
        ..quick_config()
    }
}

const GREETING: &str = "Hello! I am the stampede demo agent. What should I work on?";

#[tokio::test]
async fn the_agent_talks_as_the_suite_checks() {
    let server = start(fast()).await;
    let mut client = Client::connect(&server).await;

    let reply = client.get("/status").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), r#"{"agent_type":"claude","status":"stable"}"#);
    let reply = client.get("/messages").await;
    let messages = reply.json()["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 1);
    assert_eq!(messages[0]["id"], 0);
    assert_eq!(messages[0]["role"], "agent");
    assert_eq!(messages[0]["content"], GREETING);

    let reply = client
        .post(
            "/message",
            json!({"content": "Show git status", "type": "user"}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, r#"{"ok":true}"#)
    );
    // Raw input reaches the terminal and is not part of the conversation.
    let reply = client
        .post("/message", json!({"content": "\u{1b}[A", "type": "raw"}))
        .await;
    assert_eq!(reply.text(), r#"{"ok":true}"#);
    let messages = client.get("/agentapi/messages").await.json()["messages"].clone();
    let summary: Vec<(u64, &str, &str)> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_u64().unwrap(),
                m["role"].as_str().unwrap(),
                m["content"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, "agent", GREETING),
            (1, "user", "Show git status"),
            (2, "agent", "Done: Show git status"),
        ]
    );
    let time = messages[1]["time"].as_str().unwrap();
    assert!(
        regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
            .unwrap()
            .is_match(time),
        "{time}"
    );

    let reply = client.post("/message", json!({"type": "user"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.text(),
        r#"{"error":"content is required and must not be empty"}"#
    );
    let reply = client
        .post("/message", json!({"content": "hi", "type": "shout"}))
        .await;
    assert_eq!(
        reply.text(),
        r#"{"error":"type must be \"user\" or \"raw\", got Some(\"shout\")"}"#
    );

    let reply = client.get("/events").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "text/event-stream");
    let events: Vec<&str> = reply.text().split("\n\n").collect();
    assert_eq!(events.len(), 5, "{:?}", reply.text());
    assert_eq!(
        events[0],
        "event: status_change\ndata: {\"agent_type\":\"claude\",\"status\":\"stable\"}"
    );
    assert!(events[3].starts_with(
        "event: message_update\ndata: {\"id\":2,\"role\":\"agent\",\"content\":\"Done: Show git status\",\"time\":\""
    ));
    assert_eq!(events[4], "");
    let stats = server.stats();
    assert_eq!(stats.per_endpoint["POST /message"], 4);
    assert_eq!(stats.per_endpoint["GET /messages"], 2);
    server.shutdown().await;
}

#[tokio::test]
async fn the_agent_is_running_while_it_replies() {
    let server = start(DemoConfig {
        agent_reply_time: Duration::from_millis(300),
        ..fast()
    })
    .await;
    let mut client = Client::connect(&server).await;
    client
        .post("/message", json!({"content": "Run tests", "type": "user"}))
        .await;
    let reply = client.get("/status").await;
    assert_eq!(
        reply.text(),
        r#"{"agent_type":"claude","status":"running"}"#
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let reply = client.get("/status").await;
    assert_eq!(reply.text(), r#"{"agent_type":"claude","status":"stable"}"#);
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_init_refresh_and_revoke() {
    let server = start(fast()).await;
    let mut client = Client::connect(&server).await;
    let init = json!({
        "mcp_name": "github",
        "provider": "github",
        "redirect_uri": "http://localhost:3000/oauth/callback",
    });
    let reply = client.post("/api/mcp/oauth/init", init.clone()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // The suite signs its own tokens; any bearer token passes.
    client.token = Some("eyJ1c2VyX2lkIjoidXNlcl8xIn0=".into());
    let reply = client.post("/api/mcp/oauth/init", init).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    let state = body["state"].as_str().unwrap();
    assert!(regex::Regex::new("^[0-9a-f]{32}$").unwrap().is_match(state));
    assert_eq!(
        body["auth_url"],
        format!(
            "https://github.oauth.example/authorize?client_id=stampede-demo&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Foauth%2Fcallback&state={state}"
        )
    );
    let id = body["mcp_config_id"].as_str().unwrap().to_string();
    assert!(
        regex::Regex::new("^config_[0-9a-f]{16}$")
            .unwrap()
            .is_match(&id)
    );
    assert_eq!(body["mcp_name"], "github");
    assert_eq!(body["provider"], "github");
    assert_eq!(body["expires_in"], 600);

    let reply = client
        .post(
            "/api/mcp/oauth/init",
            json!({"mcp_name": "x", "redirect_uri": "y"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.text(),
        r#"{"error":"provider is required and must not be empty"}"#
    );

    // Each refresh issues a new token pair for an hour.
    let access_token = regex::Regex::new("^mcp_at_[0-9a-f]{32}$").unwrap();
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let reply = client
            .post("/api/mcp/oauth/refresh", json!({"mcp_config_id": id}))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let body = reply.json();
        assert_eq!(body["mcp_config_id"], id.as_str());
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 3600);
        let token = body["access_token"].as_str().unwrap().to_string();
        assert!(access_token.is_match(&token), "{token}");
        assert!(
            body["refresh_token"]
                .as_str()
                .unwrap()
                .starts_with("mcp_rt_")
        );
        tokens.push(token);
    }
    assert_ne!(tokens[0], tokens[1]);
    // The suite refreshes ids it made up; they have the demo's form.
    let reply = client
        .post(
            "/api/mcp/oauth/refresh",
            json!({"mcp_config_id": "config_Ab3dE6gH9jK2mN5p"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = client
        .post("/api/mcp/oauth/refresh", json!({"mcp_config_id": "conn-1"}))
        .await;
    assert_eq!(
        (reply.status, reply.text()),
        (
            StatusCode::NOT_FOUND,
            r#"{"error":"mcp connection not found"}"#
        )
    );
    let reply = client.post("/api/mcp/oauth/revoke", json!({})).await;
    assert_eq!(
        reply.text(),
        r#"{"error":"mcp_config_id is required and must not be empty"}"#
    );
    let reply = client
        .post(
            "/agentapi/api/mcp/oauth/revoke",
            json!({"mcp_config_id": id}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.text(),
        format!(r#"{{"mcp_config_id":"{id}","revoked":true}}"#)
    );
    server.shutdown().await;
}

/// The suite's tool-execution flow: wait for a stable agent, send a
/// message, read the history; plus its SSE subscription and a refresh.
const SUITE: &str = r##"
scenarios:
  tools:
    executor: per-vu-iterations
    vus: 2
    iterations: 5
    flow:
      - request:
          name: status
          url: "{{ BASE_URL }}/status"
          checks:
            - status: 200
            - { json: agent_type, exists: true }
            - { json: status, equals: stable }
      - request:
          name: message
          method: POST
          url: "{{ BASE_URL }}/message"
          json: { content: "Show git status", type: user }
          checks:
            - status: 200
            - { json: ok, exists: true }
      - request:
          name: messages
          url: "{{ BASE_URL }}/messages"
          checks:
            - status: 200
            - { json: messages.#, gte: 3 }
      - sse:
          name: events
          url: "{{ BASE_URL }}/events"
          timeout: 5s
          checks:
            - status: 200
            - events: ">= 2"
            - { json: status, equals: stable, on: any }
      - request:
          name: oauth_refresh
          method: POST
          url: "{{ BASE_URL }}/api/mcp/oauth/refresh"
          headers: { Authorization: "Bearer vu-{{ __VU }}" }
          json: { mcp_config_id: "config_{{ __VU }}x{{ __ITER }}" }
          checks:
            - status: 200
            - { json: access_token, exists: true }
"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_flow_passes_with_the_default_latencies() {
    let server = common::demo(DemoConfig {
        seed: Some(5),
        ..quick_config()
    })
    .await;
    let summary = common::run_yaml(SUITE, &server.base_url()).await.summary;
    // 10 iterations of 5 steps, 12 checks each.
    assert_eq!(common::rate_where(&summary, "checks", &[]), (120, 120));
    assert_eq!(
        common::rate_where(&summary, "http_req_failed", &[]),
        (0, 50)
    );
    let stats = server.stats();
    assert_eq!(stats.per_endpoint["POST /message"], 10);
    assert_eq!(stats.per_endpoint["GET /events"], 10);
    assert_eq!(stats.per_endpoint["POST /api/mcp/oauth/refresh"], 10);
    // The greeting and ten exchanges.
    let mut client = Client::connect(&server).await;
    let messages = client.get("/messages").await.json()["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 21);
    server.shutdown().await;
}
