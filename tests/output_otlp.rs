//! The otlp output in whole runs against the in-process demo target, into
//! an in-test receiver (tests/support/backends/otlp_receiver.rs) that
//! decodes every request: exact counts over HTTP and gRPC, delta and
//! cumulative temporality (with zero starts), exponential (default) and
//! explicit histograms, retries and drops.

mod common;
#[path = "support/backends/otlp_receiver.rs"]
mod otlp_receiver;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use otlp_receiver::{Receiver, attributes, start_grpc, start_http};
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions, RunResult};
use stampede::metrics::{PointCounts, SeriesValue};
use stampede::output::{OutputContext, OutputKind, OutputSpec, otlp};
use stampede::scenario;

const VUS: u64 = 4;
const ITERATIONS: u64 = 30;
const REQUESTS: u64 = VUS * ITERATIONS;
const TESTID: &str = "t-otlp";

fn scenario_yaml() -> String {
    format!(
        r#"
scenarios:
  health:
    executor: per-vu-iterations
    vus: {VUS}
    iterations: {ITERATIONS}
    flow:
      - request:
          name: health
          url: "{{{{ BASE_URL }}}}/health?delay=15ms"
"#
    )
}

fn spec(target: &str, extra: &[(&str, &str)]) -> OutputSpec {
    let mut spec = OutputSpec::new(OutputKind::Otlp, target);
    spec.common.push_interval = Duration::from_millis(300);
    spec.common.timeout = Duration::from_secs(2);
    spec.common.flush_timeout = Duration::from_secs(2);
    for (k, v) in extra {
        spec.extra.insert(k.to_string(), v.to_string());
    }
    spec
}

/// Runs the scenario with one otlp output built from `spec` (no
/// environment variables), the `instance` tag set to `load-1`.
async fn run(spec: &OutputSpec) -> (RunResult, Duration) {
    run_with_env(spec, &[]).await
}

/// [`run`] with `OTEL_*` variables given.
async fn run_with_env(spec: &OutputSpec, vars: &[(&str, String)]) -> (RunResult, Duration) {
    let demo = demo(DemoConfig::default()).await;
    let mut load = options(&demo.base_url());
    load.instance = Some("load-1".into());
    let plan = scenario::load_str(&scenario_yaml(), Path::new("otlp.yaml"), &load)
        .unwrap_or_else(|e| panic!("scenario compiles: {e}"));
    let ctx = OutputContext {
        testid: TESTID.into(),
        registry: Arc::new(plan.registry.clone()),
    };
    let env = |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    };
    let sink = otlp::build_with_env(spec, &ctx, &env).expect("otlp output builds");
    let started = Instant::now();
    let result = engine::run(
        Arc::new(plan),
        RunOptions {
            sinks: vec![sink],
            flush_interval: Duration::from_millis(100),
            ..RunOptions::default()
        },
        std::future::pending(),
    )
    .await
    .expect("run completes");
    assert_eq!(counter(&result.summary, "http_reqs"), REQUESTS as f64);
    (result, started.elapsed())
}

fn points(result: &RunResult) -> PointCounts {
    result.sink_reports[0].points.expect("otlp counts points")
}

fn duration_sum_ms(result: &RunResult) -> f64 {
    match &result.summary.metric("http_req_duration").unwrap().total {
        SeriesValue::Trend(t) => t.sum,
        other => panic!("not a trend: {other:?}"),
    }
}

/// Data points of every metric named `name`, with the metric's unit and
/// the point's attributes, as (attributes, count-or-value, sum, time).
#[derive(Debug, Clone)]
struct Seen {
    attributes: Vec<(String, String)>,
    value: f64,
    sum: f64,
    start: u64,
    time: u64,
}

fn seen(receiver: &Receiver, name: &str, unit: &str) -> Vec<Seen> {
    let mut out = Vec::new();
    for (resource, metric) in receiver.metrics() {
        if metric.name != name || metric.unit != unit {
            continue;
        }
        assert_eq!(
            resource,
            [
                ("service.name".to_string(), "stampede".to_string()),
                ("service.instance.id".into(), "load-1".into()),
                ("stampede.testid".into(), TESTID.into()),
            ]
        );
        match metric.data.unwrap() {
            Data::Sum(s) => {
                assert!(s.is_monotonic);
                out.extend(s.data_points.iter().map(|p| Seen {
                    attributes: attributes(&p.attributes),
                    value: otlp_receiver::number(p),
                    sum: 0.0,
                    start: p.start_time_unix_nano,
                    time: p.time_unix_nano,
                }))
            }
            Data::Histogram(h) => out.extend(h.data_points.iter().map(|p| {
                assert_eq!(
                    p.bucket_counts.iter().sum::<u64>(),
                    p.count,
                    "buckets add up"
                );
                assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
                Seen {
                    attributes: attributes(&p.attributes),
                    value: p.count as f64,
                    sum: p.sum.unwrap(),
                    start: p.start_time_unix_nano,
                    time: p.time_unix_nano,
                }
            })),
            Data::ExponentialHistogram(h) => out.extend(h.data_points.iter().map(|p| {
                let buckets = p
                    .positive
                    .as_ref()
                    .map_or(0, |b| b.bucket_counts.iter().sum());
                assert_eq!(
                    p.zero_count + buckets,
                    p.count,
                    "exponential buckets add up"
                );
                assert!(p.scale <= 8);
                Seen {
                    attributes: attributes(&p.attributes),
                    value: p.count as f64,
                    sum: p.sum.unwrap(),
                    start: p.start_time_unix_nano,
                    time: p.time_unix_nano,
                }
            })),
            other => panic!("{name}: unexpected data {other:?}"),
        }
    }
    out
}

/// Cumulative: each series' latest point, summed over series.
fn final_cumulative(points: &[Seen]) -> (f64, f64) {
    let mut latest: BTreeMap<Vec<(String, String)>, &Seen> = BTreeMap::new();
    for p in points {
        let e = latest.entry(p.attributes.clone()).or_insert(p);
        if p.time >= e.time {
            *e = p;
        }
    }
    latest
        .values()
        .fold((0.0, 0.0), |(v, s), p| (v + p.value, s + p.sum))
}

fn assert_duration_sum(result: &RunResult, seconds: f64) {
    let expected = duration_sum_ms(result) / 1000.0;
    assert!(
        (seconds - expected).abs() <= expected * 1e-9,
        "histogram sum {seconds} s, summary {expected} s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_cumulative_run_delivers_exact_totals() {
    let receiver = start_http(0).await;
    let (result, elapsed) = run(&spec(&receiver.http_target(), &[])).await;

    let reqs = seen(&receiver, "stampede_http_reqs", "");
    assert_eq!(final_cumulative(&reqs).0, REQUESTS as f64);
    for p in &reqs {
        assert!(p.attributes.contains(&("testid".into(), TESTID.into())));
        assert!(p.attributes.contains(&("name".into(), "health".into())));
        assert!(!p.attributes.iter().any(|(k, _)| k == "instance"));
    }
    // Cumulative points all start at the test start. The series were in
    // the first push, so their one zero start is at the test start too.
    let start = reqs[0].start;
    assert!(reqs.iter().all(|p| p.start == start && p.time >= start));
    let zeros: Vec<(f64, u64)> = reqs
        .iter()
        .filter(|p| p.time == start)
        .map(|p| (p.value, p.time))
        .collect();
    assert_eq!(zeros, [(0.0, start)]);

    // Exponential histograms by default, with the same zero start.
    let durations = seen(&receiver, "stampede_http_req_duration", "s");
    let (count, sum) = final_cumulative(&durations);
    assert_eq!(count, REQUESTS as f64);
    assert_duration_sum(&result, sum);
    assert_eq!(
        durations
            .iter()
            .filter(|p| p.time == start)
            .map(|p| p.value)
            .collect::<Vec<_>>(),
        [0.0]
    );
    assert!(
        receiver
            .metrics()
            .iter()
            .any(|(_, m)| m.name == "stampede_http_req_duration"
                && matches!(m.data, Some(Data::ExponentialHistogram(_))))
    );

    // Pushes follow push_interval (300 ms), not the 100 ms snapshots.
    let requests = receiver.requests().len() as f64;
    assert!(requests >= 2.0, "{requests} requests");
    assert!(
        requests <= (elapsed.as_secs_f64() / 0.3).ceil() + 1.0,
        "{requests} requests in {elapsed:?}"
    );
    assert!(
        receiver
            .content_types()
            .iter()
            .all(|c| c == "application/x-protobuf")
    );
    let counts = points(&result);
    let received: u64 = receiver
        .metrics()
        .iter()
        .map(|(_, m)| match m.data.as_ref().unwrap() {
            Data::Sum(s) => s.data_points.len(),
            Data::Gauge(g) => g.data_points.len(),
            Data::Histogram(h) => h.data_points.len(),
            Data::ExponentialHistogram(h) => h.data_points.len(),
            _ => 0,
        } as u64)
        .sum();
    assert_eq!(
        counts,
        PointCounts {
            sent: received,
            retried: 0,
            dropped: 0
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_delta_run_deltas_add_up_exactly_in_small_batches() {
    let receiver = start_grpc(0).await;
    let mut spec = spec(&receiver.grpc_target(), &[("temporality", "delta")]);
    spec.common.batch_size = 5;
    let (result, _) = run(&spec).await;

    let reqs = seen(&receiver, "stampede_http_reqs", "");
    assert_eq!(reqs.iter().map(|p| p.value).sum::<f64>(), REQUESTS as f64);
    assert!(reqs.iter().all(|p| p.start < p.time));
    assert!(reqs.len() >= 2, "several deltas: {}", reqs.len());
    let durations = seen(&receiver, "stampede_http_req_duration", "s");
    assert_eq!(
        durations.iter().map(|p| p.value).sum::<f64>(),
        REQUESTS as f64
    );
    assert_duration_sum(&result, durations.iter().map(|p| p.sum).sum());
    // Delta windows of one series do not overlap.
    let mut windows: Vec<(u64, u64)> = durations
        .iter()
        .filter(|p| p.attributes.contains(&("name".into(), "health".into())))
        .map(|p| (p.start, p.time))
        .collect();
    windows.sort();
    assert!(windows.windows(2).all(|w| w[0].1 <= w[1].0), "{windows:?}");

    for request in receiver.requests() {
        let n: usize = request
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| match m.data.as_ref().unwrap() {
                Data::Sum(s) => s.data_points.len(),
                Data::Gauge(g) => g.data_points.len(),
                Data::Histogram(h) => h.data_points.len(),
                Data::ExponentialHistogram(h) => h.data_points.len(),
                _ => 0,
            })
            .sum();
        assert!((1..=5).contains(&n), "{n} points in one request");
    }
    assert_eq!(points(&result).dropped, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_histograms_count_every_request() {
    let receiver = start_grpc(0).await;
    let (result, _) = run(&spec(
        &receiver.grpc_target(),
        &[("histograms", "explicit")],
    ))
    .await;
    let durations = seen(&receiver, "stampede_http_req_duration", "s");
    assert!(
        receiver
            .metrics()
            .iter()
            .any(|(_, m)| m.name == "stampede_http_req_duration"
                && matches!(m.data, Some(Data::Histogram(_))))
    );
    // One zero start (an empty histogram), then cumulative values.
    assert_eq!(durations.iter().filter(|p| p.value == 0.0).count(), 1);
    let (count, sum) = final_cumulative(&durations);
    assert_eq!(count, REQUESTS as f64);
    assert_duration_sum(&result, sum);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_then_ok_is_retried_and_delivered() {
    for (receiver, target) in [
        {
            let r = start_grpc(2).await;
            let t = r.grpc_target();
            (r, t)
        },
        {
            let r = start_http(2).await;
            let t = r.http_target();
            (r, t)
        },
    ] {
        let (result, _) = run(&spec(&target, &[])).await;
        let counts = points(&result);
        assert!(counts.retried > 0, "{target}: {counts:?}");
        assert_eq!(counts.dropped, 0, "{target}");
        assert!(receiver.attempts() >= 3, "{target}");
        let reqs = seen(&receiver, "stampede_http_reqs", "");
        assert_eq!(final_cumulative(&reqs).0, REQUESTS as f64, "{target}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_down_for_the_whole_run_ends_on_time_and_counts_drops() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for target in [
        format!("otlp+grpc://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}"),
    ] {
        let (result, elapsed) = run(&spec(&target, &[])).await;
        let counts = points(&result);
        assert_eq!(counts.sent, 0, "{target}");
        assert!(counts.dropped > 0, "{target}: {counts:?}");
        assert!(
            result.sink_reports[0]
                .errors
                .iter()
                .any(|e| e.contains("could not be delivered") || e.contains("connect")),
            "{target}: {:?}",
            result.sink_reports[0].errors
        );
        // 30 iterations of 15 ms per VU, plus at most the 2 s flush budget.
        assert!(
            elapsed < Duration::from_secs(5),
            "{target}: took {elapsed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_and_headers_come_from_the_otel_variables() {
    let grpc = start_grpc(0).await;
    let http = start_http(0).await;
    for (receiver, vars) in [
        (
            &grpc,
            vec![
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("http://{}", grpc.addr),
                ),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_string()),
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    "Authorization=Basic%20MTIzOnRvaw==".to_string(),
                ),
            ],
        ),
        (
            &http,
            vec![
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("http://{}/", http.addr),
                ),
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    "Authorization=Basic%20MTIzOnRvaw==".to_string(),
                ),
                (
                    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                    "delta".to_string(),
                ),
            ],
        ),
    ] {
        let (_, _) = run_with_env(&spec("", &[]), &vars).await;
        let auth = receiver.authorizations();
        assert!(!auth.is_empty());
        assert!(auth.iter().all(|a| a == "Basic MTIzOnRvaw=="), "{auth:?}");
        let reqs = seen(receiver, "stampede_http_reqs", "");
        let total = if vars.iter().any(|(_, v)| v == "delta") {
            reqs.iter().map(|p| p.value).sum()
        } else {
            final_cumulative(&reqs).0
        };
        assert_eq!(total, REQUESTS as f64);
    }
}
