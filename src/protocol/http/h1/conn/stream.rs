//! Reading a response body piece by piece as it arrives (event streams),
//! instead of to its end as [`H1Conn::exchange`] does. A child of `conn` so
//! that it drives the same buffers and the same send and head-reading code.

use bytes::{Buf, Bytes, BytesMut};

use super::super::chunked::ChunkedDecoder;
use super::super::codec::Framing;
use super::{BodyError, H1Conn, MAX_KEPT, READ_BUF};
use crate::protocol::http::exchange::HopRequest;
use crate::protocol::http::types::{HttpError, HttpResponse};

/// Where a streamed body stands.
pub(in crate::protocol::http) struct H1BodyReader {
    framing: Framing,
    /// `Length` framing: bytes still to come.
    left: u64,
    chunked: Option<ChunkedDecoder>,
    done: bool,
    /// The response allows another request on the connection.
    keep_alive: bool,
    want: usize,
    grown: bool,
}

impl H1BodyReader {
    pub(in crate::protocol::http) fn is_done(&self) -> bool {
        self.done
    }
}

impl H1Conn {
    /// Sends the request and reads the response head into `hop` (every
    /// header when `req.keep_headers`); the body is left for
    /// [`H1Conn::next_chunk`].
    pub(in crate::protocol::http) async fn start_stream(
        &mut self,
        req: &HopRequest<'_>,
        hop: &mut HttpResponse,
    ) -> Result<H1BodyReader, HttpError> {
        let (framing, keep_alive) = self.send_and_read_head(req, hop).await?;
        Ok(H1BodyReader {
            framing,
            left: match framing {
                Framing::Length(n) => n,
                _ => 0,
            },
            chunked: (framing == Framing::Chunked).then(ChunkedDecoder::new),
            done: matches!(framing, Framing::Empty | Framing::Length(0)),
            keep_alive,
            want: READ_BUF,
            grown: self.read_buf.capacity() > MAX_KEPT,
        })
    }

    /// The next piece of the body as it arrived (body bytes only, chunk
    /// framing removed); `None` once the body is complete.
    pub(in crate::protocol::http) async fn next_chunk(
        &mut self,
        body: &mut H1BodyReader,
    ) -> Result<Option<Bytes>, HttpError> {
        loop {
            if body.done {
                return Ok(None);
            }
            match body.framing {
                Framing::Empty => body.done = true,
                Framing::Length(_) => {
                    let take = body.left.min(self.read_buf.len() as u64) as usize;
                    if take > 0 {
                        body.left -= take as u64;
                        body.done = body.left == 0;
                        return Ok(Some(self.read_buf.split_to(take).freeze()));
                    }
                }
                Framing::Chunked => {
                    let decoder = body.chunked.get_or_insert_with(ChunkedDecoder::new);
                    let mut data = BytesMut::new();
                    let used = decoder
                        .decode(&self.read_buf, &mut |part: &[u8]| {
                            data.extend_from_slice(part)
                        })
                        .map_err(|err| BodyError::Framing(err.to_string()).into_http())?;
                    self.read_buf.advance(used);
                    body.done = decoder.is_done();
                    if !data.is_empty() {
                        return Ok(Some(data.freeze()));
                    }
                }
                Framing::Eof => {
                    if !self.read_buf.is_empty() {
                        return Ok(Some(self.read_buf.split().freeze()));
                    }
                }
            }
            if body.done {
                return Ok(None);
            }
            match self.fill_body(&mut body.want, false, &mut body.grown).await {
                Ok(()) => {}
                Err(BodyError::Closed) if body.framing == Framing::Eof => body.done = true,
                Err(BodyError::Io(err))
                    if body.framing == Framing::Eof
                        && err.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    body.done = true
                }
                Err(err) => return Err(err.into_http()),
            }
        }
    }

    /// Whether the connection may go back to the pool after this stream:
    /// the body was read to its end and nothing follows it. Gives back a
    /// read buffer that grew.
    pub(in crate::protocol::http) fn finish_stream(&mut self, body: &H1BodyReader) -> bool {
        let reusable = body.done && body.keep_alive && self.read_buf.is_empty();
        if reusable && self.read_buf.capacity() > MAX_KEPT {
            self.read_buf = BytesMut::with_capacity(READ_BUF);
        }
        reusable
    }
}
