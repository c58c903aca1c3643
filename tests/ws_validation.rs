//! `websocket` steps that cannot work are refused when the file loads, each
//! problem on one line with its file, line, column and field.

use std::collections::HashMap;
use std::path::Path;

use stampede::scenario::{self, LoadOptions};

fn options() -> LoadOptions {
    LoadOptions {
        process_env: HashMap::new(),
        ..LoadOptions::default()
    }
}

fn errors(flow: &str) -> String {
    let yaml = format!("vus: 1\niterations: 1\nflow:\n{flow}");
    match scenario::load_str(&yaml, Path::new("bad.yaml"), &options()) {
        Ok(_) => panic!("should not load:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn an_unknown_field_is_refused_with_its_line() {
    let text = errors(
        r#"  - websocket:
      url: "ws://127.0.0.1:1/ws"
      subprotocol: [chat]
      steps:
        - send: { text: hi }
"#,
    );
    assert!(
        text.starts_with("bad.yaml:6:7: ") && text.contains("unknown field `subprotocol`"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
fn a_missing_url_is_refused() {
    let text = errors(
        r#"  - websocket:
      steps:
        - send: { text: hi }
"#,
    );
    assert!(text.starts_with("bad.yaml:"), "{text}");
    assert!(text.contains("missing field `url`"), "{text}");
}

#[test]
fn bad_websocket_steps_are_reported_with_their_fields() {
    let text = errors(
        r#"  - websocket:
      url: "ftp://127.0.0.1:1/ws"
      headers: { Sec-WebSocket-Protocol: chat, Upgrade: websocket }
      subprotocols: ["chat v1", agent.v1, agent.v1]
      connect_timeout: 0s
      steps:
        - send: { text: hi, json: { a: 1 } }
        - send: { binary_base64: "not base64!" }
        - send: {}
        - { send: { text: a }, hold: { duration: 1s } }
        - expect: { equals: 5 }
        - expect: { json: "a[", timeout: soon }
        - expect: { checks: [ { json: a, data_contains: b } ], extract: { v: {} } }
        - hold: { duration: 0s, ping_interval: 1 minute }
      checks:
        - messages_received: "lots"
        - { status: 101, messages_sent: 1 }
"#,
    );
    for expected in [
        "bad.yaml:5:7: flow[0].websocket.url: URL must start with ws:// or wss://, got \"ftp://127.0.0.1:1/ws\" (hint: e.g. \"ws://{{ HOST }}/ws\"; http:// and https:// mean ws:// and wss://)",
        "flow[0].websocket.headers.Sec-WebSocket-Protocol: Sec-WebSocket-Protocol is set by the WebSocket handshake (hint: use subprotocols: [...])",
        "flow[0].websocket.headers.Upgrade: Upgrade is set by the WebSocket handshake",
        "flow[0].websocket.subprotocols[0]: invalid subprotocol \"chat v1\"",
        "flow[0].websocket.subprotocols[2]: subprotocol \"agent.v1\" is listed twice",
        "flow[0].websocket.connect_timeout: must be longer than 0s",
        "flow[0].websocket.steps[0].send: use only one of text, json and binary_base64, found text and json",
        "flow[0].websocket.steps[1].send.binary_base64: invalid base64",
        "flow[0].websocket.steps[2].send: needs a message (hint: use one of text, json or binary_base64)",
        "flow[0].websocket.steps[3]: a session step has exactly one of send, expect or hold, found send and hold",
        "flow[0].websocket.steps[4].expect.equals: equals applies to a json value",
        "bad.yaml:15:21: flow[0].websocket.steps[5].expect.json: invalid JSON path \"a[\"",
        "flow[0].websocket.steps[5].expect.timeout: invalid duration \"soon\"",
        "flow[0].websocket.steps[6].expect.checks[0]: a check has exactly one subject, found json and data_contains",
        "flow[0].websocket.steps[6].expect.extract.v: needs a source",
        "flow[0].websocket.steps[7].hold.duration: must be longer than 0s",
        "flow[0].websocket.steps[7].hold.ping_interval: invalid duration \"1 minute\"",
        "flow[0].websocket.checks[0].messages_received: invalid message count \"lots\"",
        "flow[0].websocket.checks[1]: a check has exactly one subject, found status and messages_sent",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // One problem per line, each located.
    assert!(text.lines().all(|l| l.starts_with("bad.yaml:")), "{text}");
}

#[test]
fn a_valid_websocket_step_loads_and_its_extractions_are_variables() {
    let yaml = r#"
vus: 1
iterations: 1
flow:
  - websocket:
      url: "wss://example.com/ws?room={{ __VU }}"
      headers: { Authorization: "Bearer x" }
      subprotocols: [agent.v1, chat]
      steps:
        - send: { json: { tool: echo, args: { n: "{{ __VU }}" } } }
        - expect: { json: result.n, exists: true, extract: { n: { json: result.n } } }
        - send: { text: "n={{ n }}" }
        - expect: { matches: "^n=\\d+$" }
        - hold: { duration: 1s }
      checks:
        - { messages_received: ">= 2" }
  - request: { url: "http://127.0.0.1:1/{{ n }}" }
"#;
    scenario::load_str(yaml, Path::new("ok.yaml"), &options()).expect("loads");
}
