//! Real demo runs for the timeline, HTML report and compare tests: the
//! binary as users run it, with `--demo`, writing its summary export.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn stampede() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.env_remove("BASE_URL").env("STAMPEDE_LOG", "warn");
    cmd
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// An open-model run (the same request rate whatever the latency, so two
/// runs differ only where a test injects a difference): `rate` iterations
/// per second for `seconds`, each requesting `fast` (the demo's health
/// endpoint) and `slow` (the same, with `SLOW_DELAY` of injected latency)
/// and `flaky` (half of its requests answered 500).
pub const TWO_SPEEDS: &str = r#"
thresholds:
  "http_req_duration{name:fast}": ["p(95)<1000"]
  "http_req_duration{name:slow}": ["p(95)<40"]
  "http_req_failed{name:flaky}": ["rate<0.9"]
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: RATE
    time_unit: 1s
    duration: SECONDSs
    preallocated_vus: 20
    max_vus: 50
    flow:
      - request: { name: fast, url: "{{ BASE_URL }}/health", checks: [ { status: 200 } ] }
      - request: { name: slow, url: "{{ BASE_URL }}/health?delay={{ SLOW_DELAY }}" }
      - request: { name: flaky, url: "{{ BASE_URL }}/health?fail=0.5" }
"#;

/// Runs `scenario` with `--demo` in `dir`; returns the process output and
/// the path of its summary export.
pub fn run_demo(dir: &Path, tag: &str, scenario: &str, extra: &[&str]) -> (Output, PathBuf) {
    let file = write(dir, &format!("{tag}.yaml"), scenario);
    let export = dir.join(format!("{tag}.json"));
    let out = stampede()
        .arg("run")
        .arg("--demo")
        .arg(&file)
        .arg("--quiet")
        .arg("--summary-export")
        .arg(&export)
        .args(extra)
        .output()
        .expect("binary runs");
    (out, export)
}

pub fn two_speeds(rate: u32, seconds: u32) -> String {
    TWO_SPEEDS
        .replace("RATE", &rate.to_string())
        .replace("SECONDS", &seconds.to_string())
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
