//! A response read as it arrives, for event streams: [`HttpClient::open_stream`]
//! sends the request and returns once the response head is in;
//! [`HttpStream::next_chunk`] then hands out body bytes as the server sends
//! them, so the caller can stamp each piece. The same pool, cookie jar,
//! timings and byte counts as [`HttpClient::send`]; redirects are not
//! followed (a stream that redirects is reported as its 3xx) and the body is
//! asked for uncompressed.

use std::pin::{Pin, pin};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use http::header::{ACCEPT_ENCODING, AUTHORIZATION, COOKIE};
use tokio::time::Sleep;

use super::client::{HttpClient, deadline_after, until_deadline};
use super::clock::HopClock;
use super::error::{self, http_error};
use super::exchange::{self, HopRequest};
use super::h1::{H1BodyReader, H1Conn};
use super::h2::ResponseBody;
use super::pool::Pooled;
use super::types::{ErrorCode, HttpError, HttpRequest, HttpResponse, Proto};

/// A streamed exchange in progress. Dropping it mid-body closes the HTTP/1
/// connection (or resets the HTTP/2 stream); [`HttpStream::finish`] returns
/// the connection to the pool when the body was read to its end.
pub struct HttpStream<'c> {
    client: &'c HttpClient,
    clock: HopClock,
    response: HttpResponse,
    body: StreamBody,
    /// The client's deadline timer, set to the request's deadline and held
    /// for the stream's life (one timer for every read, no timeout per
    /// chunk); [`HttpStream::finish`] gives it back. Sends running meanwhile
    /// use timers of their own.
    timer: Pin<Box<Sleep>>,
    timeout: Duration,
}

enum StreamBody {
    /// No body to read (the exchange failed before one, or it was read).
    Nothing,
    Http1 {
        conn: H1Conn,
        reader: H1BodyReader,
    },
    Http2 {
        body: ResponseBody,
    },
}

impl HttpClient {
    /// Sends `request` and waits for the response head (within
    /// `request.timeout`, which also bounds the whole body). Never fails: a
    /// failure is the response's `error`. Every response header is kept,
    /// whatever `request.keep_headers` says: the caller checks the head
    /// before reading events.
    pub async fn open_stream(&self, mut request: HttpRequest) -> HttpStream<'_> {
        let started = Instant::now();
        let timeout = request.timeout;
        let mut timer = self.take_timer(deadline_after(started, timeout));
        // `user-agent` is added on the wire when the request has none
        // (`HopRequest::user_agent`).
        if !request.headers.contains_key(ACCEPT_ENCODING) {
            // Events are read as they come: no decompression in between.
            request
                .headers
                .insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        }
        let mut clock = HopClock::new(started);
        let mut response = HttpResponse {
            url: std::mem::take(&mut request.url),
            ..HttpResponse::default()
        };
        let opened = {
            let open = pin!(open(self, &mut clock, &mut response, &mut request));
            until_deadline(open, timer.as_mut(), Some(started)).await
        };
        let mut stream = HttpStream {
            client: self,
            clock,
            response,
            body: StreamBody::Nothing,
            timer,
            timeout,
        };
        match opened {
            Some(Ok(body)) => stream.body = body,
            Some(Err(error)) => stream.response.error = Some(error),
            None => stream.response.error = Some(stream.timed_out()),
        }
        if let Some(jar) = &self.jar {
            jar.store_response(&stream.response.url, &stream.response.headers);
        }
        stream
    }
}

/// Sends the request on a pooled or new connection and reads the response
/// head into `response`; returns the body still to read.
async fn open(
    client: &HttpClient,
    clock: &mut HopClock,
    response: &mut HttpResponse,
    request: &mut HttpRequest,
) -> Result<StreamBody, HttpError> {
    let target = client.targets.get(&response.url)?;
    let headers = &mut request.headers;
    if let Some(jar) = &client.jar {
        let own = headers.remove(COOKIE);
        if let Some(cookie) = jar.request_header(&response.url, own.as_ref()) {
            headers.insert(COOKIE, cookie);
        }
    }
    if let Some(auth) = &target.basic_auth
        && !headers.contains_key(AUTHORIZATION)
    {
        headers.insert(AUTHORIZATION, auth.clone());
    }
    let shared = client.shared();
    let (proto, body) = (request.proto, &request.body);
    let req = HopRequest {
        method: &request.method,
        target: &target,
        user_agent: &shared.user_agent,
        headers: &request.headers,
        body,
        keep_body: false,
        max_body: u64::MAX,
        keep_headers: true,
        proto,
        tls: request.tls.as_ref(),
    };
    let pool = &client.pool;
    let (conn, reused) = exchange::acquire(shared, pool, req.origin(), proto, clock, false).await?;
    match conn {
        Pooled::Http1(mut conn) => {
            response.proto = Proto::Http1;
            exchange::check_http1_host(&req)?;
            clock.acquired_http1(conn.stats.clone(), !reused);
            let reader = conn.start_stream(&req, response).await?;
            Ok(StreamBody::Http1 { conn, reader })
        }
        Pooled::Http2(mut conn) => {
            response.proto = Proto::Http2;
            let (head, body) = exchange::open_http2(pool, &req, &mut conn, reused, clock).await?;
            response.status = head.status.as_u16();
            response.headers = head.headers;
            Ok(StreamBody::Http2 { body })
        }
    }
}

impl HttpStream<'_> {
    /// Status, headers, proto and URL of the response; `error` when the
    /// exchange failed before or while reading the head.
    pub fn response(&self) -> &HttpResponse {
        &self.response
    }

    /// The next piece of the body as the server sent it; `None` at its end.
    /// An error (the connection dropped, the deadline passed, bad framing)
    /// ends the stream.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, HttpError> {
        let HttpStream {
            body, clock, timer, ..
        } = self;
        let read = async {
            match body {
                StreamBody::Nothing => Ok(None),
                StreamBody::Http1 { conn, reader } => conn.next_chunk(reader).await,
                StreamBody::Http2 { body } => loop {
                    match body.next_chunk(clock).await {
                        Ok(None) => return Ok(None),
                        Err(err) => return Err(error::h2_body(&err)),
                        Ok(Some(data)) => {
                            clock.body_received(data.len() as u64);
                            if !data.is_empty() {
                                return Ok(Some(data));
                            }
                        }
                    }
                },
            }
        };
        let result = until_deadline(pin!(read), timer.as_mut(), None).await;
        result.unwrap_or_else(|| Err(self.timed_out()))
    }

    /// Ends the exchange: the record with timings up to now and the bytes
    /// on the wire. A connection whose body was read to its end goes back
    /// to the pool; any other is closed.
    pub fn finish(mut self) -> HttpResponse {
        let now = Instant::now();
        self.clock.finished();
        if let StreamBody::Http1 { mut conn, reader } =
            std::mem::replace(&mut self.body, StreamBody::Nothing)
            && reader.is_done()
            && conn.finish_stream(&reader)
        {
            self.client.pool.put_http1(conn);
        }
        self.response.timings = self.clock.timings(now);
        (self.response.bytes_sent, self.response.bytes_received) = self.clock.bytes();
        self.client.return_timer(self.timer);
        self.response
    }

    fn timed_out(&self) -> HttpError {
        http_error(
            ErrorCode::Timeout,
            format!("stream timed out after {:?}", self.timeout),
        )
    }
}

impl std::fmt::Debug for HttpStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStream")
            .field("status", &self.response.status)
            .finish_non_exhaustive()
    }
}
