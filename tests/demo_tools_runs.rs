//! scenarios/tool-execution.yaml run as shipped: exact outcome counts
//! against demo targets with known limits, and the CLI run with `--demo`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use serde_json::Value;
use stampede::demo::{DemoConfig, RateLimit};
use stampede::engine::{self, RunOptions};
use stampede::metrics::Summary;
use stampede::scenario::{self, LoadOptions};

fn scenario_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tool-execution.yaml")
}

/// The shipped file with `--vus 1 --iterations N` against `demo`.
async fn run_file(base_url: &str, iterations: u64) -> Summary {
    let options = LoadOptions {
        vus: Some(1),
        iterations: Some(iterations),
        ..options(base_url)
    };
    let plan = scenario::load(&scenario_file(), &options).unwrap_or_else(|e| panic!("{e}"));
    engine::run(
        Arc::new(plan),
        RunOptions::default(),
        std::future::pending(),
    )
    .await
    .expect("run completes")
    .summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_of_20_gives_exactly_20_successes_of_30_calls() {
    let demo = demo(DemoConfig {
        blocks_size_bytes: 10_000,
        tools_rate_limit: None,
        tools_quota: Some(20),
        ..DemoConfig::default()
    })
    .await;
    let summary = run_file(&demo.base_url(), 30).await;
    assert_eq!(counter(&summary, "tool_calls_ok"), 20.0);
    assert_eq!(counter(&summary, "tool_quota_exceeded"), 10.0);
    assert_eq!(counter(&summary, "tool_rate_limited"), 0.0);
    assert_eq!(
        counter_where(&summary, "http_reqs", &[("status", "403")]),
        10.0
    );
    // 403 is expected here: no failed requests, every check passed.
    assert_eq!(rate_where(&summary, "http_req_failed", &[]), (0, 31));
    assert_eq!(rate_where(&summary, "checks", &[]), (61, 61));
    // Login and the 30 calls, all over one h2c connection.
    assert_eq!(
        counter_where(&summary, "http_reqs", &[("proto", "HTTP/2.0")]),
        31.0
    );
    assert_eq!(demo.stats().connections, 1);
    assert_eq!(demo.stats().quota_exceeded, 10);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_5_without_refill_gives_exactly_5_successes() {
    let demo = demo(DemoConfig {
        blocks_size_bytes: 10_000,
        tools_rate_limit: Some(RateLimit {
            per_second: 0.001,
            burst: 5,
        }),
        tools_quota: None,
        ..DemoConfig::default()
    })
    .await;
    let summary = run_file(&demo.base_url(), 12).await;
    assert_eq!(counter(&summary, "tool_calls_ok"), 5.0);
    assert_eq!(counter(&summary, "tool_rate_limited"), 7.0);
    assert_eq!(counter(&summary, "tool_quota_exceeded"), 0.0);
    assert_eq!(
        counter_where(&summary, "http_reqs", &[("status", "429")]),
        7.0
    );
    assert_eq!(demo.stats().rate_limited, 7);
    demo.shutdown().await;
}

#[test]
fn cli_run_with_the_demo_meets_both_limits_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("summary.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["run", "--demo", "--quiet", "--summary-export"])
        .arg(&export)
        .arg(scenario_file())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let summary: Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let count = |metric: &str| summary["metrics"][metric]["count"].as_u64().unwrap();
    // Two VUs with a quota of 100 each, well within 15 s at 10 calls/s.
    assert_eq!(count("tool_calls_ok"), 200);
    assert!(count("tool_rate_limited") > 0);
    assert!(count("tool_quota_exceeded") > 0);
    let series = summary["series"]["http_reqs"].as_array().unwrap();
    let with_status = |status: &str| -> u64 {
        series
            .iter()
            .filter(|s| s["tags"]["status"] == status)
            .map(|s| s["count"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(with_status("429"), count("tool_rate_limited"));
    assert_eq!(with_status("403"), count("tool_quota_exceeded"));
    assert!(series.iter().all(|s| s["tags"]["proto"] == "HTTP/2.0"));
}
