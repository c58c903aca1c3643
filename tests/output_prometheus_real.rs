//! Remote-write into a real Prometheus 2.42: exact counts and native
//! histogram totals after a real run against the in-process demo target,
//! and delivery when Prometheus only comes up in the middle of the test.

mod common;
#[path = "support/backends/prometheus.rs"]
mod prometheus;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use prometheus::{Prometheus, free_port, write_url};
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions, RunResult};
use stampede::metrics::RunEnd;
use stampede::output::{OutputContext, OutputKind, OutputSpec, prometheus_rw};
use stampede::scenario::{self, TestPlan};

fn plan(yaml: &str, base_url: &str) -> TestPlan {
    let mut load = options(base_url);
    load.instance = Some("host-a".into());
    scenario::load_str(yaml, Path::new("test.yaml"), &load).expect("scenario compiles")
}

fn spec(url: &str) -> OutputSpec {
    let mut spec = OutputSpec::new(OutputKind::PrometheusRw, url);
    spec.common.push_interval = Duration::from_secs(1);
    spec.common.flush_timeout = Duration::from_secs(5);
    spec
}

async fn run_with(plan: TestPlan, spec: &OutputSpec, testid: &str) -> RunResult {
    let ctx = OutputContext {
        testid: testid.into(),
        registry: Arc::new(plan.registry.clone()),
    };
    let sink = prometheus_rw::build(spec, &ctx).expect("sink builds");
    engine::run(
        Arc::new(plan),
        RunOptions {
            sinks: vec![sink],
            ..RunOptions::default()
        },
        std::future::pending(),
    )
    .await
    .expect("run completes")
}

/// Two VUs × 20 iterations of one request, 50 ms each: 40 requests over
/// about half a second per VU.
const FORTY_REQUESTS: &str = r#"
scenarios:
  browse:
    executor: per-vu-iterations
    vus: 2
    iterations: 20
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health?delay=50ms" }
"#;

fn value_of(sample: &serde_json::Value) -> (f64, String) {
    let pair = sample.as_array().expect("[time, value]");
    (
        pair[0].as_f64().unwrap(),
        pair[1].as_str().unwrap().to_string(),
    )
}

/// The samples of the single series `selector` matches over the last hour:
/// (labels, [(time, value)]).
async fn raw_series(prom: &Prometheus, selector: &str) -> (serde_json::Value, Vec<(f64, String)>) {
    let result = prom.query(&format!("{selector}[1h]"), None).await;
    assert_eq!(result.len(), 1, "one series for {selector}: {result:?}");
    let values = result[0]["values"]
        .as_array()
        .expect("float samples")
        .iter()
        .map(value_of)
        .collect();
    (result[0]["metric"].clone(), values)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_receives_exact_counter_and_native_histogram_count() {
    let prom = Prometheus::start().await;
    let demo = demo(DemoConfig::default()).await;
    let testid = "rw-exact";
    let result = run_with(
        plan(FORTY_REQUESTS, &demo.base_url()),
        &spec(&prom.write_url()),
        testid,
    )
    .await;
    assert_eq!(counter(&result.summary, "http_reqs"), 40.0);
    let report = &result.sink_reports[0];
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let points = report.points.expect("point counts");
    assert_eq!(points.dropped, 0);
    assert!(points.sent > 0);

    let selector = format!("stampede_http_reqs_total{{testid=\"{testid}\"}}");
    let (labels, values) = raw_series(&prom, &selector).await;
    let (last_time, last_value) = values.last().cloned().unwrap();
    assert_eq!(last_value, "40");
    for (name, value) in [
        ("__name__", "stampede_http_reqs_total"),
        ("testid", testid),
        ("scenario", "browse"),
        ("name", "health"),
        ("method", "GET"),
        ("status", "200"),
        ("job", "stampede"),
        ("instance", "host-a"),
    ] {
        assert_eq!(labels[name], value, "label {name} in {labels}");
    }

    // The native histogram at the time of the last push: every request.
    let count = prom
        .query(
            &format!("histogram_count(stampede_http_req_duration_seconds{{testid=\"{testid}\",name=\"health\",status=\"200\",method=\"GET\",scenario=\"browse\",job=\"stampede\",instance=\"host-a\"}})"),
            Some(last_time),
        )
        .await;
    assert_eq!(count.len(), 1, "{count:?}");
    assert_eq!(value_of(&count[0]["value"]).1, "40");
    // Its sum is the exact sum of the durations, in seconds.
    let sum = prom
        .query(
            &format!("histogram_sum(stampede_http_req_duration_seconds{{testid=\"{testid}\"}})"),
            Some(last_time),
        )
        .await;
    let sum: f64 = value_of(&sum[0]["value"]).1.parse().unwrap();
    let summary_sum = match &result.summary.metric("http_req_duration").unwrap().total {
        stampede::metrics::SeriesValue::Trend(t) => t.sum / 1000.0,
        other => panic!("{other:?}"),
    };
    assert!((sum - summary_sum).abs() < 1e-9, "{sum} vs {summary_sum}");
    // Quantiles work on it: every request took at least the 50 ms delay.
    let p50 = prom
        .query(
            &format!(
                "histogram_quantile(0.5, stampede_http_req_duration_seconds{{testid=\"{testid}\"}})"
            ),
            Some(last_time),
        )
        .await;
    let p50: f64 = value_of(&p50[0]["value"]).1.parse().unwrap();
    assert!((0.045..1.0).contains(&p50), "p50 {p50}");

    // Stale markers 1 ms after the last push end every series.
    let after = prom.query(&selector, Some(last_time + 0.5)).await;
    assert!(after.is_empty(), "stale after the end: {after:?}");
    let after = prom
        .query(
            &format!("stampede_http_req_duration_seconds{{testid=\"{testid}\"}}"),
            Some(last_time + 0.5),
        )
        .await;
    assert!(after.is_empty(), "histogram stale after the end: {after:?}");
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_started_mid_test_gets_everything() {
    let port = free_port();
    let demo = demo(DemoConfig::default()).await;
    // 2 VUs × 20 iterations of 150 ms: about 3 s; Prometheus starts after 1 s.
    let yaml = FORTY_REQUESTS.replace("delay=50ms", "delay=150ms");
    let starter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Prometheus::start_on(port).await
    });
    let testid = "rw-late";
    let result = run_with(
        plan(&yaml, &demo.base_url()),
        &spec(&write_url(port)),
        testid,
    )
    .await;
    let prom = starter.await.expect("prometheus started");
    assert_eq!(result.summary.end, RunEnd::Completed);
    let points = result.sink_reports[0].points.expect("point counts");
    assert_eq!(points.dropped, 0, "{:?}", result.sink_reports[0]);
    assert!(
        points.retried > 0,
        "the first pushes found no backend: {points:?}"
    );

    let (_, values) = raw_series(
        &prom,
        &format!("stampede_http_reqs_total{{testid=\"{testid}\"}}"),
    )
    .await;
    assert_eq!(values.last().unwrap().1, "40");
    // Pushes made while it was down arrived too (in order, after it came up).
    assert!(values.len() >= 2, "{values:?}");
    demo.shutdown().await;
}
