//! Whole-run figures read back from a real Prometheus 2.42 equal the run's
//! summary JSON, thanks to the remote-write zero start: a series present
//! from the first push (status 200) and one that appears only in the last
//! push (status 500, the demo's fault injection) are counted exactly over
//! the run's range by the PromQL forms the dashboards may use.
//!
//! `increase()` is measured too and printed (run with `--nocapture`): it
//! extrapolates towards the end of the range, so it is exact only when the
//! range ends on the last sample; the test asserts that measured error
//! against Prometheus' extrapolation rule, so a change in either shows.

mod common;
#[path = "support/backends/prometheus.rs"]
mod prometheus;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use prometheus::Prometheus;
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions, RunResult};
use stampede::output::{OutputContext, OutputKind, OutputSpec, prometheus_rw};
use stampede::report::summary_json;
use stampede::scenario;

const TESTID: &str = "rw-whole-run";

/// `steady` hits /health from the start for 2 s (pushes at about 1 s and
/// 2 s); `late` sends three failing requests at 2.5 s, after the last
/// periodic push, so their series first appear in the run's final push.
const SCENARIO: &str = r#"
scenarios:
  steady:
    executor: constant-vus
    vus: 2
    duration: 2s
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health?delay=50ms" }
  late:
    executor: per-vu-iterations
    vus: 1
    iterations: 3
    start_time: 2500ms
    flow:
      - request: { name: late, url: "{{ BASE_URL }}/health?delay=10ms&fail=1" }
"#;

async fn run(prom: &Prometheus) -> RunResult {
    let demo = demo(DemoConfig::default()).await;
    let mut load = options(&demo.base_url());
    load.instance = Some("host-a".into());
    let plan = scenario::load_str(SCENARIO, Path::new("test.yaml"), &load).expect("compiles");
    let mut spec = OutputSpec::new(OutputKind::PrometheusRw, prom.write_url());
    spec.common.push_interval = Duration::from_secs(1);
    spec.common.flush_timeout = Duration::from_secs(5);
    let ctx = OutputContext {
        testid: TESTID.into(),
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
    demo.shutdown().await;
    let report = &result.sink_reports[0];
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.points.expect("counted").dropped, 0);
    result
}

/// (time in ms, value) of a `[time, "value"]` pair.
fn pair(v: &serde_json::Value) -> (i64, f64) {
    let p = v.as_array().expect("[time, value]");
    let t = p[0].as_f64().expect("time");
    let value = p[1].as_str().expect("value").parse().expect("number");
    ((t * 1000.0).round() as i64, value)
}

/// The raw float samples of the one series `selector` matches.
async fn raw(prom: &Prometheus, selector: &str, range: &str, at: f64) -> Vec<(i64, f64)> {
    let result = prom.query(&format!("{selector}[{range}]"), Some(at)).await;
    assert_eq!(result.len(), 1, "one series for {selector}: {result:?}");
    result[0]["values"]
        .as_array()
        .expect("float samples")
        .iter()
        .map(pair)
        .collect()
}

/// `query` at `at`, one value per `status`.
async fn by_status(prom: &Prometheus, query: &str, at: f64) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = prom
        .query(query, Some(at))
        .await
        .iter()
        .map(|r| {
            let status = r["metric"]["status"].as_str().expect("status label");
            (status.to_string(), pair(&r["value"]).1)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Prometheus' `increase()` of samples `[(t_ms, v)]` over the range
/// `(at - range, at]` (promql/functions.go `extrapolatedRate`, counters
/// without resets): the sampled increase, extrapolated to each end of the
/// range by up to half an average interval, or all the way when the gap is
/// within 1.1 average intervals; for floats (`zero_floor`; 2.42 does not
/// do it for native histograms) never below a zero value at the start.
fn prometheus_increase(samples: &[(i64, f64)], at_ms: i64, range_ms: i64, zero_floor: bool) -> f64 {
    let (first, last) = (samples[0], samples[samples.len() - 1]);
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let average = sampled / (samples.len() - 1) as f64;
    let threshold = average * 1.1;
    let mut to_start = (first.0 - (at_ms - range_ms)) as f64 / 1000.0;
    let mut to_end = (at_ms - last.0) as f64 / 1000.0;
    let result = last.1 - first.1;
    if zero_floor && result > 0.0 && first.1 >= 0.0 {
        to_start = to_start.min(sampled * (first.1 / result));
    }
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    result * (sampled + to_start + to_end) / sampled
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_run_counts_over_the_run_range_equal_the_summary() {
    let prom = Prometheus::start().await;
    let result = run(&prom).await;
    let doc = summary_json(&result.summary);
    // Per status, from the summary JSON: requests and the duration count.
    let per_status = |metric: &str| -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = doc["series"][metric]
            .as_array()
            .expect("series list")
            .iter()
            .map(|s| {
                let status = s["tags"]["status"].as_str().expect("status tag");
                (status.to_string(), s["count"].as_f64().expect("count"))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    };
    let requests = per_status("http_reqs");
    assert_eq!(per_status("http_req_duration"), requests);
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1], ("500".to_string(), 3.0));
    assert!(requests[0].1 >= 20.0, "{requests:?}");

    // The run's pushes, from the series present throughout.
    let c = format!("stampede_http_reqs_total{{testid=\"{TESTID}\"}}");
    let early_selector = format!("stampede_http_reqs_total{{testid=\"{TESTID}\",status=\"200\"}}");
    let late_selector = format!("stampede_http_reqs_total{{testid=\"{TESTID}\",status=\"500\"}}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let early = raw(&prom, &early_selector, "5m", now).await;
    let last_push = early.last().expect("samples").0;
    let start = prom
        .query(
            &format!("stampede_test_start_timestamp_seconds{{testid=\"{TESTID}\"}}"),
            Some(last_push as f64 / 1000.0),
        )
        .await;
    let start_ms = (pair(&start[0]["value"]).1 * 1000.0).floor() as i64;

    // The zero starts: at the run start for the series of the first push;
    // at the previous push for the one first seen in the last push.
    assert_eq!(early[0], (start_ms, 0.0), "{early:?}");
    assert!(
        early.len() >= 4,
        "zero, two periodic pushes, final: {early:?}"
    );
    let previous_push = early[early.len() - 2].0;
    let late = raw(&prom, &late_selector, "5m", now).await;
    assert_eq!(late, [(previous_push, 0.0), (last_push, 3.0)]);

    // The run's range as a dashboard has it: from the run start to one
    // second after the last push, evaluated at its end.
    let end = last_push + 1000;
    let range_ms = end - start_ms + 1;
    let range = format!("{range_ms}ms");
    let at = end as f64 / 1000.0;
    let h = format!("stampede_http_req_duration_seconds{{testid=\"{TESTID}\"}}");
    let exact_forms = [
        format!("sum by (status) (last_over_time({c}[{range}]))"),
        format!("sum by (status) (max_over_time({c}[{range}]) - min_over_time({c}[{range}]))"),
    ];
    for form in &exact_forms {
        let got = by_status(&prom, form, at).await;
        eprintln!("exact  {form} = {got:?} (summary {requests:?})");
        assert_eq!(got, requests, "{form}");
    }

    // The whole-run duration histogram at the last push holds every
    // request of its status (an instant query: after that push the stale
    // markers end the series).
    let histogram_at_end = format!("histogram_count(sum by (status) ({h}))");
    let got = by_status(&prom, &histogram_at_end, last_push as f64 / 1000.0).await;
    eprintln!("exact at the last push  {histogram_at_end} = {got:?}");
    assert_eq!(got, requests);

    // Prometheus 2.42 ignores native histograms in last_over_time (as in
    // every function whose documentation does not name them); newer ones
    // return the last histogram, which is the whole-run total. Here the
    // form gives nothing, so it is measured on the real backend only once
    // the tests run a newer Prometheus.
    let last_histogram = format!("histogram_count(sum by (status) (last_over_time({h}[{range}])))");
    assert_eq!(by_status(&prom, &last_histogram, at).await, []);

    // increase(): exact when the range ends on the last sample; past it,
    // extrapolated by Prometheus' rule (measured and printed).
    for (label, at_ms) in [("at the last push", last_push), ("1 s after it", end)] {
        let at = at_ms as f64 / 1000.0;
        let range = format!("{}ms", at_ms - start_ms + 1);
        for (form, floats) in [
            (format!("sum by (status) (increase({c}[{range}]))"), true),
            (
                format!("histogram_count(sum by (status) (increase({h}[{range}])))"),
                false,
            ),
        ] {
            let got = by_status(&prom, &form, at).await;
            let expected: Vec<(String, f64)> = [("200", &early), ("500", &late)]
                .iter()
                .map(|(status, samples)| {
                    let v = prometheus_increase(samples, at_ms, at_ms - start_ms + 1, floats);
                    (status.to_string(), v)
                })
                .collect();
            let errors: Vec<String> = got
                .iter()
                .zip(&requests)
                .map(|((s, g), (_, want))| {
                    format!(
                        "{s}: {g:.4} vs {want} ({:+.2} %)",
                        (g - want) / want * 100.0
                    )
                })
                .collect();
            eprintln!("increase, range ending {label}: {form} -> {errors:?}");
            assert_eq!(got.len(), 2, "{form}: {got:?}");
            for ((status, g), (_, e)) in got.iter().zip(&expected) {
                assert!((g - e).abs() < 1e-9, "{form} {status}: {g} vs rule {e}");
            }
            if floats && at_ms == last_push {
                assert_eq!(got, requests, "{form} ending on the last sample");
            }
        }
    }
}
