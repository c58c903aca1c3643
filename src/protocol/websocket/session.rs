//! An open session: send, receive (pings answered, control frames sorted
//! out), ping, close. Runs in the VU's task; nothing is spawned.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::error::{WsError, WsErrorCode};
use crate::protocol::http::{ByteCounters, RawStream};

/// A data message or a pong, as the session's reader sees it.
#[derive(Debug)]
pub enum Incoming {
    Text(String),
    Binary(Bytes),
    Pong(Bytes),
}

pub struct WsSession {
    stream: WebSocketStream<RawStream>,
    counters: ByteCounters,
    /// The subprotocol the server picked, if any.
    pub subprotocol: Option<String>,
}

impl WsSession {
    pub(super) fn new(
        stream: WebSocketStream<RawStream>,
        counters: ByteCounters,
        subprotocol: Option<String>,
    ) -> Self {
        WsSession {
            stream,
            counters,
            subprotocol,
        }
    }

    /// Sends one message and flushes it (a reply is timed from here).
    pub async fn send(&mut self, message: Message) -> Result<(), WsError> {
        self.stream
            .send(message)
            .await
            .map_err(WsError::from_session)
    }

    /// The next data message or pong. Pings are answered by tungstenite as
    /// they are read; a close from the server or the end of the stream is a
    /// `ws_closed` failure: the session had not ended.
    pub async fn recv(&mut self) -> Result<Incoming, WsError> {
        loop {
            let message = match self.stream.next().await {
                Some(Ok(message)) => message,
                Some(Err(err)) => return Err(WsError::from_session(err)),
                None => {
                    return Err(WsError::new(
                        WsErrorCode::Closed,
                        "the server ended the connection",
                    ));
                }
            };
            match message {
                Message::Text(text) => return Ok(Incoming::Text(text.as_str().to_owned())),
                Message::Binary(data) => return Ok(Incoming::Binary(data)),
                Message::Pong(data) => return Ok(Incoming::Pong(data)),
                Message::Close(frame) => {
                    let why = frame.map_or_else(
                        || "no close code".to_string(),
                        |f| format!("code {} {:?}", u16::from(f.code), f.reason.as_str()),
                    );
                    return Err(WsError::new(
                        WsErrorCode::Closed,
                        format!("the server closed the session ({why})"),
                    ));
                }
                // A ping flood keeps the socket ready: yield once this
                // task's budget is spent, so that timers and the hard stop
                // are not starved.
                Message::Ping(_) | Message::Frame(_) => tokio::task::consume_budget().await,
            }
        }
    }

    /// Closes with 1000 (normal) and waits up to `wait` in all for the
    /// close frame to be written and the server's reply, reading and
    /// dropping anything still in flight. A server that does not answer (or
    /// does not read, so the close frame cannot even be written) is not an
    /// error: the session's work is done.
    pub async fn close(mut self, wait: Duration) {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        let close = async {
            if self.stream.close(Some(frame)).await.is_ok() {
                while let Some(Ok(_)) = self.stream.next().await {
                    tokio::task::consume_budget().await;
                }
            }
        };
        let _ = tokio::time::timeout(wait, close).await;
    }

    /// [`WsSession::send`] that gives up at `deadline` with `ws_timeout`: a
    /// server that does not read leaves the socket unwritable forever.
    pub async fn send_until(
        &mut self,
        message: Message,
        deadline: tokio::time::Instant,
    ) -> Result<(), WsError> {
        match tokio::time::timeout_at(deadline, self.send(message)).await {
            Ok(result) => result,
            Err(_) => Err(WsError::new(
                WsErrorCode::Timeout,
                "the server did not take the message in time (it does not read)",
            )),
        }
    }

    pub fn bytes_sent(&self) -> u64 {
        self.counters.written()
    }

    pub fn bytes_received(&self) -> u64 {
        self.counters.read()
    }

    /// A handle on the byte counts that stays valid after `close`.
    pub fn counters(&self) -> ByteCounters {
        self.counters.clone()
    }
}
