//! Server-Sent Events: a chat completion streamed token by token, and a
//! subscription to named message events. Both are paced from the moment
//! the response starts (event `i` is due at `first + i * interval`), so the
//! gaps a client measures are the configured ones, not the sum of timer
//! overshoots.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use tokio::time::Instant;

use super::{read_body, read_json_bytes};
use crate::demo::admission::admit_user;
use crate::demo::query::query_param;
use crate::demo::response::ApiError;
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;

const MAX_EVENTS: u64 = 10_000;
const MAX_INTERVAL_MS: u64 = 60_000;
const DEFAULT_TOKENS: u64 = 20;
const DEFAULT_TOKEN_DELAY_MS: u64 = 20;
const DEFAULT_MESSAGES: u64 = 5;
const DEFAULT_MESSAGE_INTERVAL_MS: u64 = 100;
/// What `retry:` tells subscribers (milliseconds).
const RETRY_MS: u64 = 3000;

const WORDS: &[&str] = &[
    "Hello",
    " there",
    "!",
    " I",
    " am",
    " a",
    " demo",
    " agent",
    ",",
    " streaming",
    " one",
    " token",
    " at",
    " a",
    " time",
    ".",
];

/// The chat stream's settings: JSON body fields, else query parameters.
#[derive(Debug, Default, Deserialize)]
struct ChatBody {
    tokens: Option<u64>,
    delay_ms: Option<u64>,
    ttft_ms: Option<u64>,
}

/// `POST /api/chat/stream`: `tokens` events `data: {"token":..,"index":i}`,
/// the first after `ttft_ms` (default `delay_ms`), then one every
/// `delay_ms`, and `data: [DONE]` right after the last.
pub async fn chat_stream(
    State(app): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, body) = req.into_parts();
    admit_user(&app, Endpoint::ChatStream, &head).await?;
    let bytes = read_body(body).await?;
    let fields: ChatBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        ChatBody::default()
    } else {
        read_json_bytes(&bytes)?
    };
    let query = head.uri.query();
    let tokens = setting(fields.tokens, query, "tokens", DEFAULT_TOKENS, MAX_EVENTS)?;
    let delay = setting(
        fields.delay_ms,
        query,
        "delay_ms",
        DEFAULT_TOKEN_DELAY_MS,
        MAX_INTERVAL_MS,
    )?;
    let ttft = setting(fields.ttft_ms, query, "ttft_ms", delay, MAX_INTERVAL_MS)?;
    let start = Instant::now();
    let events = stream::unfold(0u64, move |index| async move {
        if index > tokens {
            return None;
        }
        if index == tokens {
            return Some((Ok(Bytes::from_static(b"data: [DONE]\n\n")), index + 1));
        }
        let due = start + Duration::from_millis(ttft + index * delay);
        tokio::time::sleep_until(due).await;
        let token = serde_json::to_string(WORDS[(index as usize) % WORDS.len()])
            .unwrap_or_else(|_| "\"\"".into());
        let event = format!("data: {{\"token\":{token},\"index\":{index}}}\n\n");
        Some((Ok(Bytes::from(event)), index + 1))
    });
    Ok(event_stream(events))
}

/// How long the subscription waits between its last message and the abort,
/// so the message is flushed before the connection drops.
const ABORT_FLUSH_PAUSE: Duration = Duration::from_millis(10);

/// `GET /api/messages/subscribe?count=5&interval_ms=100[&abort_after=N]`:
/// `retry:` and a comment first, then `count` events named `message` with
/// ids 1.., each after a `: keep-alive` comment and with its JSON data on
/// two `data:` lines, then at once `event: done`. Lines end in CRLF. With
/// `abort_after=N` the connection is dropped after the Nth message.
pub async fn subscribe(
    State(app): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let (head, _) = req.into_parts();
    admit_user(&app, Endpoint::Subscribe, &head).await?;
    let query = head.uri.query();
    let count = setting(None, query, "count", DEFAULT_MESSAGES, MAX_EVENTS)?;
    let interval = setting(
        None,
        query,
        "interval_ms",
        DEFAULT_MESSAGE_INTERVAL_MS,
        MAX_INTERVAL_MS,
    )?;
    let abort_after = match query_param(query, "abort_after") {
        Some(_) => Some(setting(None, query, "abort_after", 0, MAX_EVENTS)?),
        None => None,
    };
    let start = Instant::now();
    let opening = format!("retry: {RETRY_MS}\r\n: subscribed\r\n\r\n");
    let events = stream::unfold(0u64, move |seq| {
        let opening = opening.clone();
        async move {
            if seq == 0 {
                return Some((Ok(Bytes::from(opening)), 1));
            }
            if seq > count + 1 {
                return None;
            }
            if seq == count + 1 {
                let done =
                    format!("id: {seq}\r\nevent: done\r\ndata: {{\"count\":{count}}}\r\n\r\n");
                return Some((Ok(Bytes::from(done)), seq + 1));
            }
            tokio::time::sleep_until(start + Duration::from_millis(seq * interval)).await;
            if abort_after.is_some_and(|n| seq > n) {
                // An error from the body makes the server drop the connection
                // without ending the chunked body: a reset mid-stream. The
                // server writes what it has buffered only when the body has
                // nothing ready, so pause once first: a loaded machine that
                // fell behind the schedule would otherwise produce the last
                // message and the error in one go and lose the message.
                tokio::time::sleep(ABORT_FLUSH_PAUSE).await;
                return Some((Err(std::io::Error::other("aborted on request")), count + 2));
            }
            let event = format!(
                ": keep-alive\r\nid: {seq}\r\nevent: message\r\ndata: {{\"seq\":{seq},\r\ndata: \"text\":\"message {seq}\"}}\r\n\r\n"
            );
            Some((Ok(Bytes::from(event)), seq + 1))
        }
    });
    Ok(event_stream(events))
}

/// A number from the body, else the query, else the default; at most `max`.
fn setting(
    from_body: Option<u64>,
    query: Option<&str>,
    name: &str,
    default: u64,
    max: u64,
) -> Result<u64, ApiError> {
    let value = match from_body {
        Some(v) => v,
        None => match query_param(query, name) {
            Some(text) => text.trim().parse().map_err(|_| {
                ApiError::BadRequest(format!("{name}: expected a whole number, got {text:?}"))
            })?,
            None => default,
        },
    };
    if value > max {
        return Err(ApiError::BadRequest(format!(
            "{name}: at most {max}, got {value}"
        )));
    }
    Ok(value)
}

fn event_stream(
    events: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
) -> Response {
    let mut response = Response::new(Body::from_stream(events));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
