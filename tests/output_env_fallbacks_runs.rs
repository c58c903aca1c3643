//! Real runs configured only through k6's and OpenTelemetry's environment
//! variables: `stampede run --demo --out influxdb` into VictoriaMetrics'
//! InfluxDB v2 endpoint with `K6_INFLUXDB_*`, and `--out otlp` into the
//! in-test OTLP receiver with `OTEL_*` (service name, resource attributes).
//! (`K6_PROMETHEUS_RW_*` runs in tests/output_prometheus_k6_dashboards.rs.)

#[path = "support/backends/influxdb.rs"]
mod influxdb;
#[path = "support/backends/otlp_receiver.rs"]
mod otlp_receiver;
#[path = "support/backends/victoria_metrics.rs"]
mod victoria_metrics;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use victoria_metrics::VictoriaMetrics;

/// 3 VUs share 120 iterations of one request: exactly 120 requests.
const SCENARIO: &str = r#"
scenarios:
  exact:
    executor: shared-iterations
    vus: 3
    iterations: 120
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;

/// Runs the scenario with `out` and `env`; k6, OTel and stampede output
/// variables of the caller's environment are removed first. Returns the
/// process output and the summary JSON.
fn run(dir: &Path, testid: &str, out: &str, env: &[(&str, String)]) -> (Output, serde_json::Value) {
    let file = dir.join("exact.yaml");
    std::fs::write(&file, SCENARIO).unwrap();
    let export = dir.join(format!("{testid}.json"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    for (key, _) in std::env::vars() {
        if key.starts_with("K6_") || key.starts_with("OTEL_") || key.starts_with("STAMPEDE_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["run", "--demo", "--quiet", "--testid", testid])
        .args(["--instance", "box-1", "--out", out])
        .arg("--summary-export")
        .arg(&export)
        .arg(&file)
        .output()
        .expect("stampede runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    (out, summary)
}

#[test]
fn k6_influxdb_variables_alone_deliver_every_request() {
    let vm = VictoriaMetrics::start();
    let dir = tempfile::tempdir().unwrap();
    let testid = "k6-influx-env";
    let (out, summary) = run(
        dir.path(),
        testid,
        "influxdb",
        &[
            ("K6_INFLUXDB_ADDR", vm.url()),
            ("K6_INFLUXDB_ORGANIZATION", "acme".into()),
            ("K6_INFLUXDB_BUCKET", "load".into()),
            ("K6_INFLUXDB_TOKEN", "k6-secret-token".into()),
            ("K6_INFLUXDB_PUSH_INTERVAL", "1s".into()),
            ("K6_INFLUXDB_TAGS_AS_FIELDS", "vu:int,iter:int,url".into()),
        ],
    );
    assert_eq!(summary["metrics"]["http_reqs"]["count"], 120);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains("k6-secret-token"), "{printed}");
    // VictoriaMetrics stores each point's `value` field as `<measurement>_value`.
    let selector = format!("http_reqs_value{{testid=\"{testid}\"}}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = vm.sample_count(&selector);
    while seen < 120 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        seen = vm.sample_count(&selector);
    }
    assert_eq!(seen, 120, "VictoriaMetrics log:\n{}", vm.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otel_variables_set_endpoint_service_name_and_resource_attributes() {
    let receiver = otlp_receiver::start_http(0).await;
    let dir = tempfile::tempdir().unwrap();
    let testid = "otel-env";
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_target()),
        ("OTEL_SERVICE_NAME", "checkout-load".to_string()),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=ignored,deployment.environment=load%20test,team=payments".to_string(),
        ),
        ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "3000".to_string()),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "none".to_string()),
    ];
    let path = dir.path().to_path_buf();
    let (_, summary) = tokio::task::spawn_blocking(move || run(&path, testid, "otlp", &env))
        .await
        .unwrap();
    assert_eq!(summary["metrics"]["http_reqs"]["count"], 120);

    let metrics = receiver.metrics();
    assert!(!metrics.is_empty(), "nothing received");
    let expected: Vec<(String, String)> = [
        ("service.name", "checkout-load"),
        ("service.instance.id", "box-1"),
        ("deployment.environment", "load test"),
        ("team", "payments"),
        ("stampede.testid", testid),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (resource, metric) in &metrics {
        assert_eq!(resource, &expected, "resource of {}", metric.name);
    }
    // The last cumulative http_reqs point holds every request.
    let last = metrics
        .iter()
        .rev()
        .find(|(_, m)| m.name == "stampede_http_reqs")
        .expect("http_reqs sent");
    let Some(Data::Sum(sum)) = &last.1.data else {
        panic!("http_reqs is a Sum: {:?}", last.1);
    };
    let total: f64 = sum.data_points.iter().map(otlp_receiver::number).sum();
    assert_eq!(total, 120.0);
}

#[test]
fn a_bad_k6_variable_stops_the_run_with_one_line_and_no_secret() {
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .env_remove("K6_PROMETHEUS_RW_SERVER_URL")
        .env("K6_PROMETHEUS_RW_USERNAME", "123456")
        .env("K6_PROMETHEUS_RW_PASSWORD", "glc_do_not_print")
        .env("K6_PROMETHEUS_RW_TREND_STATS", "p95")
        .args([
            "run",
            "--demo",
            "--quiet",
            "--out",
            "prometheus-rw=http://127.0.0.1:9/api/v1/write",
        ])
        .arg("--url")
        .arg("http://127.0.0.1:9/never-requested")
        .output()
        .expect("stampede runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr,
        "error: --out #1: environment variable K6_PROMETHEUS_RW_TREND_STATS: unknown statistic \"p95\"; use p(N), avg, min, max, med, count or sum\n"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("glc_do_not_print"));
}
