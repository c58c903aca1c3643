//! Threshold verdicts as users meet them, through the binary against the
//! demo target: thresholds on scenarios `--scenario` left out are skipped
//! (summary, JSON, exit code), counters that never fired count 0, and
//! misspelt selectors are caught by `validate`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn stampede(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(args)
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .env("NO_COLOR", "1")
        .output()
        .expect("binary runs")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `quick` makes 3 requests, but starts after 30s when run with `stress`;
/// `stress` would fail both of its thresholds.
const TWO_SCENARIOS: &str = r#"
metrics:
  retries: counter
thresholds:
  http_req_duration{scenario:stress}: ["p(95)<1"]
  http_reqs{scenario:stress}: ["count>1000"]
  http_reqs{scenario:quick}: ["count==3"]
  http_reqs{error_code:timeout}: ["count==0"]
  retries: ["count==0"]
scenarios:
  stress:
    duration: 1s
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
  quick:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    start_time: 30s
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
"#;

#[test]
fn thresholds_of_scenarios_not_selected_are_skipped_and_zero_counts_pass() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "two.yaml", TWO_SCENARIOS);
    let export = dir.path().join("summary.json");
    let started = Instant::now();
    let out = stampede(&[
        "run",
        "--demo",
        "--quiet",
        file.to_str().unwrap(),
        "--scenario",
        "quick",
        "--summary-export",
        export.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "quick, selected alone, starts at once instead of after its 30s start_time"
    );
    assert!(
        stdout.starts_with(
            "  █ THRESHOLDS\n\n\
             \x20   http_req_duration{scenario:stress}\n\
             \x20   - 'p(95)<1' skipped: scenario \"stress\" not selected\n\n\
             \x20   http_reqs{scenario:stress}\n\
             \x20   - 'count>1000' skipped: scenario \"stress\" not selected\n\n\
             \x20   http_reqs{scenario:quick}\n\
             \x20   ✓ 'count==3' count=3\n\n\
             \x20   http_reqs{error_code:timeout}\n\
             \x20   ✓ 'count==0' count=0\n\n\
             \x20   retries\n\
             \x20   ✓ 'count==0' count=0\n\n\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("  ✓ all thresholds passed, 2 skipped\n\n"),
        "{stdout}"
    );

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    let states: Vec<(&str, &str, &Value, &str, bool)> = doc["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["metric"].as_str().unwrap(),
                t["expression"].as_str().unwrap(),
                &t["observed"],
                t["state"].as_str().unwrap(),
                t["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (
                "http_req_duration{scenario:stress}",
                "p(95)<1",
                &Value::Null,
                "skipped",
                true
            ),
            (
                "http_reqs{scenario:stress}",
                "count>1000",
                &Value::Null,
                "skipped",
                true
            ),
            (
                "http_reqs{scenario:quick}",
                "count==3",
                &json!(3),
                "passed",
                true
            ),
            (
                "http_reqs{error_code:timeout}",
                "count==0",
                &json!(0),
                "passed",
                true
            ),
            ("retries", "count==0", &json!(0), "passed", true),
        ]
    );
    assert_eq!(
        doc["thresholds"][0]["skipped_because"],
        "scenario \"stress\" not selected"
    );
}

#[test]
fn validate_reports_misspelt_selectors_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "typos.yaml",
        &TWO_SCENARIOS
            .replace(
                "{scenario:stress}: [\"p(95)<1\"]",
                "{scenario:stres}: [\"p(95)<1\"]",
            )
            .replace("{error_code:timeout}", "{eror_code:timeout}"),
    );
    let path = file.display();
    let env = ["--env", "BASE_URL=http://127.0.0.1:1"];
    let out = stampede(&[&["validate", file.to_str().unwrap()], &env[..]].concat());
    assert_eq!(out.status.code(), Some(104), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {path}:5:3: thresholds.http_req_duration{{scenario:stres}}: unknown scenario \"stres\" (hint: did you mean stress?)\n\
             error: {path}:8:3: thresholds.http_reqs{{eror_code:timeout}}: unknown tag key \"eror_code\" (hint: did you mean error_code?)\n\
             ✗ {path}: 2 problems\n"
        )
    );
    // A key only `--tag` sets validates when the tag is given, as in `run`.
    let tagged = write(
        dir.path(),
        "tagged.yaml",
        &TWO_SCENARIOS.replace("retries: [", "retries{team:payments}: ["),
    );
    let tagged = tagged.to_str().unwrap();
    let out = stampede(&[&["validate", tagged], &env[..]].concat());
    assert_eq!(out.status.code(), Some(104), "{}", text(&out.stdout));
    let out = stampede(&[&["validate", tagged, "--tag", "team=payments"], &env[..]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn validate_counts_the_thresholds_a_selection_skips() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "two.yaml", TWO_SCENARIOS);
    let file = file.to_str().unwrap();
    let out = stampede(&[
        "validate",
        file,
        "--env",
        "BASE_URL=http://127.0.0.1:1",
        "--scenario",
        "quick",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "✓ {file} is valid: 1 scenario (quick), 5 thresholds (2 skipped: scenario not selected)\n"
        )
    );
}
