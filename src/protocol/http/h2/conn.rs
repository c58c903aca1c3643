//! One HTTP/2 connection: the `h2` handshake, the task that drives the
//! connection's frames, and the handle requests open streams through.

use std::sync::Arc;

use ::h2::client::{Builder, SendRequest};
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::protocol::http::error;
use crate::protocol::http::io::{ConnStats, MeteredIo};
use crate::protocol::http::types::HttpError;

/// A handle on a shared connection: cloning it is how each request gets a
/// `SendRequest` of its own (h2 tracks a stream waiting for a free slot per
/// handle, so sharing one handle would serialise the VU's sends).
#[derive(Clone)]
pub(in crate::protocol::http) struct Http2Conn {
    pub sender: SendRequest<Bytes>,
    pub stats: Arc<ConnStats>,
}

impl Http2Conn {
    /// The connection task ended (GOAWAY, an error, or the peer closed):
    /// no new stream can be opened on it.
    pub(in crate::protocol::http) fn is_closed(&self) -> bool {
        self.stats.is_closed()
    }

    /// Waits until a stream can be opened; an error means the connection is
    /// gone and must leave the pool.
    pub(in crate::protocol::http) async fn ready(&mut self) -> Result<(), ::h2::Error> {
        std::future::poll_fn(|cx| self.sender.poll_ready(cx)).await
    }
}

/// Runs the HTTP/2 preface and settings exchange over `io`, then spawns the
/// task that reads and writes the connection's frames for every stream. The
/// task ends when the connection fails or when the pool and every request
/// have dropped their handles (h2 then sends GOAWAY and closes).
pub(in crate::protocol::http) async fn handshake<T>(
    io: MeteredIo<T>,
    stats: Arc<ConnStats>,
) -> Result<Http2Conn, HttpError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = builder()
        .handshake(io)
        .await
        .map_err(|err| error::h2_exchange(&err))?;
    let task_stats = stats.clone();
    tokio::spawn(async move {
        // Its error, if any, reaches the streams that were open; nothing
        // is waiting for it here.
        let _ = connection.await;
        task_stats.mark_closed();
    });
    Ok(Http2Conn { sender, stats })
}

/// The settings hyper's HTTP/2 client used, so that moving off hyper changes
/// nothing a server sees: larger flow-control windows than the 64 KiB
/// default so that one stream can download at line rate (they are credit,
/// not buffers), 16 KiB frames and header lists, at most 1 MiB buffered per
/// stream for sending, no server push, and the first 100 streams allowed
/// before the server's SETTINGS say how many it takes.
fn builder() -> Builder {
    let mut builder = Builder::new();
    builder
        .initial_max_send_streams(100)
        .initial_window_size(2 << 20)
        .initial_connection_window_size(4 << 20)
        .max_frame_size(16 << 10)
        .max_header_list_size(16 << 10)
        .max_send_buffer_size(1 << 20)
        .max_local_error_reset_streams(Some(1024))
        .enable_push(false);
    builder
}
