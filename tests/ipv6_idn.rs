//! IPv6 literal URLs against the demo target listening on [::1], host
//! overrides (`http.hosts`, `--resolve`) to IPv4 and IPv6 addresses, and
//! IDN host names: converted to punycode for the `Host` header and SNI
//! (checked by a raw listener and by nginx's log) and matched in that form
//! by overrides and TLS host patterns.

mod common;
#[path = "support/nginx.rs"]
mod nginx;
#[path = "support/pki.rs"]
mod pki;

use std::sync::{Arc, Mutex};

use common::*;
use nginx::{Nginx, free_port};
use pki::Pki;
use stampede::demo::{DemoConfig, DemoServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn demo_on_ipv6() -> DemoServer {
    DemoServer::start("[::1]:0".parse().unwrap(), DemoConfig::default())
        .await
        .expect("the demo target listens on [::1] (IPv6 loopback must be up)")
}

/// Three GETs of `url` by one VU, with `http` as the `http:` block's body.
fn three_gets(http: &str, url: &str) -> String {
    format!(
        r#"
http:
{http}
scenarios:
  s:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    flow:
      - request: {{ name: r, url: "{url}" }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipv6_literal_url_reaches_the_demo_target_on_ipv6_loopback() {
    let demo = demo_on_ipv6().await;
    let base = demo.base_url();
    assert!(base.starts_with("http://[::1]:"), "{base}");
    let s = run_yaml(
        &three_gets("  cookies: true", &format!("{base}/health")),
        &base,
    )
    .await;
    assert_eq!(
        counter_where(&s.summary, "http_reqs", &[("name", "r"), ("status", "200")]),
        3.0
    );
    let stats = demo.stats();
    assert_eq!(stats.per_endpoint.get("GET /health"), Some(&3));
    assert_eq!(stats.connections, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_overrides_send_a_name_to_an_ipv6_address_from_the_file_or_the_command_line() {
    let demo = demo_on_ipv6().await;
    let port = demo.base_url().rsplit(':').next().unwrap().to_string();
    let url = format!("http://api.stampede.test:{port}/health");

    // Without an override the name does not resolve at all.
    let s = run_yaml(&three_gets("  cookies: true", &url), "http://unused").await;
    assert_eq!(
        counter_where(
            &s.summary,
            "http_reqs",
            &[("name", "r"), ("error_code", "dns")]
        ),
        3.0
    );

    let s = run_yaml(
        &three_gets("  hosts: { api.stampede.test: \"::1\" }", &url),
        "http://unused",
    )
    .await;
    assert_eq!(
        counter_where(&s.summary, "http_reqs", &[("name", "r"), ("status", "200")]),
        3.0
    );
    assert_eq!(demo.stats().per_endpoint.get("GET /health"), Some(&3));

    // curl's --resolve, over a file entry pointing elsewhere.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("resolve.yaml");
    std::fs::write(
        &file,
        three_gets("  hosts: { \"api.stampede.test\": \"127.0.0.1:1\" }", &url),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .arg("run")
        .arg("--quiet")
        .arg("--resolve")
        .arg(format!("api.stampede.test:{port}:[::1]"))
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(demo.stats().per_endpoint.get("GET /health"), Some(&6));

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["run", "--resolve", "api.stampede.test:443"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains(
            "invalid value 'api.stampede.test:443' for '--resolve <HOST:PORT:ADDR>': \"api.stampede.test:443\" is not host:port:address"
        ),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// Listens on [::1], answers every request 200 and keeps each request head.
async fn head_recorder() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("[::1]:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                loop {
                    let Ok(n) = tcp.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head: Vec<u8> = buf.drain(..end + 4).collect();
                        seen.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&head).into_owned());
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if tcp.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (port, heads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idn_host_is_sent_in_punycode_in_the_host_header() {
    let (port, heads) = head_recorder().await;
    let url = format!("http://bücher.stampede.test:{port}/straße?q=ü");
    let s = run_yaml(
        &three_gets("  hosts: { \"bücher.stampede.test\": \"::1\" }", &url),
        "http://unused",
    )
    .await;
    assert_eq!(
        counter_where(&s.summary, "http_reqs", &[("name", "r"), ("status", "200")]),
        3.0
    );
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 3);
    for head in &heads {
        let mut lines = head.lines();
        assert_eq!(lines.next(), Some("GET /stra%C3%9Fe?q=%C3%BC HTTP/1.1"));
        assert!(
            head.contains(&format!("\r\nhost: xn--bcher-kva.stampede.test:{port}\r\n")),
            "{head}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idn_host_is_sent_in_punycode_in_sni_and_verified_against_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let (cert, key) = pki.server("idn", &["xn--bcher-kva.stampede.test"], false);
    pki.client("client", "idn-vu");
    let port = free_port();
    let servers = format!(
        "  log_format sni '$ssl_server_name $host \"$ssl_client_s_dn\" $status';
  server {{
    listen [::1]:{port} ssl;
    access_log {dir}/sni.log sni;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate {c}; ssl_certificate_key {k};
    ssl_client_certificate {dir}/ca.pem; ssl_verify_client optional;
    location / {{ return 200 \"idn\\n\"; }}
  }}",
        dir = dir.path().display(),
        c = cert.display(),
        k = key.display(),
    );
    let nginx = Nginx::start_on(
        dir.path(),
        &servers,
        &[(std::net::Ipv6Addr::LOCALHOST.into(), port)],
    );
    // The TLS host pattern is written in Unicode, as the user knows the name.
    let http = format!(
        "  hosts: {{ \"bücher.stampede.test\": \"::1\" }}
  tls:
    ca_file: {ca}
    hosts:
      - {{ host: \"*.stampede.test\", client_cert: {cc}, client_key: {ck} }}",
        ca = dir.path().join("ca.pem").display(),
        cc = dir.path().join("client.pem").display(),
        ck = dir.path().join("client.key").display(),
    );
    let url = format!("https://bücher.stampede.test:{port}/");
    let s = run_yaml(&three_gets(&http, &url), "http://unused").await;
    assert_eq!(
        counter_where(&s.summary, "http_reqs", &[("name", "r"), ("status", "200")]),
        3.0
    );
    assert_eq!(
        nginx.log_lines("sni.log", "", 3),
        vec!["xn--bcher-kva.stampede.test xn--bcher-kva.stampede.test \"CN=idn-vu\" 200"; 3]
    );
}
