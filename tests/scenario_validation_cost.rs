//! Validation under hostile input and the documented-but-refused gaps:
//! deep nesting is refused in one pass, huge values are not echoed whole,
//! `body_not_contains` works as documented, and the Grafana Cloud example
//! of docs/outputs/prometheus-rw.md validates.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use stampede::demo::DemoConfig;

fn stampede(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.args(args)
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn deep_nesting_is_refused_at_the_first_level_too_deep() {
    // 40,000 levels in 400 KB: the YAML parser's time grows with the square
    // of the depth (6.2 s in a release build); the pre-scan refuses it at
    // level 129 before the parser runs.
    let levels = 40_000;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.yaml");
    let head = "flow:\n  - request: { url: \"http://127.0.0.1:1/\", json: ";
    std::fs::write(
        &file,
        format!("{head}{}{} }}\n", "[".repeat(levels), "]".repeat(levels)),
    )
    .unwrap();
    let out = stampede(&["validate", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(104));
    // Line 2: the request's `{` is level 1, so the 128th `[` is level 129.
    let column = head.lines().nth(1).unwrap().len() + 128;
    assert_eq!(
        text(&out.stderr).lines().next().unwrap(),
        format!(
            "error: {}:2:{column}: invalid YAML: nested more than 128 levels deep",
            file.display()
        )
    );
}

#[test]
fn block_and_flow_levels_together_are_bounded_without_overflowing_the_stack() {
    // The root mapping, `flow`, its item and `request` are four levels; a
    // JSON body may then nest 124 deep (read on a 2 MiB test thread), and
    // the 125th list is refused at its bracket.
    let text = |depth: usize| {
        format!(
            "vus: 1\niterations: 1\nflow:\n  - request:\n      url: http://127.0.0.1:1/\n      json: {}1{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    let options = stampede::scenario::LoadOptions::default();
    let load = |t: &str| stampede::scenario::load_str(t, Path::new("deep.yaml"), &options);
    assert!(load(&text(124)).is_ok());
    assert_eq!(
        load(&text(125)).unwrap_err().to_string(),
        format!(
            "deep.yaml:6:{}: invalid YAML: nested more than 128 levels deep",
            "      json: ".len() + 125
        )
    );
    // Block mappings count too: the 129th starts on line 129.
    let blocks: String = (0..200)
        .map(|i| format!("{}a:\n", "  ".repeat(i)))
        .collect();
    assert_eq!(
        load(&blocks).unwrap_err().to_string(),
        "deep.yaml:129:257: invalid YAML: nested more than 128 levels deep"
    );
}

#[test]
fn a_huge_scalar_is_shortened_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.yaml");
    let huge = "x".repeat(10_000_000);
    std::fs::write(
        &file,
        format!("vus: {huge}\nflow:\n  - request: {{ url: \"http://127.0.0.1:1/\" }}\n"),
    )
    .unwrap();
    let out = stampede(&["validate", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(104));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!(
            "error: {}:1:6: vus: invalid type: string \"{}…\" (10000000 characters), expected a whole number or a \"{{{{ NAME }}}}\" template",
            file.display(),
            "x".repeat(40)
        )
    );
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_not_contains_passes_when_the_text_is_absent() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
vus: 1
iterations: 3
flow:
  - request:
      url: "{{ BASE_URL }}/health"
      checks:
        - body_not_contains: error
        - body_not_contains: '"ok"'
        - { name: no status word, body_not_contains: "{{ WORD }}" }
"#;
    let mut options = options(&demo.base_url());
    options.env_overrides.push(("WORD".into(), "status".into()));
    let plan = stampede::scenario::load_str(yaml, Path::new("t.yaml"), &options)
        .unwrap_or_else(|e| panic!("scenario compiles: {e}"));
    let result = stampede::engine::run(
        std::sync::Arc::new(plan),
        Default::default(),
        std::future::pending(),
    )
    .await
    .expect("run completes");
    let s = &result.summary;
    assert_eq!(
        rate_where(s, "checks", &[("check", "body does not contain error")]),
        (3, 3)
    );
    // The body is {"status":"ok"}.
    assert_eq!(
        rate_where(s, "checks", &[("check", "body does not contain \"ok\"")]),
        (0, 3)
    );
    assert_eq!(
        rate_where(s, "checks", &[("check", "no status word")]),
        (0, 3)
    );
}

/// The file example of the section "Grafana Cloud" in
/// docs/outputs/prometheus-rw.md, as the page shows it.
fn grafana_cloud_example() -> String {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/outputs/prometheus-rw.md"),
    )
    .unwrap();
    let section = doc
        .split("\n### ")
        .find(|s| s.starts_with("Grafana Cloud"))
        .expect("a Grafana Cloud section");
    let yaml = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml example in the Grafana Cloud section");
    yaml.to_string()
}

#[test]
fn the_grafana_cloud_example_validates() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("grafana-cloud.yaml");
    // The example shows the outputs; any flow completes the file.
    let flow = "flow:\n  - request: { url: \"http://127.0.0.1:1/\" }\n";
    std::fs::write(&file, format!("{}{flow}", grafana_cloud_example())).unwrap();
    let out = stampede(
        &["validate", file.to_str().unwrap()],
        &[("GRAFANA_CLOUD_PROM_TOKEN", "glc_test")],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}
