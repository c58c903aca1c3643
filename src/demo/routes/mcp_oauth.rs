//! AgentAPI's OAuth endpoints for MCP connections (`OAUTH_BASE_URL`,
//! `/api/mcp/oauth` on the demo): start a provider's OAuth flow, refresh a
//! connection's token, revoke it.
//!
//! They keep no state, so the demo stays bounded however many connections
//! a soak creates: any `mcp_config_id` of the form the demo issues
//! (`config_…`) names a connection, the suite's made-up ones included (it
//! refreshes and revokes ids it never created). Any bearer token passes;
//! the suite signs its own.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::read_json;
use crate::demo::admission::admit_any_bearer;
use crate::demo::response::{ApiError, json};
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;

/// How long an authorization URL (its `state`) stays valid, in seconds.
pub const AUTHORIZATION_LIFETIME_SECS: u64 = 600;
/// `expires_in` of a refreshed access token, in seconds.
pub const ACCESS_TOKEN_LIFETIME_SECS: u64 = 3600;
const CONFIG_PREFIX: &str = "config_";

#[derive(Deserialize)]
struct InitRequest {
    #[serde(default)]
    mcp_name: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
}

#[derive(Serialize)]
struct InitResponse<'a> {
    auth_url: String,
    state: String,
    mcp_config_id: String,
    mcp_name: &'a str,
    provider: &'a str,
    expires_in: u64,
}

/// `POST /api/mcp/oauth/init` `{"mcp_name","provider","redirect_uri"}`.
pub async fn init(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, body) = req.into_parts();
    admit_any_bearer(&app, Endpoint::OauthInit, &head).await?;
    let request: InitRequest = read_json(body).await?;
    let mcp_name = required(request.mcp_name, "mcp_name")?;
    let provider = required(request.provider, "provider")?;
    let redirect_uri = required(request.redirect_uri, "redirect_uri")?;
    app.latency
        .pause(&app.draws, Endpoint::OauthInit, head.uri.query())
        .await;
    let state = format!("{:032x}", rand::random::<u128>());
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", "stampede-demo")
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("state", &state)
        .finish();
    Ok(json(
        StatusCode::OK,
        &InitResponse {
            auth_url: format!("https://{provider}.oauth.example/authorize?{query}"),
            state,
            mcp_config_id: format!("{CONFIG_PREFIX}{:016x}", rand::random::<u64>()),
            mcp_name: &mcp_name,
            provider: &provider,
            expires_in: AUTHORIZATION_LIFETIME_SECS,
        },
    ))
}

#[derive(Deserialize)]
struct ConnectionRequest {
    #[serde(default)]
    mcp_config_id: Option<String>,
}

#[derive(Serialize)]
struct RefreshResponse<'a> {
    mcp_config_id: &'a str,
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// `POST /api/mcp/oauth/refresh` `{"mcp_config_id"}`: a new token pair.
pub async fn refresh(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, body) = req.into_parts();
    admit_any_bearer(&app, Endpoint::OauthRefresh, &head).await?;
    let id = connection(read_json(body).await?)?;
    app.latency
        .pause(&app.draws, Endpoint::OauthRefresh, head.uri.query())
        .await;
    Ok(json(
        StatusCode::OK,
        &RefreshResponse {
            mcp_config_id: &id,
            access_token: format!("mcp_at_{:032x}", rand::random::<u128>()),
            refresh_token: format!("mcp_rt_{:032x}", rand::random::<u128>()),
            token_type: "bearer",
            expires_in: ACCESS_TOKEN_LIFETIME_SECS,
        },
    ))
}

/// `POST /api/mcp/oauth/revoke` `{"mcp_config_id"}`: `{"mcp_config_id","revoked":true}`.
pub async fn revoke(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, body) = req.into_parts();
    admit_any_bearer(&app, Endpoint::OauthRevoke, &head).await?;
    let id = connection(read_json(body).await?)?;
    app.latency
        .pause(&app.draws, Endpoint::OauthRevoke, head.uri.query())
        .await;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "mcp_config_id": id, "revoked": true }),
    ))
}

fn required(field: Option<String>, name: &str) -> Result<String, ApiError> {
    field
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| ApiError::BadRequest(format!("{name} is required and must not be empty")))
}

/// The connection a refresh or revoke names: 400 without one, 404 for an
/// id the demo could not have issued.
fn connection(request: ConnectionRequest) -> Result<String, ApiError> {
    let id = required(request.mcp_config_id, "mcp_config_id")?;
    let suffix = id.strip_prefix(CONFIG_PREFIX).unwrap_or("");
    if suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::NotFound("mcp connection not found"));
    }
    Ok(id)
}
