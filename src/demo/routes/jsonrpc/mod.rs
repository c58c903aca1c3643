//! AgentCore's gateway: JSON-RPC 2.0 on `POST /api/v1/jsonrpc`, and
//! `GET /api/v1/health`. No token: the suite sends none.
//!
//! Answers are JSON-RPC objects (`result` or `error` with a code). The HTTP
//! status is 200 for both, as JSON-RPC over HTTP has it, except where a
//! client should act on the status alone: a body that is not a JSON-RPC
//! request (400), the rate limit (429 with `Retry-After`: waiting helps)
//! and the quota (403: only a new caller helps).

mod error;
mod tools;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use self::error::{INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, RpcError};
use super::read_body;
use crate::demo::admission::admit_public;
use crate::demo::response::{ApiError, json, json_bytes};
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;
use crate::demo::timefmt::{rfc3339, unix_now};

/// `GET /api/v1/health`.
pub async fn health(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_public(&app, Endpoint::AgentcoreHealth, &head).await?;
    Ok(json_bytes(
        StatusCode::OK,
        Bytes::from_static(br#"{"status":"healthy","version":"demo"}"#),
    ))
}

/// `POST /api/v1/jsonrpc`.
pub async fn jsonrpc(State(app): State<Arc<AppState>>, req: Request) -> Response {
    let (head, body) = req.into_parts();
    if let Err(err) = admit_public(&app, Endpoint::JsonRpc, &head).await {
        return err.into_response();
    }
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(err) => return err.into_response(),
    };
    app.latency
        .pause(&app.draws, Endpoint::JsonRpc, head.uri.query())
        .await;
    let (id, method, params) = match parse(&bytes) {
        Ok(call) => call,
        Err(err) => return err.respond(Value::Null),
    };
    match dispatch(&app, &head, &method, &params) {
        Ok(result) => json(
            StatusCode::OK,
            &json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        ),
        Err(err) => err.respond(id),
    }
}

/// The request's id, method and params (`{}` when absent).
fn parse(bytes: &[u8]) -> Result<(Value, String, Map<String, Value>), RpcError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|err| RpcError::new(PARSE_ERROR, format!("parse error: {err}")))?;
    let Value::Object(mut request) = value else {
        return Err(RpcError::new(
            INVALID_REQUEST,
            "the request must be a JSON object",
        ));
    };
    let id = request.remove("id").unwrap_or(Value::Null);
    let Some(Value::String(method)) = request.remove("method") else {
        return Err(RpcError::new(INVALID_REQUEST, "method must be a string"));
    };
    let params = match request.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(params)) => params,
        Some(_) => return Err(RpcError::new(INVALID_PARAMS, "params must be an object")),
    };
    Ok((id, method, params))
}

fn dispatch(
    app: &AppState,
    head: &Parts,
    method: &str,
    params: &Map<String, Value>,
) -> Result<Value, RpcError> {
    match method {
        "tools.list" => Ok(tools::list_tools(params)),
        "tools.execute" => {
            let caller = tools::caller(app, head, params);
            tools::execute(app, &caller, params)
        }
        "tools.execute_batch" => {
            let caller = tools::caller(app, head, params);
            tools::execute_batch(app, &caller, params)
        }
        "tools.execute_with_fallback" => {
            let caller = tools::caller(app, head, params);
            tools::execute_with_fallback(app, &caller, params)
        }
        "tools.get_rate_limit_status" => Ok(tools::rate_limit_status(app, head, params)),
        "agent.register" => {
            let agent_id = text(params.get("agent_card").and_then(|c| c.get("agent_id")))
                .ok_or_else(|| RpcError::new(INVALID_PARAMS, "agent_card.agent_id is required"))?;
            Ok(json!({ "agent_id": agent_id, "status": "registered" }))
        }
        "agent.ping" => Ok(json!({
            "agent_id": params.get("agent_id").cloned().unwrap_or(Value::Null),
            "status": "alive",
            "timestamp": rfc3339(unix_now()),
        })),
        "agent.discover" => Ok(discover(params)),
        "task.create" => {
            let task_id = text(params.get("task_definition").and_then(|t| t.get("task_id")))
                .ok_or_else(|| {
                    RpcError::new(INVALID_PARAMS, "task_definition.task_id is required")
                })?;
            Ok(json!({ "task_id": task_id, "status": "pending" }))
        }
        "task.query" => {
            let status = text(params.get("status")).unwrap_or("pending");
            Ok(json!({
                "tasks": [{ "task_id": "task-demo-1", "status": status }],
                "total": 1,
            }))
        }
        other => Err(RpcError::new(
            METHOD_NOT_FOUND,
            format!("method not found: {other}"),
        )),
    }
}

/// A non-empty string, or `None`.
fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Three demo agents; `capabilities` keeps those with all of them.
fn discover(params: &Map<String, Value>) -> Value {
    const AGENTS: [(&str, &[&str]); 3] = [
        ("demo-writer", &["text-generation"]),
        ("demo-analyst", &["analysis", "text-generation"]),
        ("demo-searcher", &["search"]),
    ];
    let wanted: Vec<&str> = params
        .get("capabilities")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let agents: Vec<Value> = AGENTS
        .iter()
        .filter(|(_, caps)| wanted.iter().all(|w| caps.contains(w)))
        .map(|(id, caps)| json!({ "agent_id": id, "capabilities": caps, "status": "active" }))
        .collect();
    let total = agents.len();
    json!({ "agents": agents, "total": total })
}
