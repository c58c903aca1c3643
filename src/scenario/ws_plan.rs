//! The validated `websocket` step.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderName;

use super::condition::{Condition, Extractor};
use super::plan::{CheckSpec, NamedCheck, StatusSet, VarSlot};
use super::sse_plan::CountOp;
use super::template::Template;
use crate::metrics::TagSetId;
use crate::protocol::http::tls::TlsProfile;

/// Connect, run `actions` in order on the open connection, close.
#[derive(Debug)]
pub struct WebSocketStep {
    /// `ws://` or `wss://` (templated).
    pub url: Template,
    pub headers: Vec<(HeaderName, Template)>,
    pub subprotocols: Vec<String>,
    pub connect_timeout: Duration,
    /// The `name` tag: explicit, or the URL template with placeholders.
    pub name: String,
    /// Tags of the `ws_*` samples: scenario, group, name and user tags.
    pub tag_set: TagSetId,
    /// Tags of the upgrade's `http_req_*` sample: those plus `method: GET`.
    pub upgrade_tag_set: TagSetId,
    pub actions: Vec<WsAction>,
    pub checks: Vec<WsCheck>,
    /// The step's own `tls` merged over its scenario's and `http.tls`,
    /// built once; `None` when the step sets none (the VU client's).
    pub tls: Option<Arc<TlsProfile>>,
}

#[derive(Debug)]
pub enum WsAction {
    Send(WsPayload),
    Expect(WsExpect),
    Hold(WsHold),
}

#[derive(Debug)]
pub enum WsPayload {
    Text(Template),
    /// Sent as a text message (templates inside string values rendered).
    Json(Template),
    Binary(Bytes),
}

/// Wait for the first data message that `matcher` accepts (any message
/// when `None`), within `timeout`.
#[derive(Debug)]
pub struct WsExpect {
    /// The `name` tag of its `ws_reply_time` sample.
    pub name: String,
    /// Tags of `ws_reply_time`: scenario, group, name (this expect's) and user tags.
    pub tag_set: TagSetId,
    pub matcher: Option<Condition>,
    pub timeout: Duration,
    /// On the matching message; `status` is 101 and headers are empty there.
    pub checks: Vec<CheckSpec>,
    /// `Json` or `Regex`, applied to the matching message.
    pub extract: Vec<(VarSlot, Extractor)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsHold {
    pub duration: Duration,
    /// Pings go out at every multiple of this strictly before `duration`.
    pub ping_interval: Option<Duration>,
}

/// A check on a whole session.
pub type WsCheck = NamedCheck<WsCondition>;

#[derive(Debug)]
pub enum WsCondition {
    /// The upgrade's status (0 when none arrived).
    Status(StatusSet),
    /// The session failed with this error code.
    ErrorCode(String),
    MessagesReceived(CountOp, u64),
    MessagesSent(CountOp, u64),
}
