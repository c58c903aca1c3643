//! The otlp output against rotel, a real third-party OTLP receiver, over
//! gRPC and over HTTP/protobuf; what arrived is read from rotel's debug log.

mod common;
#[path = "support/backends/rotel.rs"]
mod rotel;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rotel::Rotel;
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions};
use stampede::output::{OutputContext, OutputKind, OutputSpec, otlp};
use stampede::scenario;

const YAML: &str = r#"
scenarios:
  health:
    executor: per-vu-iterations
    vus: 2
    iterations: 10
    flow:
      - request:
          name: health
          url: "{{ BASE_URL }}/health"
"#;

async fn run_into(target: &str) -> u64 {
    let demo = demo(DemoConfig::default()).await;
    let plan = scenario::load_str(YAML, Path::new("rotel.yaml"), &options(&demo.base_url()))
        .unwrap_or_else(|e| panic!("scenario compiles: {e}"));
    let ctx = OutputContext {
        testid: "t-rotel".into(),
        registry: Arc::new(plan.registry.clone()),
    };
    let mut spec = OutputSpec::new(OutputKind::Otlp, target);
    spec.common.push_interval = Duration::from_secs(60);
    let sink = otlp::build_with_env(&spec, &ctx, &|_| None).expect("otlp output builds");
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
    assert_eq!(counter(&result.summary, "http_reqs"), 20.0);
    let points = result.sink_reports[0].points.unwrap();
    assert_eq!((points.dropped, points.retried), (0, 0), "{target}");
    points.sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotel_receives_over_grpc_and_http() {
    let rotel = Rotel::start();
    for target in [
        format!("otlp+grpc://{}", rotel.grpc),
        format!("http://{}", rotel.http),
    ] {
        let before = rotel.log();
        let sent = run_into(&target).await;
        let log = rotel
            .wait_for_log(Duration::from_secs(10), |l| {
                l.len() > before.len() && data_points(&l[before.len()..]) >= sent
            })
            .await;
        let new = &log[before.len()..];
        for name in [
            "stampede_http_reqs",
            "stampede_http_req_duration",
            "stampede_http_req_failed_samples",
            "stampede_data_received",
            "stampede_vus",
        ] {
            assert!(
                new.contains(name),
                "{target}: {name} not in rotel's log:\n{new}"
            );
        }
        assert_eq!(
            data_points(new),
            sent,
            "{target}: data points in rotel's log:\n{new}"
        );
        // One push (the run is shorter than the push interval): the zero
        // start, then the value.
        assert_eq!(
            first_after(new, "-> Name: stampede_http_reqs", "Value: ", 2),
            ["0", "20"]
        );
        assert_eq!(
            first_after(new, "-> Name: stampede_http_req_duration", "Count: ", 2),
            ["0", "20"]
        );
    }
}

/// Data points in rotel's detailed debug log: one `NumberDataPoints #i` or
/// `HistogramDataPoints #i` heading each.
fn data_points(log: &str) -> u64 {
    log.lines()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("NumberDataPoints #")
                || l.starts_with("HistogramDataPoints #")
                || l.starts_with("ExponentialHistogramDataPoints #")
        })
        .count() as u64
}

/// The rest of the first `n` lines starting with `prefix` after the line
/// containing `marker`.
fn first_after<'a>(log: &'a str, marker: &str, prefix: &str, n: usize) -> Vec<&'a str> {
    let Some(at) = log.find(marker) else {
        return Vec::new();
    };
    log[at..]
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(prefix))
        .map(str::trim)
        .take(n)
        .collect()
}
