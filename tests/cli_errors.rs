//! Bad input: every problem is one line naming file, line, column and field,
//! with a hint, and the exit code is 104 (2 for bad arguments). Golden text.

use std::process::{Command, Output};

fn stampede(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STAMPEDE_LOG", "warn")
        .output()
        .expect("binary runs")
}

/// Runs `validate` and `run` on a fixture; both print exactly `expected` on stderr.
fn assert_rejected(fixture: &str, expected: &[&str]) {
    let path = format!("tests/fixtures/cli/{fixture}");
    let out = stampede(&["validate", &path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut lines: Vec<String> = expected.iter().map(|l| l.replace("FILE", &path)).collect();
    let plural = if expected.len() == 1 { "" } else { "s" };
    lines.push(format!("✗ {path}: {} problem{plural}", expected.len()));
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        lines,
        "validate {fixture}"
    );
    assert_eq!(out.status.code(), Some(104), "validate {fixture}");

    let out = stampede(&["run", "--quiet", &path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        lines[..lines.len() - 1],
        "run {fixture}"
    );
    assert_eq!(out.status.code(), Some(104), "run {fixture}");
    assert!(out.stdout.is_empty(), "no load, no summary for {fixture}");
}

#[test]
fn missing_file() {
    let out = stampede(&["run", "tests/fixtures/cli/nowhere.yaml"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "error: tests/fixtures/cli/nowhere.yaml: cannot read scenario file: No such file or directory (os error 2)"
    );
    assert_eq!(out.status.code(), Some(104));
}

#[test]
fn invalid_yaml() {
    assert_rejected(
        "invalid_yaml.yaml",
        &[
            "error: FILE:5:4: invalid YAML: did not find expected key, while parsing a block mapping",
        ],
    );
}

#[test]
fn unknown_field() {
    assert_rejected(
        "unknown_field.yaml",
        &[
            "error: FILE:7:49: scenarios.a.flow[0].request: unknown field `retries` (hint: expected one of `name`, `method`, `url`, `query`, `headers`, `json`, `body`, `form`, `timeout`, `expect_status`, `checks`, `extract`, `record`, `copies`, `http2`, `max_body_size`, `tags_from_headers`, `tls`)",
        ],
    );
}

#[test]
fn wrong_type() {
    assert_rejected(
        "wrong_type.yaml",
        &[
            "error: FILE:4:10: scenarios.a.vus: invalid type: string \"many\", expected a whole number or a \"{{ NAME }}\" template",
        ],
    );
}

#[test]
fn bad_duration() {
    assert_rejected(
        "bad_duration.yaml",
        &[
            "error: FILE:5:5: scenarios.a.duration: invalid duration \"5 minutes\" (hint: use e.g. 30s, 5m, 500ms)",
        ],
    );
}

#[test]
fn bad_threshold_expression() {
    assert_rejected(
        "bad_threshold.yaml",
        &[
            "error: FILE:2:23: thresholds.http_req_duration[0]: invalid threshold \"p95<500\": unknown statistic \"p95\"; use avg, min, max, med, count, rate, value or p(N); expected e.g. \"p(95)<500\" or \"rate<0.01\"",
        ],
    );
}

#[test]
fn unknown_template_variable() {
    assert_rejected(
        "unknown_variable.yaml",
        &[
            "error: FILE:9:20: scenarios.a.flow[0].request.url: unknown variable \"user_id\" (hint: not an extracted variable or environment value; set it under `env:` or with --env, extract it, or write {{ user_id | default(...) }})",
        ],
    );
}

#[test]
fn step_conditions_and_header_tags() {
    assert_rejected(
        "step_conditions.yaml",
        &[
            "error: FILE:8:9: scenarios.a.flow[0].if: `not (status is 200)` looks at the last response, but no request runs before this step (hint: put a request before it in the same flow, or test a value: if: { var: NAME, equals: VALUE })",
            "error: FILE:10:15: scenarios.a.flow[1].if.var: unknown variable \"mode\" (hint: did you mean MODE?)",
            "error: FILE:14:23: scenarios.a.flow[2].request.checks[0].error_code: unknown error code \"time_out\" (hint: did you mean timeout?)",
            "error: FILE:15:32: scenarios.a.flow[2].request.tags_from_headers.name: tag \"name\" is set by stampede (hint: reserved tags: scenario, name, method, status, expected_response, error_code, group, check, testid, instance, url, proto)",
        ],
    );
}

#[test]
fn missing_data_file() {
    assert_rejected(
        "missing_data_file.yaml",
        &[
            "error: FILE:2:12: data.users.file: cannot read data file tests/fixtures/cli/no-such-users.csv: No such file or directory (os error 2)",
        ],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    assert_rejected(
        "many_problems.yaml",
        &[
            "error: FILE:2:23: thresholds.http_req_duration[0]: invalid threshold \"p95<500\": unknown statistic \"p95\"; use avg, min, max, med, count, rate, value or p(N); expected e.g. \"p(95)<500\" or \"rate<0.01\"",
            "error: FILE:6:5: scenarios.a.vus: must be at least 1",
            "error: FILE:7:5: scenarios.a.duration: invalid duration \"5 minutes\" (hint: use e.g. 30s, 5m, 500ms)",
            "error: FILE:9:20: scenarios.a.flow[0].request.url: unknown variable \"NOPE\" (hint: not an extracted variable or environment value; set it under `env:` or with --env, extract it, or write {{ NOPE | default(...) }})",
        ],
    );
}

#[test]
fn five_kinds_of_mistake_are_reported_in_one_pass_in_file_order() {
    // A type error, an unknown key with a close name, a bad duration, an
    // unknown metric and a missing data file; the template using the
    // missing feed is not reported again.
    assert_rejected(
        "five_problems.yaml",
        &[
            "error: FILE:3:12: data.users.file: cannot read data file tests/fixtures/cli/no-such-users.csv: No such file or directory (os error 2)",
            "error: FILE:5:3: thresholds.http_reqs_duration: unknown metric \"http_reqs_duration\" (hint: did you mean http_req_duration, http_reqs?)",
            "error: FILE:8:10: scenarios.a.vus: invalid type: string \"many\", expected a whole number or a \"{{ NAME }}\" template",
            "error: FILE:9:5: scenarios.a.duration: invalid duration \"5 minutes\" (hint: use e.g. 30s, 5m, 500ms)",
            "error: FILE:13:11: scenarios.a.flow[0].request: unknown field `metod` (hint: did you mean `method`?)",
        ],
    );
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["run", "--vus", "0", "x.yaml"][..],
        &["run", "--env", "NOEQUALS", "x.yaml"],
        &["run", "--duration", "5 minutes", "x.yaml"],
        &["run"],
        &["run", "x.yaml", "--url", "http://127.0.0.1:1/"],
    ] {
        let out = stampede(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: "),
            "{args:?}"
        );
    }
}

#[test]
fn every_shipped_scenario_validates() {
    let mut checked = 0;
    for dir in ["scenarios", "bench/scenarios", "docs/examples"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                // Files without their own BASE_URL get it from --demo when run.
                let out = stampede(&[
                    "validate",
                    "--env",
                    "BASE_URL=http://127.0.0.1:8080",
                    path.to_str().unwrap(),
                ]);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{}: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "found only {checked} scenario files");
}
