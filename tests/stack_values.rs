//! The numbers a user reads in the dashboards equal the run's summary, on
//! every ingest path that can be received here. Two real runs of
//! tests/fixtures/stack/dashboard_run.yaml (injected 500s, a refused
//! connection, failing checks, dropped iterations, streams, custom metrics)
//! stream at the same time:
//!
//! - `values-rw`: Prometheus remote-write into Debian's Prometheus 2.42,
//!   and InfluxDB per-request points into InfluxDB 1.6;
//! - `values-otlp`: OTLP/HTTP through a bridge that applies Prometheus 3's
//!   OTLP translation (tests/support/stack/otlp_bridge.rs) into the same
//!   Prometheus, and InfluxDB `mode=aggregate` points.
//!
//! Then each dashboard's stat and table panels (and the custom-metric
//! panels) are queried the way Grafana would, with the run chosen in the
//! pickers, and every value is compared with the summary export of the same
//! run: counts exactly, rates to 1e-9, averages to 1e-6, percentiles within
//! the resolution of the histogram the backend holds.

#[path = "support/stack/backend_query.rs"]
mod backend_query;
#[path = "support/stack/dashboard_values.rs"]
mod dashboard_values;
#[path = "support/stack/dashboards.rs"]
mod dashboards;
#[path = "support/stack/fixture_run.rs"]
mod fixture_run;
#[path = "support/stack/grafana.rs"]
mod grafana;
#[path = "support/stack/http.rs"]
mod http;
#[path = "support/stack/influxdb.rs"]
mod influxdb;
#[path = "support/stack/otlp_bridge.rs"]
mod otlp_bridge;
#[path = "support/stack/otlp_names.rs"]
mod otlp_names;
#[path = "support/stack/process.rs"]
mod process;
#[path = "support/stack/prometheus.rs"]
mod prometheus;
#[path = "support/stack/summary_figures.rs"]
mod summary_figures;
#[path = "support/stack/value_checks.rs"]
mod value_checks;

use std::time::Duration;

use backend_query::{Backends, INFLUX_DB};
use fixture_run::{finish, now_ms};
use summary_figures::SummaryFigures;
use value_checks::{Checker, Runs};

const RW: &str = "values-rw";
const OTLP: &str = "values-otlp";

#[test]
fn dashboards_show_the_summary_figures_on_every_ingest_path() {
    let prom = prometheus::Prometheus::start();
    let influx = influxdb::InfluxDb::start();
    influx
        .query("", &format!("CREATE DATABASE {INFLUX_DB}"))
        .expect("create database");
    let bridge = otlp_bridge::OtlpBridge::start(prom.port);
    let dir = tempfile::tempdir().expect("tempdir");
    let (rw_export, otlp_export) = (dir.path().join("rw.json"), dir.path().join("otlp.json"));
    let influx_url = format!("http://127.0.0.1:{}/{INFLUX_DB}", influx.port);

    let from_ms = now_ms() - 10_000;
    let rw = fixture_run::start(
        RW,
        &[
            format!("prometheus-rw={}", prom.write_url()),
            format!("influxdb={influx_url}"),
        ],
        Some(&rw_export),
    );
    // A second apart, so Compare's defaults (baseline = the earlier run,
    // current = the later one) are unambiguous.
    std::thread::sleep(Duration::from_secs(1));
    let otlp = fixture_run::start(
        OTLP,
        &[
            format!("otlp={}", bridge.url()),
            format!("influxdb={influx_url};mode=aggregate"),
        ],
        Some(&otlp_export),
    );
    finish(RW, rw);
    finish(OTLP, otlp);
    std::thread::sleep(Duration::from_secs(1));
    let to_ms = now_ms() + 5_000;

    assert_eq!(bridge.errors(), Vec::<String>::new(), "OTLP bridge errors");
    assert!(bridge.requests() > 0, "no OTLP request reached the bridge");

    let backends = Backends {
        prometheus: &prom,
        influxdb: &influx,
        run_ends_ms: backend_query::run_ends_ms(&prom, (to_ms - from_ms) / 1000 + 60),
    };
    assert_eq!(backends.run_ends_ms.len(), 2, "both runs' end markers");
    let runs = Runs {
        rw: SummaryFigures::load(&rw_export),
        otlp: SummaryFigures::load(&otlp_export),
        otlp_scale: bridge.min_scale(),
    };
    let mut checker = Checker::new(&backends, from_ms, to_ms);
    checker.prometheus_overview(RW, &runs.rw, runs.rw_resolution());
    checker.prometheus_overview(OTLP, &runs.otlp, runs.otlp_resolution());
    checker.influx_overview(RW, &runs.rw, false);
    checker.influx_overview(OTLP, &runs.otlp, true);
    checker.compare_runs(RW, OTLP, &runs);
    checker.test_list(&[
        (RW, &runs.rw, runs.rw_resolution()),
        (OTLP, &runs.otlp, runs.otlp_resolution()),
    ]);
    let (checked, failures) = checker.finish();
    assert!(
        failures.is_empty(),
        "{} of {checked} dashboard values differ from the summaries:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 250, "only {checked} values checked");
}
