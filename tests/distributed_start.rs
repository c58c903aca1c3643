//! `--start-at`: instances wait for the same instant before their schedule
//! starts, and one that could not (it started after the instant) says so on
//! stderr, is marked late in its summary export, and is counted by merge.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use stampede::util::civil_date::civil_from_days;

const SMALL: &str = r#"
scenarios:
  small:
    executor: per-vu-iterations
    vus: 1
    iterations: 2
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;

fn stampede(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stampede"))
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .args(args)
        .output()
        .expect("binary runs")
}

/// Whole seconds since the epoch, as RFC 3339 UTC.
fn rfc3339(secs: u64) -> String {
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rest = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn run_at(dir: &Path, start_at: &str, export: &str) -> (Output, Value) {
    let scenario = dir.join("small.yaml");
    std::fs::write(&scenario, SMALL).unwrap();
    let export = dir.join(export);
    let output = stampede(&[
        "run",
        "--demo",
        "--quiet",
        scenario.to_str().unwrap(),
        "--start-at",
        start_at,
        "--summary-export",
        export.to_str().unwrap(),
    ]);
    let doc = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    (output, doc)
}

#[test]
fn the_schedule_starts_at_the_given_instant() {
    let dir = tempfile::tempdir().unwrap();
    let at = now_secs() + 3;
    let (output, doc) = run_at(dir.path(), &rfc3339(at), "on-time.json");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let started_ms = doc["state"]["startedAtUnixMs"].as_f64().unwrap();
    let at_ms = (at * 1000) as f64;
    assert!(
        started_ms >= at_ms && started_ms < at_ms + 1000.0,
        "started at {started_ms} ms, asked for {at_ms} ms"
    );
    assert_eq!(doc["run"]["start_at"], rfc3339(at));
    assert_eq!(doc["run"]["late"], false);
    assert_eq!(doc["metrics"]["http_reqs"]["count"], 2);
}

#[test]
fn a_late_instance_says_so_and_merge_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let at = now_secs() - 3;
    let (output, doc) = run_at(dir.path(), &rfc3339(at), "late.json");
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("s after --start-at: this instance's share of the load runs that much late"),
        "{stderr}"
    );
    assert_eq!(doc["run"]["late"], true);
    let lag = doc["run"]["start_lag_ms"].as_f64().unwrap();
    assert!((2000.0..60_000.0).contains(&lag), "lag {lag} ms");

    let merged = stampede(&["merge", dir.path().join("late.json").to_str().unwrap()]);
    assert_eq!(merged.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&merged.stdout);
    assert!(
        stdout.contains(
            "✗ 1 of 1 instance(s) started late: the merged load ran out of step with the planned profile"
        ),
        "{stdout}"
    );
}

#[test]
fn a_start_time_that_is_not_rfc_3339_is_refused() {
    let output = stampede(&["run", "--url", "http://127.0.0.1:9/", "--start-at", "07:30"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "error: invalid value '07:30' for '--start-at <TIME>': \"07:30\" is not an RFC 3339 time (too short); expected e.g. 2026-12-06T07:30:00Z"
        ),
        "{stderr}"
    );
}
