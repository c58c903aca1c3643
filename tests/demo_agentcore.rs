//! The demo's imitation of AgentCore's gateway (the Locust tool
//! integration suite): exact JSON-RPC answers, per-caller rate limits and
//! quotas counted exactly, the fallback chain, and seeded tool failures
//! that repeat exactly when the suite's calls are run by the engine.

mod common;
mod demo_support;

use std::collections::BTreeMap;
use std::time::Duration;

use demo_support::{Client, Reply, quick_config, start};
use http::StatusCode;
use serde_json::{Value, json};
use stampede::demo::{DemoConfig, RateLimit};

fn fast() -> DemoConfig {
    DemoConfig {
        latency: BTreeMap::new(),
        agentcore_rate_limit: None,
        agentcore_quota: None,
        ..quick_config()
    }
}

async fn rpc(client: &mut Client, method: &str, params: Value) -> Reply {
    client
        .post(
            "/api/v1/jsonrpc",
            json!({"jsonrpc": "2.0", "id": "t-1", "method": method, "params": params}),
        )
        .await
}

fn echo(identifier: &str) -> Value {
    json!({"tool_id": "echo", "parameters": {"message": "burst-test"}, "identifier": identifier})
}

#[tokio::test]
async fn methods_answer_exactly() {
    let server = start(fast()).await;
    let mut client = Client::connect(&server).await;

    let reply = client.get("/api/v1/health").await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, r#"{"status":"healthy","version":"demo"}"#)
    );
    let reply = rpc(&mut client, "tools.execute", echo("a")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.text(),
        r#"{"jsonrpc":"2.0","id":"t-1","result":{"tool_id":"echo","status":"success","result":{"message":"burst-test"},"quota_used":1}}"#
    );
    let reply = rpc(
        &mut client,
        "tools.execute",
        json!({"tool_id": "calculator", "parameters": {"operation": "multiply", "a": 6, "b": 7}}),
    )
    .await;
    assert_eq!(reply.json()["result"]["result"], json!({"result": 42}));
    let reply = rpc(&mut client, "tools.list", json!({"limit": 2})).await;
    let result = &reply.json()["result"];
    assert_eq!(result["total"], 4);
    let ids: Vec<&str> = result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tool_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["echo", "calculator"]);

    let reply = rpc(&mut client, "tools.execute", json!({"tool_id": "weather"})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.text(),
        r#"{"jsonrpc":"2.0","id":"t-1","error":{"code":-32602,"message":"unknown tool \"weather\"; tools: echo, calculator, current_time, flaky_search"}}"#
    );
    let reply = rpc(&mut client, "tools.dance", json!({})).await;
    assert_eq!(
        reply.text(),
        r#"{"jsonrpc":"2.0","id":"t-1","error":{"code":-32601,"message":"method not found: tools.dance"}}"#
    );
    let reply = client.post("/api/v1/jsonrpc", json!([1, 2])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.text(),
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"the request must be a JSON object"}}"#
    );
    let reply = rpc(
        &mut client,
        "agent.register",
        json!({"agent_card": {"agent_id": "load-agent-1"}}),
    )
    .await;
    assert_eq!(
        reply.json()["result"],
        json!({"agent_id": "load-agent-1", "status": "registered"})
    );
    let reply = rpc(
        &mut client,
        "agent.discover",
        json!({"capabilities": ["text-generation"]}),
    )
    .await;
    assert_eq!(reply.json()["result"]["total"], 2);
    let reply = rpc(&mut client, "task.query", json!({"status": "running"})).await;
    assert_eq!(reply.json()["result"]["tasks"][0]["status"], "running");
    // The prefixed mount serves the same gateway.
    let reply = client
        .post(
            "/agentcore/api/v1/jsonrpc",
            json!({"jsonrpc": "2.0", "id": 9, "method": "agent.ping", "params": {"agent_id": "x"}}),
        )
        .await;
    assert_eq!(reply.json()["result"]["status"], "alive");
    server.shutdown().await;
}

#[tokio::test]
async fn a_burst_of_12_against_a_bucket_of_5_gives_exactly_7_refusals() {
    // Two tokens a second: the burst has 500 ms before a token comes back,
    // a wide margin for 12 loopback calls on a busy machine.
    let server = start(DemoConfig {
        agentcore_rate_limit: Some(RateLimit {
            per_second: 2.0,
            burst: 5,
        }),
        ..fast()
    })
    .await;
    let mut client = Client::connect(&server).await;
    let mut statuses = BTreeMap::new();
    for _ in 0..12 {
        let reply = rpc(&mut client, "tools.execute", echo("agent-1")).await;
        *statuses.entry(reply.status.as_u16()).or_insert(0) += 1;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(reply.headers["retry-after"], "1");
            assert_eq!(
                reply.text(),
                r#"{"jsonrpc":"2.0","id":"t-1","error":{"code":-32001,"message":"rate limit exceeded","data":{"retry_after":1}}}"#
            );
        }
    }
    // 12 calls take far less than the 500 ms one token needs to come back.
    assert_eq!(statuses, BTreeMap::from([(200, 5), (429, 7)]));
    assert_eq!(server.stats().rate_limited, 7);
    // Another caller has its own bucket.
    let reply = rpc(&mut client, "tools.execute", echo("agent-2")).await;
    assert_eq!(reply.status, StatusCode::OK);
    // Two tokens are back after 1 s (2 per second), a third not before 1.5 s.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = rpc(
        &mut client,
        "tools.get_rate_limit_status",
        json!({"tool_id": "echo", "identifier": "agent-1"}),
    )
    .await;
    assert_eq!(
        reply.json()["result"],
        json!({
            "identifier": "agent-1",
            "tool_id": "echo",
            "rate_limit": {"per_second": 2.0, "burst": 5},
            "remaining": 2,
            "quota": null,
            "quota_used": 5,
            "quota_remaining": null,
        })
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_quota_admits_exactly_its_size_per_caller() {
    let server = start(DemoConfig {
        agentcore_quota: Some(3),
        ..fast()
    })
    .await;
    let mut client = Client::connect(&server).await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        let reply = rpc(&mut client, "tools.execute", echo("agent-7")).await;
        codes.push(reply.status.as_u16());
        if reply.status == StatusCode::FORBIDDEN {
            assert_eq!(
                reply.text(),
                r#"{"jsonrpc":"2.0","id":"t-1","error":{"code":-32005,"message":"quota exceeded","data":{"quota":3}}}"#
            );
        }
    }
    assert_eq!(codes, [200, 200, 200, 403, 403]);
    assert_eq!(server.stats().quota_exceeded, 2);
    let status = rpc(
        &mut client,
        "tools.get_rate_limit_status",
        json!({"identifier": "agent-7"}),
    )
    .await;
    let result = status.json()["result"].clone();
    assert_eq!(
        (&result["quota_used"], &result["quota_remaining"]),
        (&json!(3), &json!(0))
    );
    // Without an identifier the bearer token names the caller.
    client.token = Some("tok-1".into());
    let reply = rpc(&mut client, "tools.execute", json!({"tool_id": "echo"})).await;
    assert_eq!(reply.json()["result"]["quota_used"], 1);
    server.shutdown().await;
}

#[tokio::test]
async fn the_fallback_chain_and_batches() {
    let server = start(DemoConfig {
        flaky_tool_fail_rate: 1.0,
        ..fast()
    })
    .await;
    let mut client = Client::connect(&server).await;
    let reply = rpc(
        &mut client,
        "tools.execute_with_fallback",
        json!({
            "primary": {"tool_id": "flaky_search", "parameters": {"query": "k6"}},
            "fallbacks": [{"tool_id": "calculator", "parameters": {"operation": "add", "a": 1, "b": 1}}],
        }),
    )
    .await;
    assert_eq!(
        reply.json()["result"],
        json!({
            "tool_id": "calculator",
            "status": "success",
            "result": {"result": 2},
            "quota_used": 1,
            "fallback_used": true,
            "attempts": [
                {"tool_id": "flaky_search", "status": "error",
                 "error": {"code": -32002, "message": "search upstream unavailable"}},
                {"tool_id": "calculator", "status": "success"},
            ],
        })
    );
    let reply = rpc(
        &mut client,
        "tools.execute_with_fallback",
        json!({"primary": {"tool_id": "flaky_search"}, "fallbacks": []}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json()["error"],
        json!({"code": -32002, "message": "every tool of the chain failed", "data": {"attempts": [
            {"tool_id": "flaky_search", "status": "error",
             "error": {"code": -32002, "message": "search upstream unavailable"}},
        ]}})
    );
    let reply = rpc(
        &mut client,
        "tools.execute_batch",
        json!({"executions": [
            {"tool_id": "echo", "parameters": {"message": "batch-1"}},
            {"tool_id": "calculator", "parameters": {"operation": "add", "a": 10, "b": 20}},
            {"tool_id": "current_time", "parameters": {"timezone": "UTC"}},
            {"tool_id": "flaky_search"},
        ]}),
    )
    .await;
    let result = reply.json()["result"].clone();
    assert_eq!(
        (&result["succeeded"], &result["failed"]),
        (&json!(3), &json!(1))
    );
    assert_eq!(result["results"][1]["result"], json!({"result": 30}));
    assert_eq!(result["results"][3]["status"], "error");
    server.shutdown().await;
}

/// The suite's burst and fallback users, run by the engine: 429 and 403
/// are expected answers, the outcome is read from the JSON-RPC code.
const SUITE: &str = r##"
metrics:
  search_failed: counter
  rate_limited: counter
scenarios:
  tools:
    executor: per-vu-iterations
    vus: 1
    iterations: 40
    flow:
      - request:
          name: "tools.execute (flaky)"
          method: POST
          url: "{{ BASE_URL }}/api/v1/jsonrpc"
          expect_status: [200, 403, 429]
          json:
            jsonrpc: "2.0"
            id: "test-{{ __ITER }}"
            method: tools.execute
            params: { tool_id: flaky_search, parameters: { query: k6 }, identifier: agent-1 }
          checks:
            - { json: jsonrpc, equals: "2.0" }
          record:
            - { metric: search_failed, when: { json: error.code, equals: -32002 } }
            - { metric: rate_limited, when: { json: error.code, equals: -32001 } }
"##;

async fn suite_run(seed: u64) -> (f64, f64, (u64, u64)) {
    let server = common::demo(DemoConfig {
        seed: Some(seed),
        flaky_tool_fail_rate: 0.5,
        ..fast()
    })
    .await;
    let summary = common::run_yaml(SUITE, &server.base_url()).await.summary;
    server.shutdown().await;
    (
        common::counter(&summary, "search_failed"),
        common::counter(&summary, "rate_limited"),
        common::rate_where(&summary, "checks", &[]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_repeats_the_flaky_tool_failures_exactly() {
    let first = suite_run(2026).await;
    assert_eq!(first, (18.0, 0.0, (40, 40)));
    assert_eq!(suite_run(2026).await, first);
}
