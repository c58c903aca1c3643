//! The JSON-lines and CSV file outputs: exact text of each encoder, files
//! written through the sink (gzip included) read back line by line, and
//! whole runs whose files hold exactly one `http_reqs` sample per request.

mod common;

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{counter, demo, options};
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions};
use stampede::metrics::{
    MetricKind, MetricRegistry, RawSample, RawValue, SampleBatch, Sink, Snapshot, Summary,
    TagInterner, TagSet, ValueType, builtin,
};
use stampede::output::csv_file::{CsvRows, TimeFormat};
use stampede::output::json_file::JsonLines;
use stampede::output::sample_file::SampleFormat;
use stampede::output::{OutputContext, OutputKind, OutputSpec};
use stampede::protocol::http::Timings;
use stampede::scenario;

const T0: u64 = 1_714_564_800_123_456_789;

fn http_batch(n: u64, tags: &TagSet) -> SampleBatch {
    let tags = TagInterner::global().intern(tags.clone());
    SampleBatch {
        samples: (0..n)
            .map(|i| RawSample {
                time_ns: T0 + i,
                value: RawValue::Http {
                    tags,
                    timings: Timings {
                        duration: Duration::from_micros(2500),
                        waiting: Duration::from_micros(2000),
                        sending: Duration::from_micros(500),
                        ..Timings::default()
                    },
                    failed: true,
                    bytes_sent: 10,
                    bytes_received: 20,
                },
            })
            .collect(),
        dropped: 0,
    }
}

fn text(format: &mut impl SampleFormat, batch: &SampleBatch) -> (String, u64) {
    let mut out = Vec::new();
    format.header(&mut out);
    let points = format.encode(batch, &mut out);
    (String::from_utf8(out).unwrap(), points)
}

#[test]
fn json_lines_declare_each_metric_once_then_points() {
    let mut registry = MetricRegistry::with_builtins();
    let cart = registry
        .register("cart_total", MetricKind::Trend, ValueType::Default)
        .unwrap();
    let tags = TagInterner::global().intern(TagSet::new([("check", "say \"hi\""), ("group", "")]));
    let batch = SampleBatch {
        samples: vec![
            RawSample {
                time_ns: T0,
                value: RawValue::Value {
                    metric: cart,
                    tags,
                    value: 12.5,
                },
            },
            RawSample {
                time_ns: T0 + 1_000_000_000,
                value: RawValue::Value {
                    metric: cart,
                    tags,
                    value: 3.0,
                },
            },
            RawSample {
                time_ns: T0,
                value: RawValue::Value {
                    metric: builtin::VUS,
                    tags,
                    value: f64::NAN,
                },
            },
        ],
        dropped: 0,
    };
    let mut json = JsonLines::new(Arc::new(registry), "t1");
    let (text, points) = text(&mut json, &batch);
    assert_eq!(points, 2, "NaN has no JSON form");
    let tags = r#"{"check":"say \"hi\"","group":"","testid":"t1"}"#;
    assert_eq!(
        text,
        format!(
            concat!(
                r#"{{"type":"Metric","data":{{"name":"cart_total","type":"trend","contains":"default","thresholds":[],"submetrics":null}},"metric":"cart_total"}}"#,
                "\n",
                r#"{{"type":"Point","data":{{"time":"2024-05-01T12:00:00.123456789Z","value":12.5,"tags":{tags}}},"metric":"cart_total"}}"#,
                "\n",
                r#"{{"type":"Point","data":{{"time":"2024-05-01T12:00:01.123456789Z","value":3,"tags":{tags}}},"metric":"cart_total"}}"#,
                "\n"
            ),
            tags = tags
        )
    );
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every line is JSON");
    }
}

#[test]
fn json_lines_expand_an_http_exchange_into_k6_samples() {
    let tags = TagSet::new([("method", "GET"), ("status", "0"), ("error_code", "1211")]);
    let mut json = JsonLines::new(Arc::new(MetricRegistry::with_builtins()), "t2");
    let (text, points) = text(&mut json, &http_batch(2, &tags));
    assert_eq!(points, 22);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 11 + 22, "11 declarations, 22 points");
    let declarations: Vec<(&str, &str, &str)> = lines
        .iter()
        .filter(|l| l["type"] == "Metric")
        .map(|l| {
            (
                l["metric"].as_str().unwrap(),
                l["data"]["type"].as_str().unwrap(),
                l["data"]["contains"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(declarations[0], ("http_reqs", "counter", "default"));
    assert_eq!(declarations[1], ("http_req_duration", "trend", "time"));
    assert_eq!(declarations[8], ("http_req_failed", "rate", "default"));
    assert_eq!(declarations[10], ("data_received", "counter", "data"));
    let duration: Vec<f64> = lines
        .iter()
        .filter(|l| l["type"] == "Point" && l["metric"] == "http_req_duration")
        .map(|l| l["data"]["value"].as_f64().unwrap())
        .collect();
    assert_eq!(duration, vec![2.5, 2.5]);
    let failed = lines
        .iter()
        .find(|l| l["type"] == "Point" && l["metric"] == "http_req_failed")
        .unwrap();
    assert_eq!(failed["data"]["value"], 1);
    assert_eq!(failed["data"]["tags"]["error_code"], "1211");
    assert_eq!(failed["data"]["tags"]["testid"], "t2");
}

#[test]
fn csv_rows_follow_k6_columns() {
    let tags = TagSet::new([
        ("method", "POST"),
        ("name", "login, then \"home\""),
        ("status", "201"),
        ("scenario", "default"),
        ("expected_response", "true"),
        ("instance", "lg-1"),
        ("team", "a&b"),
    ]);
    let mut csv = CsvRows::new(
        Arc::new(MetricRegistry::with_builtins()),
        "t3",
        TimeFormat::Unix,
    );
    let (text, points) = text(&mut csv, &http_batch(1, &tags));
    assert_eq!(points, 11);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata"
    );
    let tail = ",,,,true,,POST,\"login, then \"\"home\"\"\",,default,,201,,,,instance=lg-1&team=a&b&testid=t3,";
    assert_eq!(lines[1], format!("http_reqs,1714564800,1.000000{tail}"));
    assert_eq!(
        lines[2],
        format!("http_req_duration,1714564800,2.500000{tail}")
    );
    assert_eq!(
        lines[6],
        format!("http_req_sending,1714564800,0.500000{tail}")
    );
    assert_eq!(
        lines[9],
        format!("http_req_failed,1714564800,1.000000{tail}")
    );
    assert_eq!(
        lines[11],
        format!("data_received,1714564800,20.000000{tail}")
    );
    assert_eq!(lines.len(), 12);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 11);
    assert_eq!(&rows[0][9], "login, then \"home\"");
    assert_eq!(rows[0].len(), 19);
}

#[test]
fn csv_time_formats() {
    let tags = TagSet::new([("method", "GET")]);
    let row = |format: TimeFormat| {
        let mut csv = CsvRows::new(Arc::new(MetricRegistry::with_builtins()), "t", format);
        let mut out = Vec::new();
        csv.encode(&http_batch(1, &tags), &mut out);
        let text = String::from_utf8(out).unwrap();
        text.lines()
            .next()
            .unwrap()
            .split(',')
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(row(TimeFormat::UnixMilli), "1714564800123");
    assert_eq!(row(TimeFormat::UnixMicro), "1714564800123456");
    assert_eq!(row(TimeFormat::UnixNano), "1714564800123456789");
    assert_eq!(
        row(TimeFormat::Rfc3339Nano),
        "2024-05-01T12:00:00.123456789Z"
    );
}

// ---- through the sink ---------------------------------------------------

fn file_spec(kind: OutputKind, path: &Path) -> OutputSpec {
    OutputSpec::new(kind, path.display().to_string())
}

fn ctx(testid: &str, registry: MetricRegistry) -> OutputContext {
    OutputContext {
        testid: testid.into(),
        registry: Arc::new(registry),
    }
}

fn build(kind: OutputKind, path: &Path, ctx: &OutputContext) -> Box<dyn Sink> {
    let spec = file_spec(kind, path);
    match kind {
        OutputKind::Json => stampede::output::json_file::build(&spec, ctx),
        OutputKind::Csv => stampede::output::csv_file::build(&spec, ctx),
        other => panic!("not a file output: {other}"),
    }
    .expect("sink builds")
}

fn summary() -> Arc<Summary> {
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

fn read_file(path: &Path) -> String {
    let raw = std::fs::read(path).expect("file written");
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_string(&mut text)
            .expect("valid gzip");
        text
    } else {
        String::from_utf8(raw).expect("UTF-8")
    }
}

fn snapshot(batch: SampleBatch) -> Arc<Snapshot> {
    Arc::new(Snapshot {
        time: SystemTime::now(),
        elapsed: Duration::from_secs(1),
        interval: Duration::from_secs(1),
        series: Vec::new(),
        samples: Some(Arc::new(batch)),
        thresholds: Vec::new(),
    })
}

#[tokio::test]
async fn sinks_write_gzip_json_and_csv_and_count_points() {
    let dir = tempfile::tempdir().unwrap();
    let tags = TagSet::new([("method", "GET"), ("status", "200")]);
    let context = ctx("files", MetricRegistry::with_builtins());
    for (kind, name) in [
        (OutputKind::Json, "out.json.gz"),
        (OutputKind::Json, "out.json"),
        (OutputKind::Csv, "out.csv"),
        (OutputKind::Csv, "out.csv.gz"),
    ] {
        let path = dir.path().join(name);
        let mut sink = build(kind, &path, &context);
        assert!(sink.wants_samples());
        sink.health_check().await.expect("file can be created");
        sink.write(snapshot(http_batch(30, &tags))).await.unwrap();
        sink.write(snapshot(http_batch(12, &tags))).await.unwrap();
        sink.finish(summary()).await.unwrap();
        let stats = sink.delivery_stats().unwrap();
        assert_eq!((stats.sent(), stats.dropped()), (42 * 11, 0), "{name}");
        let text = read_file(&path);
        let reqs = match kind {
            OutputKind::Json => text
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .filter(|l| l["type"] == "Point" && l["metric"] == "http_reqs")
                .count(),
            _ => {
                let mut reader = csv::Reader::from_reader(text.as_bytes());
                reader
                    .records()
                    .map(Result::unwrap)
                    .filter(|r| &r[0] == "http_reqs")
                    .count()
            }
        };
        assert_eq!(reqs, 42, "{name}");
    }
}

#[tokio::test]
async fn an_uncreatable_file_fails_the_health_check_and_options_are_checked() {
    let context = ctx("x", MetricRegistry::with_builtins());
    let mut sink = build(
        OutputKind::Csv,
        Path::new("/nonexistent-dir/out.csv"),
        &context,
    );
    let err = sink.health_check().await.unwrap_err().to_string();
    assert!(
        err.starts_with("cannot create /nonexistent-dir/out.csv: "),
        "{err}"
    );
    let mut spec = file_spec(OutputKind::Json, Path::new("a.json"));
    spec.extra.insert("gzip".into(), "true".into());
    let err = stampede::output::json_file::build(&spec, &context)
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "--out json: unknown option \"gzip\" for json (known: none)"
    );
    let mut spec = file_spec(OutputKind::Csv, Path::new("a.csv"));
    spec.extra.insert("time_format".into(), "iso".into());
    let err = stampede::output::csv_file::build(&spec, &context)
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "--out csv: option time_format: expected unix, unix_milli, unix_micro, unix_nano or rfc3339_nano, got \"iso\""
    );
}

#[tokio::test]
async fn a_run_without_samples_leaves_a_csv_with_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.csv");
    let mut sink = build(
        OutputKind::Csv,
        &path,
        &ctx("e", MetricRegistry::with_builtins()),
    );
    sink.finish(summary()).await.unwrap();
    assert_eq!(read_file(&path).lines().count(), 1);
}

// ---- whole runs ---------------------------------------------------------

const SCENARIO: &str = r#"
scenarios:
  exact:
    executor: shared-iterations
    vus: 3
    iterations: 90
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;

/// Needs the recorder tap that fills `Snapshot::samples` (issue 5, outcfg).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_run_writes_one_http_reqs_line_per_request_to_json_gz_and_csv() {
    let demo = demo(DemoConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let plan = scenario::load_str(SCENARIO, Path::new("test.yaml"), &options(&demo.base_url()))
        .expect("scenario compiles");
    let context = ctx("run-files", plan.registry.clone());
    let json_path = dir.path().join("run.json.gz");
    let csv_path = dir.path().join("run.csv");
    let sinks = vec![
        build(OutputKind::Json, &json_path, &context),
        build(OutputKind::Csv, &csv_path, &context),
    ];
    let result = engine::run(
        Arc::new(plan),
        RunOptions {
            sinks,
            ..RunOptions::default()
        },
        std::future::pending(),
    )
    .await
    .expect("run completes");
    demo.shutdown().await;
    assert_eq!(counter(&result.summary, "http_reqs"), 90.0);
    for report in &result.sink_reports {
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.points.unwrap().dropped, 0);
    }
    let json = read_file(&json_path);
    let json_reqs = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|l| l["type"] == "Point" && l["metric"] == "http_reqs")
        .count();
    assert_eq!(json_reqs, 90);
    let csv_text = read_file(&csv_path);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let csv_reqs = reader
        .records()
        .map(|r| r.expect("CSV row"))
        .filter(|r| &r[0] == "http_reqs" && &r[9] == "health")
        .count();
    assert_eq!(csv_reqs, 90);
}

/// Encoding speed of one second at 20,000 requests/s (220,000 points):
/// `cargo test --release --test output_files -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release"]
fn encoding_one_second_at_20k_requests() {
    let tags = TagSet::new([
        ("name", "endpoint"),
        ("method", "GET"),
        ("status", "200"),
        ("scenario", "default"),
    ]);
    let batch = http_batch(20_000, &tags);
    let registry = Arc::new(MetricRegistry::with_builtins());
    let mut json = JsonLines::new(registry.clone(), "perf");
    let mut csv = CsvRows::new(registry, "perf", TimeFormat::Unix);
    for (name, format) in [
        ("json", &mut json as &mut dyn SampleFormat),
        ("csv", &mut csv as &mut dyn SampleFormat),
    ] {
        let mut out = Vec::new();
        format.encode(&batch, &mut out);
        out.clear();
        let start = std::time::Instant::now();
        let points = format.encode(&batch, &mut out);
        eprintln!(
            "{name}: {points} points in {:?} ({} bytes)",
            start.elapsed(),
            out.len()
        );
    }
}
