//! Remote-write delivery faults against a small in-test receiver that
//! answers with scripted statuses and keeps every request: retry after a
//! 500, one request only after a 401, and a backend that never comes up.

mod common;
#[path = "support/backends/prometheus.rs"]
mod prometheus;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use prometheus::{free_port, write_url};
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions, RunResult};
use stampede::metrics::RunEnd;
use stampede::output::prometheus_rw::proto::{TimeSeries, decode_request};
use stampede::output::{OutputConfigError, OutputContext, OutputKind, OutputSpec, prometheus_rw};
use stampede::scenario::{self, TestPlan};

#[derive(Clone, Debug)]
struct Received {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
struct Script {
    /// Statuses for the next requests, then `default`.
    next: VecDeque<u16>,
    default: u16,
    received: Vec<Received>,
}

type Shared = Arc<Mutex<Script>>;

async fn write(State(script): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut script = script.lock().unwrap();
    let status = script.next.pop_front().unwrap_or(script.default);
    script.received.push(Received {
        status,
        headers,
        body,
    });
    StatusCode::from_u16(status).unwrap()
}

/// Starts a receiver on 127.0.0.1 answering `first` statuses in order, then
/// `default` forever. Returns its write URL and its record.
async fn receiver(first: &[u16], default: u16) -> (String, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        next: first.iter().copied().collect(),
        default,
        received: Vec::new(),
    }));
    let app = axum::Router::new()
        .route("/api/v1/write", axum::routing::post(write))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (write_url(port), script)
}

fn plan(yaml: &str, base_url: &str) -> TestPlan {
    scenario::load_str(yaml, Path::new("test.yaml"), &options(base_url)).expect("scenario compiles")
}

async fn run_with(plan: TestPlan, spec: &OutputSpec) -> RunResult {
    let ctx = OutputContext {
        testid: "faults".into(),
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

fn named<'a>(series: &'a [TimeSeries], name: &str) -> Option<&'a TimeSeries> {
    series.iter().find(|s| {
        s.labels
            .iter()
            .any(|l| l.name == "__name__" && l.value == name)
    })
}

const FIVE_REQUESTS: &str = r#"
scenarios:
  quick:
    executor: per-vu-iterations
    vus: 1
    iterations: 5
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_retried_and_the_same_batch_delivered() {
    let demo = demo(DemoConfig::default()).await;
    let (url, script) = receiver(&[500], 204).await;
    // The run is shorter than the 5 s push interval: one push, at the end.
    let spec = OutputSpec::new(OutputKind::PrometheusRw, url);
    let result = run_with(plan(FIVE_REQUESTS, &demo.base_url()), &spec).await;

    let received = script.lock().unwrap().received.clone();
    let statuses: Vec<u16> = received.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 204, 204], "data, data again, stale markers");
    assert_eq!(
        received[0].body, received[1].body,
        "the refused batch is sent again"
    );
    for r in &received {
        assert_eq!(r.headers["content-encoding"], "snappy");
        assert_eq!(r.headers["content-type"], "application/x-protobuf");
        assert_eq!(r.headers["x-prometheus-remote-write-version"], "0.1.0");
    }
    let data = decode_request(&received[1].body).unwrap().timeseries;
    let reqs = named(&data, "stampede_http_reqs_total").expect("request counter");
    // The zero start, then the value (one push: the series are new in it).
    let values: Vec<f64> = reqs.samples.iter().map(|s| s.value).collect();
    assert_eq!(values, [0.0, 5.0]);
    let failed = named(&data, "stampede_http_req_failed_samples_total").unwrap();
    assert_eq!(failed.samples[1].value, 5.0);
    let duration = named(&data, "stampede_http_req_duration_seconds").unwrap();
    let counts: Vec<_> = duration.histograms.iter().map(|h| h.count).collect();
    use prometheus_rw::proto::histogram::Count::CountInt;
    assert_eq!(counts, [Some(CountInt(0)), Some(CountInt(5))]);
    let markers = decode_request(&received[2].body).unwrap().timeseries;
    assert_eq!(markers.len(), data.len());

    let report = &result.sink_reports[0];
    let points = report.points.unwrap();
    assert_eq!(points.retried, data.len() as u64);
    assert_eq!(points.sent, (data.len() + markers.len()) as u64);
    assert_eq!(points.dropped, 0);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_stops_the_output_after_one_request_with_a_clear_message() {
    let demo = demo(DemoConfig::default()).await;
    let (url, script) = receiver(&[], 401).await;
    let mut spec = OutputSpec::new(OutputKind::PrometheusRw, url.clone());
    spec.common.push_interval = Duration::from_secs(1);
    // About 2.5 s: pushes would be due every second.
    let yaml = FIVE_REQUESTS
        .replace("iterations: 5", "iterations: 10")
        .replace("/health\"", "/health?delay=250ms\"");
    let result = run_with(plan(&yaml, &demo.base_url()), &spec).await;

    assert_eq!(
        script.lock().unwrap().received.len(),
        1,
        "no retry after 401"
    );
    let report = &result.sink_reports[0];
    let expected = format!("HTTP 401: check the credentials for output prometheus-rw ({url})");
    assert!(
        report.errors.iter().any(|e| e.contains(&expected)),
        "{:?}",
        report.errors
    );
    let points = report.points.unwrap();
    assert_eq!(points.sent, 0);
    assert!(points.dropped > 0);
    assert_eq!(result.summary.end, RunEnd::Completed);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_down_for_the_whole_test_does_not_delay_the_end() {
    let demo = demo(DemoConfig::default()).await;
    let mut spec = OutputSpec::new(OutputKind::PrometheusRw, write_url(free_port()));
    spec.common.push_interval = Duration::from_secs(1);
    spec.common.flush_timeout = Duration::from_secs(2);
    let yaml = r#"
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 20
    duration: 3s
    preallocated_vus: 2
    max_vus: 4
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;
    let started = Instant::now();
    let result = run_with(plan(yaml, &demo.base_url()), &spec).await;
    let took = started.elapsed();
    assert_eq!(result.summary.end, RunEnd::Completed);
    assert_eq!(counter(&result.summary, "http_reqs"), 60.0);
    // Scheduled end at 3 s, plus at most the flush timeout, plus slack for
    // the last requests and the final snapshot.
    assert!(
        took < Duration::from_secs(3) + spec.common.flush_timeout + Duration::from_millis(800),
        "took {took:?}"
    );
    let report = &result.sink_reports[0];
    let points = report.points.unwrap();
    assert_eq!(points.sent, 0);
    assert!(points.dropped > 0, "{points:?}");
    assert!(points.retried > 0, "{points:?}");
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("could not be delivered")),
        "{:?}",
        report.errors
    );
    demo.shutdown().await;
}

#[test]
fn unknown_options_are_refused_when_building() {
    let mut spec = OutputSpec::new(OutputKind::PrometheusRw, "http://127.0.0.1:9/api/v1/write");
    spec.extra.insert("trendStats".into(), "p(99)".into());
    let ctx = OutputContext {
        testid: "t".into(),
        registry: Arc::new(stampede::metrics::MetricRegistry::with_builtins()),
    };
    match prometheus_rw::build(&spec, &ctx) {
        Err(OutputConfigError::UnknownOption { key, .. }) => assert_eq!(key, "trendStats"),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("accepted an unknown option"),
    }
}
