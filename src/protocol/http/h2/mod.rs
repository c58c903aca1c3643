//! HTTP/2 on the `h2` crate directly. The connection's frames are read and
//! written by one task per connection; each request opens its stream, sends
//! its body and reads its response from the VU's own task, so a request
//! costs no spawned task, channel message or callback (hyper's HTTP/2
//! client spent one of each per request).

mod conn;
pub(super) mod estimate;
mod exchange;
mod request;

pub(super) use conn::{Http2Conn, handshake};
pub(super) use exchange::{ResponseBody, send};
pub(super) use request::build_head;
