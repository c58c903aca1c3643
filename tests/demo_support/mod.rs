//! A tiny HTTP/1.1 client for the demo server tests: one keep-alive
//! connection per client, built on hyper's connection-level client.
//! Shared by tests/demo_*.rs; not every test file uses every helper.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use stampede::demo::{DemoConfig, DemoServer};

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Small catalogue so each test starts fast; the blocks test uses the default.
pub fn quick_config() -> DemoConfig {
    DemoConfig {
        blocks_size_bytes: 10_000,
        ..DemoConfig::default()
    }
}

pub async fn start(config: DemoConfig) -> DemoServer {
    DemoServer::start(loopback(), config)
        .await
        .expect("demo server starts")
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "body is not JSON ({err}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }
}

/// One HTTP/1.1 connection, reused for every request (keep-alive).
pub struct Client {
    sender: SendRequest<Full<Bytes>>,
    pub token: Option<String>,
}

impl Client {
    pub async fn connect(server: &DemoServer) -> Client {
        let stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(connection);
        Client {
            sender,
            token: None,
        }
    }

    pub async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "127.0.0.1");
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(value) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(value.to_string())
            }
            None => Bytes::new(),
        };
        self.send_raw(request.body(Full::new(body)).unwrap()).await
    }

    pub async fn send_raw(&mut self, request: Request<Full<Bytes>>) -> Reply {
        self.sender.ready().await.expect("connection still open");
        let response = self.sender.send_request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Logs in and keeps the token for the following requests.
    pub async fn login(&mut self, email: &str) -> Value {
        let reply = self
            .post("/auth/login", json!({"email": email, "password": "secret"}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let body = reply.json();
        self.token = Some(body["access_token"].as_str().unwrap().to_string());
        body
    }
}

pub fn endpoints(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}
