//! The binary as users run it: exit codes, summary output, summary export,
//! redaction, interruption.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn stampede() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.env_remove("BASE_URL").env("STAMPEDE_LOG", "warn");
    cmd
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(args: &[&str]) -> Output {
    stampede().args(args).output().expect("binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SMALL: &str = r#"
thresholds:
  http_req_duration: ["THRESHOLD"]
scenarios:
  small:
    executor: per-vu-iterations
    vus: 2
    iterations: 5
    flow:
      - request:
          name: health
          url: "{{ BASE_URL }}/health"
          checks: [ { status: 200 } ]
"#;

#[test]
fn passing_thresholds_exit_zero_and_print_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "pass.yaml",
        &SMALL.replace("THRESHOLD", "p(95)<5000"),
    );
    let out = run(&["run", "--demo", "--quiet", file.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("http_reqs"), "{stdout}");
    assert!(stdout.contains("'p(95)<5000'"), "{stdout}");
    assert!(stdout.contains("ENDPOINTS"), "{stdout}");
}

#[test]
fn crossed_thresholds_exit_99() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "fail.yaml",
        &SMALL.replace("THRESHOLD", "max<0"),
    );
    let out = run(&["run", "--demo", "--quiet", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(99), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("✗ 'max<0'"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn summary_export_validates_against_the_committed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.yaml",
        &SMALL.replace("THRESHOLD", "p(95)<5000"),
    );
    let export = dir.path().join("summary.json");
    let out = run(&[
        "run",
        "--demo",
        "--quiet",
        "--summary-export",
        export.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/summary.schema.json");
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&summary)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    assert_eq!(summary["metrics"]["http_reqs"]["count"], 10);
    assert_eq!(summary["metrics"]["iterations"]["count"], 10);
    assert_eq!(
        summary["root_group"]["checks"]["status is 200"]["passes"],
        10
    );
}

#[test]
fn adhoc_mode_loops_one_request() {
    let out = stampede()
        .args([
            "run",
            "--demo",
            "--quiet",
            "--url",
            "{{ BASE_URL }}/health",
            "--vus",
            "2",
            "--iterations",
            "20",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("http_reqs"), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("iterations"))
        .expect("iterations line");
    assert!(line.contains(" 20 "), "{line}");
}

#[test]
fn http_debug_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "debug.yaml",
        r#"
env: { API_TOKEN: s3cr3t-t0ken-value }
scenarios:
  one:
    executor: per-vu-iterations
    vus: 1
    iterations: 1
    flow:
      - request:
          url: "{{ BASE_URL }}/api/credits"
          headers: { Authorization: "Bearer {{ API_TOKEN }}", X-Api-Key: "{{ API_TOKEN }}" }
"#,
    );
    let out = run(&[
        "run",
        "--demo",
        "--quiet",
        "--http-debug",
        file.to_str().unwrap(),
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stderr.contains("authorization: [REDACTED]"), "{stderr}");
    assert!(stderr.contains("x-api-key: [REDACTED]"), "{stderr}");
    assert!(
        !stderr.contains("s3cr3t") && !stdout.contains("s3cr3t"),
        "secret leaked:\n{stderr}\n{stdout}"
    );
}

#[test]
fn sigint_stops_gracefully_with_the_interrupted_code() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "long.yaml",
        r#"
scenarios:
  long:
    executor: constant-vus
    vus: 2
    duration: 60s
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
      - sleep: 50ms
"#,
    );
    let child = stampede()
        .args(["run", "--demo", "--quiet", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(105), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("http_reqs"), "summary printed: {stdout}");
    assert!(stdout.contains("interrupted"), "{stdout}");
}

#[test]
fn failing_setup_starts_no_load_and_exits_107() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "setup.yaml",
        r#"
setup:
  - request:
      name: execute unknown
      method: POST
      url: "{{ BASE_URL }}/api/graphs/nope/execute"
  - repeat:
      until: { status: 200 }
      interval: 10ms
      max_attempts: 2
      steps:
        - request: { name: never ready, url: "{{ BASE_URL }}/api/credits" }
scenarios:
  never:
    executor: per-vu-iterations
    vus: 1
    iterations: 1
    flow:
      - request: { name: flow, url: "{{ BASE_URL }}/health" }
"#,
    );
    let out = run(&["run", "--demo", "--quiet", file.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(107), "{stderr}");
    assert!(
        stderr.contains(
            "setup failed, no load was started: until status is 200: not satisfied after 2 attempts"
        ),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn every_shipped_scenario_runs_against_the_demo_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["quickstart", "polling", "batch", "ramping"] {
        let file = root.join(format!("scenarios/{name}.yaml"));
        let out = run(&["run", "--demo", "--quiet", file.to_str().unwrap()]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}:\n{stdout}\n{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains("✓ all thresholds passed"),
            "{name}: {stdout}"
        );
        assert!(!stdout.contains("ITERATION ERRORS"), "{name}: {stdout}");
    }
}
