//! `GET /ws`: a WebSocket agent endpoint. Text and binary messages are
//! echoed; a JSON tool call (`{"tool":"calculator","args":{...}}`) is
//! answered with `{"id":..,"tool":..,"result":..}` (or `"error"`). Every
//! reply waits `delay_ms` first (the query's, or the message's own field),
//! so a client's reply latency is known. Pings are answered by tungstenite.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::request::Parts;
use axum::response::Response;
use serde_json::{Value, json};

use crate::demo::admission::admit_user;
use crate::demo::query::query_param;
use crate::demo::response::ApiError;
use crate::demo::state::AppState;
use crate::demo::stats::Endpoint;
use crate::demo::timefmt::{rfc3339, unix_now};

/// Subprotocols the endpoint speaks (it picks the client's first of these).
const PROTOCOLS: [&str; 2] = ["agent.v1", "echo.v1"];
const MAX_DELAY_MS: u64 = 60_000;
/// Messages are small JSON documents; bigger ones end the session.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Small per-connection buffers: the demo must hold thousands of sessions
/// on the machine that also runs the load (see protocol::websocket).
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Per-session settings from the query.
#[derive(Clone, Copy, Debug)]
struct SessionSettings {
    delay: Duration,
    /// Close the session (code 1001, going away) after this many replies.
    close_after: Option<u64>,
}

/// `GET /ws?delay_ms=50&close_after=N`, bearer token required.
pub async fn upgrade(
    State(app): State<Arc<AppState>>,
    head: Parts,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    admit_user(&app, Endpoint::WebSocket, &head).await?;
    let query = head.uri.query();
    let settings = SessionSettings {
        delay: Duration::from_millis(number(query, "delay_ms")?.unwrap_or(0).min(MAX_DELAY_MS)),
        close_after: number(query, "close_after")?,
    };
    Ok(ws
        .protocols(PROTOCOLS)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| session(socket, settings)))
}

fn number(query: Option<&str>, name: &str) -> Result<Option<u64>, ApiError> {
    query_param(query, name)
        .map(|text| {
            text.trim().parse().map_err(|_| {
                ApiError::BadRequest(format!("{name}: expected a whole number, got {text:?}"))
            })
        })
        .transpose()
}

async fn session(mut socket: WebSocket, settings: SessionSettings) {
    let mut replies = 0u64;
    while let Some(Ok(message)) = socket.recv().await {
        let reply = match message {
            Message::Text(text) => match tool_call(text.as_str(), replies + 1) {
                Some((reply, delay)) => {
                    pause(delay.unwrap_or(settings.delay)).await;
                    Message::text(reply.to_string())
                }
                None => {
                    pause(settings.delay).await;
                    Message::Text(text)
                }
            },
            Message::Binary(data) => {
                pause(settings.delay).await;
                Message::Binary(data)
            }
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if socket.send(reply).await.is_err() {
            return;
        }
        replies += 1;
        if settings.close_after.is_some_and(|n| replies >= n) {
            let frame = CloseFrame {
                code: close_code::AWAY,
                reason: "close_after reached".into(),
            };
            let _ = socket.send(Message::Close(Some(frame))).await;
            return;
        }
    }
}

async fn pause(delay: Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

/// The answer to a tool call and its own `delay_ms`, or `None` when the
/// text is not a JSON object with a `tool` field (then it is echoed).
fn tool_call(text: &str, sequence: u64) -> Option<(Value, Option<Duration>)> {
    let call: Value = serde_json::from_str(text).ok()?;
    let tool = call.get("tool")?.as_str()?.to_string();
    let id = call.get("id").cloned().unwrap_or(json!(sequence));
    let delay = call
        .get("delay_ms")
        .and_then(Value::as_u64)
        .map(|ms| Duration::from_millis(ms.min(MAX_DELAY_MS)));
    let args = call.get("args").cloned().unwrap_or(Value::Null);
    let reply = match run_tool(&tool, &args) {
        Ok(result) => json!({ "id": id, "tool": tool, "result": result }),
        Err(error) => json!({ "id": id, "tool": tool, "error": error }),
    };
    Some((reply, delay))
}

fn run_tool(tool: &str, args: &Value) -> Result<Value, String> {
    match tool {
        "echo" => Ok(args.clone()),
        "current_time" => Ok(Value::String(rfc3339(unix_now()))),
        "calculator" => calculator(args),
        other => Err(format!(
            "unknown tool {other:?}; tools: echo, calculator, current_time"
        )),
    }
}

fn calculator(args: &Value) -> Result<Value, String> {
    let operand = |name: &str| {
        args.get(name)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("calculator: args.{name} must be a number"))
    };
    let (a, b) = (operand("a")?, operand("b")?);
    let result = match args.get("op").and_then(Value::as_str) {
        Some("add") => a + b,
        Some("sub") => a - b,
        Some("mul") => a * b,
        Some("div") if b == 0.0 => return Err("calculator: division by zero".into()),
        Some("div") => a / b,
        _ => return Err("calculator: args.op must be add, sub, mul or div".into()),
    };
    // Whole results are written as integers (`5`, not `5.0`).
    if result.fract() == 0.0 && result.abs() < 9.0e15 {
        Ok(json!(result as i64))
    } else {
        Ok(json!(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_answer_with_the_call_id() {
        let (reply, delay) = tool_call(
            r#"{"id":"c1","tool":"calculator","args":{"op":"add","a":2,"b":3},"delay_ms":5}"#,
            1,
        )
        .unwrap();
        assert_eq!(
            reply.to_string(),
            r#"{"id":"c1","tool":"calculator","result":5}"#
        );
        assert_eq!(delay, Some(Duration::from_millis(5)));
        let (reply, _) = tool_call(
            r#"{"tool":"calculator","args":{"op":"div","a":1,"b":4}}"#,
            7,
        )
        .unwrap();
        assert_eq!(
            reply.to_string(),
            r#"{"id":7,"tool":"calculator","result":0.25}"#
        );
        let (reply, _) = tool_call(r#"{"tool":"echo","args":{"x":[1]}}"#, 2).unwrap();
        assert_eq!(
            reply.to_string(),
            r#"{"id":2,"tool":"echo","result":{"x":[1]}}"#
        );
        let (reply, _) = tool_call(r#"{"tool":"search"}"#, 3).unwrap();
        assert_eq!(
            reply.to_string(),
            r#"{"id":3,"tool":"search","error":"unknown tool \"search\"; tools: echo, calculator, current_time"}"#
        );
        assert!(tool_call("hello", 1).is_none());
        assert!(tool_call(r#"{"no":"tool"}"#, 1).is_none());
    }
}
