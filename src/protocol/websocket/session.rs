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
                Message::Ping(_) | Message::Frame(_) => {}
            }
        }
    }

    /// Closes with 1000 (normal) and waits up to `wait` for the server's
    /// close reply, reading and dropping anything still in flight. A server
    /// that does not answer is not an error: the session's work is done.
    pub async fn close(mut self, wait: Duration) {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        if self.stream.close(Some(frame)).await.is_err() {
            return;
        }
        let drain = async { while let Some(Ok(_)) = self.stream.next().await {} };
        let _ = tokio::time::timeout(wait, drain).await;
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
