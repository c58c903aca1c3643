//! The per-VU client: default headers, cookies, redirects and the deadline
//! around each hop.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION,
    PROXY_AUTHORIZATION, TRANSFER_ENCODING,
};
use http::{HeaderMap, HeaderValue, Method};
use tokio::time::Sleep;

use super::clock::HopClock;
use super::config::ClientShared;
use super::cookies::CookieJar;
use super::error::http_error;
use super::exchange::{self, HopRequest};
use super::pool::Pool;
use super::target::TargetCache;
use super::tls::TlsProfile;
use super::types::{ErrorCode, HttpOutcome, HttpRequest, HttpResponse, ProtoChoice};

/// One per VU: that VU's keep-alive connections, cookie jar, parsed URLs and
/// deadline timer. Creating one allocates nothing and opens nothing;
/// connections open on first use.
pub struct HttpClient {
    shared: Arc<ClientShared>,
    pub(super) pool: Pool,
    pub(super) jar: Option<CookieJar>,
    pub(super) targets: TargetCache,
    /// The deadline timer, kept from one request to the next: moving a
    /// registered timer's deadline later is one atomic operation, while a
    /// fresh `tokio::time::timeout` per request inserts an entry into the
    /// runtime's timer wheel and removes it again (a lock each time).
    /// Concurrent sends (batch) that find it taken use a timer of their own.
    timer: Mutex<Option<Pin<Box<Sleep>>>>,
}

/// What of each hop's response to keep.
#[derive(Clone, Copy)]
struct Keep {
    body: bool,
    headers: bool,
    /// The most body bytes kept.
    max_body: u64,
}

/// The parts of the request that change from hop to hop.
struct HopState {
    method: Method,
    headers: HeaderMap,
    body: Bytes,
    /// The request's own `cookie` header, merged with the jar's on each hop.
    own_cookie: Option<HeaderValue>,
    /// `headers` holds a `cookie` header the jar put there for the last hop.
    jar_cookie: bool,
    /// The same on every hop: a redirect keeps the protocol asked for.
    proto: ProtoChoice,
    /// The request's own TLS settings, on every hop too.
    tls: Option<Arc<TlsProfile>>,
}

impl HttpClient {
    pub fn new(shared: Arc<ClientShared>) -> Self {
        let jar = shared.config.cookies.then(CookieJar::default);
        HttpClient {
            shared,
            pool: Pool::default(),
            jar,
            targets: TargetCache::default(),
            timer: Mutex::new(None),
        }
    }

    pub fn shared(&self) -> &Arc<ClientShared> {
        &self.shared
    }

    /// Sends `request`, following redirects. Never fails: a failure is the
    /// final response's `error`, with the timings measured up to it.
    /// Takes `&self` so that one VU can run several sends at once (batch).
    pub async fn send(&self, request: HttpRequest) -> HttpOutcome {
        self.send_limited(request, self.shared.config.max_body_size)
            .await
    }

    /// [`HttpClient::send`] keeping at most `max_body_size` bytes of body
    /// (see [`ClientConfig::max_body_size`](super::ClientConfig)).
    pub async fn send_limited(&self, request: HttpRequest, max_body_size: u64) -> HttpOutcome {
        let mut outcome = HttpOutcome::default();
        self.send_into(request, max_body_size, Instant::now(), &mut outcome)
            .await;
        outcome
    }

    /// [`HttpClient::send_limited`] for a request whose start the caller has
    /// just read from the clock (the engine stamps its in-flight guard with
    /// the same instant: one clock read, not two), measured into `outcome`,
    /// which must be empty ([`HttpOutcome::default`]).
    ///
    /// Filled in place rather than returned: an outcome is ~400 bytes, and
    /// returning it through each `async fn` layer copied it four times per
    /// request; the engine keeps it in the boxed future that reads it.
    pub async fn send_into(
        &self,
        request: HttpRequest,
        max_body_size: u64,
        started: Instant,
        outcome: &mut HttpOutcome,
    ) {
        debug_assert!(outcome.redirects.is_empty() && outcome.response.status == 0);
        let deadline = deadline_after(started, request.timeout);
        let mut timer = self.take_timer(deadline);
        self.send_hops(request, max_body_size, started, timer.as_mut(), outcome)
            .await;
        self.return_timer(timer);
    }

    async fn send_hops(
        &self,
        request: HttpRequest,
        max_body: u64,
        started: Instant,
        mut timer: Pin<&mut Sleep>,
        outcome: &mut HttpOutcome,
    ) {
        let HttpRequest {
            method,
            url,
            mut headers,
            body,
            timeout,
            keep_body,
            keep_headers,
            proto,
            tls,
        } = request;
        // `user-agent` and `accept-encoding` are added on the wire when the
        // request has none (`h1::codec`, `exchange::build_request`).
        let own_cookie = match self.jar {
            Some(_) => headers.remove(COOKIE),
            None => None,
        };
        let mut state = HopState {
            method,
            headers,
            body,
            own_cookie,
            jar_cookie: false,
            proto,
            tls,
        };
        let max_redirects = self.shared.config.max_redirects;
        let keep = Keep {
            body: keep_body,
            headers: keep_headers,
            max_body,
        };
        // Each hop is measured into `outcome.response` itself (responses are
        // large; no copy for the usual single hop); a redirect moves it on.
        outcome.response.url = url;
        let mut hop_start = started;
        loop {
            let hop = &mut outcome.response;
            self.run_hop(&mut state, keep, hop_start, timer.as_mut(), timeout, hop)
                .await;
            let Some(location) = redirect_location(hop, max_redirects) else {
                return;
            };
            if outcome.redirects.len() >= max_redirects as usize {
                hop.error = Some(http_error(
                    ErrorCode::TooManyRedirects,
                    format!("stopped after {max_redirects} redirects"),
                ));
                return;
            }
            match follow(&mut state, &hop.url, &location, hop.status) {
                Ok(next) => {
                    let done = std::mem::take(hop);
                    outcome.response.url = next;
                    outcome.redirects.push(done);
                }
                Err(error) => {
                    hop.error = Some(error);
                    return;
                }
            }
            hop_start = Instant::now();
        }
    }

    /// One hop under the request's deadline; fills every field of `hop`.
    async fn run_hop(
        &self,
        state: &mut HopState,
        keep: Keep,
        start: Instant,
        timer: Pin<&mut Sleep>,
        timeout: Duration,
        hop: &mut HttpResponse,
    ) {
        let mut clock = HopClock::new(start);
        let target = match self.targets.get(&hop.url) {
            Ok(target) => target,
            Err(error) => {
                hop.error = Some(error);
                return;
            }
        };
        if let Some(jar) = &self.jar {
            match jar.request_header(&hop.url, state.own_cookie.as_ref()) {
                Some(cookie) => {
                    state.headers.insert(COOKIE, cookie);
                    state.jar_cookie = true;
                }
                None if state.jar_cookie => {
                    state.headers.remove(COOKIE);
                    state.jar_cookie = false;
                }
                None => {}
            }
        }
        if let Some(auth) = &target.basic_auth
            && !state.headers.contains_key(AUTHORIZATION)
        {
            state.headers.insert(AUTHORIZATION, auth.clone());
        }
        let request = HopRequest {
            method: &state.method,
            target: &target,
            user_agent: &self.shared.user_agent,
            headers: &state.headers,
            body: &state.body,
            keep_body: keep.body,
            max_body: keep.max_body,
            keep_headers: keep.headers,
            proto: state.proto,
            tls: state.tls.as_ref(),
        };
        let result = {
            // Polled in place: the exchange future is not moved into a
            // timeout wrapper.
            let exchange = pin!(exchange::run_hop(
                &self.shared,
                &self.pool,
                &request,
                &mut clock,
                hop
            ));
            until_deadline(exchange, timer, Some(start)).await
        };
        let now = clock.end().unwrap_or_else(Instant::now);
        match result {
            Some(Ok(())) => {}
            Some(Err(error)) => hop.error = Some(error),
            None => {
                hop.error = Some(http_error(
                    ErrorCode::Timeout,
                    format!("request timed out after {timeout:?}"),
                ));
            }
        }
        hop.timings = clock.timings(now);
        (hop.bytes_sent, hop.bytes_received) = clock.bytes();
        if let Some(jar) = &self.jar {
            jar.store_response(&hop.url, &hop.headers);
        }
    }

    /// The kept timer reset to `deadline`, or a new one if a concurrent send
    /// holds it.
    pub(super) fn take_timer(&self, deadline: tokio::time::Instant) -> Pin<Box<Sleep>> {
        let kept = self
            .timer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        match kept {
            Some(mut timer) => {
                timer.as_mut().reset(deadline);
                timer
            }
            None => Box::pin(tokio::time::sleep_until(deadline)),
        }
    }

    pub(super) fn return_timer(&self, timer: Pin<Box<Sleep>>) {
        let mut slot = self
            .timer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            *slot = Some(timer);
        }
    }

    #[cfg(test)]
    fn idle_connections(&self) -> (usize, usize) {
        self.pool.idle_counts()
    }
}

/// `future`'s output, or `None` if `timer` fires first. `now`, when the
/// caller has just read the clock, saves reading it for the first poll.
///
/// A peer that keeps the socket ready (a flood of events, an endless body
/// already buffered) makes `future` spend tokio's cooperative budget on
/// every poll, and a timer polled with the budget spent answers pending, so
/// the timer alone would never get its turn. The deadline is therefore
/// compared with the clock before `future` is polled — on the first poll,
/// and on any poll that follows one that ended with the budget spent. After
/// a poll with budget left the timer itself is registered and fires, and
/// reading the clock again (two reads per request, ~10% of the user CPU a
/// request costs) would buy nothing.
pub(super) async fn until_deadline<F: Future>(
    mut future: Pin<&mut F>,
    mut timer: Pin<&mut Sleep>,
    now: Option<Instant>,
) -> Option<F::Output> {
    let mut now = now.map(tokio::time::Instant::from_std);
    let mut check_clock = true;
    std::future::poll_fn(|cx| {
        if check_clock {
            let now = now.take().unwrap_or_else(tokio::time::Instant::now);
            if timer.deadline() <= now {
                return Poll::Ready(None);
            }
        }
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        check_clock = !tokio::task::coop::has_budget_remaining();
        Poll::Pending
    })
    .await
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

/// A timeout too large to add (e.g. `Duration::MAX` for "none") means no deadline.
pub(super) fn deadline_after(started: Instant, timeout: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::from_std(started);
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// The `Location` to follow, if this hop is a redirect to follow.
fn redirect_location(hop: &HttpResponse, max_redirects: u32) -> Option<HeaderValue> {
    let is_redirect = matches!(hop.status, 301 | 302 | 303 | 307 | 308);
    if hop.error.is_some() || !is_redirect || max_redirects == 0 {
        return None;
    }
    hop.headers.get(LOCATION).cloned()
}

/// Prepares `state` for the redirect from `from` to `location`; returns the
/// next URL.
fn follow(
    state: &mut HopState,
    from: &str,
    location: &HeaderValue,
    status: u16,
) -> Result<String, super::types::HttpError> {
    let unresolvable = || {
        http_error(
            ErrorCode::InvalidUrl,
            "redirect Location could not be resolved",
        )
    };
    let location = location.to_str().map_err(|_| unresolvable())?;
    let base = url::Url::parse(from).map_err(|_| unresolvable())?;
    let next = base.join(location).map_err(|_| unresolvable())?;

    // 303 turns anything but HEAD into GET; 301/302 turn POST into GET (what
    // browsers do); 307/308 repeat the request as it was.
    let to_get = match status {
        303 => state.method != Method::HEAD,
        301 | 302 => state.method == Method::POST,
        _ => false,
    };
    if to_get {
        state.method = Method::GET;
        state.body = Bytes::new();
        for name in [
            CONTENT_TYPE,
            CONTENT_LENGTH,
            CONTENT_ENCODING,
            TRANSFER_ENCODING,
        ] {
            state.headers.remove(name);
        }
    }
    // Credentials meant for one host are not handed to another.
    if base.host_str() != next.host_str() {
        state.headers.remove(AUTHORIZATION);
        state.headers.remove(PROXY_AUTHORIZATION);
        state.own_cookie = None;
        state.jar_cookie = false;
        state.headers.remove(COOKIE);
    }
    Ok(next.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http::ClientConfig;

    #[test]
    fn idle_client_is_small_and_empty() {
        let shared = ClientShared::new(ClientConfig::default()).unwrap();
        let client = HttpClient::new(shared);
        let size = std::mem::size_of::<HttpClient>();
        // 160 bytes before the URL cache and the kept deadline timer (16
        // more) and the per-VU DNS cache's slot (16 more): all stay empty
        // until the first request.
        assert!(size <= 192, "HttpClient is {size} bytes");
        assert_eq!(client.idle_connections(), (0, 0));
    }

    /// Answers every request on each connection with `body` (keep-alive).
    async fn serve(body: Vec<u8>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    // Requests here are GETs that fit in one read.
                    while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {
                        let head =
                            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                        if tcp.write_all(head.as_bytes()).await.is_err()
                            || tcp.write_all(&body).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn idle_http1_connection_is_small_even_after_a_large_body() {
        let shared = ClientShared::new(ClientConfig::default()).unwrap();
        let client = HttpClient::new(shared);
        let url = serve(vec![b'x'; 1 << 20]).await;
        for keep_body in [false, true] {
            let request = HttpRequest {
                method: Method::GET,
                url: url.clone(),
                headers: HeaderMap::new(),
                body: Bytes::new(),
                timeout: Duration::from_secs(10),
                keep_body,
                keep_headers: false,
                proto: ProtoChoice::Auto,
                tls: None,
            };
            let r = client.send(request).await.response;
            assert!(r.error.is_none(), "{:?}", r.error);
            assert_eq!(r.bytes_received, (1 << 20) + 44);
            assert_eq!(client.idle_connections(), (1, 0));
            // The struct, a 4 KiB read buffer and a request head's worth of
            // write buffer: the 1 MiB read buffer was not kept.
            let footprint = client.pool.http1_footprint();
            assert!(
                footprint <= 4096 + 512,
                "idle connection holds {footprint} bytes"
            );
        }
    }

    fn state(method: Method) -> HopState {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        HopState {
            method,
            headers,
            body: Bytes::from_static(b"{}"),
            own_cookie: Some(HeaderValue::from_static("a=1")),
            jar_cookie: false,
            proto: ProtoChoice::Auto,
            tls: None,
        }
    }

    #[test]
    fn see_other_becomes_get_without_body() {
        let mut s = state(Method::POST);
        let next = follow(
            &mut s,
            "http://h/a/b",
            &HeaderValue::from_static("c?x=1"),
            303,
        )
        .unwrap();
        assert_eq!(next, "http://h/a/c?x=1");
        assert_eq!(s.method, Method::GET);
        assert!(s.body.is_empty());
        assert!(!s.headers.contains_key(CONTENT_TYPE));
        assert!(
            s.headers.contains_key(AUTHORIZATION),
            "same host keeps credentials"
        );
    }

    #[test]
    fn temporary_redirect_keeps_method_and_cross_host_drops_credentials() {
        let mut s = state(Method::POST);
        let next = follow(
            &mut s,
            "http://h/a",
            &HeaderValue::from_static("http://other:81/z"),
            307,
        )
        .unwrap();
        assert_eq!(next, "http://other:81/z");
        assert_eq!(s.method, Method::POST);
        assert_eq!(&s.body[..], b"{}");
        assert!(!s.headers.contains_key(AUTHORIZATION));
        assert!(s.own_cookie.is_none());
    }

    #[test]
    fn found_keeps_put_but_turns_post_into_get() {
        let mut s = state(Method::PUT);
        follow(&mut s, "http://h/", &HeaderValue::from_static("/x"), 302).unwrap();
        assert_eq!(s.method, Method::PUT);
        let mut s = state(Method::POST);
        follow(&mut s, "http://h/", &HeaderValue::from_static("/x"), 301).unwrap();
        assert_eq!(s.method, Method::GET);
    }
}
