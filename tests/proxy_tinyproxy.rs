//! Requests through a real forward proxy (Debian's tinyproxy on loopback),
//! chosen by `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` or by `http.proxy`:
//! plain HTTP/1.1 in absolute form, h2c, HTTP/2 over TLS and WebSocket
//! through CONNECT tunnels, counted exactly in the proxy's own log; proxy
//! credentials from the environment, never printed.

mod common;
#[path = "support/nginx.rs"]
mod nginx;
#[path = "support/pki.rs"]
mod pki;
#[path = "support/tinyproxy.rs"]
mod tinyproxy;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use common::*;
use nginx::{Nginx, free_port};
use pki::Pki;
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions};
use stampede::metrics::Summary;
use stampede::scenario;
use tinyproxy::Tinyproxy;

/// An nginx speaking HTTP/2 over TLS (certificate from a test CA) on a
/// free port; the CA is `dir/ca.pem`.
fn tls_server(dir: &Path) -> (Nginx, u16) {
    let pki = Pki::new(dir);
    let (cert, key) = pki.server("server", &["127.0.0.1"], false);
    let port = free_port();
    let servers = format!(
        "  server {{
    listen 127.0.0.1:{port} ssl http2;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate {}; ssl_certificate_key {};
    location / {{ return 200 \"tls\\n\"; }}
  }}",
        cert.display(),
        key.display()
    );
    (Nginx::start(dir, &servers, &[port]), port)
}

/// Loads `yaml` with BASE_URL and `env` as the process environment, runs it.
async fn run_with_env(yaml: &str, base_url: &str, env: &[(&str, String)]) -> Summary {
    let mut options = options(base_url);
    options.process_env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect::<HashMap<_, _>>();
    let plan = scenario::load_str(yaml, Path::new("test.yaml"), &options)
        .unwrap_or_else(|e| panic!("scenario compiles: {e}"));
    engine::run(
        Arc::new(plan),
        RunOptions::default(),
        std::future::pending(),
    )
    .await
    .expect("run completes")
    .summary
}

/// One VU logs in, then three times: a plain request, an h2c request, an
/// HTTP/2-over-TLS request, a WebSocket echo.
fn every_protocol(ca: &Path, tls_port: u16) -> String {
    format!(
        r#"
http:
  tls: {{ ca_file: {ca} }}
scenarios:
  s:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    setup:
      - request:
          name: login
          method: POST
          url: "{{{{ BASE_URL }}}}/auth/login"
          json: {{ email: proxy@example.com, password: pw }}
          extract: {{ token: {{ json: access_token }} }}
    flow:
      - request: {{ name: plain, url: "{{{{ BASE_URL }}}}/health", http2: false }}
      - request: {{ name: h2c, url: "{{{{ BASE_URL }}}}/health", http2: true }}
      - request: {{ name: tls, url: "https://127.0.0.1:{tls_port}/", http2: true }}
      - websocket:
          name: ws
          url: "{{{{ BASE_URL }}}}/ws"
          headers: {{ Authorization: "Bearer {{{{ token }}}}" }}
          steps:
            - send: {{ text: hello }}
            - expect: {{ name: echo, contains: hello, timeout: 2s }}
"#,
        ca = ca.display()
    )
}

fn ok(summary: &Summary, name: &str, status: &str, proto: &str) -> f64 {
    counter_where(
        summary,
        "http_reqs",
        &[("name", name), ("status", status), ("proto", proto)],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_goes_through_the_proxy_the_environment_names() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, tls_port) = tls_server(dir.path());
    let proxy = Tinyproxy::start(dir.path(), None);
    let demo = demo(DemoConfig::default()).await;
    let base = demo.base_url();
    let demo_authority = base.trim_start_matches("http://").to_string();

    let env = [("HTTP_PROXY", proxy.url()), ("https_proxy", proxy.url())];
    let s = run_with_env(
        &every_protocol(&dir.path().join("ca.pem"), tls_port),
        &base,
        &env,
    )
    .await;
    assert_eq!(ok(&s, "plain", "200", "HTTP/1.1"), 3.0);
    assert_eq!(ok(&s, "h2c", "200", "HTTP/2.0"), 3.0);
    assert_eq!(ok(&s, "tls", "200", "HTTP/2.0"), 3.0);
    assert_eq!(counter(&s, "ws_sessions"), 3.0);
    assert_eq!(counter(&s, "ws_msgs_received"), 3.0);

    let mut expected = vec![format!("POST http://{demo_authority}/auth/login HTTP/1.1")];
    for i in 0..3 {
        expected.push(format!("GET http://{demo_authority}/health HTTP/1.1"));
        if i == 0 {
            // One h2c and one TLS connection, kept for the later iterations.
            expected.push(format!("CONNECT {demo_authority} HTTP/1.1"));
            expected.push(format!("CONNECT 127.0.0.1:{tls_port} HTTP/1.1"));
        }
        // A WebSocket session is a connection of its own.
        expected.push(format!("CONNECT {demo_authority} HTTP/1.1"));
    }
    assert_eq!(proxy.requests(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_and_the_file_setting_decide_who_goes_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, tls_port) = tls_server(dir.path());
    let proxy = Tinyproxy::start(dir.path(), None);
    let demo = demo(DemoConfig::default()).await;
    let base = demo.base_url();
    let yaml = every_protocol(&dir.path().join("ca.pem"), tls_port);

    // NO_PROXY names the host: nothing reaches the proxy.
    let env = [
        ("HTTP_PROXY", proxy.url()),
        ("HTTPS_PROXY", proxy.url()),
        ("NO_PROXY", "localhost, 127.0.0.1".to_string()),
    ];
    let s = run_with_env(&yaml, &base, &env).await;
    assert_eq!(ok(&s, "plain", "200", "HTTP/1.1"), 3.0);
    assert_eq!(ok(&s, "tls", "200", "HTTP/2.0"), 3.0);
    assert_eq!(proxy.requests(), Vec::<String>::new());

    // `from_env: false` ignores the variables; `url` sends every request
    // through the proxy the file names.
    let file_proxy = yaml.replacen(
        "http:\n",
        &format!(
            "http:\n  proxy: {{ url: \"{}\", from_env: false }}\n",
            proxy.url()
        ),
        1,
    );
    let env = [("HTTP_PROXY", "http://127.0.0.1:1".to_string())];
    let s = run_with_env(&file_proxy, &base, &env).await;
    assert_eq!(ok(&s, "plain", "200", "HTTP/1.1"), 3.0);
    assert_eq!(ok(&s, "tls", "200", "HTTP/2.0"), 3.0);
    let through = proxy.requests();
    assert_eq!(through.len(), 1 + 3 + 2 + 3, "{through:?}");

    // The file's `no_proxy`, as a list, exempts the hosts from its `url`:
    // nothing more reaches the proxy.
    let listed = yaml.replacen(
        "http:\n",
        &format!(
            "http:\n  proxy:\n    url: \"{}\"\n    from_env: false\n    no_proxy: [localhost, 127.0.0.1]\n",
            proxy.url()
        ),
        1,
    );
    let s = run_with_env(&listed, &base, &env).await;
    assert_eq!(ok(&s, "plain", "200", "HTTP/1.1"), 3.0);
    assert_eq!(ok(&s, "tls", "200", "HTTP/2.0"), 3.0);
    assert_eq!(proxy.requests(), through);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_credentials_come_from_the_environment_and_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Tinyproxy::start(dir.path(), Some("agent s3cret"));
    let demo = demo(DemoConfig::default()).await;
    let scenario_file = dir.path().join("through-proxy.yaml");
    std::fs::write(
        &scenario_file,
        r#"
scenarios:
  s:
    executor: per-vu-iterations
    vus: 1
    iterations: 2
    flow:
      - request: { name: plain, url: "{{ BASE_URL }}/health" }
      - request: { name: tunnel, url: "{{ BASE_URL }}/health", http2: true }
"#,
    )
    .unwrap();
    let run = |proxy_url: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
            .arg("run")
            .arg("--quiet")
            .arg("--http-debug")
            .arg("--summary-export")
            .arg(dir.path().join("summary.json"))
            .arg(&scenario_file)
            .env("BASE_URL", demo.base_url())
            .env("HTTP_PROXY", proxy_url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap()
    };
    let printed = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };

    // Without credentials: 407 for forwarded requests, `proxy` for tunnels.
    let refused = run(proxy.url());
    assert_eq!(refused.status.code(), Some(112), "{}", printed(&refused));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let mut outcomes: Vec<(String, String, String, u64)> = summary["series"]["http_reqs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let tag = |k: &str| s["tags"][k].as_str().unwrap_or("").to_string();
            (
                tag("name"),
                tag("status"),
                tag("error_code"),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![
            ("plain".into(), "407".into(), "".into(), 2),
            ("tunnel".into(), "0".into(), "proxy".into(), 2),
        ]
    );

    let with = run(format!("http://agent:s3cret@127.0.0.1:{}", proxy.port));
    let text = printed(&with);
    assert_eq!(with.status.code(), Some(0), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    // base64("agent:s3cret")
    assert!(!text.contains("YWdlbnQ6czNjcmV0"), "{text}");
    let requests = proxy.requests();
    assert_eq!(
        requests.iter().filter(|r| r.starts_with("GET ")).count(),
        2 + 2
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("CONNECT "))
            .count(),
        2 + 1
    );
}

#[test]
fn credentials_written_in_the_file_are_refused_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("creds.yaml");
    std::fs::write(
        &file,
        "http:\n  proxy:\n    url: http://agent:s3cret@proxy.test:3128\nflow:\n  - request: { url: http://127.0.0.1:1/ }\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .arg("validate")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(104));
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!(
            "error: {}:3:5: http.proxy.url: proxy credentials may not be written in the file (hint: take the whole URL from the environment: url: \"{{{{ PROXY_URL }}}}\")",
            file.display()
        )
    );
}
