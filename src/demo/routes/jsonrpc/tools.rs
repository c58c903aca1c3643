//! AgentCore's `tools.*` methods: list, execute (alone, in a batch, along
//! a fallback chain) and the caller's rate-limit status, each execution
//! within the caller's token bucket and quota.

use std::sync::Arc;

use axum::http::header;
use axum::http::request::Parts;
use serde_json::{Map, Value, json};

use super::error::{INVALID_PARAMS, QUOTA_EXCEEDED, RATE_LIMITED, RpcError, TOOL_FAILED};
use super::text;
use crate::demo::agentcore::{ANONYMOUS, Caller};
use crate::demo::agentcore_tools::{CoreTool, ToolFailure};
use crate::demo::draws::Purpose;
use crate::demo::rate_limit::retry_after_secs;
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;
use crate::demo::timefmt::unix_now;

/// Most executions one `tools.execute_batch` takes.
const MAX_BATCH: usize = 100;

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

pub fn caller(app: &AppState, head: &Parts, params: &Map<String, Value>) -> Arc<Caller> {
    app.callers
        .get(caller_name(head, params), app.config.agentcore_rate_limit)
}

pub fn list_tools(params: &Map<String, Value>) -> Value {
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
pub fn execute(
    app: &AppState,
    caller: &Caller,
    spec: &Map<String, Value>,
) -> Result<Value, RpcError> {
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

pub fn execute_batch(
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
pub fn execute_with_fallback(
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

pub fn rate_limit_status(app: &AppState, head: &Parts, params: &Map<String, Value>) -> Value {
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
