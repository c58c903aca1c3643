//! Phase boundaries of one hop, recorded as the exchange progresses so that a
//! timeout can still report how far it got.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::io::ConnStats;
use super::types::Timings;

#[derive(Debug)]
pub(super) struct HopClock {
    start: Instant,
    connect: Option<(Instant, Option<Instant>)>,
    tls: Option<(Instant, Option<Instant>)>,
    /// Connection in hand; the request starts being sent.
    acquired: Option<Instant>,
    end: Option<Instant>,
    wire: Option<Wire>,
}

/// Where the send/first-byte instants and byte counts come from.
#[derive(Debug)]
struct Wire {
    stats: Arc<ConnStats>,
    base_read: u64,
    base_written: u64,
    kind: WireKind,
}

#[derive(Debug)]
enum WireKind {
    /// One request at a time: the connection's counters and IO instants are
    /// this exchange's.
    Http1,
    /// Streams share the connection. Instants come from the request side:
    /// sent when the whole body was handed to h2 (at once for a head-only
    /// request), first byte when the response head arrived.
    Http2 {
        sent_at: Option<Instant>,
        head_at: Option<Instant>,
        /// No other stream was active when this one started...
        alone_at_start: bool,
        /// ...and none started while it ran (checked at the end).
        stream_seq: u64,
        estimated_sent: u64,
        estimated_received: u64,
    },
}

impl Drop for Wire {
    fn drop(&mut self) {
        if matches!(self.kind, WireKind::Http2 { .. }) {
            self.stats.active_streams.fetch_sub(1, Relaxed);
        }
    }
}

impl HopClock {
    pub(super) fn new(start: Instant) -> Self {
        HopClock {
            start,
            connect: None,
            tls: None,
            acquired: None,
            end: None,
            wire: None,
        }
    }

    /// Forgets a failed attempt on a dead pooled connection; its time stays
    /// in `blocked` because `start` is kept.
    pub(super) fn restart_attempt(&mut self) {
        *self = HopClock::new(self.start);
    }

    pub(super) fn connect_started(&mut self) {
        self.connect = Some((Instant::now(), None));
    }

    pub(super) fn connect_done(&mut self) {
        if let Some((_, end)) = &mut self.connect {
            *end = Some(Instant::now());
        }
    }

    pub(super) fn tls_started(&mut self) {
        self.tls = Some((Instant::now(), None));
    }

    pub(super) fn tls_done(&mut self) {
        if let Some((_, end)) = &mut self.tls {
            *end = Some(Instant::now());
        }
    }

    /// The connection is ready and the HTTP/1 request is about to be sent.
    /// `fresh` connections count their handshake bytes into this exchange.
    pub(super) fn acquired_http1(&mut self, stats: Arc<ConnStats>, fresh: bool) {
        stats.arm_first_read();
        self.acquired = Some(Instant::now());
        self.wire = Some(Wire::new(stats, fresh, WireKind::Http1));
    }

    /// The HTTP/2 stream is about to be opened; a request `with_body` is sent
    /// once [`HopClock::body_sent`] says so, one without at once.
    pub(super) fn acquired_http2(
        &mut self,
        stats: Arc<ConnStats>,
        fresh: bool,
        with_body: bool,
        estimated_sent: u64,
    ) {
        let alone_at_start = stats.active_streams.fetch_add(1, Relaxed) == 0;
        let stream_seq = stats.streams_started.fetch_add(1, Relaxed) + 1;
        let now = Instant::now();
        self.acquired = Some(now);
        let kind = WireKind::Http2 {
            sent_at: (!with_body).then_some(now),
            head_at: None,
            alone_at_start,
            stream_seq,
            estimated_sent,
            estimated_received: 0,
        };
        self.wire = Some(Wire::new(stats, fresh, kind));
    }

    /// HTTP/2: the whole request body was handed to h2.
    pub(super) fn body_sent(&mut self) {
        if let Some(Wire {
            kind: WireKind::Http2 { sent_at, .. },
            ..
        }) = &mut self.wire
        {
            *sent_at = Some(Instant::now());
        }
    }

    /// HTTP/2: the response head arrived; `estimated` is its approximate size.
    pub(super) fn head_received(&mut self, estimated: u64) {
        if let Some(Wire {
            kind:
                WireKind::Http2 {
                    head_at,
                    estimated_received,
                    ..
                },
            ..
        }) = &mut self.wire
        {
            *head_at = Some(Instant::now());
            *estimated_received += estimated;
        }
    }

    /// HTTP/2: body bytes received (DATA payload) for the estimate.
    pub(super) fn body_received(&mut self, len: u64) {
        if let Some(Wire {
            kind: WireKind::Http2 {
                estimated_received, ..
            },
            ..
        }) = &mut self.wire
        {
            *estimated_received += len + super::h2::estimate::frame_overhead(len);
        }
    }

    pub(super) fn finished(&mut self) {
        self.end = Some(Instant::now());
    }

    /// When the exchange finished, if it did.
    pub(super) fn end(&self) -> Option<Instant> {
        self.end
    }

    /// Bytes (sent, received) of this exchange so far.
    pub(super) fn bytes(&self) -> (u64, u64) {
        let Some(wire) = &self.wire else {
            return (0, 0);
        };
        let exact = (
            wire.stats.bytes_written() - wire.base_written,
            wire.stats.bytes_read() - wire.base_read,
        );
        match &wire.kind {
            WireKind::Http1 => exact,
            WireKind::Http2 {
                alone_at_start,
                stream_seq,
                estimated_sent,
                estimated_received,
                ..
            } => {
                let alone =
                    *alone_at_start && wire.stats.streams_started.load(Relaxed) == *stream_seq;
                if alone {
                    exact
                } else {
                    (*estimated_sent, *estimated_received)
                }
            }
        }
    }

    /// Phases up to `now` (the end of the exchange, or the moment it timed out).
    pub(super) fn timings(&self, now: Instant) -> Timings {
        let span = |phase: Option<(Instant, Option<Instant>)>| {
            phase.map_or(Duration::ZERO, |(start, end)| {
                end.unwrap_or(now).saturating_duration_since(start)
            })
        };
        let connecting = span(self.connect);
        let tls_handshaking = span(self.tls);
        let blocked = self
            .acquired
            .unwrap_or(now)
            .saturating_duration_since(self.start)
            .saturating_sub(connecting + tls_handshaking);
        let mut timings = Timings {
            blocked,
            connecting,
            tls_handshaking,
            ..Timings::default()
        };
        let (Some(acquired), Some(wire)) = (self.acquired, &self.wire) else {
            return timings;
        };
        let end = self.end.unwrap_or(now);
        let (sent, first_byte) = wire.instants(acquired);
        timings.sending = sent.unwrap_or(end).saturating_duration_since(acquired);
        if let Some(sent) = sent {
            timings.waiting = first_byte.unwrap_or(end).saturating_duration_since(sent);
        }
        if let Some(first_byte) = first_byte {
            timings.receiving = end.saturating_duration_since(first_byte);
        }
        timings.duration = timings.sending + timings.waiting + timings.receiving;
        timings
    }
}

impl Wire {
    fn new(stats: Arc<ConnStats>, fresh: bool, kind: WireKind) -> Self {
        let (base_read, base_written) = if fresh {
            (0, 0)
        } else {
            (stats.bytes_read(), stats.bytes_written())
        };
        Wire {
            stats,
            base_read,
            base_written,
            kind,
        }
    }

    /// (request fully written, first response byte), each if it happened.
    fn instants(&self, acquired: Instant) -> (Option<Instant>, Option<Instant>) {
        match &self.kind {
            WireKind::Http1 => {
                // Instants from before this exchange belong to the previous one.
                let current = |at: Option<Instant>| at.filter(|at| *at >= acquired);
                (
                    current(self.stats.last_write_at()),
                    current(self.stats.first_read_at()),
                )
            }
            WireKind::Http2 {
                sent_at, head_at, ..
            } => (*sent_at, *head_at),
        }
    }
}
