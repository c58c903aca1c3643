//! Templates outside strings: numbers, booleans, durations and thresholds
//! rendered from the environment and typed; defaults; environment values
//! that read each other; typed JSON placeholders as a server receives them.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use stampede::scenario::{ExecutorPlan, LoadOptions, Step, TestPlan, load_str};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn with_env(pairs: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        env_overrides: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        process_env: HashMap::new(),
        ..LoadOptions::default()
    }
}

fn plan(text: &str, options: &LoadOptions) -> TestPlan {
    load_str(text, Path::new("t.yaml"), options).unwrap_or_else(|e| panic!("{e}"))
}

fn errors(text: &str, options: &LoadOptions) -> String {
    match load_str(text, Path::new("bad.yaml"), options) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const K6_STYLE: &str = r#"
thresholds:
  http_req_duration: ["p(95)<{{ P95 | default(2000) }}"]
  http_reqs:
    - threshold: "count>={{ MIN_REQS | default(1) }}"
      abort_on_fail: "{{ ABORT | default(false) }}"
scenarios:
  main:
    executor: ramping-vus
    start_vus: "{{ START | default(0) }}"
    stages:
      - { duration: "{{ RAMP | default(\"10s\") }}", target: "{{ VUS | default(10) }}" }
    flow:
      - batch:
          requests:
            - url: "http://127.0.0.1/{{ __VU }}"
              copies: "{{ COPIES | default(1) }}"
      - sleep: "{{ PAUSE | default(\"1s\") }}"
"#;

fn stages(plan: &TestPlan) -> (u64, Vec<(Duration, u64)>) {
    match &plan.scenarios[0].executor {
        ExecutorPlan::RampingVus {
            start_vus, stages, ..
        } => (
            *start_vus,
            stages.iter().map(|s| (s.duration, s.target)).collect(),
        ),
        other => panic!("expected ramping-vus, got {other:?}"),
    }
}

fn batch_size(plan: &TestPlan) -> usize {
    match &plan.scenarios[0].flow[0] {
        Step::Batch(b) => b.requests.len(),
        other => panic!("expected a batch, got {other:?}"),
    }
}

#[test]
fn defaults_apply_when_nothing_sets_the_names() {
    let p = plan(K6_STYLE, &with_env(&[]));
    assert_eq!(stages(&p), (0, vec![(Duration::from_secs(10), 10)]));
    assert_eq!(batch_size(&p), 1);
    let limits: Vec<(&str, f64, bool)> = p
        .thresholds
        .iter()
        .map(|t| (t.expr.source.as_str(), t.expr.value, t.abort_on_fail))
        .collect();
    assert_eq!(
        limits,
        vec![("p(95)<2000", 2000.0, false), ("count>=1", 1.0, false)]
    );
}

#[test]
fn env_values_set_numbers_durations_thresholds_and_copies() {
    let options = with_env(&[
        ("VUS", "25"),
        ("START", "5"),
        ("RAMP", "1m30s"),
        ("COPIES", "3"),
        ("P95", "450.5"),
        ("MIN_REQS", "100"),
        ("ABORT", "true"),
    ]);
    let p = plan(K6_STYLE, &options);
    assert_eq!(stages(&p), (5, vec![(Duration::from_secs(90), 25)]));
    assert_eq!(batch_size(&p), 3);
    let limits: Vec<(&str, f64, bool)> = p
        .thresholds
        .iter()
        .map(|t| (t.expr.source.as_str(), t.expr.value, t.abort_on_fail))
        .collect();
    assert_eq!(
        limits,
        vec![("p(95)<450.5", 450.5, false), ("count>=100", 100.0, true)]
    );
}

#[test]
fn a_value_that_is_not_of_the_field_type_names_template_and_rendering() {
    let options = with_env(&[
        ("VUS", "ten"),
        ("RAMP", "soon"),
        ("COPIES", "-1"),
        ("P95", "fast"),
        ("ABORT", "yes"),
        ("PAUSE", "{{ __VU }}"),
    ]);
    assert_eq!(
        errors(K6_STYLE, &options),
        [
            "bad.yaml:3:23: thresholds.http_req_duration[0]: \"p(95)<{{ P95 | default(2000) }}\" rendered to \"p(95)<fast\": invalid threshold \"p(95)<fast\": \"fast\" is not a number; expected e.g. \"p(95)<500\" or \"rate<0.01\"",
            "bad.yaml:6:7: thresholds.http_reqs[0].abort_on_fail: \"{{ ABORT | default(false) }}\" rendered to \"yes\", which is not a boolean",
            "bad.yaml:12:11: scenarios.main.stages[0].duration: \"{{ RAMP | default(\\\"10s\\\") }}\" rendered to \"soon\", which is not a duration (hint: use e.g. 30s, 5m, 500ms)",
            "bad.yaml:12:54: scenarios.main.stages[0].target: \"{{ VUS | default(10) }}\" rendered to \"ten\", which is not a whole number",
            "bad.yaml:17:15: scenarios.main.flow[0].batch.requests[0].copies: \"{{ COPIES | default(1) }}\" rendered to \"-1\", which is not a whole number",
            "bad.yaml: --env: PAUSE: \"{{ __VU }}\" reads a value that changes per VU or iteration; environment values are fixed when the test loads",
        ]
        .join("\n")
    );
}

#[test]
fn a_per_vu_value_in_a_load_time_field_is_an_error() {
    let text = "vus: \"{{ __VU }}\"\nflow:\n  - request: { url: \"http://127.0.0.1/\" }\n";
    assert_eq!(
        errors(text, &with_env(&[])),
        "bad.yaml:1:1: vus: \"{{ __VU }}\" reads a value that changes per VU or iteration, but this field is set once when the test loads (hint: use environment values here (env:, --profile, --env))"
    );
}

#[test]
fn env_values_read_each_other_across_layers() {
    let text = r#"
env:
  BASE_URL: http://127.0.0.1:8080
  OAUTH_BASE_URL: "{{ BASE_URL }}/oauth"
  TOKEN_URL: "{{ OAUTH_BASE_URL }}/token?v={{ VERSION }}"
profiles:
  staging:
    env:
      BASE_URL: "https://{{ HOST }}"
flow:
  - request: { url: "{{ TOKEN_URL }}" }
"#;
    let p = plan(text, &with_env(&[("VERSION", "2")]));
    assert_eq!(p.env["TOKEN_URL"], "http://127.0.0.1:8080/oauth/token?v=2");
    let mut options = with_env(&[("HOST", "staging.example"), ("VERSION", "3")]);
    options.profile = Some("staging".into());
    // The process environment overrides a declared value and is rendered too.
    options
        .process_env
        .insert("OAUTH_BASE_URL".into(), "{{ BASE_URL }}/auth".into());
    let p = plan(text, &options);
    assert_eq!(p.env["BASE_URL"], "https://staging.example");
    assert_eq!(p.env["TOKEN_URL"], "https://staging.example/auth/token?v=3");
}

#[test]
fn an_env_cycle_is_named_at_its_first_value() {
    let text = "env:\n  A: \"{{ B }}/a\"\n  B: \"x{{ C }}\"\n  C: \"{{ A }}\"\n  D: \"{{ D }}\"\n  E: \"{{ A }}\"\nflow:\n  - request: { url: \"http://127.0.0.1/\" }\n";
    assert_eq!(
        errors(text, &with_env(&[])),
        [
            "bad.yaml:2:3: env.A: environment values read each other in a cycle: A → B → C → A (hint: an env value may read other env values, but not itself, directly or through others)",
            "bad.yaml:5:3: env.D: environment values read each other in a cycle: D → D (hint: an env value may read other env values, but not itself, directly or through others)",
        ]
        .join("\n")
    );
}

#[test]
fn a_url_error_shows_what_the_template_became() {
    let text = "env:\n  BASE_URL: \"127.0.0.1:8080\"\nflow:\n  - request: { url: \"{{ BASE_URL }}/health\" }\n";
    assert_eq!(
        errors(text, &with_env(&[])),
        "bad.yaml:4:16: flow[0].request.url: URL must start with http:// or https://, but \"{{ BASE_URL }}/health\" starts with \"127.0.0.1:8080/health\" once rendered (hint: the environment value it starts with must be a full URL, e.g. BASE_URL=http://localhost:8080)"
    );
}

/// Accepts HTTP/1.1 requests on 127.0.0.1 and hands over each body.
async fn capture_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                while buf.len() < head_end + length {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = tx.send(buf[head_end..head_end + length].to_vec());
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (base, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_placeholder_is_sent_with_its_json_type() {
    let (base, mut bodies) = capture_server().await;
    let yaml = r#"
scenarios:
  typed:
    executor: per-vu-iterations
    vus: 2
    iterations: 1
    flow:
      - request:
          method: POST
          url: "{{ BASE_URL }}/items"
          extract: { id: { header: X-Never-Sent } }
          json:
            a: "{{ __VU }}"
            label: "{{ __VU | string }}"
            ratio: "{{ RATIO | default(2.5) }}"
            flag: "{{ FLAG | default(false) }}"
            id: "{{ id | default(null) }}"
            name: "{{ __SCENARIO }}"
            path: "/vu/{{ __VU }}"
"#;
    let result = common::run_yaml(yaml, &base).await;
    assert!(result.summary.thresholds_passed());
    let mut received = Vec::new();
    for _ in 0..2 {
        let body = bodies.recv().await.unwrap();
        received.push(String::from_utf8(body).unwrap());
    }
    received.sort();
    assert_eq!(
        received,
        [
            r#"{"a":1,"label":"1","ratio":2.5,"flag":false,"id":null,"name":"typed","path":"/vu/1"}"#,
            r#"{"a":2,"label":"2","ratio":2.5,"flag":false,"id":null,"name":"typed","path":"/vu/2"}"#,
        ]
    );
    let decoded: serde_json::Value = serde_json::from_str(&received[0]).unwrap();
    assert_eq!(decoded["a"], serde_json::json!(1));
}

#[test]
fn the_cli_runs_a_k6_style_scenario_sized_from_env() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k6.yaml");
    std::fs::write(
        &file,
        r#"
thresholds:
  http_req_duration: ["p(95)<{{ P95 | default(5000) }}"]
  http_reqs: ["count=={{ EXPECTED | default(1) }}"]
scenarios:
  k6:
    executor: shared-iterations
    vus: "{{ VUS | default(1) }}"
    iterations: "{{ ITERATIONS | default(1) }}"
    max_duration: "{{ DURATION | default(\"30s\") }}"
    flow:
      - batch:
          requests:
            - url: "{{ BASE_URL }}/health"
              copies: "{{ COPIES | default(1) }}"
"#,
    )
    .unwrap();
    let export = dir.path().join("summary.json");
    let run = |env: &[&str]| {
        let mut args = vec!["run", "--demo", "--quiet"];
        for pair in env {
            args.extend(["--env", pair]);
        }
        args.extend(["--summary-export", export.to_str().unwrap()]);
        args.push(file.to_str().unwrap());
        Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(&args)
            .env_remove("BASE_URL")
            .output()
            .unwrap()
    };
    let out = run(&[
        "VUS=2",
        "ITERATIONS=4",
        "COPIES=3",
        "EXPECTED=12",
        "DURATION=20s",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    assert_eq!(summary["metrics"]["http_reqs"]["count"], 12);
    assert_eq!(summary["metrics"]["iterations"]["count"], 4);

    let out = run(&["VUS=two"]);
    assert_eq!(out.status.code(), Some(104));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().next().unwrap(),
        format!(
            "error: {}:8:5: scenarios.k6.vus: \"{{{{ VUS | default(1) }}}}\" rendered to \"two\", which is not a whole number",
            file.display()
        )
    );
}

#[test]
fn the_shorthand_reports_its_own_keys() {
    let options = with_env(&[("V", "many"), ("D", "long")]);
    let ramp = "vus: \"{{ V }}\"\nstages: [ { duration: 10s, target: 2 } ]\nflow:\n  - request: { url: \"http://127.0.0.1/\" }\n";
    assert_eq!(
        errors(ramp, &options),
        "bad.yaml:1:1: vus: \"{{ V }}\" rendered to \"many\", which is not a whole number"
    );
    let capped = "iterations: 2\nduration: \"{{ D }}\"\nflow:\n  - request: { url: \"http://127.0.0.1/\" }\n";
    assert_eq!(
        errors(capped, &options),
        "bad.yaml:2:1: duration: \"{{ D }}\" rendered to \"long\", which is not a duration (hint: use e.g. 30s, 5m, 500ms)"
    );
}
