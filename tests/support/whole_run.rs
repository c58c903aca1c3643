#![allow(dead_code)] // each test file uses a different part of these helpers
//! The whole-run tests' shared parts (tests/output_prometheus_whole_run.rs
//! and tests/output_otlp_whole_run.rs): a run in which one series exists
//! from the first push and another appears only in the last push, the
//! summary JSON's per-status counts, and reading samples and per-status
//! values back from a real Prometheus.

use std::path::Path;
use std::sync::Arc;

use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions, RunResult};
use stampede::metrics::Sink;
use stampede::output::{OutputContext, OutputSpec};
use stampede::report::summary_json;
use stampede::scenario;

use super::common::{demo, options};
use super::prometheus::Prometheus;

/// `steady` hits /health from the start for 2 s (1 s pushes: at about 1 s
/// and, by the output's schedule, 2 s); `late` sends three failing requests
/// at 2.5 s, after the last periodic push, so their series first appear in
/// the run's final push.
pub const SCENARIO: &str = r#"
scenarios:
  steady:
    executor: constant-vus
    vus: 2
    duration: 2s
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health?delay=50ms" }
  late:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    start_time: 2500ms
    flow:
      - request: { name: late, url: "{{ BASE_URL }}/health?delay=10ms&fail=1" }
"#;

/// Runs [`SCENARIO`] against the demo target into the sink `build` makes
/// of `spec`; the sink must report no errors and no drops.
pub async fn run_scenario(
    spec: &OutputSpec,
    testid: &str,
    build: impl FnOnce(&OutputSpec, &OutputContext) -> Box<dyn Sink>,
) -> RunResult {
    let demo = demo(DemoConfig::default()).await;
    let mut load = options(&demo.base_url());
    load.instance = Some("host-a".into());
    let plan = scenario::load_str(SCENARIO, Path::new("test.yaml"), &load).expect("compiles");
    let ctx = OutputContext {
        testid: testid.into(),
        registry: Arc::new(plan.registry.clone()),
    };
    let sink = build(spec, &ctx);
    let result = engine::run(
        Arc::new(plan),
        RunOptions {
            sinks: vec![sink],
            ..RunOptions::default()
        },
        std::future::pending(),
    )
    .await
    .expect("run completes");
    demo.shutdown().await;
    let report = &result.sink_reports[0];
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.points.expect("counted").dropped, 0);
    result
}

/// Per `status`, the `count` of `metric`'s series in the summary JSON.
pub fn summary_per_status(result: &RunResult, metric: &str) -> Vec<(String, f64)> {
    let doc = summary_json(&result.summary);
    let mut out: Vec<(String, f64)> = doc["series"][metric]
        .as_array()
        .expect("series list")
        .iter()
        .map(|s| {
            let status = s["tags"]["status"].as_str().expect("status tag");
            (status.to_string(), s["count"].as_f64().expect("count"))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// (time in ms, value) of a `[time, "value"]` pair.
pub fn pair(v: &serde_json::Value) -> (i64, f64) {
    let p = v.as_array().expect("[time, value]");
    let t = p[0].as_f64().expect("time");
    let value = p[1].as_str().expect("value").parse().expect("number");
    ((t * 1000.0).round() as i64, value)
}

/// The raw float samples of the one series `selector` matches over the
/// last five minutes (a range-vector instant query).
pub async fn raw(prom: &Prometheus, selector: &str) -> Vec<(i64, f64)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let result = prom.query(&format!("{selector}[5m]"), Some(now)).await;
    assert_eq!(result.len(), 1, "one series for {selector}: {result:?}");
    result[0]["values"]
        .as_array()
        .expect("float samples")
        .iter()
        .map(pair)
        .collect()
}

/// `query` at `at` (Unix seconds), one value per `status`.
pub async fn by_status(prom: &Prometheus, query: &str, at: f64) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = prom
        .query(query, Some(at))
        .await
        .iter()
        .map(|r| {
            let status = r["metric"]["status"].as_str().expect("status label");
            (status.to_string(), pair(&r["value"]).1)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The run start in ms, from the start marker gauge `name` at `at_ms`.
pub async fn run_start_ms(prom: &Prometheus, name: &str, testid: &str, at_ms: i64) -> i64 {
    let start = prom
        .query(
            &format!("{name}{{testid=\"{testid}\"}}"),
            Some(at_ms as f64 / 1000.0),
        )
        .await;
    assert_eq!(start.len(), 1, "{name}: {start:?}");
    (pair(&start[0]["value"]).1 * 1000.0).floor() as i64
}

/// The requests per status, and the zero starts read back raw: the series
/// present from the first push (status 200) starts at the run start, the
/// one first seen in the last push (status 500, three requests) at the
/// previous push. Returns (requests per status, run start, last push) in ms.
pub async fn check_zero_starts(
    prom: &Prometheus,
    result: &RunResult,
    testid: &str,
    start_marker: &str,
) -> (Vec<(String, f64)>, i64, i64) {
    let requests = summary_per_status(result, "http_reqs");
    assert_eq!(summary_per_status(result, "http_req_duration"), requests);
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1], ("500".to_string(), 3.0));
    assert!(requests[0].1 >= 20.0, "{requests:?}");

    let counter = |status: &str| {
        format!("stampede_http_reqs_total{{testid=\"{testid}\",status=\"{status}\"}}")
    };
    let early = raw(prom, &counter("200")).await;
    let last_push = early.last().expect("samples").0;
    let start = run_start_ms(prom, start_marker, testid, last_push).await;
    assert_eq!(early[0], (start, 0.0), "{early:?}");
    // Zero, one or two periodic pushes (by the output's schedule), final.
    assert!(early.len() >= 3, "zero, periodic pushes, final: {early:?}");
    let previous_push = early[early.len() - 2].0;
    let late = raw(prom, &counter("500")).await;
    assert_eq!(late, [(previous_push, 0.0), (last_push, 3.0)]);
    (requests, start, last_push)
}
