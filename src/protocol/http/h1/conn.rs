//! An HTTP/1.1 connection driven by the task that sends on it: no driver
//! task, no channel. Idle, it is the socket, a small read buffer and a small
//! write buffer, parked in the VU's pool.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::chunked::ChunkedDecoder;
use super::codec::{self, BodyEncoding, Framing};
use crate::protocol::http::error::{chain, http_error, io_code};
use crate::protocol::http::exchange::HopRequest;
use crate::protocol::http::io::{ConnStats, MeteredIo};
use crate::protocol::http::pool::OriginKey;
use crate::protocol::http::proxy::ProxyServer;
use crate::protocol::http::types::{ErrorCode, HttpError, HttpResponse};

mod stream;
pub(in crate::protocol::http) use stream::H1BodyReader;

/// The read buffer a connection keeps between requests. Most response heads
/// fit (a longer one grows it; a body read grows it by itself), and every
/// VU holds one: at 2 KB rather than 4 KB, 100,000 keep-alive VUs hold
/// 200 MB less, which is most of what separated them from 1 GB
/// (bench/connections.sh).
const READ_BUF: usize = 2 * 1024;
/// Reads of a large body go through a buffer this big...
const LARGE_READ: usize = 256 * 1024;
/// ...and a buffer that grew past this is given back after the exchange, so
/// one large response does not pin memory in every idle VU.
const MAX_KEPT: usize = 64 * 1024;
/// A response head larger than this is refused.
const MAX_HEAD: usize = 64 * 1024;
/// Request bodies up to this size are copied after the head: one write.
const INLINE_BODY: usize = 16 * 1024;
/// A write buffer that grew past this (a large inlined body) is freed.
const MAX_KEPT_WRITE: usize = 4 * 1024;
/// A kept body is preallocated from `content-length`, up to this much.
const MAX_PREALLOC: u64 = 64 << 20;

/// The byte stream under a connection; TLS is boxed so that plain
/// connections do not carry the TLS session's size.
pub(in crate::protocol::http) enum Io {
    Plain(MeteredIo<TcpStream>),
    Tls(Box<MeteredIo<TlsStream<MeteredIo<TcpStream>>>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(io) => Pin::new(io).poll_read(cx, buf),
            Io::Tls(io) => Pin::new(io.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(io) => Pin::new(io).poll_write(cx, buf),
            Io::Tls(io) => Pin::new(io.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(io) => Pin::new(io).poll_flush(cx),
            Io::Tls(io) => Pin::new(io.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(io) => Pin::new(io).poll_shutdown(cx),
            Io::Tls(io) => Pin::new(io.as_mut()).poll_shutdown(cx),
        }
    }
}

pub(in crate::protocol::http) struct H1Conn {
    io: Io,
    /// Holds response bytes read but not yet consumed; empty between exchanges.
    read_buf: BytesMut,
    write_buf: Vec<u8>,
    pub(in crate::protocol::http) stats: Arc<ConnStats>,
    pub(in crate::protocol::http) key: OriginKey,
    /// The forward proxy plain HTTP requests are sent to, if any.
    forward: Option<Arc<ProxyServer>>,
}

/// A response read to its end.
pub(in crate::protocol::http) struct Received {
    /// The body as received (empty unless kept).
    pub data: Bytes,
    /// The connection may carry another request.
    pub reusable: bool,
}

impl H1Conn {
    pub(in crate::protocol::http) fn new(
        io: Io,
        stats: Arc<ConnStats>,
        key: OriginKey,
        forward: Option<Arc<ProxyServer>>,
    ) -> Self {
        H1Conn {
            io,
            read_buf: BytesMut::with_capacity(READ_BUF),
            write_buf: Vec::new(),
            stats,
            key,
            forward,
        }
    }

    /// The idle connection's size: the struct and its buffers' capacities.
    #[cfg(test)]
    pub(in crate::protocol::http) fn footprint(&self) -> usize {
        std::mem::size_of::<Self>() + self.read_buf.capacity() + self.write_buf.capacity()
    }

    /// Between exchanges: false when the server closed the connection (or
    /// sent something unasked) while it sat idle. One non-blocking read; a
    /// socket with no new readiness answers without a system call.
    pub(in crate::protocol::http) fn is_idle_alive(&mut self) -> bool {
        if !self.read_buf.is_empty() {
            return false;
        }
        let mut byte = [0u8; 1];
        if let Io::Plain(io) = &self.io {
            // `try_read` consults the runtime's readiness without storing a
            // waker (a poll would store one under a lock, every request).
            return matches!(
                io.get_ref().try_read(&mut byte),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock
            );
        }
        let mut buf = ReadBuf::new(&mut byte);
        let mut cx = Context::from_waker(Waker::noop());
        Pin::new(&mut self.io)
            .poll_read(&mut cx, &mut buf)
            .is_pending()
    }

    /// Sends the request and reads the response head into `hop` (status,
    /// and every header when `req.keep_headers`). Returns how the body is
    /// framed and whether the connection may be kept alive after it.
    async fn send_and_read_head(
        &mut self,
        req: &HopRequest<'_>,
        hop: &mut HttpResponse,
    ) -> Result<(Framing, bool), HttpError> {
        let request_close = self.send(req).await.map_err(|err| {
            http_error(io_code(&err), format!("sending request: {}", chain(&err)))
        })?;
        let head = self.read_head(req.keep_headers).await?;
        let framing = codec::framing(req.method, &head)
            .map_err(|err| http_error(ErrorCode::Protocol, err.to_string()))?;
        let keep_alive = head.status != 101
            && framing != Framing::Eof
            && codec::keeps_alive(request_close, &head);
        hop.status = head.status;
        hop.headers = head.headers;
        Ok((framing, keep_alive))
    }

    /// Sends the request and reads the response to its end, filling `hop`'s
    /// status and headers as soon as the head is in. The caller stamps the
    /// end and decodes the body.
    pub(in crate::protocol::http) async fn exchange(
        &mut self,
        req: &HopRequest<'_>,
        hop: &mut HttpResponse,
    ) -> Result<Received, HttpError> {
        let (framing, reusable) = self.send_and_read_head(req, hop).await?;
        let mut grown = self.read_buf.capacity() > MAX_KEPT;
        let data = self
            .read_body(framing, req.keep_body.then_some(req.max_body), &mut grown)
            .await
            .map_err(BodyError::into_http)?;
        let reusable = reusable && self.read_buf.is_empty();
        if reusable && grown {
            self.read_buf = BytesMut::with_capacity(READ_BUF);
        }
        Ok(Received { data, reusable })
    }

    /// Writes the request; returns whether it said `connection: close`.
    async fn send(&mut self, req: &HopRequest<'_>) -> io::Result<bool> {
        let body = &req.body[..];
        self.write_buf.clear();
        let defaults = codec::Defaults {
            user_agent: req.user_agent,
            host: req.target.host_header(),
            forward: self.forward.as_ref().map(|proxy| codec::Forward {
                proxy_authorization: proxy.authorization.as_ref(),
            }),
        };
        if self.write_buf.capacity() == 0 {
            // A new connection (or one whose buffer was let go): one
            // allocation of about the head's size, plus an inlined body.
            let hint = codec::head_len_hint(req.method, &req.target.path, req.headers, &defaults);
            // A chunked body's size line and last chunk: at most 32 bytes.
            let inline = if body.len() <= INLINE_BODY {
                body.len() + 32
            } else {
                0
            };
            self.write_buf.reserve_exact(hint + inline);
        }
        let head = codec::encode_head(
            &mut self.write_buf,
            req.method,
            &req.target.path,
            req.headers,
            &defaults,
            body.len(),
        );
        let inline = match head.encoding {
            BodyEncoding::Chunked => {
                // The request asked for chunked: the body as one chunk.
                use std::io::Write;
                let _ = write!(self.write_buf, "{:X}\r\n", body.len());
                self.write_buf.extend_from_slice(body);
                self.write_buf.extend_from_slice(b"\r\n0\r\n\r\n");
                true
            }
            BodyEncoding::Raw if body.len() <= INLINE_BODY => {
                self.write_buf.extend_from_slice(body);
                true
            }
            BodyEncoding::Raw => false,
        };
        self.io.write_all(&self.write_buf).await?;
        if !inline {
            self.io.write_all(body).await?;
        }
        // TLS holds records until flushed; the flush also stamps the end of
        // `sending` on the connection's stats.
        self.io.flush().await?;
        if self.write_buf.capacity() > MAX_KEPT_WRITE {
            self.write_buf = Vec::new();
        }
        Ok(head.close)
    }

    /// Reads until a final (non-1xx) response head is complete.
    async fn read_head(&mut self, keep_headers: bool) -> Result<codec::ResponseHead, HttpError> {
        loop {
            if !self.read_buf.is_empty() {
                let parsed = codec::parse_head(&self.read_buf, keep_headers)
                    .map_err(|err| http_error(ErrorCode::Protocol, err.to_string()))?;
                if let Some((head, len)) = parsed {
                    self.read_buf.advance(len);
                    // 100 Continue and other interim responses precede the
                    // real one (101 ends HTTP/1 on this connection).
                    if (100..200).contains(&head.status) && head.status != 101 {
                        continue;
                    }
                    return Ok(head);
                }
                if self.read_buf.len() >= MAX_HEAD {
                    return Err(http_error(
                        ErrorCode::Protocol,
                        "response head larger than 64 KiB",
                    ));
                }
            }
            let n = self.fill(READ_BUF).await.map_err(|err| {
                http_error(
                    io_code(&err),
                    format!("receiving response: {}", chain(&err)),
                )
            })?;
            if n == 0 {
                return Err(http_error(
                    ErrorCode::Reset,
                    "connection closed before message completed",
                ));
            }
        }
    }

    /// Reads the body as framed; keeps it only when asked (`keep` is then
    /// the most it may keep: a longer body stops the read with
    /// [`BodyError::TooLarge`], before reading when `content-length` says
    /// so). A body that is not kept is drained. `grown` is set when the read
    /// buffer went past what an idle connection may keep.
    async fn read_body(
        &mut self,
        framing: Framing,
        keep: Option<u64>,
        grown: &mut bool,
    ) -> Result<Bytes, BodyError> {
        let mut sink = match (keep, framing) {
            (Some(max), Framing::Length(n)) if n > max => return Err(BodyError::TooLarge(max)),
            (Some(_), Framing::Length(n)) => BytesMut::with_capacity(n.min(MAX_PREALLOC) as usize),
            _ => BytesMut::new(),
        };
        // Keeps `data` when asked; false once the kept body would pass its
        // limit (nothing more is kept then, and the read stops).
        let push = |sink: &mut BytesMut, data: &[u8]| match keep {
            None => true,
            Some(max) if (sink.len() + data.len()) as u64 > max => false,
            Some(_) => {
                sink.extend_from_slice(data);
                true
            }
        };
        let too_large = || BodyError::TooLarge(keep.unwrap_or(u64::MAX));
        let mut want = READ_BUF;
        match framing {
            Framing::Empty => {}
            Framing::Length(mut left) => loop {
                let take = left.min(self.read_buf.len() as u64) as usize;
                // Cannot fail: the length was checked against the limit.
                push(&mut sink, &self.read_buf[..take]);
                self.read_buf.advance(take);
                left -= take as u64;
                if left == 0 {
                    break;
                }
                self.fill_body(&mut want, left > MAX_KEPT as u64, grown)
                    .await?;
            },
            Framing::Chunked => {
                let mut decoder = ChunkedDecoder::new();
                loop {
                    let mut fits = true;
                    let used = decoder
                        .decode(&self.read_buf, &mut |data: &[u8]| {
                            fits &= push(&mut sink, data);
                        })
                        .map_err(|err| BodyError::Framing(err.to_string()))?;
                    self.read_buf.advance(used);
                    if !fits {
                        return Err(too_large());
                    }
                    if decoder.is_done() {
                        break;
                    }
                    self.fill_body(&mut want, true, grown).await?;
                }
            }
            Framing::Eof => loop {
                let fits = push(&mut sink, &self.read_buf);
                self.read_buf.clear();
                if !fits {
                    return Err(too_large());
                }
                match self.fill_body(&mut want, true, grown).await {
                    Ok(()) => {}
                    // The end of this body is the end of the stream; a TLS
                    // peer that skips close_notify ends it the same way.
                    Err(BodyError::Closed) => break,
                    Err(BodyError::Io(err)) if err.kind() == io::ErrorKind::UnexpectedEof => {
                        break;
                    }
                    Err(err) => return Err(err),
                }
            },
        }
        Ok(sink.freeze())
    }

    /// Reads more body bytes; a read that filled the buffer while much is
    /// still to come switches to large reads for the rest of this body.
    async fn fill_body(
        &mut self,
        want: &mut usize,
        much_left: bool,
        grown: &mut bool,
    ) -> Result<(), BodyError> {
        self.read_buf.reserve(*want);
        let spare = self.read_buf.capacity() - self.read_buf.len();
        let n = self
            .io
            .read_buf(&mut self.read_buf)
            .await
            .map_err(BodyError::Io)?;
        if n == 0 {
            return Err(BodyError::Closed);
        }
        if n >= spare && much_left && *want < LARGE_READ {
            *want = LARGE_READ;
            *grown = true;
        }
        Ok(())
    }

    /// One read into the buffer, making room for at least `want` bytes
    /// (reusing the space of consumed bytes when it can).
    async fn fill(&mut self, want: usize) -> io::Result<usize> {
        self.read_buf.reserve(want);
        self.io.read_buf(&mut self.read_buf).await
    }
}

enum BodyError {
    /// The connection ended before the body did.
    Closed,
    Io(io::Error),
    Framing(String),
    /// A kept body passed this many bytes (`max_body_size`).
    TooLarge(u64),
}

impl BodyError {
    /// A dropped connection keeps its transport code; anything else is a
    /// body error (as hyper's body errors were classified).
    fn into_http(self) -> HttpError {
        match self {
            BodyError::Closed => http_error(
                ErrorCode::Reset,
                "reading body: connection closed before message completed",
            ),
            BodyError::Io(err) => {
                let code = match io_code(&err) {
                    code @ (ErrorCode::Reset | ErrorCode::Timeout) => code,
                    _ => ErrorCode::Body,
                };
                http_error(code, format!("reading body: {}", chain(&err)))
            }
            BodyError::Framing(message) => {
                http_error(ErrorCode::Body, format!("reading body: {message}"))
            }
            BodyError::TooLarge(max) => crate::protocol::http::exchange::body_too_large(max),
        }
    }
}
