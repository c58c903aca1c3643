//! `POST /auth/login`: any non-empty email and password get a bearer token.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::read_json;
use crate::demo::admission::admit_public;
use crate::demo::response::{ApiError, UuidJson, json};
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;
use crate::demo::tokens::{SessionLimits, TOKEN_LIFETIME, user_id_for};

#[derive(Deserialize)]
struct LoginRequest {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Serialize)]
struct LoginResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    user_id: UuidJson,
}

pub async fn login(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, body) = req.into_parts();
    admit_public(&app, Endpoint::Login, &head).await?;
    let credentials: LoginRequest = read_json(body).await?;
    let non_empty = |field: Option<String>, name: &str| {
        field
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| {
                ApiError::BadRequest(format!("{name} is required and must not be empty"))
            })
    };
    let email = non_empty(credentials.email, "email")?;
    non_empty(credentials.password, "password")?;
    let user_id = user_id_for(email.trim());
    let limits = SessionLimits {
        api: app.config.rate_limit,
        tools: app.config.tools_rate_limit,
    };
    let token = app.tokens.issue(user_id, app.now_nanos(), limits);
    app.stats.count_login();
    Ok(json(
        StatusCode::OK,
        &LoginResponse {
            access_token: &token,
            token_type: "bearer",
            expires_in: TOKEN_LIFETIME.as_secs(),
            user_id: UuidJson(user_id),
        },
    ))
}
