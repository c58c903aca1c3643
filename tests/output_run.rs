//! The output framework at run time, with a test sink (no real backend):
//! health checks (warning vs required), raw samples delivered exactly,
//! `--tag` on every series, and the outputs section of the summary.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions};
use stampede::metrics::Aggregator;
use stampede::metrics::{
    HttpSample, MetricKind, MetricRegistry, PointCounts, RawValue, Recorder, Sink, SinkError,
    SinkFuture, SinkReport, Snapshot, Summary, TagInterner, TagSet, ValueType, builtin,
};
use stampede::output::{HealthProblem, check_health};
use stampede::protocol::http::Timings;
use stampede::report::{ConsoleOptions, render_console_with_outputs, summary_json_with_outputs};
use stampede::scenario;

/// A sink whose health check answers as told, and which keeps what it is given.
struct TestSink {
    health: Health,
    required: bool,
    wants_samples: bool,
    seen: Arc<Mutex<Vec<Arc<Snapshot>>>>,
}

#[derive(Clone, Copy)]
enum Health {
    Ok,
    Refused,
    Hangs,
}

impl TestSink {
    fn new(health: Health, required: bool) -> Self {
        TestSink {
            health,
            required,
            wants_samples: false,
            seen: Arc::default(),
        }
    }
}

impl Sink for TestSink {
    fn name(&self) -> &str {
        "test-sink"
    }
    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        self.seen.lock().unwrap().push(snapshot);
        Box::pin(async { Ok(()) })
    }
    fn finish(&mut self, _summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async { Ok(()) })
    }
    fn health_check(&mut self) -> SinkFuture<'_> {
        let health = self.health;
        Box::pin(async move {
            match health {
                Health::Ok => Ok(()),
                Health::Refused => Err(SinkError::Retryable(
                    "cannot connect to 127.0.0.1:9: connection refused".into(),
                )),
                Health::Hangs => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    Ok(())
                }
            }
        })
    }
    fn required(&self) -> bool {
        self.required
    }
    fn wants_samples(&self) -> bool {
        self.wants_samples
    }
}

#[tokio::test]
async fn health_checks_warn_or_block_and_run_concurrently() {
    let mut sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(TestSink::new(Health::Ok, true)),
        Box::new(TestSink::new(Health::Refused, false)),
        Box::new(TestSink::new(Health::Refused, true)),
        Box::new(TestSink::new(Health::Hangs, false)),
        Box::new(TestSink::new(Health::Hangs, false)),
    ];
    let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
    let started = std::time::Instant::now();
    let problems = check_health(&mut sinks, &names, Duration::from_millis(300)).await;
    // Two hanging checks cost one timeout, not two.
    assert!(
        started.elapsed() < Duration::from_millis(550),
        "{:?}",
        started.elapsed()
    );
    let messages: Vec<String> = problems.iter().map(HealthProblem::message).collect();
    assert_eq!(
        messages,
        [
            "warning: output b: cannot connect to 127.0.0.1:9: connection refused; the test runs, data is buffered and retried",
            "error: output c is unreachable: cannot connect to 127.0.0.1:9: connection refused",
            "warning: output d: no answer within 0.3s; the test runs, data is buffered and retried",
            "warning: output e: no answer within 0.3s; the test runs, data is buffered and retried",
        ]
    );
    assert_eq!(
        problems.iter().map(|p| p.required).collect::<Vec<_>>(),
        [false, true, false, false]
    );
    assert_eq!(stampede::exit_code::OUTPUT_UNAVAILABLE, 111);
}

fn registry_with_custom() -> (Arc<MetricRegistry>, stampede::metrics::MetricId) {
    let mut registry = MetricRegistry::with_builtins();
    let custom = registry
        .register("queue_depth", MetricKind::Trend, ValueType::Default)
        .unwrap();
    (Arc::new(registry), custom)
}

fn http_sample(tags: stampede::metrics::TagSetId, i: u64) -> HttpSample {
    HttpSample {
        tags,
        status: if i.is_multiple_of(10) { 500 } else { 200 },
        expected: !i.is_multiple_of(10),
        error_code: None,
        proto: Some("HTTP/1.1"),
        timings: Timings {
            duration: Duration::from_micros(1000 + i),
            waiting: Duration::from_micros(900),
            ..Timings::default()
        },
        bytes_sent: 100,
        bytes_received: 200 + i,
    }
}

/// Records `http` exchanges and `custom` trend samples on each of `threads`
/// threads; returns every snapshot's raw samples.
fn record_from_threads(recorder: &Recorder, threads: u64, http: u64, custom: u64) {
    let custom_id = recorder.registry().lookup("queue_depth").unwrap();
    let tags = TagInterner::global().intern(TagSet::new([("name", "raw-test")]));
    std::thread::scope(|scope| {
        for t in 0..threads {
            let recorder = recorder.clone();
            scope.spawn(move || {
                for i in 0..http {
                    recorder.record_http(&http_sample(tags, t * 1000 + i));
                }
                for i in 0..custom {
                    recorder.trend(custom_id, tags, i as f64);
                }
            });
        }
    });
}

#[test]
fn raw_samples_are_kept_exactly_across_threads() {
    let (registry, custom) = registry_with_custom();
    let recorder = Recorder::with_raw_samples(registry, 1_000_000);
    let mut aggregator = Aggregator::new(&recorder);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    record_from_threads(&recorder, 4, 250, 40);
    let snapshot = aggregator.flush();
    let batch = snapshot.samples.as_ref().expect("samples kept");
    let http = batch
        .samples
        .iter()
        .filter(|s| matches!(s.value, RawValue::Http { .. }))
        .count();
    let values: Vec<f64> = batch
        .samples
        .iter()
        .filter_map(|s| match s.value {
            RawValue::Value { metric, value, .. } if metric == custom => Some(value),
            _ => None,
        })
        .collect();
    assert_eq!((http, values.len(), batch.dropped), (1000, 160, 0));
    assert_eq!(
        values.iter().sum::<f64>(),
        4.0 * (0..40).sum::<u64>() as f64
    );
    let failed = batch
        .samples
        .iter()
        .filter(|s| matches!(s.value, RawValue::Http { failed: true, .. }))
        .count();
    assert_eq!(failed, 4 * 25);
    // Timestamps are wall-clock ns, taken while recording.
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(
        batch
            .samples
            .iter()
            .all(|s| s.time_ns >= before - 1_000_000 && s.time_ns <= after)
    );
    // An HTTP entry carries the expanded tags and expands into 11 points.
    let first = batch
        .samples
        .iter()
        .find(|s| matches!(s.value, RawValue::Http { .. }))
        .unwrap();
    let mut points = Vec::new();
    first.for_each_point(|metric, tags, value| points.push((metric, tags, value)));
    assert_eq!(points.len(), 11);
    assert_eq!(points[0].0, builtin::HTTP_REQS);
    let tags = TagInterner::global().resolve(points[0].1);
    assert_eq!(tags.get("name"), Some("raw-test"));
    assert!(tags.get("status").is_some());

    // The next interval starts empty.
    let next = aggregator.flush();
    assert_eq!(next.samples.as_ref().unwrap().samples.len(), 0);
}

#[test]
fn raw_sample_limit_drops_and_counts_exactly() {
    let (registry, _) = registry_with_custom();
    let recorder = Recorder::with_raw_samples(registry, 700);
    let mut aggregator = Aggregator::new(&recorder);
    record_from_threads(&recorder, 3, 200, 100); // 900 samples per interval
    let batch = aggregator.flush().samples.clone().unwrap();
    assert_eq!((batch.samples.len(), batch.dropped), (700, 200));
    // The budget is per interval.
    record_from_threads(&recorder, 1, 300, 0);
    let batch = aggregator.flush().samples.clone().unwrap();
    assert_eq!((batch.samples.len(), batch.dropped), (300, 0));
    // Aggregates are never affected by the limit.
    let summary = aggregator.summary(&[], stampede::metrics::RunEnd::Completed);
    assert_eq!(common::counter(&summary, "http_reqs"), 900.0);
}

#[test]
fn without_a_tap_snapshots_have_no_samples() {
    let (registry, _) = registry_with_custom();
    let recorder = Recorder::new(registry);
    let mut aggregator = Aggregator::new(&recorder);
    record_from_threads(&recorder, 2, 10, 10);
    assert!(!recorder.keeps_raw_samples());
    assert!(aggregator.flush().samples.is_none());
}

const TAGGED_RUN: &str = r#"
scenarios:
  main:
    executor: shared-iterations
    vus: 2
    iterations: 20
    tags: { area: checkout }
    flow:
      - request:
          name: health
          url: "{{ BASE_URL }}/health"
          checks: [{ status: 200 }]
"#;

#[tokio::test]
async fn run_tags_reach_every_series_and_raw_samples_reach_the_sink() {
    let server = common::demo(DemoConfig::default()).await;
    let mut options = common::options(&server.base_url());
    options.tags = vec![
        ("team".into(), "payments".into()),
        ("area".into(), "overridden-by-scenario".into()),
    ];
    options.instance = Some("ci-1".into());
    let plan = scenario::load_str(TAGGED_RUN, Path::new("tagged.yaml"), &options).unwrap();
    let mut sink = TestSink::new(Health::Ok, false);
    sink.wants_samples = true;
    let seen = sink.seen.clone();
    let run_options = RunOptions {
        sinks: vec![Box::new(sink)],
        flush_interval: Duration::from_millis(100),
        ..RunOptions::default()
    };
    let result = engine::run(Arc::new(plan), run_options, std::future::pending())
        .await
        .unwrap();

    let snapshots = seen.lock().unwrap().clone();
    let mut series = 0;
    for point in snapshots.iter().flat_map(|s| s.series.iter()) {
        series += 1;
        assert_eq!(point.tags.get("team"), Some("payments"), "{}", point.tags);
        assert_eq!(point.tags.get("instance"), Some("ci-1"), "{}", point.tags);
    }
    assert!(series > 0);
    for metric in &result.summary.metrics {
        for (tags, _) in &metric.series {
            assert_eq!(tags.get("team"), Some("payments"), "{} {tags}", metric.name);
        }
    }
    let reqs = result.summary.metric("http_reqs").unwrap();
    assert!(
        reqs.series
            .iter()
            .all(|(t, _)| t.get("area") == Some("checkout"))
    );

    let http: usize = snapshots
        .iter()
        .filter_map(|s| s.samples.as_ref())
        .map(|b| {
            b.samples
                .iter()
                .filter(|s| matches!(s.value, RawValue::Http { .. }))
                .count()
        })
        .sum();
    assert_eq!(http, 20);
    assert_eq!(common::counter(&result.summary, "http_reqs"), 20.0);
    assert_eq!(result.sink_reports.len(), 1);
    assert_eq!(result.sink_reports[0].name, "test-sink");
    assert_eq!(result.sink_reports[0].snapshots_dropped, 0);
    server.shutdown().await;
}

fn reports() -> Vec<SinkReport> {
    vec![
        SinkReport {
            name: "prometheus-rw".into(),
            snapshots_written: 30,
            snapshots_dropped: 0,
            errors: vec![
                "write: server answered 500".into(),
                "write: server answered 503".into(),
                "write: connection refused".into(),
                "write: connection reset".into(),
            ],
            points: Some(PointCounts {
                sent: 12_000,
                retried: 400,
                dropped: 0,
            }),
        },
        SinkReport {
            name: "json".into(),
            snapshots_written: 29,
            snapshots_dropped: 1,
            errors: Vec::new(),
            points: None,
        },
    ]
}

fn empty_summary() -> Summary {
    Summary {
        started_at: std::time::UNIX_EPOCH,
        duration: Duration::from_secs(30),
        metrics: Vec::new(),
        thresholds: Vec::new(),
        end: stampede::metrics::RunEnd::Completed,
        generator: None,
        breaking_points: Vec::new(),
    }
}

#[test]
fn console_summary_lists_each_output() {
    let mut out = Vec::new();
    render_console_with_outputs(
        &empty_summary(),
        &reports(),
        &mut out,
        &ConsoleOptions::default(),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let section = &text[text.find("  █ OUTPUTS").expect("section present")..];
    assert_eq!(
        section,
        "  █ OUTPUTS

    prometheus-rw
      points     12000 sent, 400 retried, 0 dropped
      snapshots  30 written, 0 dropped
      errors     write: server answered 500
                 write: server answered 503
                 write: connection refused
                 (1 more in the summary JSON)

    json
      points     not counted by this output
      snapshots  29 written, 1 dropped


"
    );
    let mut plain = Vec::new();
    render_console_with_outputs(
        &empty_summary(),
        &[],
        &mut plain,
        &ConsoleOptions::default(),
    )
    .unwrap();
    assert!(!String::from_utf8(plain).unwrap().contains("OUTPUTS"));
}

#[test]
fn summary_json_has_outputs_only_when_there_are_some() {
    let doc = summary_json_with_outputs(&empty_summary(), &reports());
    assert_eq!(
        doc["outputs"],
        serde_json::json!([
            {
                "name": "prometheus-rw",
                "points": { "sent": 12000, "retried": 400, "dropped": 0 },
                "snapshots_written": 30,
                "snapshots_dropped": 0,
                "errors": [
                    "write: server answered 500",
                    "write: server answered 503",
                    "write: connection refused",
                    "write: connection reset"
                ]
            },
            {
                "name": "json",
                "points": null,
                "snapshots_written": 29,
                "snapshots_dropped": 1,
                "errors": []
            }
        ])
    );
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schemas/summary.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let without = summary_json_with_outputs(&empty_summary(), &[]);
    assert!(without.get("outputs").is_none());
}
