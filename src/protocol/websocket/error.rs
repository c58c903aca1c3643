//! Why a WebSocket session failed: one code per failure class, which becomes
//! the `error_code` tag, and a message (never containing header values).

use std::io;

use tokio_tungstenite::tungstenite::Error as TungsteniteError;

/// The failure classes of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WsErrorCode {
    /// DNS, TCP or TLS failed, or the connection was not open within `connect_timeout`.
    Connect,
    /// The generator ran out of file descriptors (EMFILE/ENFILE) opening
    /// the connection: its limit, not the target, failed the session, as
    /// HTTP's `file_limit`.
    FileLimit,
    /// The upgrade was refused (a status other than 101) or its answer was
    /// not a valid WebSocket handshake (accept key, subprotocol).
    Handshake,
    /// No matching reply within an `expect`'s timeout.
    Timeout,
    /// The server closed or reset the connection before the session ended.
    Closed,
    /// The server broke the WebSocket protocol (framing, UTF-8, size bounds).
    Protocol,
    /// A message or frame from the server is larger than 16 MiB.
    MessageTooLarge,
    /// A send found 1 MiB still waiting to be written: the server does not read.
    WriteBufferFull,
}

impl WsErrorCode {
    /// Every code, for validating the `error_code` a condition names.
    pub const ALL: [WsErrorCode; 8] = [
        WsErrorCode::Connect,
        WsErrorCode::FileLimit,
        WsErrorCode::Handshake,
        WsErrorCode::Timeout,
        WsErrorCode::Closed,
        WsErrorCode::Protocol,
        WsErrorCode::MessageTooLarge,
        WsErrorCode::WriteBufferFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WsErrorCode::Connect => "ws_connect",
            WsErrorCode::FileLimit => "file_limit",
            WsErrorCode::Handshake => "ws_handshake",
            WsErrorCode::Timeout => "ws_timeout",
            WsErrorCode::Closed => "ws_closed",
            WsErrorCode::Protocol => "ws_protocol",
            WsErrorCode::MessageTooLarge => "ws_message_too_large",
            WsErrorCode::WriteBufferFull => "ws_write_buffer_full",
        }
    }
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct WsError {
    pub code: WsErrorCode,
    pub message: String,
}

impl WsError {
    pub fn new(code: WsErrorCode, message: impl Into<String>) -> Self {
        WsError {
            code,
            message: message.into(),
        }
    }

    /// A failure of an open session (reading or writing).
    pub fn from_session(err: TungsteniteError) -> Self {
        let code = match &err {
            TungsteniteError::ConnectionClosed
            | TungsteniteError::AlreadyClosed
            | TungsteniteError::Io(_) => WsErrorCode::Closed,
            TungsteniteError::Capacity(_) => WsErrorCode::MessageTooLarge,
            TungsteniteError::WriteBufferFull(_) => WsErrorCode::WriteBufferFull,
            _ => WsErrorCode::Protocol,
        };
        WsError::new(code, err.to_string())
    }

    /// A failure during the upgrade exchange.
    pub fn from_handshake(err: TungsteniteError) -> Self {
        let code = match &err {
            TungsteniteError::Io(e) if e.kind() != io::ErrorKind::InvalidData => {
                WsErrorCode::Connect
            }
            TungsteniteError::ConnectionClosed | TungsteniteError::AlreadyClosed => {
                WsErrorCode::Connect
            }
            _ => WsErrorCode::Handshake,
        };
        WsError::new(code, format!("upgrade: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_tag_values() {
        assert_eq!(WsErrorCode::Handshake.as_str(), "ws_handshake");
        let closed = WsError::from_session(TungsteniteError::ConnectionClosed);
        assert_eq!(closed.code, WsErrorCode::Closed);
        let reset = WsError::from_session(TungsteniteError::Io(io::Error::from(
            io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(reset.code, WsErrorCode::Closed);
        let utf8 = WsError::from_session(TungsteniteError::Utf8("bad".into()));
        assert_eq!(utf8.code, WsErrorCode::Protocol);
        use tokio_tungstenite::tungstenite::error::CapacityError;
        let big =
            WsError::from_session(TungsteniteError::Capacity(CapacityError::MessageTooLong {
                size: 17 << 20,
                max_size: 16 << 20,
            }));
        assert_eq!(big.code.as_str(), "ws_message_too_large");
    }
}
