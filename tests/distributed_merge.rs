//! A distributed test as users run it: one scenario as 4 processes of the
//! built binary (`--segment i/4`, started together with `--start-at`),
//! their summary exports merged by `stampede merge`. The merged counts
//! must equal the planned counts (and a single-process run's) exactly, the
//! merged percentiles those of every sample within HDR precision, the
//! thresholds must be judged on the merged result, and the instances'
//! timelines must add up, interval by interval, to the merged one, which the
//! merged report charts.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use stampede::util::civil_date::civil_from_days;

use common::browser::{assert_charts_drawn, rendered_dom};

/// Every shape is bounded by iterations, so its count is exact: the closed
/// executors' iterations outlast their duration (one iteration per VU, let
/// finish by graceful_stop), the open one starts rate x duration.
const SCENARIO: &str = r#"
thresholds:
  http_reqs: ["count>=60"]
  iterations: ["count<50"]
  http_req_duration: ["p(95)<5000"]
  "http_reqs{scenario:arrivals}": ["count>=40 during arrivals"]
scenarios:
  steady:
    executor: constant-vus
    vus: 6
    duration: 1s
    graceful_stop: 10s
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
      - sleep: 1500ms
  ramp:
    executor: ramping-vus
    start_vus: 0
    stages:
      - { duration: 400ms, target: 6 }
      - { duration: 600ms, target: 6 }
    graceful_ramp_down: 10s
    graceful_stop: 10s
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
      - sleep: 1500ms
  arrivals:
    executor: constant-arrival-rate
    rate: 50
    time_unit: 1s
    duration: 1s
    preallocated_vus: 10
    max_vus: 20
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;

/// Planned iterations (= requests) per scenario, and each segment's share
/// of them (dealt round-robin: 6 VUs as 2,2,1,1; 50 starts as 13,13,12,12).
const PLANNED: [(&str, u64); 3] = [("arrivals", 50), ("ramp", 6), ("steady", 6)];
const PER_SEGMENT: [u64; 4] = [17, 17, 14, 14];

fn stampede() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.env_remove("BASE_URL").env("STAMPEDE_LOG", "warn");
    cmd
}

/// Waits for a child at most `limit`, killing it after: no run may hang the suite.
fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("stampede did not finish within {limit:?}");
}

fn run(args: &[&str]) -> Output {
    let child = stampede()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    wait_bounded(child, Duration::from_secs(60))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `at` as RFC 3339 UTC, whole seconds.
fn rfc3339(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rest = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn series_count(doc: &Value, metric: &str, scenario: &str) -> u64 {
    doc["series"][metric]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["tags"]["scenario"] == scenario)
        .map(|s| s["count"].as_u64().unwrap())
        .sum()
}

/// The export's schema errors (the instances' and the merged one's `run` sections included).
fn schema_errors(doc: &Value) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/summary.schema.json");
    let schema: Value = read_json(Path::new(path));
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator.iter_errors(doc).map(|e| e.to_string()).collect()
}

fn threshold<'a>(doc: &'a Value, metric: &str) -> &'a Value {
    doc["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["metric"] == metric)
        .unwrap()
}

/// Every `http_req_duration` sample the instances wrote to their JSON-lines outputs.
fn all_durations(files: &[PathBuf]) -> Vec<f64> {
    let mut values = Vec::new();
    for file in files {
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let point: Value = serde_json::from_str(line).unwrap();
            if point["type"] == "Point" && point["metric"] == "http_req_duration" {
                values.push(point["data"]["value"].as_f64().unwrap());
            }
        }
    }
    values.sort_by(f64::total_cmp);
    values
}

/// Nearest-rank percentile of sorted samples.
fn exact_percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank - 1]
}

struct Instances {
    dir: tempfile::TempDir,
    summaries: Vec<PathBuf>,
    samples: Vec<PathBuf>,
    outputs: Vec<Output>,
}

/// Runs the scenario as 4 processes, each on its own in-process demo
/// target, all told to start 5 s from now (time for 4 debug binaries to load on a busy machine).
fn run_four_instances() -> Instances {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("dist.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let start_at = rfc3339(SystemTime::now() + Duration::from_secs(5));
    let mut children = Vec::new();
    let (mut summaries, mut samples) = (Vec::new(), Vec::new());
    for i in 1..=4 {
        let summary = dir.path().join(format!("summary-{i}.json"));
        let sample_file = dir.path().join(format!("samples-{i}.json"));
        let child = stampede()
            .arg("run")
            .arg("--demo")
            .arg("--quiet")
            .arg(&scenario)
            .args(["--segment", &format!("{i}/4"), "--testid", "dist-1"])
            .args(["--start-at", &start_at])
            .arg("--summary-export")
            .arg(&summary)
            .arg("--out")
            .arg(format!("json={}", sample_file.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary runs");
        children.push(child);
        summaries.push(summary);
        samples.push(sample_file);
    }
    let outputs = children
        .into_iter()
        .map(|c| wait_bounded(c, Duration::from_secs(60)))
        .collect();
    Instances {
        dir,
        summaries,
        samples,
        outputs,
    }
}

fn merge(files: &[&Path], extra: &[&str]) -> Output {
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    args.extend(extra);
    run(&args)
}

#[test]
fn four_segments_merge_into_the_planned_test_and_its_verdict() {
    let instances = run_four_instances();
    for (i, (output, path)) in instances
        .outputs
        .iter()
        .zip(&instances.summaries)
        .enumerate()
    {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Per instance: count>=60 fails (a quarter of the requests), count<50 passes.
        assert_eq!(
            output.status.code(),
            Some(99),
            "instance {}: {stderr}",
            i + 1
        );
        let doc = read_json(path);
        assert_eq!(schema_errors(&doc), Vec::<String>::new());
        assert_eq!(doc["run"]["segment"], format!("{}/4", i + 1));
        assert_eq!(doc["run"]["late"], false, "{stderr}");
        assert!(doc["run"]["start_lag_ms"].as_f64().unwrap() < 1000.0);
        assert_eq!(doc["metrics"]["http_reqs"]["count"], PER_SEGMENT[i]);
        assert_eq!(threshold(&doc, "http_reqs")["state"], "failed");
        assert_eq!(threshold(&doc, "iterations")["state"], "passed");
        // A time criterion on an instance's own timeline: its quarter of
        // the arrivals' second is 12 or 13 requests.
        let window = threshold(&doc, "http_reqs{scenario:arrivals}");
        assert_eq!(window["state"], "failed", "{window:#}");
        assert!(window["observed"].as_f64().unwrap() <= 13.0, "{window:#}");
        // The ramp's default breaking point: never crossed. Its load is
        // the whole test's plan, which every instance runs a share of.
        assert_eq!(doc["breaking_points"][0]["load"], Value::Null);
        assert_eq!(doc["breaking_points"][0]["max_load"], 6.0);
    }
    // The instances started their schedules at the same instant.
    let starts: Vec<f64> = instances
        .summaries
        .iter()
        .map(|p| read_json(p)["state"]["startedAtUnixMs"].as_f64().unwrap())
        .collect();
    let spread = starts.iter().copied().fold(f64::MIN, f64::max)
        - starts.iter().copied().fold(f64::MAX, f64::min);
    assert!(spread < 1000.0, "instances started {spread} ms apart");

    let merged_path = instances.dir.path().join("merged.json");
    let files: Vec<&Path> = instances.summaries.iter().map(PathBuf::as_path).collect();
    let report_path = instances.dir.path().join("merged.html");
    let output = merge(
        &files,
        &[
            "--summary-export",
            merged_path.to_str().unwrap(),
            "--report",
            report_path.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Test-wide: count>=60 passes (62 requests), count<50 fails: exit code 99.
    assert_eq!(output.status.code(), Some(99), "{stdout}");
    assert!(
        stdout.contains("MERGED 4 INSTANCE(S) OF ONE TEST"),
        "{stdout}"
    );
    assert!(stdout.contains("✓ 'count>=60' count=62"), "{stdout}");
    assert!(stdout.contains("✗ 'count<50' count=62"), "{stdout}");
    assert!(stdout.contains("✗ 1 of 4 thresholds crossed"), "{stdout}");

    let merged = read_json(&merged_path);
    assert_eq!(schema_errors(&merged), Vec::<String>::new());
    timelines_add_up(&instances, &merged);
    // Judged again on the merged timeline: the arrivals' whole second,
    // 50 requests (one may finish after the first flush).
    let window = threshold(&merged, "http_reqs{scenario:arrivals}");
    assert_eq!(window["state"], "passed", "{window:#}");
    assert!(window["observed"].as_f64().unwrap() >= 49.0, "{window:#}");
    // The same plan, judged on the whole test's data.
    // Errors under 5 %, and p(95) under the file's 5000 ms, up to 6 VUs.
    let points = merged["breaking_points"].as_array().unwrap();
    let conditions: Vec<&str> = points
        .iter()
        .map(|p| p["condition"].as_str().unwrap())
        .collect();
    assert_eq!(conditions, ["rate<0.05", "p(95)<5000"], "{points:#?}");
    for point in points {
        assert_eq!(point["scenario"], "ramp");
        assert_eq!(point["max_load"], 6.0);
        assert_eq!(point["load"], Value::Null);
    }
    // The merged report charts the combined timeline.
    let buckets = merged["timeline"]["buckets"].as_array().unwrap().len();
    assert_charts_drawn(&rendered_dom(&report_path), buckets);
    // The merged report is the report of the merged summary, byte for byte.
    let from_export = instances.dir.path().join("from-export.html");
    let rendered = run(&[
        "report",
        merged_path.to_str().unwrap(),
        "-o",
        from_export.to_str().unwrap(),
    ]);
    assert_eq!(rendered.status.code(), Some(0));
    let page = std::fs::read_to_string(&report_path).unwrap();
    assert_eq!(page, std::fs::read_to_string(&from_export).unwrap());
    assert!(page.contains("<table"), "{page}");
    let planned: u64 = PLANNED.iter().map(|(_, n)| n).sum();
    assert_eq!(merged["metrics"]["http_reqs"]["count"], planned);
    assert_eq!(merged["metrics"]["iterations"]["count"], planned);
    assert_eq!(merged["metrics"]["dropped_iterations"]["count"], 0);
    for (scenario, count) in PLANNED {
        assert_eq!(
            series_count(&merged, "iterations", scenario),
            count,
            "{scenario}"
        );
        assert_eq!(
            series_count(&merged, "http_req_duration", scenario),
            count,
            "{scenario}"
        );
    }
    assert_eq!(threshold(&merged, "http_reqs")["state"], "passed");
    assert_eq!(threshold(&merged, "http_reqs")["observed"], 62);
    assert_eq!(threshold(&merged, "iterations")["state"], "failed");
    assert_eq!(threshold(&merged, "http_req_duration")["state"], "passed");
    assert_eq!(merged["run"]["instance"], "merged");
    assert_eq!(merged["run"]["segment"], Value::Null);
    assert_eq!(merged["run"]["merged_from"].as_array().unwrap().len(), 4);
    // The merged rate is recomputed over the whole test's span.
    let seconds = merged["state"]["testRunDurationMs"].as_f64().unwrap() / 1000.0;
    let rate = merged["metrics"]["http_reqs"]["rate"].as_f64().unwrap();
    assert!(
        (rate - 62.0 / seconds).abs() < 1e-9,
        "{rate} vs 62/{seconds}"
    );

    // Percentiles from the merged histograms, against every sample.
    let samples = all_durations(&instances.samples);
    assert_eq!(samples.len(), 62);
    let duration = &merged["metrics"]["http_req_duration"];
    assert_eq!(duration["count"], 62);
    // min and max are exact (up to the last bit of a float's decimal form).
    assert!((duration["min"].as_f64().unwrap() - samples[0]).abs() < 1e-9);
    assert!((duration["max"].as_f64().unwrap() - samples[61]).abs() < 1e-9);
    for (key, p) in [
        ("med", 50.0),
        ("p(90)", 90.0),
        ("p(95)", 95.0),
        ("p(99)", 99.0),
    ] {
        let exact = exact_percentile(&samples, p);
        let merged_value = duration[key].as_f64().unwrap();
        // 3 significant digits over integer microseconds.
        let precision = exact / 1000.0 + 0.001;
        assert!(
            (merged_value - exact).abs() <= precision,
            "{key}: merged {merged_value} ms, all samples {exact} ms"
        );
    }

    // The same scenario in one process makes the same counts.
    let single_path = instances.dir.path().join("single.json");
    let scenario = instances.dir.path().join("dist.yaml");
    let single = run(&[
        "run",
        "--demo",
        "--quiet",
        scenario.to_str().unwrap(),
        "--summary-export",
        single_path.to_str().unwrap(),
    ]);
    assert_eq!(single.status.code(), Some(99));
    let single = read_json(&single_path);
    for metric in ["http_reqs", "iterations"] {
        assert_eq!(
            single["metrics"][metric]["count"],
            merged["metrics"][metric]["count"]
        );
    }
    for (scenario, count) in PLANNED {
        assert_eq!(
            series_count(&single, "iterations", scenario),
            count,
            "{scenario}"
        );
    }

    // A merged summary is a whole test: it merges again, alone, to itself.
    let again_path = instances.dir.path().join("again.json");
    let again = merge(
        &[merged_path.as_path()],
        &["--summary-export", again_path.to_str().unwrap()],
    );
    assert_eq!(again.status.code(), Some(99));
    assert!(String::from_utf8_lossy(&again.stdout).contains("✓ 'count>=60' count=62"));
    assert_eq!(read_json(&again_path)["timeline"], merged["timeline"]);

    a_partial_timeline_is_left_out(&instances);
    refuses_what_is_not_one_test(&instances, &merged_path);
}

/// A timeline bucket's counter (0 when the interval had no samples of it).
fn bucket_count(bucket: &Value, metric: &str) -> f64 {
    bucket["metrics"][metric]["count"].as_f64().unwrap_or(0.0)
}

/// The merged timeline adds up to the merged totals exactly, and each of
/// its buckets is the sum of the instances' buckets over the same interval
/// (each instance's placed by its start, rounded to the bucket width).
fn timelines_add_up(instances: &Instances, merged: &Value) {
    let timeline = &merged["timeline"];
    let buckets = timeline["buckets"].as_array().expect("a merged timeline");
    assert!(!buckets.is_empty());
    for metric in ["http_reqs", "iterations"] {
        let sum: f64 = buckets.iter().map(|b| bucket_count(b, metric)).sum();
        assert_eq!(
            sum,
            merged["metrics"][metric]["count"].as_f64().unwrap(),
            "{metric}"
        );
    }
    for (i, bucket) in buckets.iter().enumerate() {
        assert_eq!(bucket["start_ms"], i as u64 * 1000, "bucket {i}");
    }
    let docs: Vec<Value> = instances.summaries.iter().map(|p| read_json(p)).collect();
    let started = |doc: &Value| doc["state"]["startedAtUnixMs"].as_f64().unwrap();
    let earliest = docs.iter().map(started).fold(f64::MAX, f64::min);
    // Short runs keep 1 s buckets, as the merged timeline does.
    assert_eq!(timeline["bucket_ms"], 1000);
    let mut requests = vec![0.0; buckets.len()];
    let mut vus: Vec<Option<f64>> = vec![None; buckets.len()];
    for doc in &docs {
        assert_eq!(doc["timeline"]["bucket_ms"], 1000);
        let offset = ((started(doc) - earliest) / 1000.0).round() as usize;
        for (k, bucket) in doc["timeline"]["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            requests[k + offset] += bucket_count(bucket, "http_reqs");
            if let Some(value) = bucket["metrics"]["vus"]["value"].as_f64() {
                *vus[k + offset].get_or_insert(0.0) += value;
            }
        }
    }
    let merged_requests: Vec<f64> = buckets
        .iter()
        .map(|b| bucket_count(b, "http_reqs"))
        .collect();
    assert_eq!(merged_requests, requests);
    // Concurrent instances' gauges add: the test's VUs are theirs summed.
    let merged_vus: Vec<Option<f64>> = buckets
        .iter()
        .map(|b| b["metrics"]["vus"]["value"].as_f64())
        .collect();
    assert_eq!(merged_vus, vus);
}

/// An instance without a timeline (here: its timeline removed) leaves the
/// merge without one, and says so, rather than chart part of the test.
fn a_partial_timeline_is_left_out(instances: &Instances) {
    let s = &instances.summaries;
    let mut bare = read_json(&s[3]);
    bare.as_object_mut().unwrap().remove("timeline");
    let bare_path = instances.dir.path().join("no-timeline.json");
    std::fs::write(&bare_path, bare.to_string()).unwrap();
    let merged_path = instances.dir.path().join("partial.json");
    let output = merge(
        &[&s[0], &s[1], &s[2], &bare_path],
        &["--summary-export", merged_path.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(99));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "warning: no timeline in {} (run with --no-timeline, or by an older stampede): \
             the merged summary and report have no timeline, rather than one of part of the test\n",
            bare_path.display()
        )
    );
    let merged = read_json(&merged_path);
    assert_eq!(merged.get("timeline"), None);
    assert_eq!(merged["metrics"]["http_reqs"]["count"], 62);
}

/// One line naming what is wrong and where, and a distinct exit code.
fn refuses_what_is_not_one_test(instances: &Instances, merged: &Path) {
    let s = &instances.summaries;
    let name = |p: &PathBuf| p.display().to_string();
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let overlap = merge(&[&s[0], &s[1], &s[1], &s[2], &s[3]], &[]);
    assert_eq!(overlap.status.code(), Some(114));
    assert_eq!(
        stderr(&overlap),
        format!(
            "error: cannot merge: overlapping segments: {} and {} both ran segment 2/4\n",
            name(&s[1]),
            name(&s[1])
        )
    );
    let missing = merge(&[&s[0], &s[2]], &[]);
    assert_eq!(missing.status.code(), Some(114));
    assert_eq!(
        stderr(&missing),
        "error: cannot merge: missing segments: 2/4, 4/4 of 4 (no summary given for them)\n"
    );
    let whole = merge(&[&s[0], merged], &[]);
    assert_eq!(whole.status.code(), Some(114));
    assert_eq!(
        stderr(&whole),
        format!(
            "error: cannot merge: {} covers the whole test (no --segment), so it overlaps {}\n",
            merged.display(),
            name(&s[0])
        )
    );

    // Another test: the same file with another plan digest and testid.
    let mut other = read_json(&s[3]);
    other["run"]["plan"] = Value::from("fnv1a64:0000000000000001");
    let other_path = instances.dir.path().join("other.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let different = merge(&[&s[0], &s[1], &s[2], &other_path], &[]);
    assert_eq!(different.status.code(), Some(114));
    let plan = read_json(&s[0])["run"]["plan"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        stderr(&different),
        format!(
            "error: cannot merge: {} is from a different test than {}: plan \"fnv1a64:0000000000000001\" vs {plan:?}\n",
            other_path.display(),
            name(&s[0])
        )
    );

    let mut no_run = read_json(&s[0]);
    no_run.as_object_mut().unwrap().remove("run");
    let no_run_path = instances.dir.path().join("no-run.json");
    std::fs::write(&no_run_path, no_run.to_string()).unwrap();
    let unnamed = merge(&[&no_run_path], &[]);
    assert_eq!(unnamed.status.code(), Some(113));
    assert_eq!(
        stderr(&unnamed),
        format!(
            "error: {}: not a summary export: has no `run` section: it was not written by \
             `stampede run --summary-export` of a version that can merge (re-run the instance)\n",
            no_run_path.display()
        )
    );
    let garbage = instances.dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"metrics\": ").unwrap();
    let bad = merge(&[&garbage], &[]);
    assert_eq!(bad.status.code(), Some(113));
    assert!(
        stderr(&bad).starts_with(&format!("error: {}: not JSON: ", garbage.display())),
        "{}",
        stderr(&bad)
    );
}
