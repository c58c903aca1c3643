//! The `--metrics-listen` endpoint: live `/metrics` in Prometheus' text
//! format during a real run, gone once the run ends.

mod common;
#[path = "support/backends/prometheus.rs"]
mod prometheus;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use prometheus::{free_port, get};
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions};
use stampede::output::{OutputContext, scrape};
use stampede::scenario;

/// The value of the first line starting with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_shows_live_counters_during_the_run() {
    let demo = demo(DemoConfig::default()).await;
    // 1 VU × 12 iterations of 250 ms: about 3 s, snapshots every second.
    let yaml = r#"
scenarios:
  live:
    executor: per-vu-iterations
    vus: 1
    iterations: 12
    flow:
      - request: { name: slow, url: "{{ BASE_URL }}/health?delay=250ms" }
"#;
    let plan = scenario::load_str(yaml, Path::new("test.yaml"), &options(&demo.base_url()))
        .expect("scenario compiles");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let ctx = OutputContext {
        testid: "scrape-1".into(),
        registry: Arc::new(plan.registry.clone()),
    };
    let sink = scrape::serve(addr, &ctx).await.expect("endpoint binds");
    assert_eq!(sink.name(), format!("metrics-listen ({addr})"));
    let url = format!("http://{addr}/metrics");
    let run = tokio::spawn(engine::run(
        Arc::new(plan),
        RunOptions {
            sinks: vec![sink],
            ..RunOptions::default()
        },
        std::future::pending(),
    ));

    // Poll (bounded) until the counter shows up mid-run.
    let counter_line = "stampede_http_reqs_total{";
    let mut seen = None;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, body) = get(&url).await;
        assert_eq!(status, 200);
        let text = String::from_utf8(body.to_vec()).unwrap();
        if text.contains(counter_line) {
            seen = Some(text);
            break;
        }
    }
    let text = seen.expect("request counter within 4 s");
    assert!(!run.is_finished(), "seen during the run");
    assert!(
        text.contains("# TYPE stampede_http_reqs_total counter"),
        "{text}"
    );
    let reqs = sample(
        &text,
        "stampede_http_reqs_total{expected_response=\"true\",method=\"GET\",name=\"slow\"",
    )
    .unwrap_or_else(|| panic!("labelled counter in {text}"));
    assert!((1.0..12.0).contains(&reqs), "a live, partial count: {reqs}");
    assert!(text.contains("testid=\"scrape-1\""), "{text}");
    assert!(
        text.contains("# TYPE stampede_http_req_duration_seconds summary"),
        "{text}"
    );
    assert!(text.contains("# TYPE stampede_vus gauge"), "{text}");
    assert!(
        text.contains("# TYPE stampede_http_req_failed_ratio gauge"),
        "{text}"
    );
    let p50 = sample(&text, "stampede_http_req_duration_seconds{").unwrap();
    assert!((0.24..1.0).contains(&p50), "quantiles in seconds: {p50}");

    let result = run.await.unwrap().expect("run completes");
    assert_eq!(counter(&result.summary, "http_reqs"), 12.0);
    assert!(result.sink_reports[0].errors.is_empty());
    // The endpoint closed with the run.
    assert_eq!(get(&url).await.0, 0);
    demo.shutdown().await;
}
