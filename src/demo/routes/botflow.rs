//! BotFlow's API (a chatbot builder): bots, conversations, real-time
//! analytics and templates, each with its own modelled latency, and an
//! `X-Cache` header on the two cacheable lists. Any bearer token passes:
//! the suite sends whatever `AUTH_TOKEN` holds (`test-token` by default).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;

use crate::demo::admission::{admit_any_bearer, admit_public};
use crate::demo::botflow::{BOTFLOW, DEFAULT_CONVERSATIONS, MAX_CONVERSATIONS, realtime_analytics};
use crate::demo::draws::Purpose;
use crate::demo::query::query_param;
use crate::demo::response::{ApiError, json, json_bytes};
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;
use crate::demo::timefmt::unix_now;

static X_CACHE: HeaderName = HeaderName::from_static("x-cache");
static HIT: HeaderValue = HeaderValue::from_static("HIT");
static MISS: HeaderValue = HeaderValue::from_static("MISS");

/// `GET /botflow/health`: BotFlow's own health answer (the root `/health`
/// is the platform's, whose `"ok"` the suite accepts too).
pub async fn health(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_public(&app, Endpoint::BotflowHealth, &head).await?;
    pause(&app, Endpoint::BotflowHealth, &head).await;
    Ok(json_bytes(
        StatusCode::OK,
        Bytes::from_static(br#"{"status":"healthy"}"#),
    ))
}

/// `GET /api/bots`: bearer token, cacheable.
pub async fn bots(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_any_bearer(&app, Endpoint::Bots, &head).await?;
    Ok(cacheable(&app, Endpoint::Bots, &head, BOTFLOW.bots.clone()).await)
}

/// `GET /api/templates`: public, cacheable.
pub async fn templates(
    State(app): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_public(&app, Endpoint::Templates, &head).await?;
    Ok(cacheable(&app, Endpoint::Templates, &head, BOTFLOW.templates.clone()).await)
}

/// `GET /api/conversations?limit=20`: bearer token, limit 1..=100.
pub async fn conversations(
    State(app): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_any_bearer(&app, Endpoint::Conversations, &head).await?;
    let limit = match query_param(head.uri.query(), "limit") {
        None => DEFAULT_CONVERSATIONS,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_CONVERSATIONS).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "limit must be an integer from 1 to {MAX_CONVERSATIONS}, got {text:?}"
                ))
            })?,
    };
    pause(&app, Endpoint::Conversations, &head).await;
    Ok(json_bytes(StatusCode::OK, BOTFLOW.conversations(limit)))
}

/// `GET /api/analytics/realtime`: bearer token; figures from the clock.
pub async fn analytics(
    State(app): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_any_bearer(&app, Endpoint::Analytics, &head).await?;
    pause(&app, Endpoint::Analytics, &head).await;
    Ok(json(StatusCode::OK, &realtime_analytics(unix_now())))
}

async fn pause(app: &AppState, endpoint: Endpoint, head: &Parts) {
    app.latency
        .pause(&app.draws, endpoint, head.uri.query())
        .await;
}

/// A hit is served from memory at once; a miss pays the route's latency.
async fn cacheable(app: &AppState, endpoint: Endpoint, head: &Parts, body: Bytes) -> Response {
    let hit = app
        .draws
        .chance(endpoint, Purpose::CacheHit, app.config.cache_hit_rate);
    if !hit {
        pause(app, endpoint, head).await;
    }
    let mut response = json_bytes(StatusCode::OK, body);
    response.headers_mut().insert(
        X_CACHE.clone(),
        if hit { HIT.clone() } else { MISS.clone() },
    );
    response
}
