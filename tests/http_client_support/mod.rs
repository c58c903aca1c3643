//! Test servers for the HTTP client tests: a scripted raw HTTP/1.1 server
//! (exact bytes, delays, abrupt closes) and small hyper servers.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use stampede::protocol::http::{ClientConfig, ClientShared, HttpClient, HttpRequest, ProtoChoice};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One step of a scripted response.
#[derive(Clone, Debug)]
pub enum Step {
    Write(Vec<u8>),
    Sleep(u64),
    /// Close the connection (after the steps before it).
    Close,
}

/// A request as the raw server received it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Request line and headers, as sent.
    pub head: String,
    pub body: Vec<u8>,
    /// Exact bytes the client sent for this request.
    pub raw_len: usize,
    /// Which accepted connection (0-based) carried it.
    pub conn: usize,
}

impl Seen {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

pub struct RawServer {
    pub base: String,
    pub port: u16,
    pub accepts: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl RawServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

type Script = dyn Fn(&Seen, usize) -> Vec<Step> + Send + Sync;

/// Serves HTTP/1.1 keep-alive connections; `script(request, index)` says how
/// to answer the index-th request (counted across connections).
pub async fn raw_server(
    script: impl Fn(&Seen, usize) -> Vec<Step> + Send + Sync + 'static,
) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script: Arc<Script> = Arc::new(script);
    let (a, s) = (accepts.clone(), seen.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let conn = a.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve_raw(stream, conn, s.clone(), script.clone()));
        }
    });
    RawServer {
        base: format!("http://127.0.0.1:{port}"),
        port,
        accepts,
        seen,
    }
}

async fn serve_raw(
    mut stream: TcpStream,
    conn: usize,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Script>,
) {
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buf, conn).await {
        let index = {
            let mut seen = seen.lock().unwrap();
            seen.push(request.clone());
            seen.len() - 1
        };
        for step in script(&request, index) {
            match step {
                Step::Write(bytes) => {
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Step::Sleep(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Step::Close => return,
            }
        }
    }
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, conn: usize) -> Option<Seen> {
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let content_length: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + content_length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + content_length].to_vec();
    buf.drain(..head_end + content_length);
    let mut words = head.split(' ');
    let method = words.next().unwrap_or_default().to_string();
    let path = words.next().unwrap_or_default().to_string();
    Some(Seen {
        method,
        path,
        head: head.trim_end().to_string(),
        body,
        raw_len: head_end + content_length,
        conn,
    })
}

/// An HTTP/1.1 response with a content-length.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

pub fn ok(body: &str) -> Vec<Step> {
    vec![Step::Write(response("200 OK", &[], body.as_bytes()))]
}

/// An HTTP/2 (prior knowledge) server answering "h2:<path>"; counts accepts.
pub async fn h2c_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepts = Arc::new(AtomicUsize::new(0));
    let a = accepts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            a.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service_fn(echo_path))
                    .await;
            });
        }
    });
    (format!("http://127.0.0.1:{port}"), accepts)
}

/// Answers "<version>:<method>:<path>" after a 20 ms pause (so that
/// concurrent requests overlap).
pub async fn echo_path(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let text = format!("{:?}:{}:{}", req.version(), req.method(), req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(text))))
}

pub fn client(config: ClientConfig) -> HttpClient {
    HttpClient::new(ClientShared::new(config).unwrap())
}

pub fn get(url: &str) -> HttpRequest {
    HttpRequest {
        method: Method::GET,
        url: url.to_string(),
        headers: HeaderMap::new(),
        body: Bytes::new(),
        timeout: Duration::from_secs(5),
        keep_body: true,
        keep_headers: true,
        proto: ProtoChoice::Auto,
        tls: None,
    }
}

/// A port with nothing listening: bound, then released.
pub async fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}
