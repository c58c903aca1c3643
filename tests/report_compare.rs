//! `stampede compare` on real demo runs: a latency injected into one
//! endpoint is reported as exactly that regression (exit 99); two runs of
//! the same load are judged unchanged (exit 0).

mod reports_support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use reports_support::{run_demo, stampede, text, two_speeds};

fn compare(baseline: &Path, current: &Path, format: &str) -> (Option<i32>, String) {
    let out = stampede()
        .arg("compare")
        .arg(baseline)
        .arg(current)
        .args(["--format", format, "--latency-min-change", "20ms"])
        .output()
        .unwrap();
    (out.status.code(), text(&out.stdout))
}

fn run(dir: &Path, tag: &str, delay: &str) -> std::path::PathBuf {
    let env = format!("SLOW_DELAY={delay}");
    // One seed for every run: the flaky endpoint fails the same requests
    // each time, so its error rate cannot differ by chance between runs.
    let args = ["--env", &env, "--demo-seed", "7"];
    let (out, export) = run_demo(dir, tag, &two_speeds(40, 6), &args);
    assert!(export.exists(), "{}", text(&out.stderr));
    export
}

#[test]
fn an_injected_latency_is_exactly_the_regression_and_equal_runs_pass() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = run(dir.path(), "baseline", "0ms");
    let same = run(dir.path(), "same", "0ms");
    let slower = run(dir.path(), "slower", "60ms");

    let (code, json) = compare(&baseline, &slower, "json");
    assert_eq!(code, Some(99), "{json}");
    let doc: Value = serde_json::from_str(&json).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    let regressed: BTreeSet<(String, String)> = rows
        .iter()
        .filter(|r| r["verdict"] == "regressed")
        .map(|r| {
            (
                r["scope"].as_str().unwrap().to_string(),
                r["measure"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let slow: BTreeSet<(String, String)> = ["p50", "p95", "p99"]
        .iter()
        .map(|m| ("GET slow".to_string(), m.to_string()))
        .collect();
    assert!(slow.is_subset(&regressed), "{regressed:?}");
    // Beyond the slow endpoint, only aggregates that contain its requests.
    let scopes: BTreeSet<&str> = regressed.iter().map(|(s, _)| s.as_str()).collect();
    let allowed = BTreeSet::from([
        "GET slow",
        "all requests",
        "http_req_waiting",
        "iteration_duration",
    ]);
    assert!(scopes.is_subset(&allowed), "{scopes:?}");
    for row in rows
        .iter()
        .filter(|r| r["measure"] == "req/s" || r["measure"] == "error rate")
    {
        assert_eq!(row["verdict"], "unchanged", "{row}");
    }
    let slow_p95 = rows
        .iter()
        .find(|r| r["scope"] == "GET slow" && r["measure"] == "p95")
        .unwrap();
    assert!(slow_p95["current"].as_f64().unwrap() >= 60.0);
    assert!(slow_p95["p_value"].as_f64().unwrap() < 0.05);

    let (code, markdown) = compare(&baseline, &slower, "markdown");
    assert_eq!(code, Some(99));
    assert!(markdown.contains("| GET slow | p95 |"), "{markdown}");
    assert!(markdown.contains("| **regressed** |"), "{markdown}");

    let (code, console) = compare(&baseline, &same, "console");
    assert_eq!(code, Some(0), "{console}");
    assert!(console.contains("✓ 0 regressed"), "{console}");
    let (code, html) = compare(&baseline, &same, "html");
    assert_eq!(code, Some(0));
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("id=\"comparison\""));
}
