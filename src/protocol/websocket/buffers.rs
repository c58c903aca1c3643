//! tungstenite's buffer settings for load testing.
//!
//! tungstenite defaults to a 128 KiB read buffer (allocated eagerly) and a
//! 128 KiB write buffer per connection: about 256 KiB each, 2.5 GB for
//! 10,000 held connections. A load generator's messages are small and it
//! flushes each one at once (a reply is timed from the send), so a 4 KiB
//! read buffer and no write batching cost a few syscalls more on large
//! messages and keep a connection at a few KiB. Larger messages still
//! arrive whole: the read buffer is the size of one socket read, not a limit.

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Bytes read from the socket at a time (and allocated per connection).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Largest message (and frame) accepted from a server: a bound on what one
/// misbehaving server can make a VU hold.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Most bytes waiting to be written: a server that floods pings and never
/// reads makes tungstenite queue a pong per ping, so without a bound the
/// queue grows by megabytes a second. Past it, pongs replace each other and
/// a send fails with `ws_write_buffer_full`; so a message sent is at most
/// this large.
pub const MAX_WRITE_BUFFER_BYTES: usize = 1 << 20;

/// The settings every session uses.
pub fn session_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        // 0: each message is written out as soon as it is queued, so no
        // write buffer is kept between messages.
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}
