//! One request on an HTTP/2 connection, driven by the VU's own task: the
//! head and body go to h2's stream state directly and the connection task
//! writes them, so a request costs no task, channel or callback of its own.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::h2::{Reason, RecvStream, SendStream};
use bytes::Bytes;
use http::Request;
use http::response::Parts;

use super::conn::Http2Conn;
use crate::protocol::http::body::Collector;
use crate::protocol::http::clock::HopClock;
use crate::protocol::http::error;
use crate::protocol::http::exchange::body_too_large;
use crate::protocol::http::types::HttpError;

/// Opens a stream for `head` on `conn` (ready: `acquire` waited on a pooled
/// handle, and a new connection's has no stream pending) and waits for the
/// response head, sending `body` meanwhile. Sending and waiting run
/// together: a server may answer before it has read the whole body, and
/// then need not grant the credit for the rest. `clock` is stamped when the
/// body has been handed over.
pub(in crate::protocol::http) async fn send(
    conn: &mut Http2Conn,
    head: Request<()>,
    body: &Bytes,
    clock: &mut HopClock,
) -> Result<(Parts, ResponseBody), ::h2::Error> {
    let (mut response, stream) = conn.sender.send_request(head, body.is_empty())?;
    let mut upload = (!body.is_empty()).then(|| Upload::new(stream, body.clone()));
    let head = poll_fn(|cx| {
        poll_upload(&mut upload, cx, clock);
        Pin::new(&mut response).poll(cx)
    })
    .await?;
    let (parts, recv) = head.into_parts();
    Ok((parts, ResponseBody { recv, upload }))
}

/// The response body as it arrives, and the rest of the request body if
/// the response came first (it keeps being sent, as HTTP/2 allows).
pub(in crate::protocol::http) struct ResponseBody {
    recv: RecvStream,
    upload: Option<Upload>,
}

impl ResponseBody {
    /// The next piece of the body; `None` at its end. Trailers, if any, are
    /// ignored: they carry no body bytes, and k6 skips them too.
    pub(in crate::protocol::http) async fn next_chunk(
        &mut self,
        clock: &mut HopClock,
    ) -> Result<Option<Bytes>, ::h2::Error> {
        poll_fn(|cx| self.poll_chunk(cx, clock)).await
    }

    fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
        clock: &mut HopClock,
    ) -> Poll<Result<Option<Bytes>, ::h2::Error>> {
        poll_upload(&mut self.upload, cx, clock);
        match ready!(self.recv.poll_data(cx)) {
            Some(Ok(data)) => {
                // Read bytes are credit the server may use again; without
                // giving it back a body larger than the window stalls.
                let _ = self.recv.flow_control().release_capacity(data.len());
                Poll::Ready(Ok(Some(data)))
            }
            // RFC 9113 §8.1: RST_STREAM with NO_ERROR after a complete
            // response asks only that the client stop sending.
            Some(Err(err)) if err.reason() == Some(Reason::NO_ERROR) => Poll::Ready(Ok(None)),
            Some(Err(err)) => Poll::Ready(Err(err)),
            None => Poll::Ready(Ok(None)),
        }
    }

    /// Reads the body to its end. Returns it as received (kept only when
    /// `keep` is set, and then at most `max` bytes: a longer one stops the
    /// read) and its size on the wire before decoding.
    pub(in crate::protocol::http) async fn read_to_end(
        &mut self,
        clock: &mut HopClock,
        keep: bool,
        size_hint: Option<u64>,
        max: u64,
    ) -> Result<(Bytes, u64), HttpError> {
        if keep && size_hint.is_some_and(|n| n > max) {
            return Err(body_too_large(max));
        }
        let mut collected = Collector::Empty;
        let mut wire_len = 0u64;
        while let Some(data) = self
            .next_chunk(clock)
            .await
            .map_err(|err| error::h2_body(&err))?
        {
            wire_len += data.len() as u64;
            if keep {
                if wire_len > max {
                    return Err(body_too_large(max));
                }
                collected.push(data, size_hint);
            }
        }
        Ok((collected.finish(), wire_len))
    }
}

/// Advances the request body and stamps the clock once all of it is with
/// h2. A stream that stopped taking data ends the upload unstamped: the
/// response side reports why.
fn poll_upload(upload: &mut Option<Upload>, cx: &mut Context<'_>, clock: &mut HopClock) {
    if let Some(sending) = upload
        && let Poll::Ready(handed_over) = sending.poll_send(cx)
    {
        if handed_over {
            clock.body_sent();
        }
        *upload = None;
    }
}

/// A request body handed to h2 no faster than the stream's flow-control
/// credit allows, so h2 buffers at most what it can send.
struct Upload {
    stream: SendStream<Bytes>,
    rest: Bytes,
}

impl Upload {
    fn new(mut stream: SendStream<Bytes>, body: Bytes) -> Self {
        // The reservation shrinks as data is sent: asked for once.
        stream.reserve_capacity(body.len());
        Upload { stream, rest: body }
    }

    /// `true` once the whole body was handed over; `false` if the stream
    /// stopped taking data.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        loop {
            let granted = match ready!(self.stream.poll_capacity(cx)) {
                Some(Ok(granted)) => granted,
                Some(Err(_)) | None => return Poll::Ready(false),
            };
            let chunk = self.rest.split_to(granted.min(self.rest.len()));
            let last = self.rest.is_empty();
            if self.stream.send_data(chunk, last).is_err() {
                return Poll::Ready(false);
            }
            if last {
                return Poll::Ready(true);
            }
        }
    }
}
