//! One VU's keep-alive connections. Small by design: a VU talks to one or two
//! origins, so plain vectors searched linearly beat maps, and an idle client
//! holds two empty vectors.

use std::sync::{Arc, Mutex, MutexGuard};

use hyper::client::conn::http2;

use super::body::RequestBody;
use super::h1::H1Conn;
use super::io::ConnStats;

/// Where a connection goes, borrowed from the request URL.
#[derive(Clone, Copy, Debug)]
pub(super) struct Origin<'a> {
    pub https: bool,
    /// Without IPv6 brackets.
    pub host: &'a str,
    pub port: u16,
}

#[derive(Debug)]
pub(super) struct OriginKey {
    https: bool,
    host: Box<str>,
    port: u16,
}

impl OriginKey {
    pub(super) fn new(origin: Origin<'_>) -> Self {
        OriginKey {
            https: origin.https,
            host: origin.host.into(),
            port: origin.port,
        }
    }

    pub(super) fn matches(&self, origin: Origin<'_>) -> bool {
        self.port == origin.port && self.https == origin.https && *self.host == *origin.host
    }
}

#[derive(Clone)]
pub(super) struct Http2Conn {
    pub sender: http2::SendRequest<RequestBody>,
    pub stats: Arc<ConnStats>,
}

pub(super) enum Pooled {
    Http1(H1Conn),
    Http2(Http2Conn),
}

#[derive(Default)]
struct Idle {
    /// Most recently returned last: taken from the back (warmest first).
    http1: Vec<H1Conn>,
    /// One multiplexed connection per origin, kept while in use.
    http2: Vec<(OriginKey, Http2Conn)>,
}

#[derive(Default)]
pub(super) struct Pool {
    idle: Mutex<Idle>,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, Idle> {
        // A panic elsewhere cannot leave the vectors inconsistent.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A connection to `origin` that is not known to be closed. HTTP/1
    /// connections the server closed while idle are dropped here; HTTP/2
    /// ones still need the caller to wait for readiness.
    pub(super) fn take(&self, origin: Origin<'_>) -> Option<Pooled> {
        let mut idle = self.lock();
        while let Some(i) = idle.http2.iter().position(|(key, _)| key.matches(origin)) {
            if idle.http2[i].1.sender.is_closed() {
                idle.http2.swap_remove(i);
            } else {
                return Some(Pooled::Http2(idle.http2[i].1.clone()));
            }
        }
        while let Some(i) = idle.http1.iter().rposition(|c| c.key.matches(origin)) {
            let mut conn = idle.http1.remove(i);
            if conn.is_idle_alive() {
                return Some(Pooled::Http1(conn));
            }
        }
        None
    }

    /// Returns an HTTP/1 connection whose response was fully read and that
    /// may carry another request.
    pub(super) fn put_http1(&self, conn: H1Conn) {
        self.lock().http1.push(conn);
    }

    /// Shares a new HTTP/2 connection, unless a concurrent send already
    /// shared one for this origin (then the caller's is used once and dropped).
    pub(super) fn put_http2(&self, origin: Origin<'_>, conn: &Http2Conn) {
        let mut idle = self.lock();
        idle.http2.retain(|(_, c)| !c.sender.is_closed());
        if !idle.http2.iter().any(|(key, _)| key.matches(origin)) {
            idle.http2.push((OriginKey::new(origin), conn.clone()));
        }
    }

    /// Forgets an HTTP/2 connection that failed.
    pub(super) fn remove_http2(&self, stats: &Arc<ConnStats>) {
        self.lock()
            .http2
            .retain(|(_, c)| !Arc::ptr_eq(&c.stats, stats));
    }

    /// Bytes held by idle HTTP/1 connections (structs and buffers).
    #[cfg(test)]
    pub(super) fn http1_footprint(&self) -> usize {
        self.lock().http1.iter().map(H1Conn::footprint).sum()
    }

    #[cfg(test)]
    pub(super) fn idle_counts(&self) -> (usize, usize) {
        let idle = self.lock();
        (idle.http1.len(), idle.http2.len())
    }
}
