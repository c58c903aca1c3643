//! Incremental decoder for `Transfer-Encoding: chunked` response bodies:
//! fed whatever bytes have arrived, it hands out chunk data and remembers
//! where it stopped. Extensions and trailers are read and dropped.

/// Trailers are skipped, but not without bound.
const MAX_TRAILER_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Hex digits of a chunk size; `digits` counts them.
    Size {
        size: u64,
        digits: u8,
    },
    /// Whitespace after the size, before `;`, or CR.
    SizeSpace {
        size: u64,
    },
    /// A chunk extension, skipped up to CR.
    Extension {
        size: u64,
    },
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    TrailerLine,
    TrailerLf,
    EndLf,
    Done,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(super) enum ChunkError {
    #[error("invalid chunk size line")]
    Size,
    #[error("chunk data not followed by CRLF")]
    DataEnd,
    #[error("chunk trailers larger than 64 KiB")]
    TrailerTooLarge,
    #[error("invalid chunk trailer line")]
    Trailer,
}

#[derive(Debug)]
pub(super) struct ChunkedDecoder {
    state: State,
    trailer_bytes: usize,
}

impl ChunkedDecoder {
    pub(super) fn new() -> Self {
        ChunkedDecoder {
            state: State::Size { size: 0, digits: 0 },
            trailer_bytes: 0,
        }
    }

    pub(super) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes from `input` up to the end of the body, passing chunk data to
    /// `data`; returns how many bytes of `input` were consumed.
    pub(super) fn decode(
        &mut self,
        input: &[u8],
        data: &mut impl FnMut(&[u8]),
    ) -> Result<usize, ChunkError> {
        let mut i = 0;
        while i < input.len() && self.state != State::Done {
            if let State::Data { left } = self.state {
                let take = (input.len() - i).min(usize::try_from(left).unwrap_or(usize::MAX));
                data(&input[i..i + take]);
                i += take;
                let left = left - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data { left }
                };
                continue;
            }
            self.state = self.step(input[i])?;
            i += 1;
        }
        Ok(i)
    }

    /// One byte of framing (everything but chunk data).
    fn step(&mut self, byte: u8) -> Result<State, ChunkError> {
        Ok(match self.state {
            State::Size { size, digits } => match hex(byte) {
                // 16 hex digits fill a u64; more would overflow.
                Some(_) if digits >= 16 => return Err(ChunkError::Size),
                Some(v) => State::Size {
                    size: size << 4 | v,
                    digits: digits + 1,
                },
                None if digits == 0 => return Err(ChunkError::Size),
                None => after_size(size, byte)?,
            },
            State::SizeSpace { size } => after_size(size, byte)?,
            State::Extension { size } => match byte {
                b'\r' => State::SizeLf { size },
                b'\n' => return Err(ChunkError::Size),
                _ => State::Extension { size },
            },
            State::SizeLf { size } => match byte {
                b'\n' if size == 0 => State::TrailerStart,
                b'\n' => State::Data { left: size },
                _ => return Err(ChunkError::Size),
            },
            State::DataCr => match byte {
                b'\r' => State::DataLf,
                _ => return Err(ChunkError::DataEnd),
            },
            State::DataLf => match byte {
                b'\n' => State::Size { size: 0, digits: 0 },
                _ => return Err(ChunkError::DataEnd),
            },
            State::TrailerStart => match byte {
                b'\r' => State::EndLf,
                _ => self.trailer_byte(State::TrailerLine)?,
            },
            State::TrailerLine => match byte {
                b'\r' => State::TrailerLf,
                _ => self.trailer_byte(State::TrailerLine)?,
            },
            State::TrailerLf => match byte {
                b'\n' => State::TrailerStart,
                _ => return Err(ChunkError::Trailer),
            },
            State::EndLf => match byte {
                b'\n' => State::Done,
                _ => return Err(ChunkError::Trailer),
            },
            // Handled by the caller.
            State::Data { .. } | State::Done => self.state,
        })
    }

    fn trailer_byte(&mut self, next: State) -> Result<State, ChunkError> {
        self.trailer_bytes += 1;
        if self.trailer_bytes > MAX_TRAILER_BYTES {
            return Err(ChunkError::TrailerTooLarge);
        }
        Ok(next)
    }
}

/// After the size digits: optional whitespace, then an extension or CR.
fn after_size(size: u64, byte: u8) -> Result<State, ChunkError> {
    match byte {
        b' ' | b'\t' => Ok(State::SizeSpace { size }),
        b';' => Ok(State::Extension { size }),
        b'\r' => Ok(State::SizeLf { size }),
        _ => Err(ChunkError::Size),
    }
}

fn hex(byte: u8) -> Option<u64> {
    (byte as char).to_digit(16).map(u64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `wire` fed in pieces of `step` bytes; returns the data and
    /// the bytes consumed.
    fn run(wire: &[u8], step: usize) -> Result<(Vec<u8>, usize), ChunkError> {
        let mut decoder = ChunkedDecoder::new();
        let mut out = Vec::new();
        let mut used = 0;
        for piece in wire.chunks(step) {
            let n = decoder.decode(piece, &mut |d: &[u8]| out.extend_from_slice(d))?;
            used += n;
            if decoder.is_done() {
                break;
            }
        }
        assert!(decoder.is_done());
        Ok((out, used))
    }

    #[test]
    fn decodes_in_any_split_with_extensions_and_trailers() {
        let wire = b"5;name=val\r\nhello\r\n6 \r\n world\r\nA\r\n0123456789\r\n\
                     0\r\nx-trailer: 1\r\nother: 2\r\n\r\nNEXT";
        for step in [1, 2, 3, 7, wire.len()] {
            let (out, used) = run(wire, step).unwrap();
            assert_eq!(out, b"hello world0123456789", "step {step}");
            assert_eq!(used, wire.len() - 4, "step {step}");
        }
    }

    #[test]
    fn rejects_bad_framing() {
        assert_eq!(run(b"zz\r\n", 100), Err(ChunkError::Size));
        assert_eq!(run(b"3\r\nabcX", 100), Err(ChunkError::DataEnd));
        assert_eq!(run(b"11111111111111111\r\n", 100), Err(ChunkError::Size));
        assert_eq!(run(b"0\r\nbad\rX", 100), Err(ChunkError::Trailer));
    }
}
