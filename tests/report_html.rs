//! The HTML report of a real demo run, opened in a real browser (headless
//! Chromium): the rendered DOM shows the summary's per-endpoint values and
//! threshold outcomes, and every chart was drawn. Chromium is installed by
//! scripts/test.sh; without it this test fails, it does not skip.

mod common;
mod reports_support;

use serde_json::Value;

use common::browser::{assert_charts_drawn, attr, rendered_dom};
use reports_support::{read_json, run_demo, stampede, text, two_speeds};
use stampede::metrics::deserialize_histogram;

/// The `<tr>` of an endpoint in the endpoints table.
fn endpoint_row<'a>(dom: &'a str, name: &str) -> &'a str {
    let anchor = format!("data-name=\"{name}\" data-method=\"GET\"");
    let start = dom
        .find(&anchor)
        .unwrap_or_else(|| panic!("no row for {name}"));
    let row_start = dom[..start].rfind("<tr").unwrap();
    let end = start + dom[start..].find("</tr>").unwrap();
    &dom[row_start..end]
}

fn field(row: &str, name: &str) -> f64 {
    let start = row.find(&format!("data-field=\"{name}\"")).unwrap();
    attr(&row[start..], "data-value").parse().unwrap()
}

/// The endpoint's figures computed here from the export's series.
struct Expected {
    requests: f64,
    success: f64,
    avg: f64,
    p95: f64,
    p99: f64,
    bytes: f64,
}

fn expected(doc: &Value, name: &str) -> Expected {
    let series = |metric: &str| -> Vec<Value> {
        doc["series"][metric]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["tags"]["name"] == name)
            .cloned()
            .collect()
    };
    let durations = series("http_req_duration");
    let count: f64 = durations.iter().map(|s| s["count"].as_f64().unwrap()).sum();
    let sum = durations
        .iter()
        .fold(0.0, |acc, s| acc + s["sum"].as_f64().unwrap());
    let min = durations
        .iter()
        .map(|s| s["min"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    let max = durations
        .iter()
        .map(|s| s["max"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let mut hdr = deserialize_histogram(durations[0]["hdr"].as_str().unwrap()).unwrap();
    for s in &durations[1..] {
        hdr.add(deserialize_histogram(s["hdr"].as_str().unwrap()).unwrap())
            .unwrap();
    }
    let q = |p: f64| (hdr.value_at_quantile(p) as f64 / 1000.0).clamp(min, max);
    let failed: f64 = series("http_req_failed")
        .iter()
        .map(|s| s["passes"].as_f64().unwrap())
        .sum();
    let received: f64 = series("data_received")
        .iter()
        .map(|s| s["count"].as_f64().unwrap())
        .sum();
    Expected {
        requests: count,
        success: 1.0 - failed / count,
        avg: sum / count,
        p95: q(0.95),
        p99: q(0.99),
        bytes: received / count,
    }
}

#[test]
fn a_real_runs_report_renders_its_values_and_draws_its_charts_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    // `slow` gets 5 ms of latency and a p95 limit of 5 ms: its row is red.
    let scenario = two_speeds(30, 4).replace("p(95)<40", "p(95)<5");
    let report_arg = report.display().to_string();
    let (out, export) = run_demo(
        dir.path(),
        "html",
        &scenario,
        &["--env", "SLOW_DELAY=5ms", "--report", &report_arg],
    );
    assert_eq!(out.status.code(), Some(99), "{}", text(&out.stderr));
    let doc = read_json(&export);
    let html = std::fs::read_to_string(&report).unwrap();

    // Self-contained: nothing to fetch when opened.
    for remote in ["src=\"http", "href=\"http", "<link", "@import", "url(http"] {
        assert!(!html.contains(remote), "the report references {remote}");
    }
    // `stampede report` renders the same page from the export file.
    let again = dir.path().join("again.html");
    let status = stampede()
        .arg("report")
        .arg(&export)
        .arg("-o")
        .arg(&again)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), html);

    let dom = rendered_dom(&report);
    assert!(dom.contains("id=\"verdict\">FAILED<"), "verdict missing");
    let statuses: Vec<&str> = dom
        .match_indices("<tr data-status=\"")
        .map(|(i, _)| attr(&dom[i..], "data-status"))
        .collect();
    assert_eq!(statuses, ["passed", "failed", "passed"]);

    for (name, class) in [("fast", "green"), ("flaky", "green"), ("slow", "red")] {
        let row = endpoint_row(&dom, name);
        let want = expected(&doc, name);
        assert_eq!(attr(row, "data-status"), class, "{name}");
        assert_eq!(field(row, "requests"), want.requests, "{name}");
        assert_eq!(want.requests, 120.0, "{name}: 30/s for 4 s");
        assert_eq!(field(row, "success"), want.success, "{name}");
        assert_eq!(field(row, "avg"), want.avg, "{name}");
        assert_eq!(field(row, "p95"), want.p95, "{name}");
        assert_eq!(field(row, "p99"), want.p99, "{name}");
        assert_eq!(field(row, "bytes_per_request"), want.bytes, "{name}");
    }

    // Every chart drew its series, one point per timeline bucket.
    let buckets = doc["timeline"]["buckets"].as_array().unwrap().len();
    assert_charts_drawn(&dom, buckets);
}
