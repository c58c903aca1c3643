//! The timeline in the summary export of a real run: it matches the
//! schema, its buckets add up exactly to the summary's totals (counts and
//! HDR histograms), and it carries the planned stages and the run's origin.

mod reports_support;

use serde_json::Value;

use reports_support::{read_json, run_demo, text, two_speeds};
use stampede::metrics::deserialize_histogram as parse_hdr;
use stampede::timeline::Timeline;

fn schema_errors(instance: &Value) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/summary.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// Sum of a counter-like field over every series of `metric` tagged `name`.
fn series_sum(doc: &Value, metric: &str, name: &str, field: &str) -> u64 {
    doc["series"][metric]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["tags"]["name"] == name)
        .map(|s| s[field].as_f64().unwrap() as u64)
        .sum()
}

#[test]
fn a_real_runs_timeline_adds_up_to_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (out, export) = run_demo(
        dir.path(),
        "timeline",
        &two_speeds(30, 4),
        &["--env", "SLOW_DELAY=5ms", "--env", "API_TOKEN=hunter2"],
    );
    assert!(out.status.code() == Some(0), "{}", text(&out.stderr));
    let doc = read_json(&export);
    assert_eq!(schema_errors(&doc), Vec::<String>::new());

    let meta = &doc["meta"];
    assert_eq!(meta["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        meta["scenario_file"]
            .as_str()
            .unwrap()
            .ends_with("timeline.yaml")
    );
    let command_line = meta["command_line"].as_str().unwrap();
    assert!(
        command_line.ends_with("--env SLOW_DELAY=5ms --env 'API_TOKEN=[REDACTED]'"),
        "{command_line}"
    );
    assert!(!command_line.contains("hunter2"));

    let timeline: Timeline = serde_json::from_value(doc["timeline"].clone()).unwrap();
    assert_eq!(timeline.bucket_ms, 1000);
    assert_eq!(timeline.stages.len(), 1);
    let stage = &timeline.stages[0];
    assert_eq!(
        (
            stage.scenario.as_str(),
            stage.start_ms,
            stage.end_ms,
            stage.label.as_str()
        ),
        ("steady", 0, 4000, "30/s iterations")
    );
    // Contiguous buckets covering the run.
    for pair in timeline.buckets.windows(2) {
        assert_eq!(pair[0].start_ms + pair[0].duration_ms, pair[1].start_ms);
    }

    for name in ["fast", "slow", "flaky"] {
        let endpoint = |b: &stampede::timeline::Bucket| b.endpoint(name, "GET").cloned();
        let requests: u64 = timeline
            .buckets
            .iter()
            .filter_map(endpoint)
            .map(|e| e.requests)
            .sum();
        let failures: u64 = timeline
            .buckets
            .iter()
            .filter_map(endpoint)
            .map(|e| e.failures)
            .sum();
        assert_eq!(
            requests,
            series_sum(&doc, "http_reqs", name, "count"),
            "{name}"
        );
        assert_eq!(
            failures,
            series_sum(&doc, "http_req_failed", name, "passes"),
            "{name}"
        );
        assert_eq!(requests, 120, "{name}: 30/s for 4 s");
    }
    let errors: u64 = timeline
        .buckets
        .iter()
        .flat_map(|b| &b.errors)
        .map(|e| e.count)
        .sum();
    assert_eq!(
        errors,
        series_sum(&doc, "http_req_failed", "flaky", "passes")
    );
    assert!(
        timeline
            .buckets
            .iter()
            .flat_map(|b| &b.errors)
            .all(|e| e.name == "flaky" && e.status == "500")
    );

    // The buckets' histograms merge into the summary's: every sample, and
    // percentiles within the timeline's 2 significant digits.
    let mut merged =
        parse_hdr(&timeline.buckets[0].trend("http_req_duration").unwrap().hdr).unwrap();
    for bucket in &timeline.buckets[1..] {
        if let Some(t) = bucket.trend("http_req_duration") {
            merged.add(parse_hdr(&t.hdr).unwrap()).unwrap();
        }
    }
    let total: Vec<_> = doc["series"]["http_req_duration"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| parse_hdr(s["hdr"].as_str().unwrap()).unwrap())
        .collect();
    let mut summary = total[0].clone();
    for h in &total[1..] {
        summary.add(h).unwrap();
    }
    assert_eq!(merged.len(), 360);
    assert_eq!(summary.len(), 360);
    for q in [0.5, 0.95, 0.99, 1.0] {
        let (coarse, fine) = (
            merged.value_at_quantile(q) as f64,
            summary.value_at_quantile(q) as f64,
        );
        assert!(
            (coarse - fine).abs() <= fine * 0.01,
            "q {q}: {coarse} vs {fine}"
        );
    }
    let iterations: f64 = timeline
        .buckets
        .iter()
        .filter_map(|b| match b.metrics.get("iterations") {
            Some(stampede::timeline::IntervalValue::Counter { count }) => Some(*count),
            _ => None,
        })
        .sum();
    assert_eq!(
        iterations,
        doc["metrics"]["iterations"]["count"].as_f64().unwrap()
    );
}
