//! The generator gauges after real runs against the in-process demo target:
//! every interval's `generator_cpu` and `generator_memory` in the JSON-lines
//! file (binary run) and in a real Prometheus 2.42 under their remote-write
//! names (library run), with the run labels only, plausible values, and the
//! summary's peaks equal to the largest values the outputs received.

mod common;
#[path = "support/backends/prometheus.rs"]
mod prometheus;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{demo, options};
use prometheus::Prometheus;
use serde_json::Value;
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions};
use stampede::output::{OutputContext, OutputKind, OutputSpec, prometheus_rw};
use stampede::scenario;

/// Two VUs for 3 s, a request every 20 ms each: light, so the run is the
/// generator's normal state, and long enough for 3 interval readings.
const LIGHT_RUN: &str = r#"
scenarios:
  light:
    executor: constant-vus
    vus: 2
    duration: 3s
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health?delay=20ms" }
"#;

const MB: f64 = 1_000_000.0;
const GB: f64 = 1_000_000_000.0;

fn available_cores() -> u64 {
    std::thread::available_parallelism().unwrap().get() as u64
}

/// Every point of `metric` in a JSON-lines file: (tags, value).
fn points(lines: &[Value], metric: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    lines
        .iter()
        .filter(|l| l["type"] == "Point" && l["metric"] == metric)
        .map(|l| {
            let tags = l["data"]["tags"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            (tags, l["data"]["value"].as_f64().unwrap())
        })
        .collect()
}

fn max(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(f64::NEG_INFINITY, f64::max)
}

#[test]
fn json_lines_file_holds_every_interval_reading_with_the_run_labels() {
    let dir = tempfile::tempdir().unwrap();
    let scenario_file = dir.path().join("light.yaml");
    std::fs::write(&scenario_file, LIGHT_RUN).unwrap();
    let lines_file = dir.path().join("points.jsonl");
    let summary_file = dir.path().join("summary.json");
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .args(["run", "--demo", "--quiet", "--testid", "gen-json"])
        .args(["--instance", "gen-a"])
        .arg("--out")
        .arg(format!("json={}", lines_file.display()))
        .arg("--summary-export")
        .arg(&summary_file)
        .arg(&scenario_file)
        .output()
        .expect("the stampede binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = std::fs::read_to_string(&lines_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let declaration = |metric: &str| {
        lines
            .iter()
            .filter(|l| l["type"] == "Metric" && l["metric"] == metric)
            .map(|l| l["data"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        declaration("generator_cpu"),
        [
            serde_json::json!({"name": "generator_cpu", "type": "gauge", "contains": "default", "thresholds": [], "submetrics": null})
        ]
    );
    assert_eq!(
        declaration("generator_memory"),
        [
            serde_json::json!({"name": "generator_memory", "type": "gauge", "contains": "data", "thresholds": [], "submetrics": null})
        ]
    );

    let cpu = points(&lines, "generator_cpu");
    let memory = points(&lines, "generator_memory");
    let vus = points(&lines, "vus");
    // One reading per snapshot, like vus: 3 s of test, then the last flush.
    assert!(cpu.len() >= 3, "{cpu:?}");
    assert_eq!(cpu.len(), vus.len());
    assert_eq!(memory.len(), vus.len());
    let run_labels: BTreeMap<String, String> = [("instance", "gen-a"), ("testid", "gen-json")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (tags, value) in &cpu {
        assert_eq!(tags, &run_labels);
        assert!((0.0..=1.0).contains(value), "generator_cpu {value}");
    }
    for (tags, value) in &memory {
        assert_eq!(tags, &run_labels);
        assert!(*value > MB && *value < GB, "generator_memory {value}");
        assert_eq!(value.fract(), 0.0, "whole bytes: {value}");
    }
    let cpu_peak = max(cpu.iter().map(|p| p.1));
    let memory_peak = max(memory.iter().map(|p| p.1));
    assert!(cpu_peak > 0.0, "the run used some CPU: {cpu:?}");

    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&summary_file).unwrap())
        .expect("summary JSON");
    let health = &summary["generator"];
    assert_eq!(health["cores"], available_cores());
    assert_eq!(health["cpu_peak"].as_f64(), Some(cpu_peak));
    assert_eq!(health["memory_peak_bytes"].as_f64(), Some(memory_peak));
    let mean = health["cpu_mean"].as_f64().unwrap();
    let cpu_min = cpu.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    assert!(cpu_min <= mean && mean <= cpu_peak, "{mean} in {cpu:?}");
    assert_eq!(
        summary["metrics"]["generator_cpu"]["max"].as_f64(),
        Some(cpu_peak)
    );
    assert_eq!(
        summary["metrics"]["generator_memory"]["max"].as_f64(),
        Some(memory_peak)
    );

    // The console summary's GENERATOR section shows the same peaks.
    let cores = available_cores();
    let core_word = if cores == 1 { "core" } else { "cores" };
    let cpu_line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("generator_cpu"))
        .unwrap_or_else(|| panic!("no generator_cpu line in\n{stdout}"));
    assert!(
        cpu_line.contains(&format!("peak={:.2}%", cpu_peak * 100.0)),
        "{cpu_line}"
    );
    assert!(
        cpu_line.ends_with(&format!(" of {cores} {core_word}")),
        "{cpu_line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_prometheus_stores_the_gauges_under_their_remote_write_names() {
    let prom = Prometheus::start().await;
    let demo = demo(DemoConfig::default()).await;
    let mut load = options(&demo.base_url());
    load.instance = Some("gen-b".into());
    let plan = scenario::load_str(LIGHT_RUN, Path::new("light.yaml"), &load).unwrap();
    let testid = "gen-rw";
    let mut spec = OutputSpec::new(OutputKind::PrometheusRw, prom.write_url());
    spec.common.push_interval = Duration::from_secs(1);
    spec.common.flush_timeout = Duration::from_secs(5);
    let ctx = OutputContext {
        testid: testid.into(),
        registry: Arc::new(plan.registry.clone()),
    };
    let sink = prometheus_rw::build(&spec, &ctx).expect("sink builds");
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
    let report = &result.sink_reports[0];
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let health = result
        .summary
        .generator
        .clone()
        .expect("Linux: generator figures");

    // (labels, values) of the one series `name` has for this run.
    let series = |name: &'static str| {
        let prom = &prom;
        async move {
            let result = prom
                .query(&format!("{name}{{testid=\"{testid}\"}}[1h]"), None)
                .await;
            assert_eq!(result.len(), 1, "one series of {name}: {result:?}");
            let values: Vec<f64> = result[0]["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v[1].as_str().unwrap().parse().unwrap())
                .collect();
            (result[0]["metric"].clone(), values)
        }
    };
    let (cpu_labels, cpu) = series("stampede_generator_cpu").await;
    let (memory_labels, memory) = series("stampede_generator_memory_bytes").await;
    let (_, vus) = series("stampede_vus").await;
    for (labels, name) in [
        (cpu_labels, "stampede_generator_cpu"),
        (memory_labels, "stampede_generator_memory_bytes"),
    ] {
        assert_eq!(
            labels,
            serde_json::json!({"__name__": name, "instance": "gen-b", "job": "stampede", "testid": testid})
        );
    }
    assert!(cpu.len() >= 3, "{cpu:?}");
    assert_eq!(cpu.len(), vus.len());
    assert_eq!(memory.len(), vus.len());
    assert!(cpu.iter().all(|v| (0.0..=1.0).contains(v)), "{cpu:?}");
    assert!(memory.iter().all(|v| *v > MB && *v < GB), "{memory:?}");
    // Prometheus keeps float64 exactly: the summary's peaks are the largest
    // values it received.
    assert_eq!(max(cpu.iter().copied()), health.cpu_peak);
    assert!(health.cpu_peak > 0.0);
    assert_eq!(max(memory.iter().copied()), health.memory_peak_bytes as f64);
    assert_eq!(health.cores as u64, available_cores());
    demo.shutdown().await;
}
