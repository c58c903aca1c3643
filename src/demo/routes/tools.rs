//! `POST /api/tools/{name}/execute`: run a tool for the caller, within the
//! tools rate limit and the caller's quota.
//!
//! Checks run in a fixed order: the `/api` admission (401, the API-wide
//! 429, injected 500), then unknown tool (404), the tools rate limit (429
//! `rate_limited`; every attempt takes a token), the arguments (400
//! `invalid_arguments`), and last the quota (403 `quota_exceeded`). Only
//! executions that succeed are charged against the quota.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::read_body;
use crate::demo::admission::admit_user;
use crate::demo::rate_limit::retry_after_secs;
use crate::demo::response::{ApiError, json};
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;
use crate::demo::timefmt::unix_now;
use crate::demo::tools::{TOOL_NAMES, Tool};

/// The answers only this route gives; each has a stable `error` code that
/// scenarios can check.
#[derive(Debug)]
enum ToolError {
    UnknownTool,
    InvalidArguments(String),
    RateLimited { retry_after_secs: u64 },
    QuotaExceeded { quota: u64 },
}

impl IntoResponse for ToolError {
    fn into_response(self) -> Response {
        match self {
            ToolError::UnknownTool => json(
                StatusCode::NOT_FOUND,
                &json!({ "error": "unknown_tool", "message": format!("tools: {TOOL_NAMES}") }),
            ),
            ToolError::InvalidArguments(message) => json(
                StatusCode::BAD_REQUEST,
                &json!({ "error": "invalid_arguments", "message": message }),
            ),
            ToolError::RateLimited { retry_after_secs } => {
                let mut response = json(
                    StatusCode::TOO_MANY_REQUESTS,
                    &json!({ "error": "rate_limited", "retry_after": retry_after_secs }),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
            ToolError::QuotaExceeded { quota } => json(
                StatusCode::FORBIDDEN,
                &json!({ "error": "quota_exceeded", "quota": quota }),
            ),
        }
    }
}

pub async fn execute_tool(
    State(app): State<Arc<AppState>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    match execute(&app, &name, req).await {
        Ok(response) => response,
        Err(Refusal::Api(err)) => err.into_response(),
        Err(Refusal::Tool(err)) => err.into_response(),
    }
}

enum Refusal {
    Api(ApiError),
    Tool(ToolError),
}

impl From<ApiError> for Refusal {
    fn from(err: ApiError) -> Self {
        Refusal::Api(err)
    }
}

impl From<ToolError> for Refusal {
    fn from(err: ToolError) -> Self {
        Refusal::Tool(err)
    }
}

async fn execute(app: &AppState, name: &str, req: Request) -> Result<Response, Refusal> {
    let (head, body) = req.into_parts();
    let session = admit_user(app, Endpoint::ExecuteTool, &head).await?;
    let tool = Tool::by_name(name).ok_or(ToolError::UnknownTool)?;
    if let Some(bucket) = &session.tools_bucket
        && let Err(wait) = bucket.try_acquire(app.now_nanos())
    {
        app.stats.count_rate_limited();
        return Err(ToolError::RateLimited {
            retry_after_secs: retry_after_secs(wait),
        }
        .into());
    }
    let args = read_args(&read_body(body).await?)?;
    let result = tool
        .run(&args, unix_now())
        .map_err(ToolError::InvalidArguments)?;
    let quota = app.config.tools_quota;
    let Ok(used) = session.charge_tool_call(quota) else {
        app.stats.count_quota_exceeded();
        return Err(ToolError::QuotaExceeded {
            quota: quota.unwrap_or(u64::MAX),
        }
        .into());
    };
    Ok(json(
        StatusCode::OK,
        &json!({
            "tool": tool.name(),
            "result": result,
            "quota_used": used,
            "quota_remaining": quota.map(|q| q - used),
        }),
    ))
}

/// The body is `{"args": {...}}`; an empty body or no `args` means none.
fn read_args(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|err| ApiError::BadRequest(format!("invalid JSON body: {err}")))?;
    let Value::Object(mut top) = value else {
        return Err(ToolError::InvalidArguments("the body must be a JSON object".into()).into());
    };
    match top.remove("args") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(args)) => Ok(args),
        Some(_) => Err(ToolError::InvalidArguments("args must be a JSON object".into()).into()),
    }
}
