//! The demo API's routes, one file per group.

mod agentapi;
mod auth;
mod botflow;
mod graphs;
mod jsonrpc;
mod mcp_oauth;
mod misc;
mod streams;
mod tools;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::response::ApiError;
use super::state::AppState;

/// Request bodies larger than this are refused (the API takes small JSON documents).
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    let stalls = state.config.stall.is_some();
    let router = Router::new()
        .route("/health", get(misc::health))
        .route("/auth/login", post(auth::login))
        .route("/api/credits", get(misc::credits))
        .route("/api/blocks", get(misc::blocks))
        .route(
            "/api/graphs",
            get(graphs::list_graphs).post(graphs::create_graph),
        )
        .route("/api/graphs/{id}/execute", post(graphs::execute_graph))
        .route("/api/executions/{id}", get(graphs::get_execution))
        .route("/api/chat/stream", post(streams::chat_stream))
        .route("/api/messages/subscribe", get(streams::subscribe))
        .route("/ws", get(ws::upgrade))
        .route("/api/tools/{name}/execute", post(tools::execute_tool))
        // The imitated suites' APIs: at the paths the suites use (none
        // collides with the platform's), and each under its own prefix too.
        .merge(botflow_api())
        .merge(agentapi_api())
        .merge(agentcore_api())
        .nest(
            "/botflow",
            botflow_api().route("/health", get(botflow::health)),
        )
        .nest("/agentapi", agentapi_api())
        .nest("/agentcore", agentcore_api())
        .fallback(misc::not_found)
        .method_not_allowed_fallback(misc::method_not_allowed);
    if stalls {
        router
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                super::stall::stall_layer,
            ))
            .with_state(state)
    } else {
        router.with_state(state)
    }
}

/// BotFlow's API (the root `/health` serves it too; `/botflow/health` is its own).
fn botflow_api() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/bots", get(botflow::bots))
        .route("/api/conversations", get(botflow::conversations))
        .route("/api/analytics/realtime", get(botflow::analytics))
        .route("/api/templates", get(botflow::templates))
}

/// AgentAPI's agent and, at its `OAUTH_BASE_URL`, the MCP OAuth endpoints.
fn agentapi_api() -> Router<Arc<AppState>> {
    Router::new()
        .route("/status", get(agentapi::status))
        .route("/messages", get(agentapi::messages))
        .route("/message", post(agentapi::send_message))
        .route("/events", get(agentapi::events))
        .route("/api/mcp/oauth/init", post(mcp_oauth::init))
        .route("/api/mcp/oauth/refresh", post(mcp_oauth::refresh))
        .route("/api/mcp/oauth/revoke", post(mcp_oauth::revoke))
}

/// AgentCore's gateway.
fn agentcore_api() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/health", get(jsonrpc::health))
        .route("/api/v1/jsonrpc", post(jsonrpc::jsonrpc))
}

async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "request body unreadable or larger than {MAX_BODY_BYTES} bytes"
            ))
        })
}

/// Reads and parses a JSON body; any failure is the client's (400).
async fn read_json<T: DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    let bytes = read_body(body).await?;
    read_json_bytes(&bytes)
}

fn read_json_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|err| ApiError::BadRequest(format!("invalid JSON body: {err}")))
}

/// Parses a path segment as a UUID; anything else cannot name a resource.
fn parse_id(text: &str) -> Option<u128> {
    uuid::Uuid::try_parse(text).ok().map(|id| id.as_u128())
}
