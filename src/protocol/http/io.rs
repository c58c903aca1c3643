//! A transparent IO adapter that counts wire bytes and timestamps the end of
//! the last write (the flush after it) and the first read, so phases and byte counts are exact instead of
//! inferred from when the HTTP/2 connection task happens to be polled.
//!
//! Over TLS two adapters share one [`ConnStats`]: the inner one (on the TCP
//! stream) counts bytes, so TLS records and handshake bytes are included as
//! they are on the wire; the outer one (on the plaintext side) takes the
//! timestamps, so a TLS 1.3 session ticket arriving after the handshake is not
//! mistaken for the first byte of the response.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const NOT_YET: u64 = u64::MAX;

/// Counters of one connection. Written by the connection's IO (which an
/// HTTP/2 connection drives on its own task) and read by the request side;
/// the hand-offs through h2's shared stream state order these relaxed
/// accesses.
#[derive(Debug)]
pub(super) struct ConnStats {
    origin: Instant,
    read: AtomicU64,
    written: AtomicU64,
    last_write_ns: AtomicU64,
    first_read_ns: AtomicU64,
    /// HTTP/2 only: streams in flight and streams ever started, to tell
    /// whether one exchange had the connection to itself.
    pub(super) active_streams: AtomicU32,
    pub(super) streams_started: AtomicU64,
    /// HTTP/2 only: the connection task ended, so the pool drops the
    /// connection instead of handing it out.
    closed: AtomicBool,
}

impl ConnStats {
    pub(super) fn new() -> Self {
        ConnStats {
            origin: Instant::now(),
            read: AtomicU64::new(0),
            written: AtomicU64::new(0),
            last_write_ns: AtomicU64::new(NOT_YET),
            first_read_ns: AtomicU64::new(NOT_YET),
            active_streams: AtomicU32::new(0),
            streams_started: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    pub(super) fn mark_closed(&self) {
        self.closed.store(true, Relaxed);
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Relaxed)
    }

    pub(super) fn bytes_read(&self) -> u64 {
        self.read.load(Relaxed)
    }

    pub(super) fn bytes_written(&self) -> u64 {
        self.written.load(Relaxed)
    }

    /// Makes the next read that yields data record its instant.
    pub(super) fn arm_first_read(&self) {
        self.first_read_ns.store(NOT_YET, Relaxed);
    }

    pub(super) fn first_read_at(&self) -> Option<Instant> {
        self.instant(self.first_read_ns.load(Relaxed))
    }

    pub(super) fn last_write_at(&self) -> Option<Instant> {
        self.instant(self.last_write_ns.load(Relaxed))
    }

    fn instant(&self, ns: u64) -> Option<Instant> {
        (ns != NOT_YET).then(|| self.origin + std::time::Duration::from_nanos(ns))
    }

    fn now_ns(&self) -> u64 {
        // u64 nanoseconds last 584 years; NOT_YET is never reached.
        self.origin.elapsed().as_nanos() as u64
    }
}

/// What an adapter layer records.
#[derive(Clone, Copy, Debug)]
pub(super) enum Meter {
    /// Byte counts only (under TLS).
    Bytes,
    /// Timestamps only (over TLS).
    Instants,
    /// Both (plain TCP).
    Both,
}

pub(super) struct MeteredIo<T> {
    inner: T,
    stats: std::sync::Arc<ConnStats>,
    count: bool,
    stamp: bool,
    /// Written since the last flush: a flush then completes the write (TLS
    /// buffers records until flushed).
    unflushed: bool,
}

impl<T> MeteredIo<T> {
    pub(super) fn new(inner: T, stats: std::sync::Arc<ConnStats>, meter: Meter) -> Self {
        let (count, stamp) = match meter {
            Meter::Bytes => (true, false),
            Meter::Instants => (false, true),
            Meter::Both => (true, true),
        };
        MeteredIo {
            inner,
            stats,
            count,
            stamp,
            unflushed: false,
        }
    }

    pub(super) fn get_ref(&self) -> &T {
        &self.inner
    }

    fn on_write(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        if self.count {
            self.stats.written.fetch_add(n as u64, Relaxed);
        }
        if self.stamp {
            // Stamped when the flush completes (the HTTP/1 exchange always
            // flushes): one clock read per request instead of two.
            self.unflushed = true;
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for MeteredIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            if self.count {
                self.stats.read.fetch_add(n as u64, Relaxed);
            }
            if self.stamp && self.stats.first_read_ns.load(Relaxed) == NOT_YET {
                self.stats.first_read_ns.store(self.stats.now_ns(), Relaxed);
            }
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for MeteredIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            self.on_write(n);
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll {
            self.on_write(n);
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        if self.unflushed && matches!(poll, Poll::Ready(Ok(()))) {
            self.unflushed = false;
            self.stats.last_write_ns.store(self.stats.now_ns(), Relaxed);
        }
        poll
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
