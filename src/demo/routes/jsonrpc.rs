//! AgentCore's gateway: JSON-RPC 2.0 on `POST /api/v1/jsonrpc`, and
//! `GET /api/v1/health`. No token: the suite sends none.
//!
//! Answers are JSON-RPC objects (`result` or `error` with a code). The HTTP
//! status is 200 for both, as JSON-RPC over HTTP has it, except where a
//! client should act on the status alone: a body that is not a JSON-RPC
//! request (400), the rate limit (429 with `Retry-After`: waiting helps)
//! and the quota (403: only a new caller helps).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::read_body;
use crate::demo::admission::admit_public;
use crate::demo::agentcore::{ANONYMOUS, Caller};
use crate::demo::agentcore_tools::{CoreTool, ToolFailure};
use crate::demo::draws::Purpose;
use crate::demo::rate_limit::retry_after_secs;
use crate::demo::response::{ApiError, json, json_bytes};
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;
use crate::demo::timefmt::{rfc3339, unix_now};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
/// The caller's token bucket is empty (AgentCore's code).
pub const RATE_LIMITED: i64 = -32001;
/// A tool ran and failed, or every tool of a fallback chain did.
pub const TOOL_FAILED: i64 = -32002;
/// The caller's quota is used up (AgentCore's code).
pub const QUOTA_EXCEEDED: i64 = -32005;
/// Most executions one `tools.execute_batch` takes.
const MAX_BATCH: usize = 100;

/// `GET /api/v1/health`.
pub async fn health(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_public(&app, Endpoint::AgentcoreHealth, &head).await?;
    Ok(json_bytes(
        StatusCode::OK,
        Bytes::from_static(br#"{"status":"healthy","version":"demo"}"#),
    ))
}

/// A JSON-RPC error and the HTTP status it travels with.
#[derive(Debug)]
struct RpcError {
    code: i64,
    message: String,
    data: Option<Value>,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn status(&self) -> StatusCode {
        match self.code {
            PARSE_ERROR | INVALID_REQUEST => StatusCode::BAD_REQUEST,
            RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
            QUOTA_EXCEEDED => StatusCode::FORBIDDEN,
            _ => StatusCode::OK,
        }
    }

    fn to_json(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        error
    }

    fn respond(self, id: Value) -> Response {
        let retry_after = self
            .data
            .as_ref()
            .and_then(|data| data.get("retry_after"))
            .and_then(Value::as_u64);
        let mut response = json(
            self.status(),
            &json!({ "jsonrpc": "2.0", "id": id, "error": self.to_json() }),
        );
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
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
        "tools.list" => Ok(list_tools(params)),
        "tools.execute" => {
            let caller = caller(app, head, params);
            execute(app, &caller, params)
        }
        "tools.execute_batch" => {
            let caller = caller(app, head, params);
            execute_batch(app, &caller, params)
        }
        "tools.execute_with_fallback" => {
            let caller = caller(app, head, params);
            execute_with_fallback(app, &caller, params)
        }
        "tools.get_rate_limit_status" => Ok(rate_limit_status(app, head, params)),
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

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The caller's name: `params.identifier`, else the bearer token, else anonymous.
fn caller_name<'a>(head: &'a Parts, params: &'a Map<String, Value>) -> &'a str {
    if let Some(identifier) = text(params.get("identifier")) {
        return identifier;
    }
    head.headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_at_checked(7))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer "))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .unwrap_or(ANONYMOUS)
}

fn caller(app: &AppState, head: &Parts, params: &Map<String, Value>) -> Arc<Caller> {
    app.callers
        .get(caller_name(head, params), app.config.agentcore_rate_limit)
}

fn list_tools(params: &Map<String, Value>) -> Value {
    let limit = params
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX) as usize;
    let tools: Vec<Value> = CoreTool::ALL
        .into_iter()
        .take(limit)
        .map(CoreTool::describe)
        .collect();
    json!({ "tools": tools, "total": CoreTool::ALL.len() })
}

/// One execution `{"tool_id","parameters"}` for `caller`: unknown tool,
/// then the rate limit (every attempt takes a token), the run, and the
/// quota (charged for successful runs only).
fn execute(app: &AppState, caller: &Caller, spec: &Map<String, Value>) -> Result<Value, RpcError> {
    let tool_id = text(spec.get("tool_id"))
        .ok_or_else(|| RpcError::new(INVALID_PARAMS, "tool_id is required"))?;
    let tool = CoreTool::by_id(tool_id).ok_or_else(|| {
        RpcError::new(
            INVALID_PARAMS,
            format!(
                "unknown tool {tool_id:?}; tools: echo, calculator, current_time, flaky_search"
            ),
        )
    })?;
    if let Some(bucket) = &caller.bucket
        && let Err(wait) = bucket.try_acquire(app.now_nanos())
    {
        app.stats.count_rate_limited();
        let retry_after = retry_after_secs(wait);
        return Err(RpcError {
            data: Some(json!({ "retry_after": retry_after })),
            ..RpcError::new(RATE_LIMITED, "rate limit exceeded")
        });
    }
    let parameters = match spec.get("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(parameters)) => parameters.clone(),
        Some(_) => {
            return Err(RpcError::new(
                INVALID_PARAMS,
                "parameters must be an object",
            ));
        }
    };
    let fails = tool == CoreTool::FlakySearch
        && app.draws.chance(
            Endpoint::JsonRpc,
            Purpose::ToolFailure,
            app.config.flaky_tool_fail_rate,
        );
    let result = tool
        .run(&parameters, unix_now(), fails)
        .map_err(|failure| match failure {
            ToolFailure::InvalidParams(message) => RpcError::new(INVALID_PARAMS, message),
            ToolFailure::Failed(message) => RpcError::new(TOOL_FAILED, message),
        })?;
    let quota = app.config.agentcore_quota;
    let used = caller.charge(quota).map_err(|()| {
        app.stats.count_quota_exceeded();
        RpcError {
            data: Some(json!({ "quota": quota })),
            ..RpcError::new(QUOTA_EXCEEDED, "quota exceeded")
        }
    })?;
    Ok(json!({
        "tool_id": tool.id(),
        "status": "success",
        "result": result,
        "quota_used": used,
    }))
}

fn execute_batch(
    app: &AppState,
    caller: &Caller,
    params: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let Some(Value::Array(executions)) = params.get("executions") else {
        return Err(RpcError::new(INVALID_PARAMS, "executions must be an array"));
    };
    if executions.len() > MAX_BATCH {
        return Err(RpcError::new(
            INVALID_PARAMS,
            format!("at most {MAX_BATCH} executions per batch"),
        ));
    }
    let mut succeeded = 0;
    let results: Vec<Value> = executions
        .iter()
        .map(|spec| {
            let outcome = match spec {
                Value::Object(spec) => execute(app, caller, spec),
                _ => Err(RpcError::new(
                    INVALID_PARAMS,
                    "each execution must be an object",
                )),
            };
            match outcome {
                Ok(done) => {
                    succeeded += 1;
                    done
                }
                Err(err) => failed_attempt(spec, &err),
            }
        })
        .collect();
    let failed = results.len() - succeeded;
    Ok(json!({ "results": results, "succeeded": succeeded, "failed": failed }))
}

/// `{"primary": {...}, "fallbacks": [{...}]}`: the first tool of the chain
/// that succeeds answers. A rate limit or quota refusal ends the chain at
/// once: the next tool would be refused the same way.
fn execute_with_fallback(
    app: &AppState,
    caller: &Caller,
    params: &Map<String, Value>,
) -> Result<Value, RpcError> {
    let Some(Value::Object(primary)) = params.get("primary") else {
        return Err(RpcError::new(INVALID_PARAMS, "primary must be an object"));
    };
    let fallbacks = match params.get("fallbacks") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(list)) => list.as_slice(),
        Some(_) => return Err(RpcError::new(INVALID_PARAMS, "fallbacks must be an array")),
    };
    if fallbacks.len() >= MAX_BATCH {
        return Err(RpcError::new(
            INVALID_PARAMS,
            format!("fewer than {MAX_BATCH} fallbacks"),
        ));
    }
    let mut attempts = Vec::new();
    for (index, spec) in std::iter::once(primary)
        .chain(fallbacks.iter().filter_map(Value::as_object))
        .enumerate()
    {
        match execute(app, caller, spec) {
            Ok(mut done) => {
                attempts.push(json!({ "tool_id": done["tool_id"], "status": "success" }));
                done["fallback_used"] = Value::from(index > 0);
                done["attempts"] = Value::from(attempts);
                return Ok(done);
            }
            Err(err) if matches!(err.code, RATE_LIMITED | QUOTA_EXCEEDED) => return Err(err),
            Err(err) => attempts.push(failed_attempt(&Value::Object(spec.clone()), &err)),
        }
    }
    Err(RpcError {
        data: Some(json!({ "attempts": attempts })),
        ..RpcError::new(TOOL_FAILED, "every tool of the chain failed")
    })
}

fn failed_attempt(spec: &Value, err: &RpcError) -> Value {
    json!({
        "tool_id": spec.get("tool_id").cloned().unwrap_or(Value::Null),
        "status": "error",
        "error": err.to_json(),
    })
}

fn rate_limit_status(app: &AppState, head: &Parts, params: &Map<String, Value>) -> Value {
    let name = caller_name(head, params);
    let caller = app.callers.get(name, app.config.agentcore_rate_limit);
    let limit = app.config.agentcore_rate_limit;
    let quota = app.config.agentcore_quota;
    let used = caller.used();
    json!({
        "identifier": name,
        "tool_id": params.get("tool_id").cloned().unwrap_or(Value::Null),
        "rate_limit": limit.map(|l| json!({ "per_second": l.per_second, "burst": l.burst })),
        "remaining": caller.bucket.as_ref().map(|b| b.remaining(app.now_nanos())),
        "quota": quota,
        "quota_used": used,
        "quota_remaining": quota.map(|q| q.saturating_sub(used)),
    })
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
