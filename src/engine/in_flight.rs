//! Requests, streams and sessions still in flight when the run's hard stop
//! (or a ramp-down's grace) abandons the iteration. The step's future is
//! dropped, not finished, so without this they left no trace: a target that
//! never answers would show no requests and no errors at all. A guard made
//! before the exchange and disarmed after it records, when dropped armed, a
//! failed `http_reqs` sample with `error_code=interrupted`.

use std::time::Instant;

use crate::metrics::{HttpSample, Recorder, TagSetId};
use crate::protocol::http::Timings;

/// The `error_code` of an exchange cut off by the hard stop.
pub const INTERRUPTED: &str = "interrupted";

/// Records an interrupted sample for `tags` if dropped before [`InFlight::done`].
pub(super) struct InFlight<'a> {
    recorder: &'a Recorder,
    tags: TagSetId,
    started: Instant,
    armed: bool,
}

impl<'a> InFlight<'a> {
    pub(super) fn new(recorder: &'a Recorder, tags: TagSetId) -> Self {
        Self::started_at(recorder, tags, Instant::now())
    }

    /// A guard for an exchange that started at `started` (the instant the
    /// request itself is timed from).
    pub(super) fn started_at(recorder: &'a Recorder, tags: TagSetId, started: Instant) -> Self {
        InFlight {
            recorder,
            tags,
            started,
            armed: true,
        }
    }

    /// The exchange ended on its own and was (or will be) recorded.
    pub(super) fn done(mut self) {
        self.armed = false;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // How far it got is unknown (phases, bytes, status): the duration
        // is the time it had been in flight, every phase zero, status 0.
        let timings = Timings {
            duration: self.started.elapsed(),
            ..Timings::default()
        };
        self.recorder.record_http(&HttpSample {
            tags: self.tags,
            status: 0,
            expected: false,
            error_code: Some(INTERRUPTED),
            proto: None,
            timings,
            bytes_sent: 0,
            bytes_received: 0,
        });
    }
}
