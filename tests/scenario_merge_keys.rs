//! YAML merge keys and `x-` keys through the whole loader: what a request
//! gets from an anchored mapping, which keys win, and where problems in
//! merged values are reported.

use std::path::Path;
use std::time::Duration;

use stampede::scenario::{LoadOptions, Step, TestPlan, load_str};

fn load(text: &str) -> Result<TestPlan, String> {
    load_str(text, Path::new("m.yaml"), &LoadOptions::default()).map_err(|e| e.to_string())
}

const DEFAULTS: &str = "x-defaults: &defaults\n  method: POST\n  timeout: 5s\n  headers:\n    Content-Type: application/json\n    x-request-id: abc\n";

#[test]
fn a_request_takes_merged_keys_its_own_keys_win_and_x_keys_stay_headers() {
    let plan = load(&format!(
        "{DEFAULTS}x-slow: &slow {{ timeout: 30s, method: PUT }}\nvus: 1\niterations: 1\nflow:\n  - request:\n      <<: [*slow, *defaults]\n      method: PATCH\n      url: http://127.0.0.1:1/\n      x-comment: ignored here\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let Step::Request(request) = &plan.scenarios[0].flow[0] else {
        panic!("{:?}", plan.scenarios[0].flow[0]);
    };
    // Own key over both merges; the first merged mapping over the second.
    assert_eq!(request.method.as_str(), "PATCH");
    assert_eq!(request.timeout, Duration::from_secs(30));
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.source()))
        .collect();
    assert_eq!(
        headers,
        vec![
            ("content-type", "application/json"),
            ("x-request-id", "abc")
        ]
    );
}

#[test]
fn a_problem_in_a_merged_value_points_at_the_anchor_once() {
    // Merged into two requests, each mistake is still reported once, under
    // the first path that uses it.
    let text = "x-bad: &bad\n  timeout: soon\n  retries: 3\nvus: 1\niterations: 1\nflow:\n  - request: { <<: *bad, url: \"http://127.0.0.1:1/\" }\n  - request: { <<: *bad, url: \"http://127.0.0.1:1/b\" }\n";
    assert_eq!(
        load(text).unwrap_err(),
        "m.yaml:2:3: flow[0].request.timeout: invalid duration \"soon\" (hint: use e.g. 30s, 5m, 500ms)\n\
         m.yaml:3:3: flow[0].request: unknown field `retries` (hint: expected one of `name`, `method`, `url`, `query`, `headers`, `json`, `body`, `form`, `timeout`, `expect_status`, `checks`, `extract`, `record`, `copies`, `http2`, `max_body_size`, `tags_from_headers`, `tls`)"
    );
}

#[test]
fn merging_something_else_than_a_mapping_is_an_error_at_the_value() {
    let text = "vus: 1\niterations: 1\nflow:\n  - request:\n      <<: [a, b]\n      url: http://127.0.0.1:1/\n";
    assert_eq!(
        load(text).unwrap_err(),
        "m.yaml:5:11: flow[0].request.<<: `<<` merges a mapping or a list of mappings, e.g. `<<: *defaults`"
    );
}
