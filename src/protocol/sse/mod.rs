//! Server-Sent Events: the `text/event-stream` format read incrementally,
//! as its bytes arrive. The HTTP exchange itself is the HTTP client's
//! (`HttpClient::open_stream`); the `sse` flow step drives both.

mod parser;

pub use parser::{DEFAULT_MAX_EVENT_BYTES, EventStreamParser, SseEvent, SseParseError};
