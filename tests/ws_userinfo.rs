//! `user:password@` in a WebSocket URL is Basic auth, as in an HTTP URL: the
//! upgrade request carries `Authorization: Basic …`, its target and `Host`
//! carry no credentials, and no tag or summary line shows the password.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use futures_util::StreamExt;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// What the server saw of each upgrade request: target, Host, Authorization.
type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

/// A WebSocket server on loopback that accepts every upgrade, records its
/// head, and reads until the client closes.
// The handshake callback's signature (and its large error type) is tungstenite's.
#[allow(clippy::result_large_err)]
async fn recording_server() -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let callback = |request: &Request, response: Response| {
                    let header = |name: &str| {
                        request
                            .headers()
                            .get(name)
                            .map(|v| v.to_str().unwrap().to_string())
                    };
                    record.lock().unwrap().push((
                        request.uri().to_string(),
                        header("host").unwrap_or_default(),
                        header("authorization"),
                    ));
                    Ok(response)
                };
                if let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await
                {
                    while let Some(Ok(_)) = socket.next().await {}
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_becomes_basic_auth_and_leaves_the_url() {
    let (port, seen) = recording_server().await;
    // The password holds a percent-encoded ':' — decoded before encoding.
    let yaml = format!(
        r#"
scenarios:
  ws:
    executor: per-vu-iterations
    vus: 2
    iterations: 1
    flow:
      - websocket:
          url: "ws://alice:s%3Acret@127.0.0.1:{port}/socket?room=1"
          steps:
            - send: {{ text: hi }}
"#
    );
    let result = run_yaml(&yaml, "http://127.0.0.1:1").await;
    let s = &result.summary;
    assert_eq!(counter(s, "ws_sessions"), 2.0);
    assert_eq!(counter(s, "ws_msgs_sent"), 2.0);
    // base64("alice:s:cret")
    let expected = (
        "/socket?room=1".to_string(),
        format!("127.0.0.1:{port}"),
        Some("Basic YWxpY2U6czpjcmV0".to_string()),
    );
    assert_eq!(*seen.lock().unwrap(), vec![expected.clone(), expected]);
    let names: Vec<String> = s
        .metric("ws_sessions")
        .expect("ws_sessions recorded")
        .series
        .iter()
        .filter_map(|(tags, _)| tags.get("name").map(str::to_string))
        .collect();
    assert_eq!(names, vec![format!("ws://127.0.0.1:{port}/socket")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_authorization_header_wins_over_userinfo() {
    let (port, seen) = recording_server().await;
    let yaml = format!(
        r#"
scenarios:
  ws:
    executor: per-vu-iterations
    vus: 1
    iterations: 1
    flow:
      - websocket:
          url: "ws://alice:secret@127.0.0.1:{port}/socket"
          headers: {{ Authorization: "Bearer t0k" }}
          steps:
            - send: {{ text: hi }}
"#
    );
    let result = run_yaml(&yaml, "http://127.0.0.1:1").await;
    assert_eq!(counter(&result.summary, "ws_sessions"), 1.0);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].2.as_deref(), Some("Bearer t0k"));
    assert_eq!(seen[0].0, "/socket");
}
