//! One VU's keep-alive connections. Small by design: a VU talks to one or two
//! origins, so plain vectors searched linearly beat maps, and an idle client
//! holds two empty vectors.
//!
//! Connections are found by origin and protocol: an HTTP/1.1 request never
//! gets an h2c connection to the same origin and vice versa. Concurrent
//! sends of one VU (a batch) that want HTTP/2 share one connection: the
//! first opens it, the others wait for it instead of each opening their own.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::dns::DnsCache;
use super::h1::H1Conn;
use super::h2::Http2Conn;
use super::io::ConnStats;
use super::tls::{TlsProfile, TlsRoutes};
use super::types::ProtoChoice;

/// Where a connection goes, borrowed from the request URL, and with which
/// TLS settings.
#[derive(Clone, Copy, Debug)]
pub(super) struct Origin<'a> {
    pub https: bool,
    /// Without IPv6 brackets.
    pub host: &'a str,
    pub port: u16,
    /// The request's own TLS settings; `None`: the client's (always `None`
    /// for `http://`, where there is no TLS to differ in).
    pub tls: Option<&'a Arc<TlsProfile>>,
}

impl<'a> Origin<'a> {
    /// This origin reached with the request's own TLS settings, if any.
    pub(super) fn with_tls(self, tls: Option<&'a Arc<TlsProfile>>) -> Origin<'a> {
        Origin {
            tls: tls.filter(|_| self.https),
            ..self
        }
    }

    /// The TLS routes (connectors and SNI names) for this origin: the
    /// request's own, else the client's.
    pub(super) fn tls_routes<'s>(&self, client: &'s TlsRoutes) -> &'s TlsRoutes
    where
        'a: 's,
    {
        self.tls.map_or(client, |profile| &profile.routes)
    }
}

/// The connections a request can use: its [`ProtoChoice`] resolved for the
/// URL's scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Want {
    /// Whatever ALPN negotiates (TLS only).
    Any,
    Http1,
    Http2,
}

impl Want {
    /// Over plain TCP there is nothing to negotiate: `Auto` is HTTP/1.1
    /// unless the client is set to h2c prior knowledge.
    pub(super) fn resolve(choice: ProtoChoice, https: bool, prior_knowledge: bool) -> Want {
        match choice {
            ProtoChoice::Http1 => Want::Http1,
            ProtoChoice::Http2 => Want::Http2,
            ProtoChoice::Auto if https => Want::Any,
            ProtoChoice::Auto if prior_knowledge => Want::Http2,
            ProtoChoice::Auto => Want::Http1,
        }
    }
}

#[derive(Debug)]
pub(super) struct OriginKey {
    https: bool,
    host: Box<str>,
    port: u16,
    /// Kept alive by the key, so its address names it for as long as the
    /// connection is pooled.
    tls: Option<Arc<TlsProfile>>,
}

impl OriginKey {
    pub(super) fn new(origin: Origin<'_>) -> Self {
        OriginKey {
            https: origin.https,
            host: origin.host.into(),
            port: origin.port,
            tls: origin.tls.cloned(),
        }
    }

    pub(super) fn matches(&self, origin: Origin<'_>) -> bool {
        let same_tls = match (&self.tls, origin.tls) {
            (None, None) => true,
            (Some(mine), Some(theirs)) => Arc::ptr_eq(mine, theirs),
            _ => false,
        };
        self.port == origin.port
            && self.https == origin.https
            && *self.host == *origin.host
            && same_tls
    }
}

pub(super) enum Pooled {
    Http1(H1Conn),
    Http2(Http2Conn),
}

#[derive(Default)]
struct Idle {
    /// Most recently returned last: taken from the back (warmest first).
    http1: Vec<H1Conn>,
    /// One multiplexed connection per origin, kept while in use, and the
    /// marks of those being opened.
    http2: Vec<(OriginKey, Http2Entry)>,
}

enum Http2Entry {
    Ready(Http2Conn),
    /// Being opened; locked by the opener until it is done (shared, failed
    /// or cancelled).
    Opening(Arc<AsyncMutex<()>>),
}

impl Http2Entry {
    fn is_closed(&self) -> bool {
        matches!(self, Http2Entry::Ready(conn) if conn.is_closed())
    }
}

/// What the pool has for a request.
pub(super) enum Found<'p> {
    Conn(Pooled),
    /// A concurrent send is opening an HTTP/2 connection to this origin:
    /// lock this (it is released when that send is done), then look again.
    Wait(Arc<AsyncMutex<()>>),
    /// Nothing usable: open a connection. For HTTP/2 the guard marks it as
    /// being opened until dropped, so concurrent sends wait for it.
    Open(Option<Opening<'p>>),
}

/// An HTTP/2 connection being opened. Dropping it (after the connection
/// was shared, or on failure or cancellation) forgets the mark and then
/// wakes the sends waiting for it.
pub(super) struct Opening<'p> {
    pool: &'p Pool,
    held: OwnedMutexGuard<()>,
}

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        let lock = tokio::sync::OwnedMutexGuard::mutex(&self.held);
        self.pool.lock().http2.retain(|(_, entry)| match entry {
            Http2Entry::Opening(l) => !Arc::ptr_eq(l, lock),
            Http2Entry::Ready(_) => true,
        });
        // `held` is released after this: waiters find the mark gone.
    }
}

#[derive(Default)]
pub(super) struct Pool {
    idle: Mutex<Idle>,
    /// The VU's own DNS answers, made on first use with `http.dns.scope:
    /// per-vu` (boxed: an idle client stays small).
    dns: OnceLock<Box<DnsCache>>,
}

impl Pool {
    /// The VU's own DNS cache (`http.dns.scope: per-vu`).
    pub(super) fn vu_dns(&self) -> &DnsCache {
        self.dns.get_or_init(Box::default)
    }

    fn lock(&self) -> MutexGuard<'_, Idle> {
        // A panic elsewhere cannot leave the vectors inconsistent.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A connection to `origin` of a protocol `want` allows that is not
    /// known to be closed. HTTP/1 connections the server closed while idle
    /// are dropped here; HTTP/2 ones still need the caller to wait for
    /// readiness.
    pub(super) fn take(&self, origin: Origin<'_>, want: Want) -> Found<'_> {
        let mut idle = self.lock();
        let mut opening = None;
        if want != Want::Http1 {
            idle.http2
                .retain(|(key, entry)| !(key.matches(origin) && entry.is_closed()));
            for (key, entry) in &idle.http2 {
                if key.matches(origin) {
                    match entry {
                        Http2Entry::Ready(conn) => return Found::Conn(Pooled::Http2(conn.clone())),
                        Http2Entry::Opening(lock) => opening = Some(lock.clone()),
                    }
                }
            }
        }
        if want != Want::Http2 {
            while let Some(i) = idle.http1.iter().rposition(|c| c.key.matches(origin)) {
                let mut conn = idle.http1.remove(i);
                if conn.is_idle_alive() {
                    return Found::Conn(Pooled::Http1(conn));
                }
            }
        }
        if want == Want::Http1 {
            return Found::Open(None);
        }
        if let Some(lock) = opening {
            return Found::Wait(lock);
        }
        if want == Want::Any {
            // ALPN may yet pick HTTP/1.1: nothing to share before it has.
            return Found::Open(None);
        }
        let lock = Arc::new(AsyncMutex::new(()));
        match lock.clone().try_lock_owned() {
            Ok(held) => {
                idle.http2
                    .push((OriginKey::new(origin), Http2Entry::Opening(lock)));
                Found::Open(Some(Opening { pool: self, held }))
            }
            // A new mutex is unlocked; were it not, opening unshared is correct too.
            Err(_) => Found::Open(None),
        }
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
        idle.http2.retain(|(_, entry)| !entry.is_closed());
        let shared = idle
            .http2
            .iter()
            .any(|(key, entry)| key.matches(origin) && matches!(entry, Http2Entry::Ready(_)));
        if !shared {
            idle.http2
                .push((OriginKey::new(origin), Http2Entry::Ready(conn.clone())));
        }
    }

    /// Forgets an HTTP/2 connection that failed.
    pub(super) fn remove_http2(&self, stats: &Arc<ConnStats>) {
        self.lock().http2.retain(|(_, entry)| match entry {
            Http2Entry::Ready(conn) => !Arc::ptr_eq(&conn.stats, stats),
            Http2Entry::Opening(_) => true,
        });
    }

    /// Bytes held by idle HTTP/1 connections (structs and buffers).
    #[cfg(test)]
    pub(super) fn http1_footprint(&self) -> usize {
        self.lock().http1.iter().map(H1Conn::footprint).sum()
    }

    #[cfg(test)]
    pub(super) fn opening_count(&self) -> usize {
        let idle = self.lock();
        let opening =
            |(_, entry): &&(OriginKey, Http2Entry)| matches!(entry, Http2Entry::Opening(_));
        idle.http2.iter().filter(opening).count()
    }

    #[cfg(test)]
    pub(super) fn idle_counts(&self) -> (usize, usize) {
        let idle = self.lock();
        let ready = |(_, entry): &&(OriginKey, Http2Entry)| matches!(entry, Http2Entry::Ready(_));
        (idle.http1.len(), idle.http2.iter().filter(ready).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_resolve_per_scheme() {
        use ProtoChoice::*;
        let cases = [
            // (choice, https, prior knowledge) -> want
            ((Auto, true, false), Want::Any),
            ((Auto, true, true), Want::Any),
            ((Auto, false, false), Want::Http1),
            ((Auto, false, true), Want::Http2),
            ((Http1, false, true), Want::Http1),
            ((Http1, true, false), Want::Http1),
            ((Http2, false, false), Want::Http2),
            ((Http2, true, false), Want::Http2),
        ];
        for ((choice, https, prior), want) in cases {
            assert_eq!(
                Want::resolve(choice, https, prior),
                want,
                "{choice:?} {https} {prior}"
            );
        }
    }

    #[test]
    fn origins_with_other_tls_settings_are_other_origins() {
        use crate::protocol::http::tls::TlsConfig;
        let profile = TlsProfile::build(TlsConfig::default(), false).unwrap();
        // Equal settings, built twice: still another pool entry.
        let twin = TlsProfile::build(TlsConfig::default(), false).unwrap();
        let plain = Origin {
            https: true,
            host: "127.0.0.1",
            port: 8443,
            tls: None,
        };
        let own = plain.with_tls(Some(&profile));
        let key = OriginKey::new(own);
        assert!(key.matches(own));
        assert!(!key.matches(plain));
        assert!(!key.matches(plain.with_tls(Some(&twin))));
        assert!(!OriginKey::new(plain).matches(own));
        // Without TLS there is nothing to tell apart.
        let http = Origin {
            https: false,
            ..plain
        };
        assert!(http.with_tls(Some(&profile)).tls.is_none());
    }

    #[tokio::test]
    async fn one_http2_connection_is_opened_at_a_time_per_origin() {
        let pool = Pool::default();
        let origin = Origin {
            https: false,
            host: "127.0.0.1",
            port: 8080,
            tls: None,
        };
        let other = Origin {
            port: 8081,
            ..origin
        };
        let Found::Open(Some(opening)) = pool.take(origin, Want::Http2) else {
            panic!("the first send opens and marks the connection");
        };
        let Found::Wait(lock) = pool.take(origin, Want::Http2) else {
            panic!("a concurrent send waits");
        };
        // HTTP/1.1 never waits for HTTP/2; another origin is not affected.
        assert!(matches!(pool.take(origin, Want::Http1), Found::Open(None)));
        assert!(matches!(
            pool.take(other, Want::Http2),
            Found::Open(Some(_))
        ));
        assert!(lock.try_lock().is_err(), "held while opening");
        drop(opening);
        assert!(lock.try_lock().is_ok(), "released when done");
        assert_eq!(pool.opening_count(), 0, "both marks are gone");
        assert!(matches!(
            pool.take(origin, Want::Http2),
            Found::Open(Some(_))
        ));
    }
}
