//! The raw serde model of a `websocket` step, as written (see `model` for
//! the rest of the file). Validated into `ws_plan::WebSocketStep`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::model_types::{OrderedMap, Scalar, StatusSpec, Text};
use super::net_model::TlsDef;

/// A WebSocket session: connect, run `steps` in order on the open
/// connection, close.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebSocketDef {
    /// The `name` tag. Default: the URL as written (placeholders kept, query removed).
    pub name: Option<String>,
    /// Absolute URL (templated): ws:// or wss://; http:// and https:// mean
    /// the same (so `{{ BASE_URL }}/ws` works).
    pub url: String,
    /// Upgrade request headers (values templated). `http.headers` apply too.
    #[serde(default)]
    pub headers: OrderedMap<Scalar>,
    /// Offered in `Sec-WebSocket-Protocol`; the server must accept one.
    #[serde(default)]
    pub subprotocols: Vec<String>,
    /// TCP, TLS and the upgrade must complete within this. Default `http.timeout`.
    pub connect_timeout: Option<Text>,
    /// What to do on the open connection, in order.
    pub steps: Vec<WsStepDef>,
    /// Checks on the session, recorded in the `checks` metric.
    #[serde(default)]
    pub checks: Vec<WsCheckDef>,
    /// TLS of this session's `wss://` connection, as a request's `tls`:
    /// the fields set here replace those of its scenario's `tls` and
    /// `http.tls`, `hosts` entries are tried before theirs.
    pub tls: Option<TlsDef>,
}

/// One step of a session: exactly one of its keys.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsStepDef {
    /// Send one message.
    pub send: Option<WsSendDef>,
    /// Wait for a message that matches.
    pub expect: Option<WsExpectDef>,
    /// Keep the connection open for a while, pinging.
    pub hold: Option<WsHoldDef>,
}

/// A message to send: exactly one of `text`, `json`, `binary_base64`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsSendDef {
    /// A text message (templated).
    pub text: Option<String>,
    /// A text message holding JSON built from this YAML value; strings are templated.
    #[schemars(with = "Option<serde_json::Value>")]
    pub json: Option<serde_norway::Value>,
    /// A binary message: these bytes, base64-encoded (standard alphabet).
    pub binary_base64: Option<String>,
}

/// Waits for the first message that matches; others are counted and skipped.
/// With no `json`, `matches` or `contains`, any data message matches.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsExpectDef {
    /// The `name` tag of this reply's `ws_reply_time`. Default: the session's name.
    pub name: Option<String>,
    /// JSON path into the message; the operators below then apply to its value
    /// (none: the path must exist).
    pub json: Option<String>,
    pub exists: Option<bool>,
    pub equals: Option<Scalar>,
    pub not_equals: Option<Scalar>,
    /// Without `json`: the message text contains this (templated).
    pub contains: Option<Scalar>,
    pub not_contains: Option<Scalar>,
    /// Without `json`: the message text matches this regex.
    pub matches: Option<String>,
    pub lt: Option<Scalar>,
    pub lte: Option<Scalar>,
    pub gt: Option<Scalar>,
    pub gte: Option<Scalar>,
    #[serde(rename = "in")]
    pub one_of: Option<Vec<Scalar>>,
    /// How long to wait for the match; else the session fails with
    /// `ws_timeout`. Default `http.timeout`.
    pub timeout: Option<Text>,
    /// Checks on the matching message, recorded in the `checks` metric.
    #[serde(default)]
    pub checks: Vec<WsReplyCheckDef>,
    /// Values taken from the matching message into VU variables.
    #[serde(default)]
    pub extract: OrderedMap<WsExtractDef>,
}

/// Keep the session open for `duration`, counting messages that arrive.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsHoldDef {
    pub duration: Text,
    /// Send a ping this often (each pong feeds `ws_ping`). Default: no pings.
    pub ping_interval: Option<Text>,
}

/// A check on a matched reply: exactly one subject (`json`, `data_contains`
/// or `data_matches`); `json` takes the operators of request checks.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsReplyCheckDef {
    /// Check name. Default: a description of the condition.
    pub name: Option<String>,
    /// JSON path into the message.
    pub json: Option<String>,
    /// The message text contains this (templated).
    pub data_contains: Option<String>,
    /// The message text matches this regex.
    pub data_matches: Option<String>,
    pub exists: Option<bool>,
    pub equals: Option<Scalar>,
    pub not_equals: Option<Scalar>,
    pub contains: Option<Scalar>,
    pub not_contains: Option<Scalar>,
    pub matches: Option<String>,
    pub lt: Option<Scalar>,
    pub lte: Option<Scalar>,
    pub gt: Option<Scalar>,
    pub gte: Option<Scalar>,
    #[serde(rename = "in")]
    pub one_of: Option<Vec<Scalar>>,
}

/// Where an extracted value comes from: exactly one of `json` and `regex`,
/// applied to the matched message.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsExtractDef {
    pub json: Option<String>,
    /// Capture group 1, else the whole match.
    pub regex: Option<String>,
}

/// A check on the session: exactly one subject.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsCheckDef {
    /// Check name. Default: a description of the condition.
    pub name: Option<String>,
    /// The upgrade's status: a number, a `"200-299"` range, or a list of
    /// them; `0` is "no response".
    pub status: Option<StatusSpec>,
    /// The session failed with this error code (`ws_timeout`, `ws_connect`, ...).
    pub error_code: Option<String>,
    /// Data messages received in the session: `4` (exactly) or a comparison
    /// such as `">= 4"`.
    pub messages_received: Option<Scalar>,
    /// Data messages sent in the session, same forms.
    pub messages_sent: Option<Scalar>,
}
