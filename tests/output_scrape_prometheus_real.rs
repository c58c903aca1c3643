//! The scrape endpoint read by a real Prometheus 2.42 with native
//! histograms: `stampede run --demo --metrics-listen` as users run it, a
//! Prometheus scraping it every second, and the values of its last scrape
//! compared with the run's summary JSON.

#[path = "support/backends/prometheus.rs"]
mod prometheus;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use prometheus::{Prometheus, free_port};

/// 2 VUs × 15 iterations of one request answered 200 and one the demo
/// fails on purpose (`fail=1`: always 500): 60 requests, 30 of each, in
/// about 1.5 s. The latency threshold cannot pass (every request waits
/// 50 ms), the count threshold does.
const SCENARIO: &str = r#"
thresholds:
  http_reqs: ["count>=60"]
  http_req_duration: ["p(95)<1"]
scenarios:
  mixed:
    executor: per-vu-iterations
    vus: 2
    iterations: 15
    flow:
      - request: { name: ok, url: "{{ BASE_URL }}/health?delay=50ms" }
      - request: { name: broken, url: "{{ BASE_URL }}/health?delay=50ms&fail=1" }
"#;

const TESTID: &str = "scrape-real";

fn scrape_config(target_port: u16) -> String {
    format!(
        "global: {{}}
scrape_configs:
  - job_name: stampede
    scrape_interval: 1s
    scrape_timeout: 1s
    honor_labels: true
    static_configs:
      - targets: [\"127.0.0.1:{target_port}\"]
"
    )
}

/// The `[time, "value"]` pair of an instant-query result.
fn value_of(sample: &serde_json::Value) -> (f64, f64) {
    let pair = sample.as_array().expect("[time, value]");
    (
        pair[0].as_f64().unwrap(),
        pair[1].as_str().unwrap().parse().unwrap(),
    )
}

/// `query` at `time`, one value per series keyed by the value of `label`.
async fn by_label(prom: &Prometheus, query: &str, label: &str, time: f64) -> BTreeMap<String, f64> {
    prom.query(query, Some(time))
        .await
        .iter()
        .map(|r| {
            (
                r["metric"][label].as_str().unwrap_or_default().to_string(),
                value_of(&r["value"]).1,
            )
        })
        .collect()
}

/// A series' count in the summary JSON per value of `tag`.
fn summary_counts(summary: &serde_json::Value, metric: &str, tag: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for series in summary["series"][metric].as_array().expect("series") {
        let key = series["tags"][tag].as_str().unwrap_or_default().to_string();
        *out.entry(key).or_default() += series["count"].as_f64().expect("count");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_native_histograms_and_run_markers_exactly() {
    let target_port = free_port();
    let prom = Prometheus::start_with_config(free_port(), &scrape_config(target_port)).await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let export = dir.path().join("summary.json");
    let listen = format!("127.0.0.1:{target_port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .args(["run", "--demo", "--quiet", "--testid", TESTID])
        .args(["--metrics-listen", &listen, "--summary-export"])
        .arg(&export)
        .arg(&scenario);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("binary runs"))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // The latency threshold fails by design.
    assert_eq!(out.status.code(), Some(99), "{stderr}");
    let url = format!("http://{listen}/metrics");
    assert!(
        stderr.contains(&format!("metrics endpoint ({url})")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "metrics endpoint: serving the final values at {url} until the next scrape (at most 15s"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("no scrape read the final values"),
        "a 1 s scraper reads them: {stderr}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let requests = summary["metrics"]["http_reqs"]["count"].as_f64().unwrap();
    assert_eq!(requests, 60.0);

    // The final scrape is stored once the end marker is (bounded wait: the
    // scrape that read it has been answered before the run ended).
    let end_selector = format!("stampede_test_end_timestamp_seconds{{testid=\"{TESTID}\"}}[1h]");
    let deadline = Instant::now() + Duration::from_secs(10);
    let end_series = loop {
        let result = prom.query(&end_selector, None).await;
        if !result.is_empty() {
            break result;
        }
        assert!(
            Instant::now() < deadline,
            "no end marker in Prometheus within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(end_series.len(), 1, "{end_series:?}");
    let labels = &end_series[0]["metric"];
    assert_eq!(labels["job"], "stampede", "{labels}");
    assert_eq!(labels["testid"], TESTID, "{labels}");
    let samples = end_series[0]["values"].as_array().unwrap();
    let last = samples.last().unwrap();
    let (last_scrape, end) = value_of(last);
    let started_ms = summary["state"]["startedAtUnixMs"].as_f64().unwrap();
    let duration_ms = summary["state"]["testRunDurationMs"].as_f64().unwrap();
    // The same instant as the summary's start plus duration; the summary
    // floors its start to whole milliseconds, so the marker is up to 1 ms
    // later than their sum, never earlier.
    let expected_end = (started_ms + duration_ms) / 1000.0;
    assert!(
        (0.0..0.001).contains(&(end - expected_end)),
        "end marker {end} vs summary {expected_end}"
    );
    let start = prom
        .query(
            &format!("stampede_test_start_timestamp_seconds{{testid=\"{TESTID}\"}}"),
            Some(last_scrape),
        )
        .await;
    assert_eq!(start.len(), 1, "{start:?}");
    let start = value_of(&start[0]["value"]).1;
    // The first snapshot's time minus its elapsed time: the summary's start
    // up to the summary's millisecond floor and the few microseconds
    // between the two clock readings.
    assert!(
        (-0.001..0.005).contains(&(start - started_ms / 1000.0)),
        "start marker {start} vs the summary's start {}",
        started_ms / 1000.0
    );

    // Every request in the native histograms of the last scrape, per
    // series as in the summary.
    let histogram_count = format!(
        "sum by (name) (histogram_count(stampede_http_req_duration_seconds{{testid=\"{TESTID}\"}}))"
    );
    let per_name = by_label(&prom, &histogram_count, "name", last_scrape).await;
    assert_eq!(
        per_name,
        summary_counts(&summary, "http_req_duration", "name")
    );
    assert_eq!(per_name.values().sum::<f64>(), requests);
    assert_eq!(per_name["ok"], 30.0);
    assert_eq!(per_name["broken"], 30.0);
    let total = prom
        .query(
            &format!(
                "sum(histogram_count(stampede_http_req_duration_seconds{{testid=\"{TESTID}\"}}))"
            ),
            Some(last_scrape),
        )
        .await;
    assert_eq!(value_of(&total[0]["value"]).1, requests);

    // The request counter per status.
    let per_status = by_label(
        &prom,
        &format!("sum by (status) (stampede_http_reqs_total{{testid=\"{TESTID}\"}})"),
        "status",
        last_scrape,
    )
    .await;
    assert_eq!(per_status, summary_counts(&summary, "http_reqs", "status"));
    assert_eq!(
        per_status,
        BTreeMap::from([("200".to_string(), 30.0), ("500".to_string(), 30.0)])
    );

    // Threshold outcomes as the summary has them.
    let thresholds = by_label(
        &prom,
        &format!("stampede_threshold_passed{{testid=\"{TESTID}\"}}"),
        "threshold",
        last_scrape,
    )
    .await;
    let expected: BTreeMap<String, f64> = summary["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["expression"].as_str().unwrap().to_string(),
                if t["ok"].as_bool().unwrap() { 1.0 } else { 0.0 },
            )
        })
        .collect();
    assert_eq!(thresholds, expected);
    assert_eq!(
        thresholds,
        BTreeMap::from([("count>=60".to_string(), 1.0), ("p(95)<1".to_string(), 0.0)])
    );
    let metrics = by_label(
        &prom,
        &format!("stampede_threshold_passed{{testid=\"{TESTID}\"}}"),
        "metric",
        last_scrape,
    )
    .await;
    assert_eq!(
        metrics.keys().collect::<Vec<_>>(),
        ["http_req_duration", "http_reqs"]
    );
}
