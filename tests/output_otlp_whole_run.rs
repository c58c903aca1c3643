//! The OTLP zero start read back from a real Prometheus 2.42: the OTLP
//! output (defaults: cumulative, exponential histograms) sends into the
//! test bridge that applies Prometheus 3's OTLP translation and
//! remote-writes the result (tests/support/stack/otlp_bridge.rs; Prometheus
//! 3 itself cannot be installed here). The same run as the remote-write
//! whole-run test: status 200 from the first push, three injected 500s
//! only in the last. Over the run's range the exact whole-run forms equal
//! the summary JSON per status, the exponential histograms arrive as native
//! histograms under the remote-write name, and the raw samples show each
//! series' zero at the stated time.

mod common;
#[path = "support/stack/http.rs"]
mod http;
#[path = "support/stack/otlp_bridge.rs"]
mod otlp_bridge;
#[path = "support/stack/otlp_names.rs"]
mod otlp_names;
#[path = "support/backends/prometheus.rs"]
mod prometheus;
#[path = "support/whole_run.rs"]
mod whole_run;

use std::time::Duration;

use otlp_bridge::OtlpBridge;
use prometheus::Prometheus;
use stampede::output::{OutputKind, OutputSpec, otlp};
use whole_run::{by_status, check_zero_starts, run_scenario};

const TESTID: &str = "otlp-whole-run";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_whole_run_counts_over_the_run_range_equal_the_summary() {
    let prom = Prometheus::start().await;
    let bridge = OtlpBridge::start(prom.port);
    let mut spec = OutputSpec::new(OutputKind::Otlp, bridge.url());
    spec.common.push_interval = Duration::from_secs(1);
    spec.common.flush_timeout = Duration::from_secs(5);
    let result = run_scenario(&spec, TESTID, |spec, ctx| {
        otlp::build_with_env(spec, ctx, &|_| None).expect("sink builds")
    })
    .await;
    assert_eq!(bridge.errors(), Vec::<String>::new());
    assert!(bridge.requests() >= 3, "{} requests", bridge.requests());

    // The OTLP start marker `stampede_test_start_timestamp` (unit s).
    let (requests, start_ms, last_push) = check_zero_starts(
        &prom,
        &result,
        TESTID,
        "stampede_test_start_timestamp_seconds",
    )
    .await;

    let c = format!("stampede_http_reqs_total{{testid=\"{TESTID}\"}}");
    let h = format!("stampede_http_req_duration_seconds{{testid=\"{TESTID}\"}}");
    let end = last_push + 1000;
    let range = format!("{}ms", end - start_ms + 1);
    let at = end as f64 / 1000.0;
    for form in [
        format!("sum by (status) (last_over_time({c}[{range}]))"),
        format!("sum by (status) (max_over_time({c}[{range}]) - min_over_time({c}[{range}]))"),
    ] {
        assert_eq!(by_status(&prom, &form, at).await, requests, "{form}");
    }
    // The default exponential histograms are native histograms under the
    // remote-write name, holding every request at the last push.
    let at_last_push = last_push as f64 / 1000.0;
    let histogram_at_end = format!("histogram_count(sum by (status) ({h}))");
    assert_eq!(
        by_status(&prom, &histogram_at_end, at_last_push).await,
        requests
    );
    // Their zero starts, raw: an empty histogram one push before the first
    // value (the run start; the previous push for the late series).
    let of_status = |status: &str| {
        format!("stampede_http_req_duration_seconds{{testid=\"{TESTID}\",status=\"{status}\"}}")
    };
    let early = raw_histogram_counts(&prom, &of_status("200")).await;
    assert_eq!(early.first(), Some(&(start_ms, 0.0)), "{early:?}");
    assert_eq!(early.last().map(|s| s.1), Some(requests[0].1));
    let previous_push = early[early.len() - 2].0;
    let late = raw_histogram_counts(&prom, &of_status("500")).await;
    assert_eq!(late, [(previous_push, 0.0), (last_push, 3.0)]);
}

/// (time in ms, count) of the native histogram samples of the one series
/// `selector` matches over the last five minutes.
async fn raw_histogram_counts(prom: &Prometheus, selector: &str) -> Vec<(i64, f64)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let result = prom.query(&format!("{selector}[5m]"), Some(now)).await;
    assert_eq!(result.len(), 1, "one series for {selector}: {result:?}");
    result[0]["histograms"]
        .as_array()
        .unwrap_or_else(|| panic!("histogram samples: {result:?}"))
        .iter()
        .map(|pair| {
            let p = pair.as_array().expect("[time, histogram]");
            let t = (p[0].as_f64().expect("time") * 1000.0).round() as i64;
            let count = p[1]["count"]
                .as_str()
                .expect("count")
                .parse()
                .expect("number");
            (t, count)
        })
        .collect()
}
