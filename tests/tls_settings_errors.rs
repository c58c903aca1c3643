//! Golden one-line errors for bad `http.tls`, `http.proxy`, `http.hosts`
//! and `http.dns` settings and proxy variables: each with its line, column
//! and field, none quoting a key or a proxy password.

use std::collections::HashMap;
use std::path::Path;

use stampede::scenario::{LoadOptions, load_str};

#[path = "support/pki.rs"]
mod pki;

const FLOW: &str = "flow:\n  - request: { url: \"http://127.0.0.1/\" }\n";

fn errors_with(http: &str, options: &LoadOptions) -> String {
    file_errors(&format!("http:\n{http}{FLOW}"), options)
}

/// The load errors of the whole file `text`, named bad.yaml.
fn file_errors(text: &str, options: &LoadOptions) -> String {
    match load_str(text, Path::new("bad.yaml"), options) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// A `tls:` block of its own: TLS 1.3 at most, and a client certificate
/// (made in `dir`) for host c.test.
fn own_tls(dir: &Path) -> String {
    let (cert, key) = pki::Pki::new(dir).client("client", "vu");
    format!(
        "{{ max_version: \"1.3\", hosts: [ {{ host: c.test, client_cert: {}, client_key: {} }} ] }}",
        cert.display(),
        key.display()
    )
}

fn errors(http: &str) -> String {
    errors_with(http, &LoadOptions::default())
}

#[test]
fn tls_settings_are_checked_at_load() {
    assert_eq!(
        errors("  tls: { min_version: \"1.1\" }\n"),
        "bad.yaml:2:10: http.tls.min_version: unknown TLS version \"1.1\" (hint: use 1.2 or 1.3)"
    );
    assert_eq!(
        errors("  tls: { min_version: 1.3, max_version: 1.2 }\n"),
        "bad.yaml:2:10: http.tls.min_version: 1.3 is above max_version 1.2"
    );
    assert_eq!(
        errors("  tls: { ca_file: /nonexistent/ca.pem }\n"),
        "bad.yaml:2:10: http.tls.ca_file: /nonexistent/ca.pem: cannot read: No such file or directory (os error 2)"
    );
    assert_eq!(
        errors("  tls: { replace_default_roots: true }\n"),
        "bad.yaml:2:10: http.tls.replace_default_roots: replaces the public roots with nothing: no server could be trusted (hint: set ca_file too)"
    );
    assert_eq!(
        errors("  tls:\n    hosts:\n      - { host: \"a*.example.com\", server_name: x }\n"),
        "bad.yaml:4:11: http.tls.hosts[0].host: \"a*.example.com\" is not a host pattern (use api.example.com, *.example.com or *)"
    );
    assert_eq!(
        errors("  tls:\n    hosts:\n      - { host: api.test, client_cert: c.pem }\n"),
        "bad.yaml:4:27: http.tls.hosts[0].client_cert: has no client_key"
    );
    assert_eq!(
        errors("  tls: { sni: api.test }\n"),
        "bad.yaml:2:10: http.tls: unknown field `sni` (hint: expected one of `ca_file`, `replace_default_roots`, `min_version`, `max_version`, `hosts`)"
    );
}

#[test]
fn a_broken_key_file_is_named_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pki::Pki::new(dir.path()).client("client", "vu");
    let pem = std::fs::read_to_string(&key).unwrap();
    let body_line = pem.lines().nth(1).unwrap().to_string();
    // One character that is not base64, in the middle of the key.
    std::fs::write(
        &key,
        pem.replacen(
            &body_line,
            &format!("{}!{}", &body_line[..20], &body_line[20..]),
            1,
        ),
    )
    .unwrap();
    let http = format!(
        "  tls:\n    hosts:\n      - {{ host: api.test, client_cert: {}, client_key: {} }}\n",
        cert.display(),
        key.display()
    );
    let column = 40 + cert.display().to_string().len() + 2;
    assert_eq!(
        errors(&http),
        format!(
            "bad.yaml:4:{column}: http.tls.hosts[0].client_key: {}: cannot read private key: the text between BEGIN and END is not base64",
            key.display()
        )
    );
}

#[test]
fn proxy_hosts_and_dns_settings_are_checked_at_load() {
    assert_eq!(
        errors("  proxy: { url: \"socks5://proxy.test:1080\" }\n"),
        "bad.yaml:2:12: http.proxy.url: proxy scheme \"socks5\" is not supported (use http://; the tunnel to https:// targets is still encrypted end to end)"
    );
    assert_eq!(
        errors("  hosts: { \"api.test:https\": 127.0.0.1 }\n"),
        "bad.yaml:2:12: http.hosts.api.test:https: \"api.test:https\" is not host or host:port"
    );
    assert_eq!(
        errors("  hosts: { api.test: api.internal }\n"),
        "bad.yaml:2:12: http.hosts.api.test: \"api.internal\" is not an IP address (use 10.0.0.5, 10.0.0.5:8443 or [::1]:8443)"
    );
    assert_eq!(
        errors("  dns: { scope: per-request }\n"),
        "bad.yaml:2:10: http.dns.scope: unknown DNS scope \"per-request\" (hint: use shared, per-vu or per-connection)"
    );
}

#[test]
fn a_bad_proxy_variable_is_named_without_its_value() {
    let options = LoadOptions {
        process_env: HashMap::from([(
            "HTTPS_PROXY".to_string(),
            "ftp://agent:s3cret@proxy.test".to_string(),
        )]),
        ..LoadOptions::default()
    };
    assert_eq!(
        errors_with("  cookies: true\n", &options),
        "bad.yaml: HTTPS_PROXY: proxy scheme \"ftp\" is not supported (use http://; the tunnel to https:// targets is still encrypted end to end)"
    );
}

#[test]
fn a_request_tls_block_is_checked_like_the_others() {
    let text = "flow:
  - request:
      url: \"https://127.0.0.1/\"
      tls:
        min_version: \"1.1\"
        hosts:
          - { host: api.test, client_key: k.pem }
";
    let err = file_errors(text, &LoadOptions::default());
    assert_eq!(
        err,
        "bad.yaml:5:9: flow[0].request.tls.min_version: unknown TLS version \"1.1\" (hint: use 1.2 or 1.3)\n\
         bad.yaml:7:31: flow[0].request.tls.hosts[0].client_key: has no client_cert"
    );
}

/// Not an error case, but the rule the errors above are checked against:
/// request over scenario over `http.tls`, field by field, host rules
/// request first. Equal merged settings share one profile (and so their
/// connections); the test-level setup merges over `http.tls`.
#[test]
fn a_request_tls_is_merged_over_its_scenario_and_the_file() {
    use stampede::protocol::http::tls::{TlsConfig, TlsVersion};
    use stampede::scenario::Step;
    let dir = tempfile::tempdir().unwrap();
    let own = own_tls(dir.path());
    let text = format!(
        "http:
  tls: {{ min_version: \"1.2\", hosts: [ {{ host: a.test, server_name: a.internal }} ] }}
setup:
  - request: {{ url: \"https://c.test/\", tls: {own} }}
scenarios:
  s:
    executor: per-vu-iterations
    tls: {{ min_version: \"1.3\", hosts: [ {{ host: b.test, server_name: b.internal }} ] }}
    flow:
      - request: {{ url: \"https://c.test/1\", tls: {own} }}
      - request: {{ url: \"https://c.test/2\", tls: {own} }}
      - request: {{ url: \"https://c.test/3\" }}
"
    );
    let plan = load_str(&text, &dir.path().join("ok.yaml"), &LoadOptions::default()).unwrap();
    let tls = |step: &Step| match step {
        Step::Request(r) => r.tls.clone(),
        other => panic!("not a request: {other:?}"),
    };
    let patterns = |config: &TlsConfig| -> Vec<String> {
        config
            .hosts
            .iter()
            .map(|h| h.pattern.as_str().to_string())
            .collect()
    };
    let flow = &plan.scenarios[0].flow;
    let first = tls(&flow[0]).expect("the request's own tls");
    let config = first.config();
    assert_eq!(
        config.min_version,
        Some(TlsVersion::Tls13),
        "the scenario's"
    );
    assert_eq!(config.max_version, Some(TlsVersion::Tls13), "the request's");
    assert_eq!(patterns(config), ["c.test", "b.test", "a.test"]);
    assert!(config.hosts[0].identity.is_some());
    assert!(std::sync::Arc::ptr_eq(&first, &tls(&flow[1]).unwrap()));
    assert!(tls(&flow[2]).is_none(), "no tls: the VU client's");

    let setup = tls(&plan.setup[0]).unwrap();
    assert_eq!(setup.config().min_version, Some(TlsVersion::Tls12));
    assert_eq!(patterns(setup.config()), ["c.test", "a.test"]);
    assert!(!std::sync::Arc::ptr_eq(&first, &setup));
}

#[test]
fn sse_and_websocket_tls_blocks_are_checked_like_a_request_s() {
    let text = "flow:
  - sse:
      url: \"https://127.0.0.1/stream\"
      until: \"[DONE]\"
      tls:
        max_version: \"1.0\"
  - websocket:
      url: \"wss://127.0.0.1/ws\"
      steps: [ { send: { text: hi } } ]
      tls:
        hosts:
          - { host: api.test, client_key: k.pem }
";
    let err = file_errors(text, &LoadOptions::default());
    assert_eq!(
        err,
        "bad.yaml:6:9: flow[0].sse.tls.max_version: unknown TLS version \"1.0\" (hint: use 1.2 or 1.3)\n\
         bad.yaml:12:31: flow[1].websocket.tls.hosts[0].client_key: has no client_cert"
    );
}

/// The rule of `a_request_tls_is_merged_over_its_scenario_and_the_file`
/// for `sse` and `websocket` steps: the same merge, and one profile for
/// equal merged settings whichever kind of step asked for them, so an SSE
/// stream and a request with the same `tls` share connections.
#[test]
fn sse_and_websocket_tls_are_merged_and_shared_as_a_request_s() {
    use stampede::protocol::http::tls::TlsVersion;
    use stampede::scenario::Step;
    let dir = tempfile::tempdir().unwrap();
    let own = own_tls(dir.path());
    let text = format!(
        "http:
  tls: {{ min_version: \"1.2\", hosts: [ {{ host: a.test, server_name: a.internal }} ] }}
scenarios:
  s:
    executor: per-vu-iterations
    tls: {{ min_version: \"1.3\" }}
    flow:
      - request: {{ url: \"https://c.test/1\", tls: {own} }}
      - sse: {{ url: \"https://c.test/stream\", tls: {own} }}
      - websocket: {{ url: \"wss://c.test/ws\", steps: [ {{ send: {{ text: hi }} }} ], tls: {own} }}
      - sse: {{ url: \"https://c.test/stream\" }}
      - websocket: {{ url: \"wss://c.test/ws\", steps: [ {{ send: {{ text: hi }} }} ] }}
"
    );
    let plan = load_str(&text, &dir.path().join("ok.yaml"), &LoadOptions::default()).unwrap();
    let flow = &plan.scenarios[0].flow;
    let Step::Request(request) = &flow[0] else {
        panic!("not a request: {:?}", flow[0]);
    };
    let request = request.tls.clone().expect("the request's own tls");
    let Step::Sse(sse) = &flow[1] else {
        panic!("not sse: {:?}", flow[1]);
    };
    let sse = sse.request.tls.clone().expect("the stream's own tls");
    let Step::WebSocket(ws) = &flow[2] else {
        panic!("not websocket: {:?}", flow[2]);
    };
    let ws = ws.tls.clone().expect("the session's own tls");
    assert!(std::sync::Arc::ptr_eq(&request, &sse));
    assert!(std::sync::Arc::ptr_eq(&request, &ws));
    let config = ws.config();
    assert_eq!(
        config.min_version,
        Some(TlsVersion::Tls13),
        "the scenario's"
    );
    assert_eq!(config.max_version, Some(TlsVersion::Tls13), "the step's");
    let patterns: Vec<&str> = config.hosts.iter().map(|h| h.pattern.as_str()).collect();
    assert_eq!(patterns, ["c.test", "a.test"]);
    assert!(config.hosts[0].identity.is_some());
    match (&flow[3], &flow[4]) {
        (Step::Sse(sse), Step::WebSocket(ws)) => {
            assert!(sse.request.tls.is_none(), "no tls: the VU client's");
            assert!(ws.tls.is_none(), "no tls: the VU client's");
        }
        other => panic!("not sse and websocket: {other:?}"),
    }
}
