//! `sse` steps that cannot work are refused when the file loads, each
//! problem with its line and field.

use std::collections::HashMap;
use std::path::Path;

use stampede::scenario::{self, LoadOptions};

fn errors(flow: &str) -> String {
    let yaml = format!("vus: 1\niterations: 1\nflow:\n{flow}");
    let options = LoadOptions {
        process_env: HashMap::new(),
        ..LoadOptions::default()
    };
    match scenario::load_str(&yaml, Path::new("bad.yaml"), &options) {
        Ok(_) => panic!("should not load:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_sse_steps_are_reported_with_their_fields() {
    let text = errors(
        r#"  - sse:
      url: "http://127.0.0.1:1/stream"
      until: ""
      max_events: 0
      hold: 0s
      checks:
        - events: "at least 3"
        - { events: 3, json: a, equals: 1 }
        - { json: a, equals: 1, on: first }
        - { data_contains: x, equals: 1 }
        - { status: 200, on: any }
      extract:
        v: { on: last }
"#,
    );
    for expected in [
        "bad.yaml:6:7: flow[0].sse.until: must not be empty",
        "flow[0].sse.max_events: must be at least 1",
        "flow[0].sse.hold: must be longer than 0s",
        "flow[0].sse.checks[0].events: invalid event count \"at least 3\"",
        "flow[0].sse.checks[1]: a check has exactly one subject, found events and json",
        "flow[0].sse.checks[2].on: unknown event selector \"first\" (hint: use last or any)",
        "flow[0].sse.checks[3]: data_contains takes no operators",
        "flow[0].sse.checks[4].on: `on` picks the event for data_contains and json, not for status",
        "flow[0].sse.extract.v: needs a source",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn a_valid_sse_step_loads() {
    let yaml = r#"
vus: 1
iterations: 1
flow:
  - sse:
      method: POST
      url: "http://127.0.0.1:1/chat"
      json: { prompt: "hi {{ __VU }}" }
      until: "[DONE]"
      max_events: 10
      hold: 5s
      checks:
        - events: ">= 1"
        - { json: token, exists: true, on: any }
      extract:
        t: { json: token }
  - request: { url: "http://127.0.0.1:1/{{ t }}" }
"#;
    let options = LoadOptions {
        process_env: HashMap::new(),
        ..LoadOptions::default()
    };
    scenario::load_str(yaml, Path::new("ok.yaml"), &options).expect("loads");
}
