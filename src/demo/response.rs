//! JSON responses and the errors the API answers with.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Serialize, Serializer};
use thiserror::Error;

static JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A response with a ready JSON body (`Bytes` clones share, they never copy).
pub fn json_bytes(status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, JSON.clone());
    response
}

/// Serialises `value` into a response; one allocation for the body.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes(status, Bytes::from(body)),
        // Our response types are plain structs of strings and numbers; this
        // cannot fail, but if it did the client still gets valid JSON.
        Err(_) => json_bytes(
            StatusCode::INTERNAL_SERVER_ERROR,
            Bytes::from_static(br#"{"error":"response encoding failed"}"#),
        ),
    }
}

/// A 128-bit id written as a hyphenated UUID string, straight into the body.
#[derive(Clone, Copy, Debug)]
pub struct UuidJson(pub u128);

impl Serialize for UuidJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&uuid::Uuid::from_u128(self.0).hyphenated())
    }
}

/// Every non-2xx answer of the demo API; each renders as `{"error": "..."}`.
#[derive(Debug, Error, PartialEq)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("unauthorized")]
    Unauthorized,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("injected failure")]
    InjectedFailure,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::InjectedFailure => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The fixed answers are the hot error paths under load; keep them static.
        let static_body: Option<&'static [u8]> = match &self {
            ApiError::Unauthorized => Some(br#"{"error":"unauthorized"}"#),
            ApiError::InjectedFailure => Some(br#"{"error":"injected failure"}"#),
            _ => None,
        };
        if let Some(body) = static_body {
            return json_bytes(self.status(), Bytes::from_static(body));
        }
        let message = self.to_string();
        let retry_after = match self {
            ApiError::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        let mut response = json(
            self.status(),
            &ErrorBody {
                error: &message,
                retry_after,
            },
        );
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
