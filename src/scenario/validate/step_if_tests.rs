//! `if:` on steps and the condition subjects it brought (`var`, `not`,
//! `error_code`, `status: 0`): what compiles, and the exact problems.

use std::path::Path;

use crate::scenario::condition::Condition;
use crate::scenario::{LoadOptions, Step, TestPlan, load_str};

fn plan(text: &str) -> TestPlan {
    load_str(text, Path::new("s.yaml"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("compiles: {e}"))
}

fn errors(text: &str) -> String {
    match load_str(text, Path::new("bad.yaml"), &LoadOptions::default()) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn guard(step: &Step) -> &Condition {
    match step {
        Step::If(guarded) => &guarded.condition,
        other => panic!("not an if step: {other:?}"),
    }
}

#[test]
fn if_wraps_every_step_kind_and_describes_its_condition() {
    let p = plan(
        r#"
env: { MODE: fast }
iterations: 1
flow:
  - request: { name: primary, url: "http://127.0.0.1:1/a", timeout: 1s }
  - if: { not: { status: 200 } }
    request: { name: fallback, url: "http://127.0.0.1:1/b" }
  - if: { error_code: timeout }
    sleep: 1ms
  - if: { var: MODE, equals: fast }
    group: { name: fast, steps: [ { sleep: 1ms } ] }
  - if: { status: [0, "5xx"] }
    batch: { requests: [ { url: "http://127.0.0.1:1/c" } ] }
  - if: { var: __ITER, lt: 3 }
    choose: [ { weight: 1, steps: [ { sleep: 1ms } ] } ]
  - if: { header: X-Served-By, exists: true }
    sse: { url: "http://127.0.0.1:1/s", max_events: 1 }
"#,
    );
    let flow = &plan_flow(&p);
    assert_eq!(flow.len(), 7);
    assert!(matches!(flow[0], Step::Request(_)));
    let described: Vec<String> = flow[1..].iter().map(|s| guard(s).describe()).collect();
    assert_eq!(
        described,
        [
            "not (status is 200)",
            "error_code is timeout",
            "var MODE equals fast",
            "status is 0 or 500-599",
            "var __ITER < 3",
            "header x-served-by exists",
        ]
    );
    let needs: Vec<bool> = flow[1..]
        .iter()
        .map(|s| guard(s).needs_response())
        .collect();
    assert_eq!(needs, [true, true, false, true, false, true]);
}

fn plan_flow(p: &TestPlan) -> &[Step] {
    &p.scenarios[0].flow
}

#[test]
fn requests_keep_what_a_later_if_reads() {
    let p = plan(
        r#"
iterations: 1
flow:
  - group:
      name: g
      steps: [ { request: { name: a, url: "http://127.0.0.1:1/a" } } ]
  - if: { json: ok, equals: true }
    request: { name: b, url: "http://127.0.0.1:1/b" }
"#,
    );
    let Step::Group(group) = &plan_flow(&p)[0] else {
        panic!("group first")
    };
    let Step::Request(a) = &group.steps[0] else {
        panic!("request in group")
    };
    assert!(a.needs_body, "the later `if` reads the body");
    assert!(!a.needs_headers, "no `if` reads headers");
}

#[test]
fn a_response_condition_needs_a_request_before_it() {
    assert_eq!(
        errors(
            "iterations: 1\nflow:\n  - if: { status: 200 }\n    request: { url: \"http://127.0.0.1:1/\" }\n"
        ),
        "bad.yaml:3:5: flow[0].if: `status is 200` looks at the last response, but no request runs before this step (hint: put a request before it in the same flow, or test a value: if: { var: NAME, equals: VALUE })"
    );
    // An SSE stream is not a response an `if:` can read.
    assert_eq!(
        errors(
            "iterations: 1\nflow:\n  - sse: { url: \"http://127.0.0.1:1/s\", max_events: 1 }\n  - if: { not: { error_code: timeout } }\n    sleep: 1s\n"
        ),
        "bad.yaml:4:5: flow[1].if: `not (error_code is timeout)` looks at the last response, but no request runs before this step (hint: put a request before it in the same flow, or test a value: if: { var: NAME, equals: VALUE })"
    );
}

#[test]
fn a_repeated_if_sees_the_attempt_before() {
    let p = plan(
        r#"
iterations: 1
flow:
  - repeat:
      until: { status: 200 }
      max_attempts: 2
      interval: 1ms
      steps:
        - if: { status: 503 }
          sleep: 1ms
        - request: { url: "http://127.0.0.1:1/" }
"#,
    );
    assert_eq!(plan_flow(&p).len(), 1);
}

#[test]
fn unknown_variables_codes_and_misplaced_keys_are_reported() {
    assert_eq!(
        errors(
            "env: { MODE: fast }\niterations: 1\nflow:\n  - if: { var: MDOE, equals: fast }\n    sleep: 1s\n"
        ),
        "bad.yaml:4:11: flow[0].if.var: unknown variable \"MDOE\" (hint: did you mean MODE?)"
    );
    assert_eq!(
        errors(
            "iterations: 1\nflow:\n  - request: { url: \"http://127.0.0.1:1/\", checks: [ { error_code: timout } ] }\n"
        ),
        "bad.yaml:3:56: flow[0].request.checks[0].error_code: unknown error code \"timout\" (hint: did you mean timeout?)"
    );
    assert_eq!(
        errors(
            "iterations: 1\nflow:\n  - request: { url: \"http://127.0.0.1:1/\" }\n  - if: { var: __VU }\n    sleep: 1s\n"
        ),
        "bad.yaml:4:5: flow[1].if: var needs an operator (hint: use exists, equals, not_equals, contains, not_contains, matches, lt, lte, gt, gte or in)"
    );
    assert_eq!(
        errors(
            "iterations: 1\nflow:\n  - request: { url: \"http://127.0.0.1:1/\" }\n  - if: { error_code: timeout, equals: x }\n    sleep: 1s\n"
        ),
        "bad.yaml:4:5: flow[1].if: error_code takes no operators (hint: operators apply to json, header, cookie and var)"
    );
    assert_eq!(
        errors("iterations: 1\nflow:\n  - if: { var: __VU, equals: 1 }\n"),
        "bad.yaml:3:5: flow[0]: `if` has no step to guard; a step is one of request, group, sleep, batch, choose, repeat, sse or websocket (hint: write the step's key beside `if`, e.g. `- if: {...}` then `  request: {...}`)"
    );
}

#[test]
fn status_zero_is_for_checks_not_expectations() {
    let p = plan(
        "iterations: 1\nflow:\n  - request: { url: \"http://127.0.0.1:1/\", checks: [ { status: 0 } ] }\n",
    );
    let Step::Request(r) = &plan_flow(&p)[0] else {
        panic!("request")
    };
    assert_eq!(r.checks[0].name, "status is 0");
    assert_eq!(
        errors(
            "iterations: 1\nflow:\n  - request: { url: \"http://127.0.0.1:1/\", expect_status: 0 }\n"
        ),
        "bad.yaml:3:44: flow[0].request.expect_status: invalid status \"0\" (hint: use a code (200), a range (\"200-299\") or a class (\"2xx\"))"
    );
}
