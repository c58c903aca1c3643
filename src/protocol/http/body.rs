//! Request body (one `Bytes`, optionally stamping when HTTP/2 takes it) and
//! response body assembly and decoding.

use std::convert::Infallible;
use std::io::Read;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};

/// A request body held in memory. Over HTTP/2 the connection task pulls the
/// body after the head, so `taken` records when it did: the end of `sending`.
#[derive(Debug)]
pub(super) struct RequestBody {
    data: Option<Bytes>,
    taken: Option<Arc<OnceLock<Instant>>>,
}

impl RequestBody {
    pub(super) fn new(data: Bytes, taken: Option<Arc<OnceLock<Instant>>>) -> Self {
        RequestBody {
            data: (!data.is_empty()).then_some(data),
            taken,
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = self.data.take().map(|data| Ok(Frame::data(data)));
        if frame.is_some()
            && let Some(taken) = &self.taken
        {
            let _ = taken.set(Instant::now());
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

/// Reads a response body to the end. Returns the body as received (kept only
/// when `keep` is set) and its size on the wire before decoding.
pub(super) async fn read_body(
    body: &mut hyper::body::Incoming,
    keep: bool,
    size_hint: Option<u64>,
) -> Result<(Bytes, u64), hyper::Error> {
    let mut collected = Collector::Empty;
    let mut wire_len = 0u64;
    while let Some(frame) = body.frame().await {
        // Trailers carry no body bytes; they are skipped like k6 skips them.
        if let Ok(data) = frame?.into_data() {
            wire_len += data.len() as u64;
            if keep {
                collected.push(data, size_hint);
            }
        }
    }
    Ok((collected.finish(), wire_len))
}

/// Avoids a copy when the body arrives in one chunk (the common small-JSON case).
enum Collector {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Collector {
    fn push(&mut self, data: Bytes, size_hint: Option<u64>) {
        *self = match std::mem::replace(self, Collector::Empty) {
            Collector::Empty => Collector::One(data),
            Collector::One(first) => {
                // Cap the hint: a lying content-length must not reserve gigabytes.
                let hint = size_hint.unwrap_or(0).min(64 << 20) as usize;
                let mut buf = BytesMut::with_capacity(hint.max(first.len() + data.len()));
                buf.extend_from_slice(&first);
                buf.extend_from_slice(&data);
                Collector::Many(buf)
            }
            Collector::Many(mut buf) => {
                buf.extend_from_slice(&data);
                Collector::Many(buf)
            }
        }
    }

    fn finish(self) -> Bytes {
        match self {
            Collector::Empty => Bytes::new(),
            Collector::One(data) => data,
            Collector::Many(buf) => buf.freeze(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(super) enum DecodeError {
    #[error("invalid {encoding} body: {source}")]
    Corrupt {
        encoding: &'static str,
        source: std::io::Error,
    },
}

/// Decodes `gzip`/`x-gzip` and `deflate` bodies; other encodings (which the
/// client does not ask for unless the request sets `accept-encoding` itself)
/// are returned as received. Headers are left as the server sent them.
pub(super) fn decode(headers: &HeaderMap, body: Bytes) -> Result<Bytes, DecodeError> {
    let Some(encoding) = headers.get(CONTENT_ENCODING) else {
        return Ok(body);
    };
    let encoding = encoding.as_bytes().trim_ascii();
    if body.is_empty() {
        return Ok(body);
    }
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(64 << 20));
    if encoding.eq_ignore_ascii_case(b"gzip") || encoding.eq_ignore_ascii_case(b"x-gzip") {
        flate2::read::MultiGzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .map_err(|source| DecodeError::Corrupt {
                encoding: "gzip",
                source,
            })?;
    } else if encoding.eq_ignore_ascii_case(b"deflate") {
        // RFC 9110 says zlib-wrapped; some servers send raw deflate.
        if flate2::read::ZlibDecoder::new(&body[..])
            .read_to_end(&mut out)
            .is_err()
        {
            out.clear();
            flate2::read::DeflateDecoder::new(&body[..])
                .read_to_end(&mut out)
                .map_err(|source| DecodeError::Corrupt {
                    encoding: "deflate",
                    source,
                })?;
        }
    } else {
        return Ok(body);
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn headers(encoding: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(CONTENT_ENCODING, encoding.parse().unwrap());
        map
    }

    #[test]
    fn decodes_gzip_zlib_and_raw_deflate() {
        let text = b"hello hello hello hello";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(&decode(&headers("gzip"), gz.into()).unwrap()[..], text);

        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(text).unwrap();
        let zlib = zlib.finish().unwrap();
        assert_eq!(&decode(&headers("deflate"), zlib.into()).unwrap()[..], text);

        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(text).unwrap();
        let raw = raw.finish().unwrap();
        assert_eq!(&decode(&headers("deflate"), raw.into()).unwrap()[..], text);
    }

    #[test]
    fn corrupt_gzip_is_an_error_and_unknown_encoding_passes_through() {
        let err = decode(&headers("gzip"), Bytes::from_static(b"not gzip")).unwrap_err();
        assert!(err.to_string().starts_with("invalid gzip body"), "{err}");
        let br = decode(&headers("br"), Bytes::from_static(b"xyz")).unwrap();
        assert_eq!(&br[..], b"xyz");
    }
}
