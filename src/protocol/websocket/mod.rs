//! WebSocket client: the connection is opened by the HTTP client's connect
//! path (DNS cache, TCP, the run's rustls configuration), then upgraded by
//! tungstenite over that stream, so `ws_connecting` covers everything from
//! DNS to the `101` and only one TLS stack is compiled.
//!
//! A session lives in its VU's task: no task or thread per connection, and
//! tungstenite's buffers are kept small (see [`session_config`]) so that ten
//! thousand held connections cost tens of megabytes, not gigabytes.

mod buffers;
mod connect;
mod error;
mod session;

pub use buffers::{MAX_MESSAGE_BYTES, MAX_WRITE_BUFFER_BYTES, READ_BUFFER_BYTES, session_config};
pub use connect::{WsConnectRequest, WsHandshake, connect};
pub use error::{WsError, WsErrorCode};
pub use session::{Incoming, WsSession};
