//! Health, credits, the blocks catalogue and the answers for unknown routes.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Serialize;

use crate::demo::admission::{admit_public, admit_user};
use crate::demo::response::{ApiError, UuidJson, json, json_bytes};
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;

/// The fake pods `/health` answers from, in turn (`X-Served-By`), so that
/// scenarios can tag latency per backend (`tags_from_headers`).
pub const PODS: [&str; 3] = ["pod-a", "pod-b", "pod-c"];

pub async fn health(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_public(&app, Endpoint::Health, &head).await?;
    let mut response = json_bytes(StatusCode::OK, Bytes::from_static(br#"{"status":"ok"}"#));
    let answer = app.health_answers.fetch_add(1, Ordering::Relaxed);
    response.headers_mut().insert(
        HeaderName::from_static("x-served-by"),
        HeaderValue::from_static(PODS[(answer % PODS.len() as u64) as usize]),
    );
    Ok(response)
}

#[derive(Serialize)]
struct CreditsJson {
    credits: u64,
    user_id: UuidJson,
}

pub async fn credits(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    let session = admit_user(&app, Endpoint::Credits, &head).await?;
    Ok(json(
        StatusCode::OK,
        &CreditsJson {
            credits: session.credits(),
            user_id: UuidJson(session.user_id),
        },
    ))
}

/// The ~1 MiB catalogue: a shared `Bytes`, so serving it copies nothing.
pub async fn blocks(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_user(&app, Endpoint::Blocks, &head).await?;
    Ok(json_bytes(StatusCode::OK, app.blocks.clone()))
}

pub async fn not_found(State(app): State<Arc<AppState>>) -> ApiError {
    app.stats.count_unrouted();
    ApiError::NotFound("not found")
}

pub async fn method_not_allowed(State(app): State<Arc<AppState>>) -> ApiError {
    app.stats.count_unrouted();
    ApiError::MethodNotAllowed
}
