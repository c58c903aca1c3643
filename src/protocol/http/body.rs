//! Response body assembly and decoding.

use std::io::Read;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

use super::config::RATIO_FLOOR;

/// A response body assembled from its pieces; avoids a copy when the body
/// arrives in one piece (the common small-JSON case).
pub(super) enum Collector {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Collector {
    pub(super) fn push(&mut self, data: Bytes, size_hint: Option<u64>) {
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

    pub(super) fn finish(self) -> Bytes {
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
    #[error("{encoding} body inflates past {limit} bytes (max_body_size)")]
    TooLarge { encoding: &'static str, limit: u64 },
    #[error(
        "{encoding} body inflates more than {ratio} times its {compressed} bytes (max_decompression_ratio)"
    )]
    Ratio {
        encoding: &'static str,
        ratio: u64,
        compressed: u64,
    },
}

/// How far a kept body may inflate.
#[derive(Clone, Copy, Debug)]
pub(super) struct InflateLimits {
    /// Largest decompressed body (the request's `max_body_size`).
    pub max_size: u64,
    /// Largest decompressed / compressed ratio, checked past [`RATIO_FLOOR`].
    pub max_ratio: u64,
}

/// Decodes `gzip`/`x-gzip` and `deflate` bodies; other encodings (which the
/// client does not ask for unless the request sets `accept-encoding` itself)
/// are returned as received. Headers are left as the server sent them.
/// Inflation stops as soon as `limits` are passed, so a gzip bomb costs a
/// few megabytes and a few milliseconds.
pub(super) fn decode(
    headers: &HeaderMap,
    body: Bytes,
    limits: InflateLimits,
) -> Result<Bytes, DecodeError> {
    let Some(encoding) = headers.get(CONTENT_ENCODING) else {
        return Ok(body);
    };
    let encoding = encoding.as_bytes().trim_ascii();
    if body.is_empty() {
        return Ok(body);
    }
    if encoding.eq_ignore_ascii_case(b"gzip") || encoding.eq_ignore_ascii_case(b"x-gzip") {
        inflate(
            flate2::read::MultiGzDecoder::new(&body[..]),
            "gzip",
            &body,
            limits,
        )
    } else if encoding.eq_ignore_ascii_case(b"deflate") {
        // RFC 9110 says zlib-wrapped; some servers send raw deflate.
        match inflate(
            flate2::read::ZlibDecoder::new(&body[..]),
            "deflate",
            &body,
            limits,
        ) {
            Err(DecodeError::Corrupt { .. }) => inflate(
                flate2::read::DeflateDecoder::new(&body[..]),
                "deflate",
                &body,
                limits,
            ),
            other => other,
        }
    } else {
        Ok(body)
    }
}

/// Reads `decoder` in pieces, checking the limits after each.
fn inflate(
    mut decoder: impl Read,
    encoding: &'static str,
    compressed: &[u8],
    limits: InflateLimits,
) -> Result<Bytes, DecodeError> {
    const PIECE: usize = 64 * 1024;
    let compressed_len = compressed.len() as u64;
    let ratio_cap = compressed_len
        .saturating_mul(limits.max_ratio)
        .max(RATIO_FLOOR);
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(PIECE * 16));
    loop {
        let start = out.len();
        out.resize(start + PIECE, 0);
        // The decoder reads from memory: no error is transient (not even
        // `Interrupted`), so every one means a corrupt body.
        let n = match decoder.read(&mut out[start..]) {
            Ok(n) => n,
            Err(source) => return Err(DecodeError::Corrupt { encoding, source }),
        };
        out.truncate(start + n);
        if n == 0 {
            return Ok(Bytes::from(out));
        }
        let len = out.len() as u64;
        if len > limits.max_size {
            return Err(DecodeError::TooLarge {
                encoding,
                limit: limits.max_size,
            });
        }
        if len > ratio_cap {
            return Err(DecodeError::Ratio {
                encoding,
                ratio: limits.max_ratio,
                compressed: compressed_len,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const LIMITS: InflateLimits = InflateLimits {
        max_size: 10 << 20,
        max_ratio: 100,
    };

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    }

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
        assert_eq!(
            &decode(&headers("gzip"), gz.into(), LIMITS).unwrap()[..],
            text
        );

        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(text).unwrap();
        let zlib = zlib.finish().unwrap();
        assert_eq!(
            &decode(&headers("deflate"), zlib.into(), LIMITS).unwrap()[..],
            text
        );

        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(text).unwrap();
        let raw = raw.finish().unwrap();
        assert_eq!(
            &decode(&headers("deflate"), raw.into(), LIMITS).unwrap()[..],
            text
        );
    }

    #[test]
    fn corrupt_gzip_is_an_error_and_unknown_encoding_passes_through() {
        let err = decode(&headers("gzip"), Bytes::from_static(b"not gzip"), LIMITS).unwrap_err();
        assert!(err.to_string().starts_with("invalid gzip body"), "{err}");
        let br = decode(&headers("br"), Bytes::from_static(b"xyz"), LIMITS).unwrap();
        assert_eq!(&br[..], b"xyz");
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_ratio_and_a_large_body_at_the_size() {
        // 64 MiB of zeros compress to about 64 KiB: a ratio of ~1,000.
        let bomb = gzip(&vec![0u8; 64 << 20]);
        let err = decode(&headers("gzip"), bomb.clone().into(), LIMITS).unwrap_err();
        assert!(
            matches!(err, DecodeError::Ratio { ratio: 100, .. }),
            "{err}"
        );
        let lax = InflateLimits {
            max_size: 2 << 20,
            max_ratio: 10_000,
        };
        let err = decode(&headers("gzip"), bomb.into(), lax).unwrap_err();
        assert!(
            matches!(err, DecodeError::TooLarge { limit: 2097152, .. }),
            "{err}"
        );
        // Under the floor, a high ratio is fine: 512 KiB of zeros.
        let small = gzip(&vec![0u8; 512 << 10]);
        let body = decode(&headers("gzip"), small.into(), LIMITS).unwrap();
        assert_eq!(body.len(), 512 << 10);
    }
}
