//! Golden one-line error texts for bad scenario files.

use std::path::Path;

use stampede::scenario::{LoadOptions, load, load_str};

const OK_FLOW: &str = "flow:\n  - request: { url: \"http://127.0.0.1/\" }\n";

fn errors(text: &str) -> String {
    errors_with(text, &LoadOptions::default())
}

fn errors_with(text: &str, options: &LoadOptions) -> String {
    match load_str(text, Path::new("bad.yaml"), options) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_file() {
    let err = load(Path::new("/nonexistent/x.yaml"), &LoadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/nonexistent/x.yaml: cannot read scenario file: No such file or directory (os error 2)"
    );
}

#[test]
fn yaml_syntax_errors_carry_their_position() {
    assert_eq!(
        errors("vus: 1\nflow:\n  - request:\n      url: a: b\n"),
        "bad.yaml:4:13: invalid YAML: mapping values are not allowed in this context"
    );
    assert_eq!(
        errors("env:\n  A: \"unterminated\nflow: []\n"),
        "bad.yaml:2:6: invalid YAML: invalid indentation in quoted scalar"
    );
    assert_eq!(
        errors("# nothing\n"),
        "bad.yaml: the scenario file is empty (hint: start with e.g. `vus: 1`, `duration: 10s` and a `flow:` list)"
    );
}

#[test]
fn unknown_field_lists_the_allowed_ones() {
    assert_eq!(
        errors(
            "vus: 1\nduration: 10s\nflow:\n  - request:\n      url: http://x/\n      metod: POST\n"
        ),
        "bad.yaml:6:7: flow[0].request: unknown field `metod` (hint: did you mean `method`?)"
    );
}

#[test]
fn wrong_type() {
    assert_eq!(
        errors("vus: ten\nflow: []\n"),
        "bad.yaml:1:6: vus: invalid type: string \"ten\", expected a whole number or a \"{{ NAME }}\" template\nbad.yaml:2:1: flow: needs at least one step"
    );
}

#[test]
fn bad_duration() {
    assert_eq!(
        errors(&format!("duration: 5 minutes\n{OK_FLOW}")),
        "bad.yaml:1:1: duration: invalid duration \"5 minutes\" (hint: use e.g. 30s, 5m, 500ms)"
    );
}

#[test]
fn bad_threshold_expression_points_at_its_line() {
    assert_eq!(
        errors(&format!(
            "duration: 1s\nthresholds:\n  http_req_duration:\n    - \"p(95)<500\"\n    - \"p95<500\"\n{OK_FLOW}"
        )),
        "bad.yaml:5:7: thresholds.http_req_duration[1]: invalid threshold \"p95<500\": unknown statistic \"p95\"; use avg, min, max, med, count, rate, value or p(N); expected e.g. \"p(95)<500\" or \"rate<0.01\""
    );
    assert_eq!(
        errors(&format!(
            "duration: 1s\nthresholds:\n  http_req_duraton: [\"p(95)<1\"]\n  http_req_failed: [\"p(95)<1\"]\n{OK_FLOW}"
        )),
        "bad.yaml:3:3: thresholds.http_req_duraton: unknown metric \"http_req_duraton\" (hint: did you mean http_req_duration?)\n\
         bad.yaml:4:21: thresholds.http_req_failed[0]: \"p(95)<1\" does not apply to rate metric http_req_failed (hint: rate metrics take rate)"
    );
}

#[test]
fn unknown_template_variable_has_its_line() {
    let text = "duration: 1s\nflow:\n  - request:\n      url: \"http://127.0.0.1/\"\n      headers:\n        Authorization: \"Bearer {{ tokn }}\"\n      extract:\n        token: { json: t }\n";
    assert_eq!(
        errors(text),
        "bad.yaml:6:9: flow[0].request.headers.Authorization: unknown variable \"tokn\" (hint: did you mean token?)"
    );
}

#[test]
fn missing_data_file_names_the_resolved_path() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("s.yaml");
    std::fs::write(
        &source,
        format!("duration: 1s\ndata:\n  users: {{ file: data/nope.csv }}\n{OK_FLOW}"),
    )
    .unwrap();
    let err = load(&source, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}:3:12: data.users.file: cannot read data file {}: No such file or directory (os error 2)",
            source.display(),
            dir.path().join("data/nope.csv").display()
        )
    );
}

#[test]
fn unknown_profile_and_scenario_list_the_choices() {
    let options = LoadOptions {
        profile: Some("prod".into()),
        scenarios: vec!["brwse".into()],
        ..Default::default()
    };
    assert_eq!(
        errors_with(
            "profiles: { staging: {} }\nscenarios:\n  browse: { duration: 1s, flow: [ { sleep: 1s } ] }\n",
            &options
        ),
        "bad.yaml: --profile: unknown profile \"prod\" (hint: profiles in this file: staging)\n\
         bad.yaml: --scenario: unknown scenario \"brwse\" (hint: did you mean browse?)"
    );
}

#[test]
fn bad_regex() {
    assert_eq!(
        errors(
            "duration: 1s\nflow:\n  - request:\n      url: \"http://127.0.0.1/\"\n      checks:\n        - { body_matches: \"id-[0-9\" }\n"
        ),
        "bad.yaml:6:13: flow[0].request.checks[0].body_matches: invalid regex \"id-[0-9\": unclosed character class"
    );
}

#[test]
fn every_problem_in_a_file_is_reported() {
    let text = "scenarios:
  a:
    executor: constant-vus
    vus: 0
    duration: 0s
    iterations: 3
    flow:
      - sleep: 2 seconds
      - request: { url: ftp://x }
      - choose: [ { weight: 0, steps: [ { sleep: 1s } ] } ]
      - { sleep: 1s, request: { url: \"http://x/\" } }
      - request:
          url: \"http://127.0.0.1/\"
          record:
            - { metric: hits, add: 1 }
";
    assert_eq!(
        errors(text),
        "bad.yaml:4:5: scenarios.a.vus: must be at least 1
bad.yaml:5:5: scenarios.a.duration: must be longer than 0s (hint: use e.g. 30s, 5m, 500ms)
bad.yaml:6:5: scenarios.a.iterations: `iterations` is not used by constant-vus (hint: constant-vus takes vus, duration)
bad.yaml:8:9: scenarios.a.flow[0].sleep: invalid duration \"2 seconds\" (hint: use e.g. 30s, 5m, 500ms)
bad.yaml:9:20: scenarios.a.flow[1].request.url: URL must start with http:// or https://, got \"ftp://x\" (hint: e.g. \"{{ BASE_URL }}/items\" with BASE_URL set under env:)
bad.yaml:10:21: scenarios.a.flow[2].choose[0].weight: must be a number greater than 0, got 0
bad.yaml:11:9: scenarios.a.flow[3]: a step has exactly one of request, group, sleep, batch, choose, repeat, sse or websocket, found request and sleep (hint: start each step with its own '-' list item)
bad.yaml:15:17: scenarios.a.flow[4].request.record[0].metric: metric \"hits\" is not declared under `metrics:` (hint: declare it under `metrics:`, e.g. `metrics: { my_metric: counter }`)"
    );
}

#[test]
fn record_actions_must_fit_the_metric_kind() {
    let text = "duration: 1s
metrics: { hits: rate, depth: gauge }
flow:
  - request:
      url: \"http://127.0.0.1/\"
      record:
        - { metric: hits, add: 1 }
        - { metric: depth, when: { status: 200 } }
";
    assert_eq!(
        errors(text),
        "bad.yaml:7:11: flow[0].request.record[0]: `add` does not apply to rate metric hits (hint: rates take `when`: each response records true or false)
bad.yaml:8:11: flow[0].request.record[1]: gauge metric depth needs `value` (hint: e.g. value: { json: queue.depth })"
    );
}

#[test]
fn mixing_shorthand_with_scenarios_is_an_error() {
    assert_eq!(
        errors("vus: 2\nscenarios:\n  a: { duration: 1s, flow: [ { sleep: 1s } ] }\n"),
        "bad.yaml:1:1: vus: top-level `vus` cannot be combined with `scenarios:` (hint: move it into a scenario, or remove `scenarios:` to use the shorthand form)"
    );
}

#[test]
fn no_proxy_is_a_string_or_a_list_of_strings() {
    assert_eq!(
        errors(&format!(
            "http:\n  proxy:\n    no_proxy: {{ host: internal }}\n{OK_FLOW}"
        )),
        "bad.yaml:3:15: http.proxy.no_proxy: invalid type: map, expected a string or a list of strings"
    );
    assert_eq!(
        errors(&format!(
            "http:\n  proxy:\n    no_proxy: [internal, \"{{{{ NOPE }}}}\"]\n{OK_FLOW}"
        )),
        "bad.yaml:3:26: http.proxy.no_proxy[1]: unknown variable \"NOPE\" (hint: not an extracted variable or environment value; set it under `env:` or with --env, extract it, or write {{ NOPE | default(...) }})"
    );
}
