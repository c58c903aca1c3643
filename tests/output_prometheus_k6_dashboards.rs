//! k6 users keep their dashboards: with `naming=k6`, the public Grafana
//! dashboards 19665 ("k6 Prometheus", trend-stat gauges) and 18030 ("k6
//! Prometheus (Native Histograms)") find everything they query.
//!
//! The dashboards are not part of this repository. Each requirement below
//! restates, as our own PromQL, what one of their panels asks of the data:
//! which metric (and type: gauge, counter, native histogram), which labels,
//! which function. Two real `stampede run --demo` processes stream into a
//! real Prometheus 2.42 at the same time: one configured with stampede's
//! options (19665's way: trend statistics, no histograms), one configured
//! only through k6's environment variables (18030's way: native histograms,
//! no target on `--out`). Every requirement is run as Grafana runs a panel
//! (a range query over the run, `$__rate_interval` = 1m, Grafana's default
//! for a 15 s scrape interval) and must return a value; the request,
//! failure, dropped-iteration and whole-run counts must equal the summary
//! JSON exactly.

#[path = "support/stack/http.rs"]
mod http;
#[path = "support/stack/process.rs"]
mod process;
#[path = "support/stack/prometheus.rs"]
mod prometheus;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use http::form;
use prometheus::Prometheus;
use serde_json::Value;

/// What a panel needs from its query's answer.
#[derive(Clone, Debug)]
enum Expect {
    /// At least one finite value (or native histogram) over the run.
    Data,
    /// One series whose last value is exactly this.
    Exactly(f64),
    /// Data, and every series carries these labels (tables group by them).
    Labelled(&'static [&'static str]),
}

/// One panel requirement: the panel, our PromQL for what it asks, and what
/// the answer must be.
struct Requirement {
    panel: &'static str,
    query: String,
    expect: Expect,
}

fn need(panel: &'static str, query: String, expect: Expect) -> Requirement {
    Requirement {
        panel,
        query,
        expect,
    }
}

/// The figures of one run's summary JSON the panels must reproduce.
struct Figures {
    http_reqs: f64,
    failed: f64,
    dropped: f64,
}

impl Figures {
    fn of(summary: &Value) -> Figures {
        let m = &summary["metrics"];
        let number = |v: &Value, what: &str| {
            v.as_f64()
                .unwrap_or_else(|| panic!("summary has no {what}: {m}"))
        };
        Figures {
            http_reqs: number(&m["http_reqs"]["count"], "http_reqs.count"),
            failed: number(&m["http_req_failed"]["passes"], "http_req_failed.passes"),
            dropped: number(
                &m["dropped_iterations"]["count"],
                "dropped_iterations.count",
            ),
        }
    }
}

/// The timing phases the "HTTP Latency Timings" panels plot.
const PHASES: [&str; 6] = [
    "http_req_blocked",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
    "http_req_duration",
];

/// Dashboard 19665 reads the trend-stat gauges `k6_<trend>_<stat>`; its
/// "Quantile Stat" picker defaults to p95 and its URL table reads min, max,
/// p95 and p99. Run with `trend_stats=p(95),p(99),min,max,count`.
fn stats_dashboard(testid: &str, f: &Figures) -> Vec<Requirement> {
    let t = format!("testid=~\"{testid}\"");
    let mut r = vec![
        need(
            "Performance Overview: VUs",
            format!("avg(k6_vus{{{t}}})"),
            Expect::Data,
        ),
        need(
            "Performance Overview / HTTP Request Duration: latency statistic",
            format!("avg(k6_http_req_duration_p95{{{t}}})"),
            Expect::Data,
        ),
        need(
            "Performance Overview / HTTP Request Rate: requests per second",
            format!("sum(irate(k6_http_reqs_total{{{t}}}[1m]))"),
            Expect::Data,
        ),
        need(
            "Performance Overview: failure rate (hidden series)",
            format!("avg(round(k6_http_req_failed_rate{{{t}}}, 0.1) * 100)"),
            Expect::Data,
        ),
        need(
            "Performance Overview / HTTP Request Rate: failed requests per second",
            format!("sum(irate(k6_http_reqs_total{{{t}, expected_response=\"false\"}}[1m]))"),
            Expect::Data,
        ),
        need(
            "HTTP Request Rate: successful requests per second",
            format!("sum(irate(k6_http_reqs_total{{{t}, expected_response=\"true\"}}[1m]))"),
            Expect::Data,
        ),
        need(
            "HTTP requests (stat)",
            format!("sum(k6_http_reqs_total{{{t}}})"),
            Expect::Exactly(f.http_reqs),
        ),
        // The panel titled "HTTP request failures" selects the expected
        // responses; both halves are checked so the split is exact.
        need(
            "HTTP request failures (stat; counts expected responses)",
            format!("sum(k6_http_reqs_total{{{t}, expected_response=\"true\"}})"),
            Expect::Exactly(f.http_reqs - f.failed),
        ),
        need(
            "failed requests (the error series of the rate panels, summed)",
            format!("sum(k6_http_reqs_total{{{t}, expected_response=\"false\"}})"),
            Expect::Exactly(f.failed),
        ),
        need(
            "Peak RPS (stat)",
            format!("max(irate(k6_http_reqs_total{{{t}}}[1m]))"),
            Expect::Data,
        ),
        need(
            "Transfer Rate: sent",
            format!("avg(irate(k6_data_sent_total{{{t}}}[1m]))"),
            Expect::Data,
        ),
        need(
            "Transfer Rate: received",
            format!("avg(irate(k6_data_received_total{{{t}}}[1m]))"),
            Expect::Data,
        ),
        need(
            "Iterations: iteration duration statistic",
            format!("avg(k6_iteration_duration_p95{{{t}}})"),
            Expect::Data,
        ),
        need(
            "Iterations: dropped iterations",
            format!("avg(k6_dropped_iterations_total{{{t}}})"),
            Expect::Exactly(f.dropped),
        ),
        need(
            "Checks list (table by check)",
            format!("round(k6_checks_rate{{{t}}}, 0.1)"),
            Expect::Labelled(&["check"]),
        ),
        need(
            "Checks Success Rate",
            format!("avg(round(k6_checks_rate{{{t}}}, 0.1) * 100)"),
            Expect::Data,
        ),
        need(
            "HTTP Latency Stats: successful requests",
            format!("avg(k6_http_req_duration_p95{{{t}, expected_response=\"true\"}})"),
            Expect::Data,
        ),
        need(
            "HTTP Latency Stats: failed requests",
            format!("avg(k6_http_req_duration_p95{{{t}, expected_response=\"false\"}})"),
            Expect::Data,
        ),
        need(
            "Analyze Metric (a k6_ metric by name)",
            format!("k6_vus{{{t}}}"),
            Expect::Data,
        ),
        // Cumulative statistics (k6's, the default with naming=k6): the
        // whole-run count per series adds up to the summary's.
        need(
            "whole-run figures from cumulative trend statistics",
            format!("sum(k6_http_req_duration_count{{{t}}})"),
            Expect::Exactly(f.http_reqs),
        ),
    ];
    for phase in PHASES {
        r.push(need(
            "HTTP Latency Timings",
            format!("avg(k6_{phase}_p95{{{t}}})"),
            Expect::Data,
        ));
    }
    for stat in ["min", "max", "p95", "p99"] {
        r.push(need(
            "Requests by URL (table)",
            format!("avg by (name, method, status) (k6_http_req_duration_{stat}{{{t}}})"),
            Expect::Labelled(&["name", "method", "status"]),
        ));
    }
    r
}

/// Dashboard 18030 reads trends as native histograms
/// `k6_<trend>_seconds` through `histogram_quantile` over `rate`; its
/// "Quantile" box defaults to 0.99.
fn native_dashboard(testid: &str, f: &Figures) -> Vec<Requirement> {
    let t = format!("testid=~\"{testid}\"");
    let quantile = |metric: &str, extra: &str, q: &str| {
        format!(
            "histogram_quantile({q}, sum by (le) (rate(k6_{metric}_seconds{{{t}{extra}}}[1m])))"
        )
    };
    let mut r = vec![
        need(
            "Performance Overview: VUs",
            format!("avg(k6_vus{{{t}}})"),
            Expect::Data,
        ),
        need(
            "Performance Overview / HTTP Request Duration: latency quantile",
            quantile("http_req_duration", "", "0.99"),
            Expect::Data,
        ),
        need(
            "Performance Overview / Peak RPS / HTTP Request Rate: requests per second",
            format!("sum(irate(k6_http_reqs_total{{{t}}}[1m]))"),
            Expect::Data,
        ),
        need(
            "Performance Overview: failure rate (hidden series)",
            format!("avg(round(k6_http_req_failed_rate{{{t}}}, 0.1) * 100)"),
            Expect::Data,
        ),
        need(
            "Performance Overview / HTTP Request Rate: failed requests per second",
            format!("sum(irate(k6_http_reqs_total{{{t}, expected_response=\"false\"}}[1m]))"),
            Expect::Data,
        ),
        need(
            "HTTP Request Rate: successful requests per second",
            format!("sum(irate(k6_http_reqs_total{{{t}, expected_response=\"true\"}}[1m]))"),
            Expect::Data,
        ),
        need(
            "HTTP requests (stat)",
            format!("sum(k6_http_reqs_total{{{t}}})"),
            Expect::Exactly(f.http_reqs),
        ),
        need(
            "HTTP request failures (stat; counts expected responses)",
            format!("sum(k6_http_reqs_total{{{t}, expected_response=\"true\"}})"),
            Expect::Exactly(f.http_reqs - f.failed),
        ),
        need(
            "Transfer Rate: sent",
            format!("avg(irate(k6_data_sent_total{{{t}}}[1m]))"),
            Expect::Data,
        ),
        need(
            "Transfer Rate: received",
            format!("avg(irate(k6_data_received_total{{{t}}}[1m]))"),
            Expect::Data,
        ),
        need(
            "Iterations: iteration duration quantile",
            quantile("iteration_duration", "", "0.99"),
            Expect::Data,
        ),
        need(
            "Iterations: dropped iterations",
            format!("avg(k6_dropped_iterations_total{{{t}}})"),
            Expect::Exactly(f.dropped),
        ),
        need(
            "Checks list (table by check)",
            format!("round(k6_checks_rate{{{t}}}, 0.1)"),
            Expect::Labelled(&["check"]),
        ),
        need(
            "Checks Success Rate",
            format!("avg(round(k6_checks_rate{{{t}}}, 0.1) * 100)"),
            Expect::Data,
        ),
        // The panel plots waiting time for the success / error split.
        need(
            "HTTP Latency Stats: successful requests",
            quantile("http_req_waiting", ", expected_response=\"true\"", "0.99"),
            Expect::Data,
        ),
        need(
            "HTTP Latency Stats: failed requests",
            quantile("http_req_waiting", ", expected_response=\"false\"", "0.99"),
            Expect::Data,
        ),
        need(
            "Analyze Metric (a k6_ metric by name)",
            format!("k6_vus{{{t}}}"),
            Expect::Data,
        ),
        // The native histograms hold every request of the run.
        need(
            "whole-run request count from the native histograms",
            format!("histogram_count(sum(k6_http_req_duration_seconds{{{t}}}))"),
            Expect::Exactly(f.http_reqs),
        ),
    ];
    for phase in PHASES {
        r.push(need(
            "HTTP Latency Timings",
            quantile(phase, "", "0.99"),
            Expect::Data,
        ));
    }
    for q in ["0", "1", "0.95", "0.99"] {
        r.push(need(
            "Requests by URL (table)",
            format!(
                "histogram_quantile({q}, sum by (le, name, method, status) (rate(k6_http_req_duration_seconds{{{t}}}[1m])))"
            ),
            Expect::Labelled(&["name", "method", "status"]),
        ));
    }
    r
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k6_dashboards/run.yaml")
}

/// Starts `stampede run --demo` with `out` and extra environment variables;
/// k6's and stampede's own variables from the caller's environment are
/// removed so only the test's apply.
fn start_run(testid: &str, out: &str, env: &[(&str, String)], export: &Path) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    for (key, _) in std::env::vars() {
        if key.starts_with("K6_") || key.starts_with("STAMPEDE_PROMETHEUS_RW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["run", "--demo", "--quiet", "--testid", testid, "--out", out])
        .arg("--summary-export")
        .arg(export)
        .arg(fixture())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start stampede")
}

fn finish(testid: &str, child: Child, export: &Path) -> Value {
    let out = child.wait_with_output().expect("stampede runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "run {testid}:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(export).expect("summary written")).expect("summary JSON")
}

fn finite(v: &Value) -> Option<f64> {
    v.as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|x| x.is_finite())
}

/// Runs `r` as a range query over `[from, to]` at a 1 s step and says what
/// is wrong with the answer, if anything.
fn check(prom: &Prometheus, r: &Requirement, from: f64, to: f64) -> Result<(), String> {
    let (start, end) = (format!("{from:.3}"), format!("{to:.3}"));
    let data = prom.api(
        "/api/v1/query_range",
        &form(&[
            ("query", &r.query),
            ("start", &start),
            ("end", &end),
            ("step", "1"),
        ]),
    )?;
    let series = data["result"].as_array().cloned().unwrap_or_default();
    let values = |s: &Value| -> Vec<f64> {
        s["values"]
            .as_array()
            .map(|v| v.iter().filter_map(|p| finite(&p[1])).collect())
            .unwrap_or_default()
    };
    let points: usize = series
        .iter()
        .map(|s| values(s).len() + s["histograms"].as_array().map_or(0, Vec::len))
        .sum();
    if points == 0 {
        return Err("no data".into());
    }
    match &r.expect {
        Expect::Data => Ok(()),
        Expect::Exactly(expected) => {
            if series.len() != 1 {
                return Err(format!("{} series, expected one", series.len()));
            }
            let last = *values(&series[0]).last().expect("finite values");
            if last == *expected {
                Ok(())
            } else {
                Err(format!("last value {last}, expected {expected}"))
            }
        }
        Expect::Labelled(labels) => {
            for s in &series {
                for label in *labels {
                    if s["metric"][*label].as_str().is_none_or(str::is_empty) {
                        return Err(format!("a series has no {label} label: {}", s["metric"]));
                    }
                }
            }
            Ok(())
        }
    }
}

/// The values Grafana offers for a variable defined as `label_values(label)`.
fn label_values(prom: &Prometheus, label: &str) -> Vec<String> {
    let data = prom
        .api_get(&format!("/api/v1/label/{label}/values"), "")
        .expect("label values");
    data.as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn k6_dashboards_19665_and_18030_find_every_panel_with_exact_counts() {
    let prom = Prometheus::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let from = now_s() - 5.0;

    // 19665: stampede options, as a k6 user would add K6_PROMETHEUS_RW_TREND_STATS.
    let stats_id = "k6dash-stats";
    let stats_export = dir.path().join("stats.json");
    let stats_run = start_run(
        stats_id,
        &format!(
            "prometheus-rw={};naming=k6;histograms=none;trend_stats=p(95),p(99),min,max,count;push_interval=1s",
            prom.write_url()
        ),
        &[],
        &stats_export,
    );
    // 18030: only k6's variables; `--out` names no target.
    let native_id = "k6dash-native";
    let native_export = dir.path().join("native.json");
    let native_run = start_run(
        native_id,
        "prometheus-rw;naming=k6",
        &[
            ("K6_PROMETHEUS_RW_SERVER_URL", prom.write_url()),
            ("K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", "true".into()),
            ("K6_PROMETHEUS_RW_PUSH_INTERVAL", "1s".into()),
        ],
        &native_export,
    );
    let stats_summary = finish(stats_id, stats_run, &stats_export);
    let native_summary = finish(native_id, native_run, &native_export);
    let to = now_s() + 2.0;

    let mut failures = Vec::new();
    let mut checked = 0;
    for (dashboard, requirements, summary) in [
        (
            "19665",
            stats_dashboard as fn(&str, &Figures) -> Vec<Requirement>,
            &stats_summary,
        ),
        ("18030", native_dashboard, &native_summary),
    ] {
        let testid = if dashboard == "19665" {
            stats_id
        } else {
            native_id
        };
        let figures = Figures::of(summary);
        // The fixture's known figures: 60 injected failures, and an open
        // model too small for its rate.
        assert_eq!(figures.failed, 60.0, "{dashboard}: {}", summary["metrics"]);
        assert!(figures.dropped > 0.0, "{dashboard}: no dropped iterations");
        assert!(
            figures.http_reqs > 120.0,
            "{dashboard}: {}",
            figures.http_reqs
        );
        for r in requirements(testid, &figures) {
            checked += 1;
            if let Err(problem) = check(&prom, &r, from, to) {
                failures.push(format!(
                    "{dashboard} {}: {problem}\n    {}",
                    r.panel, r.query
                ));
            }
        }
    }
    assert_eq!(checked, 30 + 28, "every requirement ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The variables: the test-id picker lists both runs; 19665's
    // "Quantile Stat" picker (metric names k6_http_req_duration_<stat>)
    // offers every statistic sent; the Analyze picker lists k6_ metrics.
    let testids = label_values(&prom, "testid");
    assert!(testids.contains(&stats_id.to_string()), "{testids:?}");
    assert!(testids.contains(&native_id.to_string()), "{testids:?}");
    let names = label_values(&prom, "__name__");
    let stats: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_prefix("k6_http_req_duration_"))
        .collect();
    assert_eq!(stats, ["count", "max", "min", "p95", "p99", "seconds"]);
    for metric in [
        "k6_vus",
        "k6_vus_max",
        "k6_http_reqs_total",
        "k6_http_req_failed_rate",
        "k6_iterations_total",
        "k6_dropped_iterations_total",
        "k6_checks_rate",
        "k6_data_sent_total",
        "k6_data_received_total",
    ] {
        assert!(names.iter().any(|n| n == metric), "{metric} in {names:?}");
    }
}
