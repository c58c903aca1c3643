//! What happens to every routed request before its handler's own work:
//! counting, injected delay, token check, rate limit, injected failure.
//! Handlers call this first instead of going through a middleware layer,
//! which keeps the per-request path free of boxed futures and extensions.
//! They take the request head (`Parts`), not the `Request`: the body type is
//! not `Sync`, and a borrow of it held across the delay would make the
//! handler's future `!Send`.

use std::sync::Arc;

use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::draws::Purpose;
use super::injection::Injection;
use super::rate_limit::retry_after_secs;
use super::response::ApiError;
use super::state::AppState;
use super::stats::Endpoint;
use super::tokens::Session;

/// Admits a request to a route that needs no token (`/health`, `/auth/login`).
pub async fn admit_public(
    app: &AppState,
    endpoint: Endpoint,
    head: &Parts,
) -> Result<(), ApiError> {
    debug_assert!(!endpoint.requires_token());
    let injection = prepare(app, endpoint, head).await?;
    roll_failure(app, endpoint, injection)
}

/// Admits a request to a route of an imitated suite that wants a bearer
/// token but cannot know which: the suites make up their own (BotFlow's
/// `test-token`, AgentAPI's self-signed ones), so any non-empty one passes.
pub async fn admit_any_bearer(
    app: &AppState,
    endpoint: Endpoint,
    head: &Parts,
) -> Result<(), ApiError> {
    debug_assert!(!endpoint.requires_token());
    let injection = prepare(app, endpoint, head).await?;
    let bearer = head
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.as_bytes().split_at_checked(7))
        .is_some_and(|(scheme, rest)| {
            scheme.eq_ignore_ascii_case(b"bearer ") && !rest.trim_ascii().is_empty()
        });
    if !bearer {
        app.stats.count_unauthorized();
        return Err(ApiError::Unauthorized);
    }
    roll_failure(app, endpoint, injection)
}

/// Admits a request to an `/api` route and returns the caller's session.
/// The order is fixed: delay (so every answer is delayed), then 401, 429,
/// and injected 500, the order a real gateway in front of an API would use.
pub async fn admit_user(
    app: &AppState,
    endpoint: Endpoint,
    head: &Parts,
) -> Result<Arc<Session>, ApiError> {
    let injection = prepare(app, endpoint, head).await?;
    let now = app.now_nanos();
    let session = head
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| app.tokens.authenticate(value.as_bytes(), now));
    let Some(session) = session else {
        app.stats.count_unauthorized();
        return Err(ApiError::Unauthorized);
    };
    if let Some(bucket) = &session.bucket
        && let Err(wait) = bucket.try_acquire(now)
    {
        app.stats.count_rate_limited();
        return Err(ApiError::RateLimited {
            retry_after_secs: retry_after_secs(wait),
        });
    }
    roll_failure(app, endpoint, injection)?;
    Ok(session)
}

/// Counts the request, reads its injection parameters and serves the delay.
async fn prepare(app: &AppState, endpoint: Endpoint, head: &Parts) -> Result<Injection, ApiError> {
    app.stats.count_request(endpoint);
    let injection = Injection::for_request(head.uri.query(), &app.config)?;
    if !injection.delay.is_zero() {
        tokio::time::sleep(injection.delay).await;
    }
    Ok(injection)
}

fn roll_failure(app: &AppState, endpoint: Endpoint, injection: Injection) -> Result<(), ApiError> {
    // Skip the random draw in the common no-failure case.
    if injection.fail_rate > 0.0
        && injection.fails(app.draws.uniform(endpoint, Purpose::InjectedFailure))
    {
        return Err(ApiError::InjectedFailure);
    }
    Ok(())
}
