//! The `sse` step: open the stream, read events as they arrive and end on
//! the sentinel, the server's close, `max_events`, `hold` or `timeout`.
//! The exchange is recorded like a request (so status, bytes and the error
//! code land in `http_req_*`, `data_*` and the ERRORS table), plus the
//! stream metrics; then checks and extractions run on the events.

use std::time::{Duration, Instant};

use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};

use super::in_flight::InFlight;
use super::scope::VuScope;
use super::vu::{IterationError, Vu};
use crate::metrics::{HttpSample, Recorder, TagSetId, builtin};
use crate::protocol::http::{ErrorCode, HttpStream};
use crate::protocol::sse::{EventStreamParser, SseEvent};
use crate::scenario::{EventPick, ResponseView, SseCondition, SseStep};

/// `error_code` values of streams that failed after their head.
pub mod codes {
    /// The connection dropped before the stream ended.
    pub const RESET: &str = "sse_reset";
    /// The stream did not end within its `timeout`.
    pub const TIMEOUT: &str = "sse_timeout";
    /// The bytes are not a readable event stream (framing, size bounds, UTF-8, compression).
    pub const MALFORMED: &str = "sse_malformed";
    /// A 2xx answer that is not `text/event-stream`.
    pub const CONTENT_TYPE: &str = "sse_content_type";
    /// Every code above, for validating the `error_code` a condition names.
    pub const ALL: [&str; 4] = [RESET, TIMEOUT, MALFORMED, CONTENT_TYPE];
}

/// What reading one stream produced.
#[derive(Default)]
struct StreamRead {
    /// The head announced an event stream and it was read.
    opened: bool,
    /// Counted events (the sentinel is not one).
    events: u64,
    last: Option<SseEvent>,
    /// Per check: whether some event satisfied it (`on: any` data checks).
    any_hits: Vec<bool>,
    /// Per extraction: the first value found (`on: any`).
    any_values: Vec<Option<String>>,
    /// (error_code, message) when the stream failed after its head.
    error: Option<(&'static str, String)>,
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Vu {
    pub async fn sse(&mut self, step: &SseStep) -> Result<(), IterationError> {
        let mut request = self.render(&step.request)?;
        if !request.headers.contains_key(ACCEPT) {
            request
                .headers
                .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        }
        self.ctx.http_debug.request(&request);
        self.requests_in_iteration += 1;
        let started = Instant::now();
        let in_flight = InFlight::new(&self.ctx.recorder, step.request.tag_set);
        let (response, read) = {
            let mut stream = self.client.open_stream(request).await;
            let reader = EventReader {
                step,
                recorder: &self.ctx.recorder,
                scope: &self.scope,
                tags: step.request.tag_set,
                started,
            };
            let read = reader.read(&mut stream).await;
            (stream.finish(), read)
        };
        in_flight.done();
        self.ctx.http_debug.stream_response(&response);
        let recorder = &self.ctx.recorder;
        let tags = step.request.tag_set;
        if read.opened {
            recorder.trend(builtin::SSE_EVENTS_PER_STREAM, tags, read.events as f64);
            recorder.trend(
                builtin::SSE_STREAM_DURATION,
                tags,
                millis(started.elapsed()),
            );
        }
        let error_code = match &read.error {
            Some((code, message)) => {
                tracing::debug!(name = %step.request.name, code, message, "stream failed");
                Some(*code)
            }
            None => response.error.as_ref().map(|e| e.code.as_str()),
        };
        recorder.record_http(&HttpSample {
            tags,
            status: response.status,
            expected: error_code.is_none()
                && step.request.expected_statuses.contains(response.status),
            error_code,
            proto: super::request::proto_tag(&response),
            timings: response.timings,
            bytes_sent: response.bytes_sent,
            bytes_received: response.bytes_received,
        });

        let no_headers = HeaderMap::new();
        let (status, duration) = (response.status, response.timings.duration);
        for (i, check) in step.checks.iter().enumerate() {
            let passed = match &check.condition {
                SseCondition::Status(set) => set.contains(response.status),
                SseCondition::ErrorCode(code) => error_code == Some(code.as_str()),
                SseCondition::Events(op, n) => op.holds(read.events, *n),
                SseCondition::Data(EventPick::Last, condition) => {
                    read.last.as_ref().is_some_and(|e| {
                        condition
                            .evaluate(&data_view(status, &no_headers, e, duration), &self.scope)
                    })
                }
                SseCondition::Data(EventPick::Any, _) => read.any_hits[i],
            };
            recorder.rate(builtin::CHECKS, check.tag_set, passed);
        }
        let values: Vec<_> = step
            .extract
            .iter()
            .enumerate()
            .map(|(i, e)| match e.pick {
                EventPick::Last => read.last.as_ref().and_then(|ev| {
                    e.source
                        .extract(&data_view(status, &no_headers, ev, duration))
                }),
                EventPick::Any => read.any_values[i].clone(),
            })
            .collect();
        for (e, value) in step.extract.iter().zip(values) {
            self.scope.set_var(e.slot, value);
        }
        Ok(())
    }
}

/// Reads one stream's events, recording event metrics as they arrive.
struct EventReader<'a> {
    step: &'a SseStep,
    recorder: &'a Recorder,
    scope: &'a VuScope,
    tags: TagSetId,
    started: Instant,
}

impl EventReader<'_> {
    async fn read(&self, stream: &mut HttpStream<'_>) -> StreamRead {
        let mut read = StreamRead {
            any_hits: vec![false; self.step.checks.len()],
            any_values: vec![None; self.step.extract.len()],
            ..StreamRead::default()
        };
        let head = stream.response();
        if head.error.is_some() || !(200..300).contains(&head.status) || head.status == 204 {
            // Not a stream: the exchange is recorded as the request it was.
            return read;
        }
        if let Some(problem) = not_an_event_stream(&head.headers) {
            read.error = Some(problem);
            return read;
        }
        read.opened = true;
        let hold_end = self
            .step
            .hold
            .map(|hold| tokio::time::Instant::from_std(self.started) + hold);
        let mut parser = EventStreamParser::new(self.step.max_event_bytes);
        let mut events = Vec::new();
        let mut last_at: Option<Instant> = None;
        loop {
            let chunk = match hold_end {
                // Checked first: `timeout_at` polls the read before its
                // timer, and a flooding server keeps the read ready.
                Some(end) if tokio::time::Instant::now() >= end => return read,
                Some(end) => match tokio::time::timeout_at(end, stream.next_chunk()).await {
                    Ok(chunk) => chunk,
                    Err(_held_long_enough) => return read,
                },
                None => stream.next_chunk().await,
            };
            // A server that sends faster than events are parsed keeps every
            // read ready: give the runtime its turn (the hard stop, the other
            // VUs on this thread) once this task's budget is spent.
            tokio::task::consume_budget().await;
            let now = Instant::now();
            let bytes = match chunk {
                // The server ended the stream; an unfinished event is dropped.
                Ok(None) => return read,
                Ok(Some(bytes)) => bytes,
                Err(error) => {
                    let code = match error.code {
                        ErrorCode::Timeout => codes::TIMEOUT,
                        ErrorCode::Body | ErrorCode::Protocol => codes::MALFORMED,
                        _ => codes::RESET,
                    };
                    read.error = Some((code, error.message));
                    return read;
                }
            };
            if let Err(error) = parser.feed(&bytes, &mut events) {
                read.error = Some((codes::MALFORMED, error.to_string()));
                return read;
            }
            for event in events.drain(..) {
                if self.is_end(&event) {
                    return read;
                }
                read.events += 1;
                self.recorder.add(builtin::SSE_EVENTS, self.tags, 1.0);
                match last_at {
                    None => self.recorder.trend(
                        builtin::SSE_TIME_TO_FIRST_EVENT,
                        self.tags,
                        millis(now - self.started),
                    ),
                    Some(previous) => self.recorder.trend(
                        builtin::SSE_EVENT_GAP,
                        self.tags,
                        millis(now - previous),
                    ),
                }
                last_at = Some(now);
                self.look_at_any(&event, &mut read);
                read.last = Some(event);
                if self.step.max_events.is_some_and(|max| read.events >= max) {
                    return read;
                }
            }
        }
    }

    fn is_end(&self, event: &SseEvent) -> bool {
        self.step.until_data.as_deref() == Some(event.data.as_str())
            || self.step.until_event.as_deref() == Some(event.event.as_str())
    }

    /// `on: any` checks and extractions see every counted event.
    fn look_at_any(&self, event: &SseEvent, read: &mut StreamRead) {
        if !self.step.reads_any_event() {
            return;
        }
        let headers = HeaderMap::new();
        let view = data_view(200, &headers, event, Duration::ZERO);
        for (i, check) in self.step.checks.iter().enumerate() {
            if let SseCondition::Data(EventPick::Any, condition) = &check.condition
                && !read.any_hits[i]
            {
                read.any_hits[i] = condition.evaluate(&view, self.scope);
            }
        }
        for (i, e) in self.step.extract.iter().enumerate() {
            if e.pick == EventPick::Any && read.any_values[i].is_none() {
                read.any_values[i] = e.source.extract(&view);
            }
        }
    }
}

/// An event's data as the body conditions and extractors read it.
fn data_view<'a>(
    status: u16,
    headers: &'a HeaderMap,
    event: &'a SseEvent,
    duration: Duration,
) -> ResponseView<'a> {
    ResponseView::new(status, headers, event.data.as_bytes(), duration)
}

/// Why a 2xx head does not start a readable event stream, if it does not.
fn not_an_event_stream(headers: &HeaderMap) -> Option<(&'static str, String)> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("text/event-stream") {
        return Some((
            codes::CONTENT_TYPE,
            format!("content-type is {content_type:?}, not text/event-stream"),
        ));
    }
    let encoding = headers
        .get(CONTENT_ENCODING)
        .map(|v| v.as_bytes().trim_ascii());
    if encoding.is_some_and(|e| !e.is_empty() && !e.eq_ignore_ascii_case(b"identity")) {
        return Some((
            codes::MALFORMED,
            "compressed event streams are not supported".to_string(),
        ));
    }
    None
}
