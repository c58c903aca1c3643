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
#[path = "support/whole_run.rs"]
mod whole_run;

use std::time::Duration;

use prometheus::Prometheus;
use stampede::output::{OutputKind, OutputSpec, prometheus_rw};
use whole_run::{by_status, check_zero_starts, raw, run_scenario};

const TESTID: &str = "rw-whole-run";

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
    let mut spec = OutputSpec::new(OutputKind::PrometheusRw, prom.write_url());
    spec.common.push_interval = Duration::from_secs(1);
    spec.common.flush_timeout = Duration::from_secs(5);
    let result = run_scenario(&spec, TESTID, |spec, ctx| {
        prometheus_rw::build(spec, ctx).expect("sink builds")
    })
    .await;
    // Per status from the summary JSON, and the zero starts read back raw.
    let (requests, start_ms, last_push) = check_zero_starts(
        &prom,
        &result,
        TESTID,
        "stampede_test_start_timestamp_seconds",
    )
    .await;
    let c = format!("stampede_http_reqs_total{{testid=\"{TESTID}\"}}");
    let early = raw(
        &prom,
        &format!("stampede_http_reqs_total{{testid=\"{TESTID}\",status=\"200\"}}"),
    )
    .await;
    let late = raw(
        &prom,
        &format!("stampede_http_reqs_total{{testid=\"{TESTID}\",status=\"500\"}}"),
    )
    .await;

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
