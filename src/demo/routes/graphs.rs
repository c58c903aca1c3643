//! Graphs and their executions: list, create, execute, poll.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::{parse_id, read_body, read_json};
use crate::demo::admission::admit_user;
use crate::demo::executions::{Execution, Status};
use crate::demo::query::query_param;
use crate::demo::response::{ApiError, UuidJson, json, json_bytes};
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;
use crate::demo::timefmt::{rfc3339, unix_now};
use crate::util::duration::parse_duration;

const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

/// `GET /api/graphs?limit=&offset=`: limit 1..=100 (default 20), offset >= 0.
pub async fn list_graphs(
    State(app): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_user(&app, Endpoint::ListGraphs, &head).await?;
    let query = head.uri.query();
    let limit = match query_param(query, "limit") {
        None => DEFAULT_PAGE,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "limit must be an integer from 1 to {MAX_PAGE}, got {text:?}"
                ))
            })?,
    };
    let offset = match query_param(query, "offset") {
        None => 0,
        Some(text) => text.parse::<usize>().map_err(|_| {
            ApiError::BadRequest(format!(
                "offset must be a non-negative integer, got {text:?}"
            ))
        })?,
    };
    let body = app.graphs.page_body(limit, offset);
    Ok(json_bytes(StatusCode::OK, body.into()))
}

#[derive(Deserialize)]
struct CreateGraphRequest {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Serialize)]
struct CreatedGraph<'a> {
    id: UuidJson,
    name: &'a str,
    version: u32,
    is_active: bool,
    created_at: &'a str,
}

/// `POST /api/graphs` with `{"name": ...}` (other fields are accepted and ignored).
pub async fn create_graph(
    State(app): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, body) = req.into_parts();
    admit_user(&app, Endpoint::CreateGraph, &head).await?;
    let request: CreateGraphRequest = read_json(body).await?;
    let name = request
        .name
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| ApiError::BadRequest("name is required and must not be empty".into()))?;
    let id = uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .as_u128();
    app.created_graphs.insert(id, ());
    Ok(json(
        StatusCode::CREATED,
        &CreatedGraph {
            id: UuidJson(id),
            name: &name,
            version: 1,
            is_active: true,
            created_at: &rfc3339(unix_now()),
        },
    ))
}

#[derive(Serialize)]
struct ExecutionJson {
    id: UuidJson,
    graph_id: UuidJson,
    status: &'static str,
    progress: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<ExecutionResult>,
}

#[derive(Serialize)]
struct ExecutionResult {
    output: &'static str,
    tokens_used: u64,
    duration_ms: u64,
}

/// `POST /api/graphs/{id}/execute[?duration=500ms]`; an optional JSON body
/// (the inputs) must be valid JSON if present.
pub async fn execute_graph(
    State(app): State<Arc<AppState>>,
    Path(graph): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, body) = req.into_parts();
    let session = admit_user(&app, Endpoint::ExecuteGraph, &head).await?;
    let duration = match query_param(head.uri.query(), "duration") {
        None => app.config.execution_time,
        Some(text) => parse_duration(&text)
            .map_err(|msg| ApiError::BadRequest(format!("query parameter duration: {msg}")))?,
    };
    let inputs = read_body(body).await?;
    if !inputs.iter().all(u8::is_ascii_whitespace) {
        serde_json::from_slice::<serde::de::IgnoredAny>(&inputs)
            .map_err(|err| ApiError::BadRequest(format!("invalid JSON body: {err}")))?;
    }
    let graph_id = parse_id(&graph)
        .filter(|&id| app.graph_exists(id))
        .ok_or(ApiError::NotFound("graph not found"))?;
    let id = app.executions.start(Execution {
        graph_id,
        queued_at_nanos: app.now_nanos(),
        duration,
    });
    session.record_execution();
    Ok(json(
        StatusCode::OK,
        &ExecutionJson {
            id: UuidJson(id),
            graph_id: UuidJson(graph_id),
            status: Status::Queued.as_str(),
            progress: 0.0,
            result: None,
        },
    ))
}

/// `GET /api/executions/{id}`: the state follows from the time since queueing.
pub async fn get_execution(
    State(app): State<Arc<AppState>>,
    Path(execution): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_user(&app, Endpoint::GetExecution, &head).await?;
    let (id, found) = parse_id(&execution)
        .and_then(|id| Some((id, app.executions.get(id)?)))
        .ok_or(ApiError::NotFound("execution not found"))?;
    let progress = found.progress_at(app.now_nanos());
    let result = (progress.status == Status::Completed).then(|| ExecutionResult {
        output: "Graph finished: all nodes ran successfully.",
        // Varies per execution but is stable across polls.
        tokens_used: 200 + (id % 4_000) as u64,
        duration_ms: duration_ms(found.duration),
    });
    Ok(json(
        StatusCode::OK,
        &ExecutionJson {
            id: UuidJson(id),
            graph_id: UuidJson(found.graph_id),
            status: progress.status.as_str(),
            progress: progress.progress,
            result,
        },
    ))
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
