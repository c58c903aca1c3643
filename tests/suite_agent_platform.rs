//! scenarios/suites/agent-platform run as shipped, by the built binary,
//! against an in-process demo target: the smoke profile scaled down to
//! seconds passes every threshold it judges, and where the shape makes a
//! count exact (`--iterations`) the summary export holds that count.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::demo;
use serde_json::Value;
use stampede::demo::DemoConfig;

fn suite_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/suites/agent-platform")
        .join(name)
}

/// Runs `file` against `base_url` with `args`, returning the output and
/// the summary export.
async fn run(base_url: String, file: &str, args: &[&str]) -> (Output, Value) {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("summary.json");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"));
    command
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .args(["run", "--quiet", "--env"])
        .arg(format!("BASE_URL={base_url}"))
        .arg("--summary-export")
        .arg(&export)
        .arg(suite_file(file))
        .args(args);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let summary = std::fs::read(&export)
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
        .unwrap_or(Value::Null);
    (out, summary)
}

fn describe(file: &str, out: &Output) -> String {
    format!(
        "{file}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every threshold of the export with its state, none skipped.
fn assert_all_thresholds_passed(file: &str, summary: &Value) {
    let thresholds = summary["thresholds"].as_array().expect("thresholds");
    assert!(!thresholds.is_empty(), "{file}");
    for t in thresholds {
        assert_eq!(t["state"], "passed", "{file}: {t}");
    }
}

/// The sum of `http_reqs` over the series named `name`.
fn requests_named(summary: &Value, name: &str) -> u64 {
    summary["series"]["http_reqs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["tags"]["name"] == name)
        .map(|s| s["count"].as_u64().unwrap())
        .sum()
}

fn count(summary: &Value, metric: &str) -> u64 {
    summary["metrics"][metric]["count"].as_u64().unwrap()
}

fn small_demo() -> DemoConfig {
    DemoConfig {
        blocks_size_bytes: 50_000,
        ..DemoConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_script_passes_its_thresholds_in_the_smoke_profile() {
    let demo = demo(small_demo()).await;
    for (file, scale) in [
        ("basic-connectivity.yaml", "0.2"),
        ("core-api.yaml", "0.2"),
        ("graph-execution.yaml", "0.2"),
        ("comprehensive-platform.yaml", "0.2"),
        // Four one-minute windows, one endpoint each: 4.8 s in all.
        ("single-endpoint.yaml", "0.02"),
    ] {
        let (out, summary) = run(
            demo.base_url(),
            file,
            &["--profile", "smoke", "--scale-duration", scale],
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", describe(file, &out));
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("ITERATION ERRORS"),
            "{}",
            describe(file, &out)
        );
        assert_all_thresholds_passed(file, &summary);
        assert!(count(&summary, "http_reqs") > 0, "{file}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_iterations_give_exact_request_counts() {
    let demo = demo(small_demo()).await;

    // Core API: 2 VUs share 4 iterations of 3 endpoints x REQUESTS_PER_VU.
    let file = "core-api.yaml";
    let (out, summary) = run(
        demo.base_url(),
        file,
        &[
            "--profile",
            "smoke",
            "--env",
            "REQUESTS_PER_VU=3",
            "--vus",
            "2",
            "--iterations",
            "4",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(file, &out));
    assert_all_thresholds_passed(file, &summary);
    assert_eq!(count(&summary, "iterations"), 4);
    for name in ["credits", "graphs", "executions"] {
        assert_eq!(requests_named(&summary, name), 12, "{name}");
    }

    // Basic connectivity: per iteration one health check and
    // REQUESTS_PER_VU credit reads; one login per VU.
    let file = "basic-connectivity.yaml";
    let (out, summary) = run(
        demo.base_url(),
        file,
        &[
            "--profile",
            "smoke",
            "--env",
            "REQUESTS_PER_VU=5",
            "--vus",
            "1",
            "--iterations",
            "3",
            "--scale-duration",
            "0.1",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(file, &out));
    assert_all_thresholds_passed(file, &summary);
    assert_eq!(requests_named(&summary, "login"), 1);
    assert_eq!(requests_named(&summary, "health"), 3);
    assert_eq!(requests_named(&summary, "credits"), 15);

    // Graph execution: 1 VU, 3 iterations of REQUESTS_PER_VU + 1 creations,
    // one execution each, polled until completed.
    let file = "graph-execution.yaml";
    let (out, summary) = run(
        demo.base_url(),
        file,
        &[
            "--profile",
            "smoke",
            "--env",
            "REQUESTS_PER_VU=4",
            "--env",
            "EXECUTION_TIME=300ms",
            "--vus",
            "1",
            "--iterations",
            "3",
            "--scale-duration",
            "0.1",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(file, &out));
    assert_all_thresholds_passed(file, &summary);
    assert_eq!(requests_named(&summary, "login"), 1);
    assert_eq!(requests_named(&summary, "create graph"), 15);
    assert_eq!(count(&summary, "graph_creations"), 15);
    assert_eq!(count(&summary, "graph_executions"), 3);
    assert_eq!(requests_named(&summary, "execute graph"), 3);
    assert_eq!(requests_named(&summary, "execution result"), 3);
    assert!(requests_named(&summary, "execution status") >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_endpoint_alone_skips_the_other_endpoints_baselines() {
    let demo = demo(small_demo()).await;
    // The reference's ENDPOINT=credits: the other three endpoints' three
    // thresholds each are skipped, not failed; the rest are judged.
    let file = "single-endpoint.yaml";
    let (out, summary) = run(
        demo.base_url(),
        file,
        &[
            "--scenario",
            "credits",
            "--profile",
            "smoke",
            "--scale-duration",
            "0.05",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", describe(file, &out));
    let states: Vec<(String, String)> = summary["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["metric"].as_str().unwrap().to_string(),
                t["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let skipped: Vec<_> = states.iter().filter(|(_, s)| s == "skipped").collect();
    assert_eq!(skipped.len(), 9, "{states:?}");
    assert!(
        skipped.iter().all(|(m, _)| !m.contains("scenario:credits")),
        "{states:?}"
    );
    assert!(
        states.iter().all(|(_, s)| s == "passed" || s == "skipped"),
        "{states:?}"
    );
    assert_eq!(requests_named(&summary, "blocks"), 0);
}
