//! TLS against Debian's nginx on loopback, with a private CA made in the
//! test: the CA trusted through `http.tls.ca_file` (file or directory)
//! without skipping verification, mutual TLS with a client certificate
//! chosen by host pattern, TLS version bounds, an SNI override, and the
//! error code of each failed certificate check. Each case is also run
//! without the capability, and must fail then.

mod common;
#[path = "support/nginx.rs"]
mod nginx;
#[path = "support/pki.rs"]
mod pki;

use std::path::Path;

use common::*;
use nginx::{Nginx, free_port};
use pki::Pki;

/// The ports of the nginx servers of a test, all on 127.0.0.1.
struct Servers {
    /// Server certificate for 127.0.0.1; no client certificate asked.
    plain: u16,
    /// Same certificate; `ssl_verify_client on` with the test CA.
    mtls: u16,
    /// TLS 1.2 only.
    tls12: u16,
    /// Certificate expired in 2020.
    expired: u16,
    /// Certificate for `other.test` only.
    other_name: u16,
}

fn start(dir: &Path) -> (Nginx, Servers) {
    let pki = Pki::new(dir);
    let (cert, key) = pki.server("server", &["127.0.0.1", "localhost"], false);
    let (old_cert, old_key) = pki.server("expired", &["127.0.0.1"], true);
    let (other_cert, other_key) = pki.server("other", &["other.test"], false);
    pki.client("client", "stampede-vu");
    // A client certificate from a CA nginx does not know.
    let stranger_dir = dir.join("stranger");
    std::fs::create_dir(&stranger_dir).unwrap();
    Pki::new(&stranger_dir).client("client", "stranger");
    let ports = Servers {
        plain: free_port(),
        mtls: free_port(),
        tls12: free_port(),
        expired: free_port(),
        other_name: free_port(),
    };
    let ca = pki.ca();
    let (c, k, ca) = (cert.display(), key.display(), ca.display());
    let servers = format!(
        r#"
  log_format tls '$server_port $ssl_protocol $ssl_server_name "$ssl_client_s_dn" $status';
  access_log {dir}/tls.log tls;
  # nginx 1.22 leaves TLS 1.3 out of its default.
  ssl_protocols TLSv1.2 TLSv1.3;
  server {{
    listen 127.0.0.1:{plain} ssl;
    ssl_certificate {c}; ssl_certificate_key {k};
    location / {{ return 200 "plain\n"; }}
  }}
  server {{
    listen 127.0.0.1:{mtls} ssl;
    ssl_certificate {c}; ssl_certificate_key {k};
    ssl_client_certificate {ca}; ssl_verify_client on;
    location / {{ return 200 "client $ssl_client_s_dn\n"; }}
  }}
  server {{
    listen 127.0.0.1:{tls12} ssl;
    ssl_protocols TLSv1.2;
    ssl_certificate {c}; ssl_certificate_key {k};
    location / {{ return 200 "tls12\n"; }}
  }}
  server {{
    listen 127.0.0.1:{expired} ssl;
    ssl_certificate {oc}; ssl_certificate_key {ok};
    location / {{ return 200 "expired\n"; }}
  }}
  server {{
    listen 127.0.0.1:{other} ssl;
    ssl_certificate {xc}; ssl_certificate_key {xk};
    location / {{ return 200 "other\n"; }}
  }}"#,
        dir = dir.display(),
        plain = ports.plain,
        mtls = ports.mtls,
        tls12 = ports.tls12,
        expired = ports.expired,
        other = ports.other_name,
        oc = old_cert.display(),
        ok = old_key.display(),
        xc = other_cert.display(),
        xk = other_key.display(),
    );
    let all = [
        ports.plain,
        ports.mtls,
        ports.tls12,
        ports.expired,
        ports.other_name,
    ];
    (Nginx::start(dir, &servers, &all), ports)
}

/// Three GETs of `url` by one VU, with `tls` as the `http.tls` block
/// (YAML flow mapping), checking that the body contains `body`.
fn scenario(tls: &str, url: &str, body: &str) -> String {
    format!(
        r#"
http:
  tls: {tls}
scenarios:
  s:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    flow:
      - request:
          name: r
          url: "{url}"
          checks: [ {{ body_contains: "{body}" }} ]
"#
    )
}

/// `http_reqs` of request `r` with `status` (and `error_code` when given).
fn reqs(summary: &stampede::metrics::Summary, status: &str, error_code: Option<&str>) -> f64 {
    let mut filter = vec![("name", "r"), ("status", status)];
    if let Some(code) = error_code {
        filter.push(("error_code", code));
    }
    counter_where(summary, "http_reqs", &filter)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_is_trusted_from_a_file_or_a_directory_and_only_then() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, ports) = start(dir.path());
    let url = format!("https://127.0.0.1:{}/", ports.plain);
    let ca = dir.path().join("ca.pem");

    let without = run_yaml(&scenario("{}", &url, "plain"), "http://unused").await;
    assert_eq!(reqs(&without.summary, "0", Some("tls_unknown_issuer")), 3.0);

    let with_file = scenario(&format!("{{ ca_file: {} }}", ca.display()), &url, "plain");
    let s = run_yaml(&with_file, "http://unused").await.summary;
    assert_eq!(reqs(&s, "200", None), 3.0);
    assert_eq!(rate_where(&s, "checks", &[]), (3, 3));

    // A directory of CA files, trusted instead of the public roots.
    let ca_dir = dir.path().join("cas");
    std::fs::create_dir(&ca_dir).unwrap();
    std::fs::copy(&ca, ca_dir.join("test-ca.crt")).unwrap();
    let only_dir = scenario(
        &format!(
            "{{ ca_file: {}, replace_default_roots: true }}",
            ca_dir.display()
        ),
        &url,
        "plain",
    );
    assert_eq!(
        reqs(
            &run_yaml(&only_dir, "http://unused").await.summary,
            "200",
            None
        ),
        3.0
    );
}

/// The `http.tls` block trusting the test CA, with `hosts` entries.
fn trusting(dir: &Path, hosts: &str) -> String {
    format!(
        "{{ ca_file: {}, hosts: [{hosts}] }}",
        dir.join("ca.pem").display()
    )
}

fn client_entry(host: &str, dir: &Path) -> String {
    format!(
        "{{ host: \"{host}\", client_cert: {}, client_key: {} }}",
        dir.join("client.pem").display(),
        dir.join("client.key").display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_is_refused_without_the_client_certificate_and_accepted_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (nginx, ports) = start(dir.path());
    let url = format!("https://127.0.0.1:{}/", ports.mtls);
    let run = |tls: String| {
        let yaml = scenario(&tls, &url, "client CN=stampede-vu");
        async move { run_yaml(&yaml, "http://unused").await.summary }
    };

    // nginx completes the handshake without a certificate and answers 400
    // "No required SSL certificate was sent".
    let none = run(trusting(dir.path(), "")).await;
    assert_eq!(reqs(&none, "400", None), 3.0);
    assert_eq!(rate_where(&none, "checks", &[]), (0, 3));

    // A certificate for other hosts only is not shown to this one.
    let elsewhere = run(trusting(
        dir.path(),
        &client_entry("*.example.com", dir.path()),
    ))
    .await;
    assert_eq!(reqs(&elsewhere, "400", None), 3.0);

    // A certificate from an unknown CA: nginx's 400 "The SSL certificate error".
    let stranger = run(trusting(
        dir.path(),
        &client_entry("127.0.0.1", &dir.path().join("stranger")),
    ))
    .await;
    assert_eq!(reqs(&stranger, "400", None), 3.0);

    let with = run(trusting(dir.path(), &client_entry("127.0.0.1", dir.path()))).await;
    assert_eq!(reqs(&with, "200", None), 3.0);
    assert_eq!(rate_where(&with, "checks", &[]), (3, 3));

    let mtls_port = format!("{} ", ports.mtls);
    let seen: Vec<String> = nginx
        .log_lines("tls.log", &mtls_port, 12)
        .into_iter()
        .map(|line| line[mtls_port.len()..].to_string())
        .collect();
    let mut expected = vec!["TLSv1.3 - \"-\" 400".to_string(); 6];
    expected.extend(vec!["TLSv1.3 - \"CN=stranger\" 400".to_string(); 3]);
    expected.extend(vec!["TLSv1.3 - \"CN=stampede-vu\" 200".to_string(); 3]);
    assert_eq!(seen, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_bounds_decide_the_protocol_and_a_too_high_minimum_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (nginx, ports) = start(dir.path());
    let ca = dir.path().join("ca.pem");
    let url = format!("https://127.0.0.1:{}/", ports.tls12);
    let pinned = |bounds: &str| {
        scenario(
            &format!("{{ ca_file: {}, {bounds} }}", ca.display()),
            &url,
            "tls12",
        )
    };
    let s = run_yaml(&pinned("max_version: \"1.2\""), "http://unused").await;
    assert_eq!(reqs(&s.summary, "200", None), 3.0);
    // The server offers 1.2 only: a client that insists on 1.3 gets an alert.
    let s = run_yaml(&pinned("min_version: \"1.3\""), "http://unused").await;
    assert_eq!(reqs(&s.summary, "0", Some("tls")), 3.0);

    let plain = format!("https://127.0.0.1:{}/", ports.plain);
    let yaml = scenario(
        &format!("{{ ca_file: {}, max_version: \"1.2\" }}", ca.display()),
        &plain,
        "plain",
    );
    assert_eq!(
        reqs(&run_yaml(&yaml, "http://unused").await.summary, "200", None),
        3.0
    );
    let plain_port = format!("{} ", ports.plain);
    let protocols = nginx.log_lines("tls.log", &plain_port, 3);
    assert_eq!(
        protocols,
        vec![format!("{plain_port}TLSv1.2 - \"-\" 200"); 3]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failed_certificate_check_has_its_code_and_sni_can_be_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let (nginx, ports) = start(dir.path());
    let trust = trusting(dir.path(), "");

    let expired = format!("https://127.0.0.1:{}/", ports.expired);
    let s = run_yaml(&scenario(&trust, &expired, "expired"), "http://unused").await;
    assert_eq!(reqs(&s.summary, "0", Some("tls_expired")), 3.0);

    let other = format!("https://127.0.0.1:{}/", ports.other_name);
    let s = run_yaml(&scenario(&trust, &other, "other"), "http://unused").await;
    assert_eq!(reqs(&s.summary, "0", Some("tls_name_mismatch")), 3.0);

    // The address-only URL of a server known by another name.
    let named = trusting(dir.path(), "{ host: 127.0.0.1, server_name: other.test }");
    let s = run_yaml(&scenario(&named, &other, "other"), "http://unused").await;
    assert_eq!(reqs(&s.summary, "200", None), 3.0);
    let other_port = format!("{} ", ports.other_name);
    let sni = nginx.log_lines("tls.log", &other_port, 3);
    assert_eq!(
        sni,
        vec![format!("{other_port}TLSv1.3 other.test \"-\" 200"); 3]
    );
}

/// The demo target behind nginx: nginx terminates TLS on `port` with
/// `ssl_verify_client on` (the test CA; its client certificate is
/// `dir/client.pem`, CN=`client_cn`) and passes requests, event streams and
/// WebSocket upgrades on to the demo. Logs `tls.log` lines as [`start`]'s.
struct DemoBehindMtls {
    demo: stampede::demo::DemoServer,
    nginx: Nginx,
    port: u16,
}

async fn demo_behind_mtls(dir: &Path, client_cn: &str) -> DemoBehindMtls {
    let pki = Pki::new(dir);
    let (cert, key) = pki.server("server", &["127.0.0.1"], false);
    pki.client("client", client_cn);
    let demo = demo(stampede::demo::DemoConfig::default()).await;
    let demo_addr = demo.base_url().trim_start_matches("http://").to_string();
    let port = free_port();
    let servers = format!(
        r#"
  log_format tls '$server_port $ssl_protocol $ssl_server_name "$ssl_client_s_dn" $status';
  access_log {dir}/tls.log tls;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate {c}; ssl_certificate_key {k};
    ssl_client_certificate {dir}/ca.pem; ssl_verify_client on;
    location / {{
      proxy_pass http://{demo_addr};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      # Events are passed on as they come, not when the stream ends.
      proxy_buffering off;
    }}
  }}"#,
        dir = dir.display(),
        c = cert.display(),
        k = key.display(),
    );
    let nginx = Nginx::start(dir, &servers, &[port]);
    DemoBehindMtls { demo, nginx, port }
}

/// A scenario of one VU and `iterations` iterations that logs in to the
/// demo directly (plain HTTP, BASE_URL) in its setup, then runs `flow`
/// (YAML list items indented by 6, `{{ token }}` holding the access token).
fn logged_in(http_tls: &str, iterations: u64, flow: &str) -> String {
    format!(
        r#"
http:
  tls: {http_tls}
scenarios:
  s:
    executor: per-vu-iterations
    vus: 1
    iterations: {iterations}
    setup:
      - request:
          method: POST
          url: "{{{{ BASE_URL }}}}/auth/login"
          json: {{ email: tls@example.com, password: pw }}
          extract: {{ token: {{ json: access_token }} }}
    flow:
{flow}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_sessions_use_the_same_ca_and_client_certificate_settings() {
    let dir = tempfile::tempdir().unwrap();
    let behind = demo_behind_mtls(dir.path(), "ws-vu").await;
    let port = behind.port;
    let yaml = |hosts: &str| {
        logged_in(
            &trusting(dir.path(), hosts),
            3,
            &format!(
                r#"      - websocket:
          name: ws
          url: "wss://127.0.0.1:{port}/ws"
          headers: {{ Authorization: "Bearer {{{{ token }}}}" }}
          steps:
            - send: {{ text: hello }}
            - expect: {{ name: echo, contains: hello, timeout: 2s }}
"#
            ),
        )
    };
    let base = behind.demo.base_url();

    let without = run_yaml(&yaml(""), &base).await.summary;
    assert_eq!(counter(&without, "ws_sessions"), 0.0);
    assert_eq!(
        counter_where(&without, "http_reqs", &[("name", "ws"), ("status", "400")]),
        3.0
    );

    let with = run_yaml(&yaml(&client_entry("127.0.0.1", dir.path())), &base)
        .await
        .summary;
    assert_eq!(counter(&with, "ws_sessions"), 3.0);
    assert_eq!(counter(&with, "ws_msgs_received"), 3.0);
    assert_eq!(
        counter_where(&with, "http_reqs", &[("name", "ws"), ("status", "101")]),
        3.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_step_with_its_own_tls_shows_its_certificate_and_the_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let behind = demo_behind_mtls(dir.path(), "ws-vu").await;
    let session = |name: &str, tls: &str| {
        format!(
            r#"      - websocket:
          name: {name}
          url: "wss://127.0.0.1:{port}/ws"
          headers: {{ Authorization: "Bearer {{{{ token }}}}" }}
{tls}          steps:
            - send: {{ text: "one {{{{ __ITER }}}}" }}
            - expect: {{ name: {name}-echo, contains: "one {{{{ __ITER }}}}", timeout: 2s }}
            - send: {{ text: "two {{{{ __ITER }}}}" }}
            - expect: {{ name: {name}-echo, contains: "two {{{{ __ITER }}}}", timeout: 2s }}
"#,
            port = behind.port
        )
    };
    // `http.tls` trusts the CA and shows no certificate; only the middle
    // session of each iteration has its own `tls` with one.
    let own = format!(
        "          tls: {{ hosts: [ {} ] }}
",
        client_entry("127.0.0.1", dir.path())
    );
    let flow = [
        session("before", ""),
        session("own", &own),
        session("after", ""),
    ]
    .concat();
    let yaml = logged_in(&trusting(dir.path(), ""), 3, &flow);
    let s = run_yaml(&yaml, &behind.demo.base_url()).await.summary;

    for refused in ["before", "after"] {
        let name = [("name", refused)];
        assert_eq!(counter_where(&s, "ws_sessions", &name), 0.0, "{refused}");
        assert_eq!(
            counter_where(&s, "http_reqs", &[("name", refused), ("status", "400")]),
            3.0,
            "{refused}"
        );
    }
    let own = [("name", "own")];
    assert_eq!(counter_where(&s, "ws_sessions", &own), 3.0);
    assert_eq!(counter_where(&s, "ws_msgs_sent", &own), 6.0);
    assert_eq!(counter_where(&s, "ws_msgs_received", &own), 6.0);
    assert_eq!(
        trend_where(&s, "ws_reply_time", &[("name", "own-echo")]).0,
        6
    );
    assert_eq!(
        counter_where(&s, "http_reqs", &[("name", "own"), ("status", "101")]),
        3.0
    );
    assert_eq!(
        counter(&s, "http_reqs"),
        1.0 + 9.0,
        "the login and the upgrades"
    );

    // nginx logs a session when it ends, before the next upgrade starts.
    let port = format!("{} ", behind.port);
    let refused = format!("{port}TLSv1.3 - \"-\" 400");
    let accepted = format!("{port}TLSv1.3 - \"CN=ws-vu\" 101");
    let once = [&refused, &accepted, &refused].map(String::clone);
    assert_eq!(
        behind.nginx.log_lines("tls.log", &port, 9),
        [once.clone(), once.clone(), once].concat()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_step_with_its_own_tls_shows_its_certificate_and_its_connection_is_not_shared() {
    let dir = tempfile::tempdir().unwrap();
    let behind = demo_behind_mtls(dir.path(), "sse-vu").await;
    let stream = |name: &str, tls: &str| {
        format!(
            r#"      - sse:
          name: {name}
          method: POST
          url: "https://127.0.0.1:{port}/api/chat/stream"
          headers: {{ Authorization: "Bearer {{{{ token }}}}" }}
          json: {{ tokens: 4, delay_ms: 5 }}
          until: "[DONE]"
{tls}"#,
            port = behind.port
        )
    };
    let own = format!(
        "          tls: {{ hosts: [ {} ] }}
          checks: [ {{ events: 4 }}, {{ data_contains: \"token\" }} ]
",
        client_entry("127.0.0.1", dir.path())
    );
    // As with requests: nginx keeps the accepted connection alive, and were
    // streams pooled by origin alone, `after` would ride on `own`'s.
    let flow = [
        stream(
            "before",
            "          expect_status: [400]
",
        ),
        stream("own", &own),
        stream(
            "after",
            "          expect_status: [400]
",
        ),
    ]
    .concat();
    let yaml = logged_in(&trusting(dir.path(), ""), 3, &flow);
    let s = run_yaml(&yaml, &behind.demo.base_url()).await.summary;

    for (name, status) in [("before", "400"), ("own", "200"), ("after", "400")] {
        assert_eq!(
            counter_where(&s, "http_reqs", &[("name", name)]),
            3.0,
            "{name}"
        );
        assert_eq!(
            counter_where(&s, "http_reqs", &[("name", name), ("status", status)]),
            3.0,
            "{name}"
        );
    }
    assert_eq!(counter_where(&s, "sse_events", &[("name", "own")]), 12.0);
    assert_eq!(counter(&s, "sse_events"), 12.0);
    assert_eq!(rate_where(&s, "checks", &[]), (6, 6));
    assert_eq!(rate_where(&s, "http_req_failed", &[]), (0, 10));

    let port = format!("{} ", behind.port);
    let refused = format!("{port}TLSv1.3 - \"-\" 400");
    let accepted = format!("{port}TLSv1.3 - \"CN=sse-vu\" 200");
    let once = [&refused, &accepted, &refused].map(String::clone);
    assert_eq!(
        behind.nginx.log_lines("tls.log", &port, 9),
        [once.clone(), once.clone(), once].concat()
    );
}

#[test]
fn the_documented_mtls_example_runs_against_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let (nginx, ports) = start(dir.path());
    run_tls_example(dir.path(), "mtls.yaml", ports.mtls);
    let mtls_port = format!("{} ", ports.mtls);
    assert_eq!(
        nginx.log_lines("tls.log", &mtls_port, 6),
        vec![format!("{mtls_port}TLSv1.3 - \"CN=stampede-vu\" 200"); 6]
    );
}

#[test]
fn the_documented_request_tls_example_runs_against_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let (nginx, ports) = start(dir.path());
    run_tls_example(dir.path(), "request-mtls.yaml", ports.mtls);
    let mtls_port = format!("{} ", ports.mtls);
    let refused = format!("{mtls_port}TLSv1.3 - \"-\" 400");
    let accepted = format!("{mtls_port}TLSv1.3 - \"CN=stampede-vu\" 200");
    assert_eq!(
        nginx.log_lines("tls.log", &mtls_port, 6),
        [&refused, &accepted, &refused, &refused, &accepted, &refused]
            .map(String::clone)
            .to_vec()
    );
}

#[test]
fn outputs_trust_the_ca_and_show_their_client_certificate_to_an_mtls_backend() {
    let dir = tempfile::tempdir().unwrap();
    let (nginx, ports) = start(dir.path());
    let scenario_file = dir.path().join("one.yaml");
    std::fs::write(
        &scenario_file,
        // ca_file relative to the scenario file's directory.
        format!(
            "http:\n  tls: {{ ca_file: ca.pem }}\nflow:\n  - request: {{ url: \"https://127.0.0.1:{}/\" }}\n",
            ports.plain
        ),
    )
    .unwrap();
    let run = |client: bool| {
        let mut out = format!(
            "prometheus-rw=https://127.0.0.1:{}/api/v1/write;ca_file={}",
            ports.mtls,
            dir.path().display()
        );
        if client {
            out.push_str(&format!(
                ";client_cert={};client_key={}",
                dir.path().join("client.pem").display(),
                dir.path().join("client.key").display()
            ));
        }
        std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(["run", "--quiet", "--out", &out])
            .arg(&scenario_file)
            .output()
            .unwrap()
    };
    let mtls_port = format!("{} ", ports.mtls);

    // ca_file names the directory holding ca.pem: the shared loader.
    let without = run(false);
    assert_eq!(without.status.code(), Some(0));
    let refused = nginx.log_lines("tls.log", &mtls_port, 1);
    assert!(!refused.is_empty());
    assert!(
        refused
            .iter()
            .all(|l| *l == format!("{mtls_port}TLSv1.3 - \"-\" 400")),
        "{refused:?}"
    );

    let with = run(true);
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let lines = nginx.log_lines("tls.log", &mtls_port, refused.len() + 1);
    let accepted = &lines[refused.len()..];
    assert!(!accepted.is_empty());
    assert!(
        accepted
            .iter()
            .all(|l| *l == format!("{mtls_port}TLSv1.3 - \"CN=stampede-vu\" 200")),
        "{accepted:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_with_its_own_tls_shows_its_certificate_and_the_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, ports) = start(dir.path());
    let url = format!("https://127.0.0.1:{}/", ports.mtls);
    let yaml = format!(
        r#"
http:
  tls: {{ ca_file: {ca} }}
scenarios:
  anonymous:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    flow:
      - request: {{ name: anonymous, url: "{url}" }}
  tenant:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    tls:
      hosts: [ {entry} ]
    flow:
      - request: {{ name: tenant, url: "{url}" }}
"#,
        ca = dir.path().join("ca.pem").display(),
        entry = client_entry("127.0.0.1", dir.path()),
    );
    let s = run_yaml(&yaml, "http://unused").await.summary;
    assert_eq!(
        counter_where(&s, "http_reqs", &[("name", "anonymous"), ("status", "400")]),
        3.0
    );
    // The scenario's rules come first; ca_file is inherited from http.tls.
    assert_eq!(
        counter_where(&s, "http_reqs", &[("name", "tenant"), ("status", "200")]),
        3.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_named_setup_does_not_lend_its_tls_to_the_test_level_setup_and_teardown() {
    let dir = tempfile::tempdir().unwrap();
    let (nginx, ports) = start(dir.path());
    let url = format!("https://127.0.0.1:{}/", ports.mtls);
    // The test-level setup and teardown use `http.tls` (no client
    // certificate): nginx answers them 400. Only the scenario that happens
    // to be called `setup` shows the certificate.
    let yaml = format!(
        r#"
http:
  tls: {{ ca_file: {ca} }}
setup:
  - request: {{ name: test-setup, url: "{url}" }}
teardown:
  - request: {{ name: test-teardown, url: "{url}" }}
scenarios:
  setup:
    executor: per-vu-iterations
    vus: 1
    iterations: 1
    tls:
      hosts: [ {entry} ]
    flow:
      - request: {{ name: flow, url: "{url}" }}
"#,
        ca = dir.path().join("ca.pem").display(),
        entry = client_entry("127.0.0.1", dir.path()),
    );
    let s = run_yaml(&yaml, "http://unused").await.summary;
    assert_eq!(
        counter_where(&s, "http_reqs", &[("name", "flow"), ("status", "200")]),
        1.0
    );
    let mtls_port = format!("{} ", ports.mtls);
    assert_eq!(
        nginx.log_lines("tls.log", &mtls_port, 3),
        vec![
            format!("{mtls_port}TLSv1.3 - \"-\" 400"),
            format!("{mtls_port}TLSv1.3 - \"CN=stampede-vu\" 200"),
            format!("{mtls_port}TLSv1.3 - \"-\" 400"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_its_own_client_certificate_never_shares_a_connection_with_one_without() {
    let dir = tempfile::tempdir().unwrap();
    let (nginx, ports) = start(dir.path());
    let url = format!("https://127.0.0.1:{}/", ports.mtls);
    // One VU, two iterations of: no certificate, the request's own
    // certificate, no certificate again, all to the same host. nginx keeps
    // the accepted connection alive; were it pooled by origin alone, the
    // third request would ride on it and get 200.
    let yaml = format!(
        r#"
http:
  tls: {{ ca_file: {ca} }}
scenarios:
  s:
    executor: per-vu-iterations
    vus: 1
    iterations: 2
    flow:
      - request: {{ name: before, url: "{url}" }}
      - request:
          name: own
          url: "{url}"
          tls:
            hosts: [ {entry} ]
          checks: [ {{ body_contains: "client CN=stampede-vu" }} ]
      - request: {{ name: after, url: "{url}" }}
"#,
        ca = dir.path().join("ca.pem").display(),
        entry = client_entry("127.0.0.1", dir.path()),
    );
    let s = run_yaml(&yaml, "http://unused").await.summary;
    for (name, status) in [("before", "400"), ("own", "200"), ("after", "400")] {
        assert_eq!(
            counter_where(&s, "http_reqs", &[("name", name)]),
            2.0,
            "{name}"
        );
        assert_eq!(
            counter_where(&s, "http_reqs", &[("name", name), ("status", status)]),
            2.0,
            "{name}"
        );
    }
    assert_eq!(rate_where(&s, "checks", &[]), (2, 2));
    let mtls_port = format!("{} ", ports.mtls);
    let refused = format!("{mtls_port}TLSv1.3 - \"-\" 400");
    let accepted = format!("{mtls_port}TLSv1.3 - \"CN=stampede-vu\" 200");
    assert_eq!(
        nginx.log_lines("tls.log", &mtls_port, 6),
        [&refused, &accepted, &refused, &refused, &accepted, &refused]
            .map(String::clone)
            .to_vec()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_stream_and_session_tls_example_runs_against_nginx() {
    let dir = tempfile::tempdir().unwrap();
    let behind = demo_behind_mtls(dir.path(), "stampede-vu").await;
    // The demo target answers on this runtime while the run blocks another thread.
    let (path, port) = (dir.path().to_path_buf(), behind.port);
    tokio::task::spawn_blocking(move || run_tls_example(&path, "stream-mtls.yaml", port))
        .await
        .unwrap();
    let port = format!("{} ", behind.port);
    let client = "TLSv1.3 - \"CN=stampede-vu\"";
    let iteration = [
        format!("{port}{client} 200"),
        format!("{port}{client} 101"),
        format!("{port}TLSv1.3 - \"-\" 400"),
    ];
    assert_eq!(
        behind.nginx.log_lines("tls.log", &port, 7),
        [
            vec![format!("{port}{client} 200")],
            iteration.to_vec(),
            iteration.to_vec()
        ]
        .concat()
    );
}

/// Runs `docs/examples/tls/EXAMPLE` against `https://127.0.0.1:PORT` with the
/// CA and client certificate made in `dir`, and expects it to pass.
fn run_tls_example(dir: &Path, example: &str, port: u16) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/examples/tls")
        .join(example);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["run", "--quiet"])
        .arg(&example)
        .env("BASE_URL", format!("https://127.0.0.1:{port}"))
        .env("CA_FILE", dir.join("ca.pem"))
        .env("CLIENT_CERT", dir.join("client.pem"))
        .env("CLIENT_KEY", dir.join("client.key"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}{}",
        example.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
