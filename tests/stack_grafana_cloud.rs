//! The Grafana Cloud path, configured exactly as docs/grafana-cloud.md says,
//! against a local receiver on 127.0.0.1 that stands in for Grafana Cloud:
//! remote-write with basic auth (instance id : access-policy token from the
//! environment) to `/api/prom/push`, and OTLP with the `Authorization` header
//! from `OTEL_EXPORTER_OTLP_HEADERS` to the OTLP gateway's `/otlp/v1/metrics`.

#[path = "support/stack/capture.rs"]
mod capture;

use std::io::Read;
use std::process::{Command, Output};

use base64::Engine;
use capture::{Captured, Receiver};

const INSTANCE_ID: &str = "1234567";
const TOKEN: &str = "glc_eyJvIjoiMTIzIiwibiI6InN0YW1wZWRlIn0=";
const TESTID: &str = "cloud-run";

/// 2 VUs × 5 iterations of one request: exactly 10 requests.
const SCENARIO: &str = r#"
scenarios:
  cloud:
    executor: per-vu-iterations
    vus: 2
    iterations: 5
    flow:
      - request:
          name: health
          url: "{{ BASE_URL }}/health"
"#;

fn run(out: &str, env: &[(&str, String)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cloud.yaml");
    std::fs::write(&file, SCENARIO).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.env_remove("BASE_URL")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .env("STAMPEDE_LOG", "warn")
        .args(["run", "--demo", "--quiet"])
        .arg(&file)
        .args(["--testid", TESTID, "--out", out]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("stampede runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token must never be printed"
    );
    output
}

fn expected_basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{INSTANCE_ID}:{TOKEN}"))
    )
}

// Remote-write 1.0 (prompb), the fields these assertions read.
#[derive(Clone, PartialEq, prost::Message)]
struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    timeseries: Vec<TimeSeries>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    samples: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    histograms: Vec<Histogram>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct Label {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}
#[derive(Clone, PartialEq, prost::Message)]
struct Sample {
    #[prost(double, tag = "1")]
    value: f64,
    #[prost(int64, tag = "2")]
    timestamp: i64,
}
#[derive(Clone, PartialEq, prost::Message)]
struct Histogram {
    #[prost(uint64, optional, tag = "1")]
    count_int: Option<u64>,
    #[prost(double, tag = "3")]
    sum: f64,
    #[prost(int64, tag = "15")]
    timestamp: i64,
}

impl TimeSeries {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.value.as_str())
    }
}

fn decode_remote_write(req: &Captured) -> WriteRequest {
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&req.body)
        .expect("snappy body");
    prost::Message::decode(raw.as_slice()).expect("remote-write protobuf")
}

/// Per series (labels), the value of its newest sample over all pushes,
/// stale markers left out.
fn last_values(series: &[TimeSeries], name: &str) -> Vec<(i64, f64)> {
    let mut newest: std::collections::BTreeMap<Vec<(String, String)>, (i64, f64)> =
        Default::default();
    for s in series.iter().filter(|s| s.label("__name__") == Some(name)) {
        let key: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        // Stale markers (NaN) end every series after the run; the values
        // wanted are the last real ones.
        for p in s.samples.iter().filter(|p| !p.value.is_nan()) {
            let e = newest.entry(key.clone()).or_insert((i64::MIN, 0.0));
            if p.timestamp >= e.0 {
                *e = (p.timestamp, p.value);
            }
        }
    }
    newest.into_values().collect()
}

#[test]
fn remote_write_to_grafana_cloud_sends_basic_auth_to_api_prom_push() {
    let cloud = Receiver::start(204);
    let url = format!("http://127.0.0.1:{}/api/prom/push", cloud.port);
    run(
        &format!("prometheus-rw={url}"),
        &[
            ("STAMPEDE_PROMETHEUS_RW_USERNAME", INSTANCE_ID.into()),
            ("STAMPEDE_PROMETHEUS_RW_PASSWORD", TOKEN.into()),
        ],
    );
    let requests = cloud.taken();
    assert!(!requests.is_empty(), "nothing was pushed");
    let mut series = Vec::new();
    for req in &requests {
        assert_eq!(
            (req.method.as_str(), req.path.as_str()),
            ("POST", "/api/prom/push")
        );
        assert_eq!(req.header("authorization"), Some(expected_basic().as_str()));
        assert_eq!(req.header("content-encoding"), Some("snappy"));
        assert_eq!(req.header("content-type"), Some("application/x-protobuf"));
        assert_eq!(
            req.header("x-prometheus-remote-write-version"),
            Some("0.1.0")
        );
        series.extend(decode_remote_write(req).timeseries);
    }
    let reqs = last_values(&series, "stampede_http_reqs_total");
    assert_eq!(reqs.iter().map(|(_, v)| v).sum::<f64>(), 10.0, "{reqs:?}");
    let sample = series
        .iter()
        .find(|s| s.label("__name__") == Some("stampede_http_reqs_total"))
        .unwrap();
    assert_eq!(sample.label("testid"), Some(TESTID));
    assert_eq!(sample.label("job"), Some("stampede"));
    assert_eq!(sample.label("name"), Some("health"));
    // The native histogram of the whole run holds every request (the
    // stale marker after it has a NaN sum).
    let newest_count = series
        .iter()
        .filter(|s| s.label("__name__") == Some("stampede_http_req_duration_seconds"))
        .flat_map(|s| s.histograms.iter())
        .filter(|h| !h.sum.is_nan())
        .max_by_key(|h| h.timestamp)
        .and_then(|h| h.count_int);
    assert_eq!(newest_count, Some(10));
}

// OTLP metrics (opentelemetry-proto), the fields these assertions read.
#[derive(Clone, PartialEq, prost::Message)]
struct ExportMetricsServiceRequest {
    #[prost(message, repeated, tag = "1")]
    resource_metrics: Vec<ResourceMetrics>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct ResourceMetrics {
    #[prost(message, optional, tag = "1")]
    resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    scope_metrics: Vec<ScopeMetrics>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct Resource {
    #[prost(message, repeated, tag = "1")]
    attributes: Vec<KeyValue>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct KeyValue {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(message, optional, tag = "2")]
    value: Option<AnyValue>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct AnyValue {
    #[prost(string, optional, tag = "1")]
    string_value: Option<String>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct ScopeMetrics {
    #[prost(message, repeated, tag = "2")]
    metrics: Vec<Metric>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct Metric {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "3")]
    unit: String,
}

#[test]
fn otlp_to_the_grafana_cloud_gateway_sends_the_authorization_header() {
    let cloud = Receiver::start(200);
    let url = format!("http://127.0.0.1:{}/otlp/v1/metrics", cloud.port);
    let header = format!("Authorization={}", expected_basic().replace(' ', "%20"));
    run(
        &format!("otlp={url}"),
        &[("OTEL_EXPORTER_OTLP_HEADERS", header)],
    );
    let requests = cloud.taken();
    assert!(!requests.is_empty(), "nothing was exported");
    let mut names = std::collections::BTreeSet::new();
    for req in &requests {
        assert_eq!(
            (req.method.as_str(), req.path.as_str()),
            ("POST", "/otlp/v1/metrics")
        );
        assert_eq!(req.header("authorization"), Some(expected_basic().as_str()));
        assert_eq!(req.header("content-type"), Some("application/x-protobuf"));
        let body = match req.header("content-encoding") {
            Some("gzip") => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(req.body.as_slice())
                    .read_to_end(&mut out)
                    .expect("gzip body");
                out
            }
            _ => req.body.clone(),
        };
        let export: ExportMetricsServiceRequest =
            prost::Message::decode(body.as_slice()).expect("OTLP protobuf");
        for rm in &export.resource_metrics {
            let attrs = &rm.resource.as_ref().expect("resource").attributes;
            let service = attrs
                .iter()
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.clone());
            assert_eq!(
                service.and_then(|v| v.string_value).as_deref(),
                Some("stampede")
            );
            for sm in &rm.scope_metrics {
                names.extend(sm.metrics.iter().map(|m| (m.name.clone(), m.unit.clone())));
            }
        }
    }
    // The names and units that Prometheus 3 turns into the remote-write names.
    assert!(
        names.contains(&("stampede_http_reqs".into(), "".into())),
        "{names:?}"
    );
    assert!(
        names.contains(&("stampede_http_req_duration".into(), "s".into())),
        "{names:?}"
    );
}
