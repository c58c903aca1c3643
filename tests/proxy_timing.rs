//! Time spent reaching a proxy is `connecting` time, as k6 counts it: a
//! relay that answers CONNECT only after 300 ms shows up in
//! `timings.connecting`, not in `waiting`. (The relay is built here: its
//! delay must be exact, which no stock proxy offers. Request counts
//! through a real proxy are in proxy_tinyproxy.rs.)

#[path = "http_client_support/mod.rs"]
mod http_client_support;

use std::sync::Arc;
use std::time::Duration;

use http_client_support::{client, get};
use stampede::demo::{DemoConfig, DemoServer};
use stampede::protocol::http::proxy::{ProxyConfig, ProxyServer};
use stampede::protocol::http::{ClientConfig, NetworkConfig, ProtoChoice};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const DELAY: Duration = Duration::from_millis(300);

/// Answers each CONNECT after [`DELAY`], then relays bytes both ways.
async fn slow_connect_relay() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if inbound.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let target = text.split(' ').nth(1).unwrap().to_string();
                let Ok(mut outbound) = TcpStream::connect(target.as_str()).await else {
                    return;
                };
                tokio::time::sleep(DELAY).await;
                if inbound
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaching_the_proxy_and_its_tunnel_is_connecting_time() {
    let demo = DemoServer::start("127.0.0.1:0".parse().unwrap(), DemoConfig::default())
        .await
        .unwrap();
    let relay = slow_connect_relay().await;
    let proxy = Arc::new(ProxyServer::parse(&format!("127.0.0.1:{relay}")).unwrap());
    let client = client(ClientConfig {
        network: NetworkConfig {
            proxy: ProxyConfig {
                http: Some(proxy),
                ..ProxyConfig::default()
            },
            ..NetworkConfig::default()
        },
        ..ClientConfig::default()
    });
    // h2c goes through a tunnel (plain HTTP/1.1 would be forwarded).
    let request = || {
        let mut request = get(&format!("{}/health", demo.base_url()));
        request.proto = ProtoChoice::Http2;
        request
    };
    let first = client.send(request()).await.response;
    assert_eq!(first.status, 200, "{:?}", first.error);
    assert!(
        first.timings.connecting >= DELAY,
        "connecting {:?}",
        first.timings.connecting
    );
    assert!(
        first.timings.waiting < DELAY,
        "waiting {:?}",
        first.timings.waiting
    );
    // The tunnel is kept: the next request connects no more.
    let second = client.send(request()).await.response;
    assert_eq!(second.status, 200);
    assert_eq!(second.timings.connecting, Duration::ZERO);
    assert_eq!(demo.stats().connections, 1);
}
