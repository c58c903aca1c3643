//! `wss://`: the websocket step over TLS, against a TLS WebSocket echo server
//! built here (the demo target serves plain HTTP only). The upgrade offers
//! only `http/1.1` in ALPN (an upgrade cannot go over h2), trusts the
//! self-signed certificate only with `insecure_skip_tls_verify`, and counts
//! the TLS handshake in the upgrade's timing.

mod common;
#[path = "support/tls_cert.rs"]
mod tls_cert;

use std::sync::{Arc, Mutex};

use common::*;
use futures_util::{SinkExt, StreamExt};
use stampede::metrics::SeriesValue;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// Serves TLS WebSocket echo sessions on a free port; records the protocol
/// each connection negotiated by ALPN. The server prefers h2, so a
/// negotiated `http/1.1` means the client did not offer h2.
async fn wss_echo_server() -> (u16, Arc<Mutex<Vec<Option<Vec<u8>>>>>) {
    let config = tls_cert::server_config(&[b"h2", b"http/1.1"]);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let negotiated = Arc::new(Mutex::new(Vec::new()));
    let seen = negotiated.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                seen.lock().unwrap().push(alpn);
                // The callback's error type is tungstenite's (a whole response).
                #[allow(clippy::result_large_err)]
                let pick_subprotocol = |request: &Request, mut response: Response| {
                    let offered = request
                        .headers()
                        .get("sec-websocket-protocol")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if offered.split(',').any(|p| p.trim() == "agent.v1") {
                        response
                            .headers_mut()
                            .insert("sec-websocket-protocol", "agent.v1".parse().unwrap());
                    }
                    Ok(response)
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tls, pick_subprotocol).await
                else {
                    return;
                };
                // Pings are answered by tungstenite while reading.
                while let Some(Ok(message)) = ws.next().await {
                    if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (port, negotiated)
}

fn scenario(port: u16, insecure: bool) -> String {
    format!(
        r#"
http:
  insecure_skip_tls_verify: {insecure}
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 1
    flow:
      - websocket:
          name: secure
          url: "wss://127.0.0.1:{port}/ws"
          subprotocols: [agent.v1]
          steps:
            - send: {{ text: "hello {{{{ __VU }}}}" }}
            - expect: {{ name: echo, contains: "hello {{{{ __VU }}}}", timeout: 2s }}
            - hold: {{ duration: 500ms, ping_interval: 200ms }}
          checks:
            - status: 101
"#
    )
}

/// (count, min) of a trend over the series whose `name` tag is `name`.
fn trend_of(summary: &stampede::metrics::Summary, metric: &str, name: &str) -> (u64, f64) {
    let metric = summary.metric(metric).expect("metric recorded");
    let mut out = (0, f64::INFINITY);
    for (tags, value) in &metric.series {
        if let (Some(n), SeriesValue::Trend(t)) = (tags.get("name"), value)
            && n == name
        {
            out = (out.0 + t.count, out.1.min(t.min));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_over_tls_are_counted_exactly_and_offer_only_http1() {
    let (port, negotiated) = wss_echo_server().await;
    let result = run_yaml(&scenario(port, true), "http://127.0.0.1:1").await;
    let s = &result.summary;
    assert_eq!(counter(s, "ws_sessions"), 2.0);
    assert_eq!(counter(s, "ws_msgs_sent"), 2.0);
    assert_eq!(counter(s, "ws_msgs_received"), 2.0);
    // Pings at 200 and 400 ms of a 500 ms hold, for each of 2 sessions.
    assert_eq!(trend_of(s, "ws_ping", "secure").0, 4);
    assert_eq!(
        counter_where(
            s,
            "http_reqs",
            &[("name", "secure"), ("status", "101"), ("proto", "HTTP/1.1")]
        ),
        2.0
    );
    assert_eq!(
        rate_where(s, "checks", &[("check", "status is 101")]),
        (2, 2)
    );
    let (handshakes, fastest) = trend_of(s, "http_req_tls_handshaking", "secure");
    assert_eq!(handshakes, 2);
    assert!(
        fastest > 0.0,
        "the TLS handshake is timed, got {fastest} ms"
    );
    assert_eq!(
        *negotiated.lock().unwrap(),
        vec![Some(b"http/1.1".to_vec()); 2]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_the_upgrade_with_its_code() {
    let (port, negotiated) = wss_echo_server().await;
    let result = run_yaml(&scenario(port, false), "http://127.0.0.1:1").await;
    let s = &result.summary;
    assert_eq!(counter(s, "ws_sessions"), 0.0);
    assert_eq!(
        // ws_connect: DNS, TCP or TLS failed (docs/scenario-format.md).
        counter_where(
            s,
            "http_reqs",
            &[
                ("name", "secure"),
                ("error_code", "ws_connect"),
                ("status", "0")
            ]
        ),
        2.0
    );
    assert_eq!(
        rate_where(s, "http_req_failed", &[("name", "secure")]),
        (2, 2)
    );
    assert!(
        negotiated.lock().unwrap().is_empty(),
        "no handshake completed"
    );
}
