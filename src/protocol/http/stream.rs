//! A response read as it arrives, for event streams: [`HttpClient::open_stream`]
//! sends the request and returns once the response head is in;
//! [`HttpStream::next_chunk`] then hands out body bytes as the server sends
//! them, so the caller can stamp each piece. The same pool, cookie jar,
//! timings and byte counts as [`HttpClient::send`]; redirects are not
//! followed (a stream that redirects is reported as its 3xx) and the body is
//! asked for uncompressed.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, AUTHORIZATION, COOKIE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method};
use http_body_util::BodyExt;

use super::body::RequestBody;
use super::client::HttpClient;
use super::clock::HopClock;
use super::error::{self, http_error};
use super::exchange::{self, HopRequest};
use super::h1::{H1BodyReader, H1Conn};
use super::pool::Pooled;
use super::target::Target;
use super::types::{ErrorCode, HttpError, HttpRequest, HttpResponse, Proto};

/// A streamed exchange in progress. Dropping it mid-body closes the HTTP/1
/// connection (or resets the HTTP/2 stream); [`HttpStream::finish`] returns
/// the connection to the pool when the body was read to its end.
pub struct HttpStream<'c> {
    client: &'c HttpClient,
    clock: HopClock,
    response: HttpResponse,
    body: StreamBody,
    deadline: tokio::time::Instant,
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
        incoming: hyper::body::Incoming,
    },
}

impl HttpClient {
    /// Sends `request` and waits for the response head (within
    /// `request.timeout`, which also bounds the whole body). Never fails: a
    /// failure is the response's `error`.
    pub async fn open_stream(&self, request: HttpRequest) -> HttpStream<'_> {
        let HttpRequest {
            method,
            url,
            mut headers,
            body,
            timeout,
            keep_body: _,
        } = request;
        let now = tokio::time::Instant::now();
        // A timeout too large to add means no deadline.
        let deadline = now
            .checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        if !headers.contains_key(USER_AGENT) {
            headers.insert(USER_AGENT, self.shared().user_agent.clone());
        }
        if !headers.contains_key(ACCEPT_ENCODING) {
            // Events are read as they come: no decompression in between.
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        }
        let mut stream = HttpStream {
            client: self,
            clock: HopClock::new(Instant::now()),
            response: HttpResponse {
                url,
                ..HttpResponse::default()
            },
            body: StreamBody::Nothing,
            deadline,
            timeout,
        };
        let opened = tokio::time::timeout_at(deadline, stream.open(&method, headers, &body)).await;
        match opened {
            Ok(Ok(())) => {}
            Ok(Err(error)) => stream.response.error = Some(error),
            Err(_elapsed) => stream.response.error = Some(stream.timed_out()),
        }
        if let Some(jar) = &self.jar {
            jar.store_response(&stream.response.url, &stream.response.headers);
        }
        stream
    }
}

impl HttpStream<'_> {
    /// Status, headers, proto and URL of the response; `error` when the
    /// exchange failed before or while reading the head.
    pub fn response(&self) -> &HttpResponse {
        &self.response
    }

    async fn open(
        &mut self,
        method: &Method,
        mut headers: HeaderMap,
        body: &Bytes,
    ) -> Result<(), HttpError> {
        let target = Target::parse(&self.response.url)?;
        if let Some(jar) = &self.client.jar {
            let own = headers.remove(COOKIE);
            if let Some(cookie) = jar.request_header(&self.response.url, own.as_ref()) {
                headers.insert(COOKIE, cookie);
            }
        }
        if !headers.contains_key(AUTHORIZATION)
            && let Some(auth) = target.basic_auth()
        {
            headers.insert(AUTHORIZATION, auth);
        }
        let req = HopRequest {
            method,
            uri: &target.uri,
            path: &target.path,
            host: target.host_header(),
            origin: target.origin(),
            headers: &headers,
            body,
            keep_body: false,
        };
        let shared = self.client.shared();
        let pool = &self.client.pool;
        let (conn, reused) =
            exchange::acquire(shared, pool, req.origin, &mut self.clock, false).await?;
        match conn {
            Pooled::Http1(mut conn) => {
                self.response.proto = Proto::Http1;
                let host = exchange::host_value(&req)?;
                self.clock.acquired_http1(conn.stats.clone(), !reused);
                let reader = conn.start_stream(&req, &host, &mut self.response).await?;
                self.body = StreamBody::Http1 { conn, reader };
            }
            Pooled::Http2(mut conn) => {
                self.response.proto = Proto::Http2;
                let taken = (!body.is_empty()).then(|| Arc::new(OnceLock::new()));
                let request =
                    exchange::build_request(&req, RequestBody::new(body.clone(), taken.clone()));
                let estimate = exchange::estimate_request(&request);
                self.clock
                    .acquired_http2(conn.stats.clone(), !reused, taken, estimate);
                let response = conn.sender.send_request(request).await.map_err(|err| {
                    if conn.sender.is_closed() {
                        pool.remove_http2(&conn.stats);
                    }
                    error::exchange(&err)
                })?;
                let (parts, incoming) = response.into_parts();
                self.clock
                    .head_received(exchange::estimate_response_head(&parts.headers));
                self.response.status = parts.status.as_u16();
                self.response.headers = parts.headers;
                self.body = StreamBody::Http2 { incoming };
            }
        }
        Ok(())
    }

    /// The next piece of the body as the server sent it; `None` at its end.
    /// An error (the connection dropped, the deadline passed, bad framing)
    /// ends the stream.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, HttpError> {
        let HttpStream { body, clock, .. } = self;
        let read = async {
            match body {
                StreamBody::Nothing => Ok(None),
                StreamBody::Http1 { conn, reader } => conn.next_chunk(reader).await,
                StreamBody::Http2 { incoming } => loop {
                    match incoming.frame().await {
                        None => return Ok(None),
                        Some(Err(err)) => return Err(error::body(&err)),
                        Some(Ok(frame)) => {
                            // Trailers carry no body bytes.
                            if let Ok(data) = frame.into_data() {
                                clock.body_received(data.len() as u64);
                                if !data.is_empty() {
                                    return Ok(Some(data));
                                }
                            }
                        }
                    }
                },
            }
        };
        match tokio::time::timeout_at(self.deadline, read).await {
            Ok(result) => result,
            Err(_elapsed) => Err(self.timed_out()),
        }
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
