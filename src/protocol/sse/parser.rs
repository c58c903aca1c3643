//! The event-stream interpretation of the WHATWG HTML standard (§9.2.6),
//! fed chunk by chunk: lines end with CRLF, LF or CR (a CR at the end of one
//! chunk and an LF at the start of the next are one line ending), a leading
//! BOM is dropped, `:` lines are comments, `data` lines join with LF, `id`
//! persists across events, `retry` takes only digits, and an event whose
//! data is empty is not dispatched. An event cut off by the end of the
//! stream is discarded, as the standard says.
//!
//! Two departures, both to make a load test report a broken server rather
//! than quietly absorb it: a line or an event larger than a bound is an
//! error (the standard has no bound; unbounded buffering would let one bad
//! stream exhaust memory), and invalid UTF-8 is an error (the standard
//! decodes it to U+FFFD).

use std::fmt;

/// Default bound on one line and on one event's data.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 4 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field, `message` when the event set none.
    pub event: String,
    /// The `data` lines joined with `\n`.
    pub data: String,
    /// The last event ID at dispatch (set by this or an earlier event; empty when none).
    pub id: String,
}

/// Why a stream cannot be read further.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseParseError {
    #[error("event-stream line longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("event data larger than {limit} bytes")]
    EventTooLarge { limit: usize },
    #[error("event stream is not valid UTF-8")]
    InvalidUtf8,
}

/// Incremental event-stream parser. Feed it chunks as they arrive; it keeps
/// the unfinished line and the event being built between calls.
pub struct EventStreamParser {
    max_bytes: usize,
    /// Bytes of the current, unfinished line.
    line: Vec<u8>,
    /// Still looking at the first bytes for a BOM (it may span chunks).
    at_start: bool,
    /// The previous chunk ended in CR: an LF starting the next one is part
    /// of the same line ending.
    after_cr: bool,
    event_type: String,
    data: String,
    /// Whether any `data` field was seen for the pending event.
    has_data: bool,
    last_id: String,
    retry_ms: Option<u64>,
    comments: u64,
    failed: Option<SseParseError>,
}

impl fmt::Debug for EventStreamParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStreamParser")
            .field("pending_line", &self.line.len())
            .field("last_id", &self.last_id)
            .field("retry_ms", &self.retry_ms)
            .finish_non_exhaustive()
    }
}

impl Default for EventStreamParser {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl EventStreamParser {
    /// A parser that refuses lines and events larger than `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        EventStreamParser {
            max_bytes: max_bytes.max(1),
            line: Vec::new(),
            at_start: true,
            after_cr: false,
            event_type: String::new(),
            data: String::new(),
            has_data: false,
            last_id: String::new(),
            retry_ms: None,
            comments: 0,
            failed: None,
        }
    }

    /// The reconnection time the stream asked for (`retry:`), if any.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// The last event ID buffer (what a reconnect would send as `Last-Event-ID`).
    pub fn last_event_id(&self) -> &str {
        &self.last_id
    }

    /// Comment lines seen (keep-alives).
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// Parses `chunk`, appending every event it completes to `out`. After an
    /// error the parser stays failed and returns the same error.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseParseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.feed_inner(chunk, out);
        if let Err(err) = &result {
            self.failed = Some(err.clone());
        }
        result
    }

    fn feed_inner(
        &mut self,
        mut chunk: &[u8],
        out: &mut Vec<SseEvent>,
    ) -> Result<(), SseParseError> {
        if self.at_start {
            chunk = self.skip_bom(chunk);
            if self.at_start {
                return Ok(());
            }
        }
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.append_line(&chunk[..end])?;
            let line = std::mem::take(&mut self.line);
            let processed = self.process_line(&line, out);
            self.line = line;
            self.line.clear();
            processed?;
            let crlf = chunk[end] == b'\r';
            chunk = &chunk[end + 1..];
            if crlf {
                match chunk.first() {
                    Some(b'\n') => chunk = &chunk[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.append_line(chunk)
    }

    /// Consumes a leading BOM, which may arrive a byte at a time; leaves
    /// `at_start` set while the bytes seen so far could still be one.
    fn skip_bom<'c>(&mut self, chunk: &'c [u8]) -> &'c [u8] {
        // `line` holds the BOM bytes seen so far while at the start.
        let seen = self.line.len();
        let need = BOM.len() - seen;
        let take = need.min(chunk.len());
        if chunk[..take] == BOM[seen..seen + take] {
            if take == need {
                self.line.clear();
                self.at_start = false;
                return &chunk[take..];
            }
            self.line.extend_from_slice(&chunk[..take]);
            return &chunk[take..];
        }
        // Not a BOM: the bytes held back are the start of the first line.
        self.at_start = false;
        chunk
    }

    fn append_line(&mut self, bytes: &[u8]) -> Result<(), SseParseError> {
        if self.line.len() + bytes.len() > self.max_bytes {
            return Err(SseParseError::LineTooLong {
                limit: self.max_bytes,
            });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseParseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            self.comments += 1;
            return Ok(());
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = std::str::from_utf8(value).map_err(|_| SseParseError::InvalidUtf8)?;
        match name {
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            b"data" => {
                if self.data.len() + value.len() + 1 > self.max_bytes {
                    return Err(SseParseError::EventTooLarge {
                        limit: self.max_bytes,
                    });
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            b"id" => {
                if !value.contains('\0') {
                    self.last_id.clear();
                    self.last_id.push_str(value);
                }
            }
            b"retry" => {
                if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                    // More digits than fit are still a (very long) delay.
                    self.retry_ms = Some(value.parse().unwrap_or(u64::MAX));
                }
            }
            _ => {
                // Unknown field names are ignored, but must be text too.
                std::str::from_utf8(name).map_err(|_| SseParseError::InvalidUtf8)?;
            }
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if !self.has_data {
            // No data: nothing is dispatched and the event type is reset.
            self.event_type.clear();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the LF after the last data line
        let event = if self.event_type.is_empty() {
            "message".to_string()
        } else {
            std::mem::take(&mut self.event_type)
        };
        self.event_type.clear();
        self.has_data = false;
        out.push(SseEvent {
            event,
            data,
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
