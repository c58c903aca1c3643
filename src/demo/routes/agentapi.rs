//! AgentAPI's HTTP face of one terminal agent: status, conversation,
//! sending a message and an event stream. No token: the suite sends none.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::read_json;
use crate::demo::admission::admit_public;
use crate::demo::agentapi::{AGENT_TYPE, Message};
use crate::demo::response::{ApiError, json};
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;
use crate::demo::timefmt::unix_now;

#[derive(Serialize)]
struct StatusJson {
    agent_type: &'static str,
    status: &'static str,
}

/// `GET /status`: `{"agent_type":"claude","status":"stable"|"running"}`.
pub async fn status(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_public(&app, Endpoint::AgentStatus, &head).await?;
    app.latency
        .pause(&app.draws, Endpoint::AgentStatus, head.uri.query())
        .await;
    Ok(json(StatusCode::OK, &status_json(&app)))
}

fn status_json(app: &AppState) -> StatusJson {
    StatusJson {
        agent_type: AGENT_TYPE,
        status: app.agent.status(app.now_nanos()),
    }
}

#[derive(Serialize)]
struct MessagesJson<'a> {
    messages: &'a [Arc<Message>],
}

/// `GET /messages`: the latest 64 messages, oldest first.
pub async fn messages(
    State(app): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_public(&app, Endpoint::AgentMessages, &head).await?;
    app.latency
        .pause(&app.draws, Endpoint::AgentMessages, head.uri.query())
        .await;
    let messages = app.agent.recent();
    Ok(json(
        StatusCode::OK,
        &MessagesJson {
            messages: &messages,
        },
    ))
}

#[derive(Deserialize)]
struct SendMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// `POST /message` `{"content":"…","type":"user"|"raw"}`: `{"ok":true}`.
/// A user message enters the conversation with the agent's answer; raw
/// input (keystrokes for the terminal) is taken and not recorded.
pub async fn send_message(
    State(app): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, body) = req.into_parts();
    admit_public(&app, Endpoint::AgentMessage, &head).await?;
    let message: SendMessage = read_json(body).await?;
    let content = message
        .content
        .filter(|content| !content.trim().is_empty())
        .ok_or_else(|| ApiError::BadRequest("content is required and must not be empty".into()))?;
    match message.kind.as_deref() {
        Some("user") => {
            app.latency
                .pause(&app.draws, Endpoint::AgentMessage, head.uri.query())
                .await;
            let busy_until = app
                .now_nanos()
                .saturating_add(app.config.agent_reply_time.as_nanos() as u64);
            app.agent.converse(&content, unix_now(), busy_until);
        }
        Some("raw") => {}
        other => {
            return Err(ApiError::BadRequest(format!(
                "type must be \"user\" or \"raw\", got {other:?}"
            )));
        }
    }
    Ok(json(StatusCode::OK, &serde_json::json!({ "ok": true })))
}

/// `GET /events`: Server-Sent Events with the agent's current state, a
/// `status_change` event and a `message_update` per message of the
/// history, then the end of the stream. (The real stream stays open; one
/// that ends lets a plain GET with a timeout, as the suite sends, succeed.)
pub async fn events(State(app): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_public(&app, Endpoint::AgentEvents, &head).await?;
    let mut text = sse_event("status_change", &status_json(&app));
    for message in &app.agent.recent() {
        text.push_str(&sse_event("message_update", message));
    }
    let mut response = Response::new(Body::from(text));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

fn sse_event<T: Serialize>(name: &str, data: &T) -> String {
    // Our JSON has no raw newlines (serde escapes them), so one data line holds it.
    let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
    format!("event: {name}\ndata: {data}\n\n")
}
