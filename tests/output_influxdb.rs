//! The InfluxDB output against real backends: InfluxDB 1.6 over the v1 API
//! (database created by the output) and VictoriaMetrics over the v2 API
//! (org, bucket and token), in both modes, with exact point counts read
//! back from the backend.

mod common;
#[path = "support/backends/influxdb.rs"]
mod influxdb;
#[path = "support/backends/victoria_metrics.rs"]
mod victoria_metrics;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{counter, demo, options};
use influxdb::InfluxDb;
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions, RunResult};
use stampede::metrics::{
    MetricRegistry, RawSample, RawValue, SampleBatch, Sink, Snapshot, Summary, TagInterner, TagSet,
};
use stampede::output::{OutputContext, OutputKind, OutputSpec};
use stampede::protocol::http::Timings;

/// The `test_run` start and end points every run adds (no thresholds here).
const RUN_MARKERS: u64 = 2;
use stampede::scenario;
use victoria_metrics::VictoriaMetrics;

fn spec(target: &str, extra: &[(&str, &str)]) -> OutputSpec {
    let mut spec = OutputSpec::new(OutputKind::InfluxDb, target);
    spec.common.push_interval = Duration::from_millis(500);
    spec.common.flush_timeout = Duration::from_secs(10);
    for (k, v) in extra {
        spec.extra.insert(k.to_string(), v.to_string());
    }
    spec
}

fn context(testid: &str, registry: MetricRegistry) -> OutputContext {
    OutputContext {
        testid: testid.to_string(),
        registry: Arc::new(registry),
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A snapshot carrying `n` HTTP exchanges (distinct timestamps), as the
/// recorder tap produces them.
fn snapshot_with_requests(n: u64, status: &str) -> Arc<Snapshot> {
    let tags = TagInterner::global().intern(TagSet::new([
        ("name", "health check"),
        ("method", "GET"),
        ("status", status),
        ("scenario", "default"),
        ("group", ""),
    ]));
    let start = now_ns();
    let samples = (0..n)
        .map(|i| RawSample {
            time_ns: start + i * 1000,
            value: RawValue::Http {
                tags,
                timings: Timings {
                    duration: Duration::from_micros(1000 + i),
                    waiting: Duration::from_micros(900),
                    ..Timings::default()
                },
                failed: false,
                bytes_sent: 100,
                bytes_received: 200,
            },
        })
        .collect();
    Arc::new(Snapshot {
        time: SystemTime::now(),
        elapsed: Duration::from_secs(1),
        interval: Duration::from_secs(1),
        series: Vec::new(),
        samples: Some(Arc::new(SampleBatch {
            samples,
            dropped: 0,
        })),
        thresholds: Vec::new(),
    })
}

fn empty_summary() -> Arc<Summary> {
    Arc::new(Summary {
        started_at: SystemTime::now(),
        duration: Duration::from_secs(1),
        metrics: Vec::new(),
        thresholds: Vec::new(),
        end: stampede::metrics::RunEnd::Completed,
        generator: None,
        breaking_points: Vec::new(),
    })
}

/// Writes `snapshots` through the sink built from `spec`, the way the
/// engine's sink task does, and returns the sink for its counts.
async fn deliver(spec: &OutputSpec, testid: &str, snapshots: Vec<Arc<Snapshot>>) -> Box<dyn Sink> {
    let mut sink =
        stampede::output::influxdb::build(spec, &context(testid, MetricRegistry::with_builtins()))
            .expect("sink builds");
    sink.health_check().await.expect("healthy");
    for s in snapshots {
        sink.write(s).await.expect("write");
    }
    sink.finish(empty_summary()).await.expect("finish");
    sink
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_points_arrive_one_per_sample_in_a_database_the_output_creates() {
    let influx = InfluxDb::start();
    assert!(!influx.databases().contains(&"loadtest".to_string()));
    let target = format!("{}/loadtest", influx.url());
    let sink = deliver(
        &spec(&target, &[]),
        "v1-points",
        vec![
            snapshot_with_requests(700, "200"),
            snapshot_with_requests(300, "503"),
        ],
    )
    .await;
    assert!(influx.databases().contains(&"loadtest".to_string()));
    let stats = sink.delivery_stats().unwrap();
    assert_eq!((stats.sent(), stats.dropped()), (11_000 + RUN_MARKERS, 0));
    let count = |q: &str| influx.scalar("loadtest", q);
    assert_eq!(
        count("SELECT count(value) FROM http_reqs WHERE testid='v1-points'"),
        1000.0
    );
    assert_eq!(
        count(
            "SELECT count(value) FROM http_req_duration WHERE testid='v1-points' AND status='503'"
        ),
        300.0
    );
    assert_eq!(
        count(
            "SELECT sum(value) FROM data_received WHERE testid='v1-points' AND \"name\"='health check'"
        ),
        200_000.0
    );
    assert_eq!(
        count("SELECT max(value) FROM http_req_duration WHERE testid='v1-points'"),
        1.699
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_without_gzip_and_with_small_batches_delivers_the_same() {
    let influx = InfluxDb::start();
    let mut spec = spec(&format!("{}/plain", influx.url()), &[("gzip", "false")]);
    spec.common.batch_size = 1000;
    let sink = deliver(&spec, "plain", vec![snapshot_with_requests(500, "200")]).await;
    assert_eq!(sink.delivery_stats().unwrap().sent(), 5500 + RUN_MARKERS);
    assert_eq!(
        influx.scalar("plain", "SELECT count(value) FROM http_reqs"),
        500.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_api_delivers_to_victoria_metrics_with_org_bucket_and_token() {
    let vm = VictoriaMetrics::start();
    // SAFETY of the test: only this test reads this variable.
    let var = "STAMPEDE_TEST_INFLUX_TOKEN_VM";
    unsafe { std::env::set_var(var, "vm-token") };
    let target = format!("{}?org=acme&bucket=load", vm.url());
    let sink = deliver(
        &spec(&target, &[("token_env", var)]),
        "vm-v2",
        vec![
            snapshot_with_requests(400, "200"),
            snapshot_with_requests(250, "200"),
        ],
    )
    .await;
    assert_eq!(
        sink.delivery_stats().unwrap().sent(),
        650 * 11 + RUN_MARKERS
    );
    let selector = r#"http_reqs_value{testid="vm-v2"}"#;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut seen = 0;
    while std::time::Instant::now() < deadline {
        seen = vm.sample_count(selector);
        if seen >= 650 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen, 650, "VictoriaMetrics log:\n{}", vm.log());
    let series = vm.export(selector);
    assert_eq!(series.len(), 1);
    let labels = &series[0]["metric"];
    assert_eq!(labels["status"], "200");
    assert_eq!(labels["name"], "health check");
    assert_eq!(labels["scenario"], "default");
    assert_eq!(
        vm.sample_count(r#"http_req_duration_value{testid="vm-v2"}"#),
        650
    );
}

// ---- whole runs against the demo target -------------------------------

const REQUESTS: u64 = 120;

const SCENARIO: &str = r#"
scenarios:
  exact:
    executor: shared-iterations
    vus: 3
    iterations: 120
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;

async fn run_with(target: &str, extra: &[(&str, &str)], testid: &str) -> RunResult {
    let demo = demo(DemoConfig::default()).await;
    let plan = scenario::load_str(SCENARIO, Path::new("test.yaml"), &options(&demo.base_url()))
        .expect("scenario compiles");
    let ctx = context(testid, plan.registry.clone());
    let sink = stampede::output::influxdb::build(&spec(target, extra), &ctx).expect("sink builds");
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
    assert_eq!(counter(&result.summary, "http_reqs"), REQUESTS as f64);
    let report = &result.sink_reports[0];
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    result
}

/// Needs the recorder tap that fills `Snapshot::samples` (issue 5, outcfg):
/// without it a per-sample output receives no samples.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_run_stores_one_http_reqs_point_per_request() {
    let influx = InfluxDb::start();
    let result = run_with(&format!("{}/runs", influx.url()), &[], "run-points").await;
    let points = result.sink_reports[0].points.unwrap();
    assert_eq!(points.dropped, 0);
    assert_eq!(
        influx.scalar(
            "runs",
            "SELECT count(value) FROM http_reqs WHERE testid='run-points'"
        ),
        REQUESTS as f64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_run_in_aggregate_mode_counts_every_request() {
    let influx = InfluxDb::start();
    let result = run_with(
        &format!("{}/agg", influx.url()),
        &[("mode", "aggregate")],
        "run-agg",
    )
    .await;
    assert_eq!(result.sink_reports[0].points.unwrap().dropped, 0);
    let q = |q: &str| influx.scalar("agg", q);
    assert_eq!(
        q("SELECT sum(\"count\") FROM http_req_duration WHERE testid='run-agg'"),
        REQUESTS as f64
    );
    assert_eq!(
        q("SELECT sum(value) FROM http_reqs WHERE testid='run-agg'"),
        REQUESTS as f64
    );
    assert_eq!(
        q("SELECT sum(total) FROM http_req_failed WHERE testid='run-agg'"),
        REQUESTS as f64
    );
    assert_eq!(
        q("SELECT sum(trues) FROM http_req_failed WHERE testid='run-agg'"),
        0.0
    );
}
