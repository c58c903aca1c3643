//! `http2:` in scenario files: request over scenario over `http:`, the
//! resolved choice on every request kind, and exact errors for bad values.

use std::path::Path;

use stampede::protocol::http::ProtoChoice;
use stampede::scenario::{LoadOptions, Step, TestPlan, load_str};

fn plan(text: &str) -> TestPlan {
    load_str(text, Path::new("h2.yaml"), &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn errors(text: &str) -> String {
    match load_str(text, Path::new("bad.yaml"), &LoadOptions::default()) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// (name, choice) of every request-like step, depth first.
fn choices(steps: &[Step], out: &mut Vec<(String, ProtoChoice)>) {
    for step in steps {
        match step {
            Step::Request(r) => out.push((r.name.clone(), r.proto)),
            Step::Sse(s) => out.push((s.request.name.clone(), s.request.proto)),
            Step::Batch(b) => {
                for r in &b.requests {
                    out.push((r.name.clone(), r.proto));
                }
            }
            Step::Group(g) => choices(&g.steps, out),
            _ => {}
        }
    }
}

fn scenario_choices(plan: &TestPlan, name: &str) -> Vec<(String, ProtoChoice)> {
    let scenario = plan.scenarios.iter().find(|s| s.name == name).unwrap();
    let mut out = Vec::new();
    choices(&scenario.vu_setup, &mut out);
    choices(&scenario.flow, &mut out);
    out
}

fn named(pairs: &[(&str, ProtoChoice)]) -> Vec<(String, ProtoChoice)> {
    pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

const LEVELS: &str = r#"
http:
  http2: true
setup:
  - request: { name: global, url: "http://h/" }
scenarios:
  inherits:
    executor: per-vu-iterations
    flow:
      - request: { name: global, url: "http://h/" }
      - request: { name: own, url: "http://h/", http2: false }
  scenario_off:
    executor: per-vu-iterations
    http2: false
    setup:
      - request: { name: setup, url: "http://h/" }
    flow:
      - request: { name: scenario, url: "http://h/" }
      - request: { name: own, url: "http://h/", http2: true }
      - group:
          name: g
          steps:
            - batch:
                requests:
                  - { name: batched, url: "http://h/", copies: 2 }
                  - { name: batched on, url: "http://h/", http2: true }
      - sse: { name: stream, url: "http://h/" }
      - sse: { name: stream on, url: "http://h/", http2: true }
"#;

#[test]
fn request_beats_scenario_beats_http_section() {
    use ProtoChoice::*;
    let plan = plan(LEVELS);
    let mut setup = Vec::new();
    choices(&plan.setup, &mut setup);
    assert_eq!(setup, named(&[("global", Http2)]));
    assert_eq!(
        scenario_choices(&plan, "inherits"),
        named(&[("global", Http2), ("own", Http1)])
    );
    assert_eq!(
        scenario_choices(&plan, "scenario_off"),
        named(&[
            ("setup", Http1),
            ("scenario", Http1),
            ("own", Http2),
            ("batched", Http1),
            ("batched", Http1),
            ("batched on", Http2),
            ("stream", Http1),
            ("stream on", Http2),
        ])
    );
}

#[test]
fn unset_everywhere_is_auto() {
    let plan = plan("iterations: 1\nflow:\n  - request: { name: r, url: \"https://h/\" }\n");
    assert_eq!(
        scenario_choices(&plan, "default"),
        named(&[("r", ProtoChoice::Auto)])
    );
}

#[test]
fn http2_must_be_a_boolean() {
    assert_eq!(
        errors("flow:\n  - request:\n      url: http://x/\n      http2: \"yes\"\n"),
        "bad.yaml:4:14: flow[0].request.http2: invalid type: string \"yes\", expected a boolean or a \"{{ NAME }}\" template"
    );
    assert_eq!(
        errors("http:\n  http2: 2\nflow:\n  - request: { url: \"http://x/\" }\n"),
        "bad.yaml:2:10: http.http2: invalid type: integer `2`, expected a boolean or a \"{{ NAME }}\" template"
    );
    assert_eq!(
        errors(
            "scenarios:\n  s:\n    http2: on\n    flow:\n      - request: { url: \"http://x/\" }\n"
        ),
        // Every problem at once: the missing duration is reported too.
        "bad.yaml:2:3: scenarios.s: constant-vus needs `duration` (hint: add e.g. `duration: 30s`)\n\
         bad.yaml:3:12: scenarios.s.http2: invalid type: string \"on\", expected a boolean or a \"{{ NAME }}\" template"
    );
}

#[test]
fn proto_is_a_reserved_tag() {
    let text = "scenarios:\n  s:\n    executor: per-vu-iterations\n    tags: { proto: h3 }\n    flow:\n      - request: { url: \"http://x/\" }\n";
    assert_eq!(
        errors(text),
        "bad.yaml:4:13: scenarios.s.tags.proto: tag \"proto\" is set by stampede (hint: reserved tags: scenario, name, method, status, expected_response, error_code, group, check, testid, instance, url, proto)"
    );
}
