//! JSON-RPC errors: the codes AgentCore's clients read, and the HTTP
//! status each travels with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::demo::response::json;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
/// The caller's token bucket is empty (AgentCore's code).
pub const RATE_LIMITED: i64 = -32001;
/// A tool ran and failed, or every tool of a fallback chain did.
pub const TOOL_FAILED: i64 = -32002;
/// The caller's quota is used up (AgentCore's code).
pub const QUOTA_EXCEEDED: i64 = -32005;

/// A JSON-RPC error and the HTTP status it travels with.
#[derive(Debug)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn status(&self) -> StatusCode {
        match self.code {
            PARSE_ERROR | INVALID_REQUEST => StatusCode::BAD_REQUEST,
            RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
            QUOTA_EXCEEDED => StatusCode::FORBIDDEN,
            _ => StatusCode::OK,
        }
    }

    pub fn to_json(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        error
    }

    pub fn respond(self, id: Value) -> Response {
        let retry_after = self
            .data
            .as_ref()
            .and_then(|data| data.get("retry_after"))
            .and_then(Value::as_u64);
        let mut response = json(
            self.status(),
            &json!({ "jsonrpc": "2.0", "id": id, "error": self.to_json() }),
        );
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
