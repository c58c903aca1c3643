//! The dashboards against real data: two real stampede runs stream into a
//! real Prometheus 2.42 (remote-write, native histograms) and a real InfluxDB
//! 1.6; then every panel, annotation and variable query of every dashboard is
//! taken from the JSON, interpolated as Grafana would, run against the
//! backend's query API and must return data. Done twice: with "All" chosen
//! in the multi-value variables, and with every value chosen explicitly
//! (Grafana's escaped `(a|b)` regex form).

#[path = "support/stack/backend_query.rs"]
mod backend_query;
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
#[path = "support/stack/process.rs"]
mod process;
#[path = "support/stack/prometheus.rs"]
mod prometheus;

use std::collections::BTreeMap;
use std::time::Duration;

use backend_query::{Backends, INFLUX_DB, run_query, variable_options};
use dashboards::{
    Backend, Dashboard, load_dashboards, provisioned_datasources, time_interval_secs,
    variable_query,
};
use fixture_run::{finish, now_ms};
use grafana::{Choice, TimeContext, interpolate};

/// The two runs: the Compare dashboard sets them against each other; the
/// overviews show the second.
const BASELINE: &str = "stack-baseline";
const CURRENT: &str = "stack-current";

/// Panels (or collapsed rows) that this run cannot fill, and why. A listed
/// panel whose every query returns data fails the test: take it off the list.
const ALLOWED_EMPTY: [(&str, &str, &str); 1] = [(
    "stampede-overview",
    "Latency from trend stats (p95, p99)",
    "trend-stat gauges are sent only when prometheus-rw is given trend_stats=; this run uses the output's defaults",
)];

#[test]
fn every_dashboard_query_returns_data_after_a_real_run() {
    let prom = prometheus::Prometheus::start();
    let influx = influxdb::InfluxDb::start();
    influx
        .query("", &format!("CREATE DATABASE {INFLUX_DB}"))
        .expect("create database");
    let from_ms = now_ms() - 10_000;
    // Both runs at once: half the wall time, and Compare gets two test ids.
    let outputs = [
        format!("prometheus-rw={}", prom.write_url()),
        format!("influxdb=http://127.0.0.1:{}/{INFLUX_DB}", influx.port),
    ];
    let baseline = fixture_run::start(BASELINE, &outputs, None);
    let current = fixture_run::start(CURRENT, &outputs, None);
    finish(BASELINE, baseline);
    finish(CURRENT, current);
    std::thread::sleep(Duration::from_secs(1));
    let to_ms = now_ms() + 5_000;

    let backends = Backends {
        prometheus: &prom,
        influxdb: &influx,
        run_ends_ms: backend_query::run_ends_ms(&prom, (to_ms - from_ms) / 1000 + 60),
    };
    assert_eq!(backends.run_ends_ms.len(), 2, "two runs' end markers");
    let provisioned = provisioned_datasources();
    let mut failures = Vec::new();
    let mut checked = 0;
    for d in load_dashboards() {
        let backend = d.backend();
        let uid = match backend {
            Backend::Prometheus => "stampede-prometheus",
            Backend::InfluxQl => "stampede-influxdb",
        };
        let time = TimeContext::new(from_ms, to_ms, time_interval_secs(&provisioned[uid].1));
        for explicit in [false, true] {
            let pass = if explicit {
                "every value chosen"
            } else {
                "All chosen"
            };
            let vars = match choose_variables(&d, backend, &backends, &time, explicit) {
                Ok(vars) => vars,
                Err(e) => {
                    failures.push(format!("{} ({pass}): {e}", d.file));
                    continue;
                }
            };
            checked += check_dashboard(&d, backend, &backends, &time, &vars, pass, &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} dashboard queries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 100, "only {checked} queries checked");
}

/// Resolves every variable in order, as Grafana does on load: the test
/// pickers get the known runs (which must be among the options), the
/// multi-value variables "All" or every option, a custom variable its
/// current value, a hidden computed one its first option; ad-hoc filters
/// stay empty.
fn choose_variables(
    d: &Dashboard,
    backend: Backend,
    b: &Backends,
    time: &TimeContext,
    explicit: bool,
) -> Result<BTreeMap<String, Choice>, String> {
    let mut vars = BTreeMap::new();
    for v in d.variables() {
        let name = v["name"].as_str().unwrap_or("").to_string();
        match v["type"].as_str() {
            Some("custom") => {
                let current = v["current"]["value"].as_str().unwrap_or("").to_string();
                vars.insert(name, Choice::Single(current));
                continue;
            }
            Some("query") => {}
            _ => continue,
        }
        let query = interpolate(&variable_query(v), backend, time, &vars)?;
        let regex = v["regex"].as_str().unwrap_or("");
        let options = variable_options(b, backend, &query, regex, time)
            .map_err(|e| format!("variable {name}: {e}"))?;
        if options.is_empty() {
            return Err(format!("variable {name}: no options from {query}"));
        }
        let run = if name == "baseline" {
            BASELINE
        } else {
            CURRENT
        };
        let choice = if v["includeAll"] == true {
            // Without an allValue, Grafana's "All" is every option.
            match v["allValue"].as_str() {
                Some(all) if !explicit => Choice::All(all.to_string()),
                _ => Choice::Values(options),
            }
        } else if name == "testid" || name == "baseline" {
            if !options.iter().any(|o| o == run) {
                return Err(format!("variable {name}: {run} not among {options:?}"));
            }
            if v["multi"] == true {
                Choice::Values(vec![run.to_string()])
            } else {
                Choice::Single(run.to_string())
            }
        } else {
            Choice::Single(options[0].clone())
        };
        vars.insert(name, choice);
    }
    Ok(vars)
}

/// Runs every panel and annotation query; returns how many ran. A
/// repeated panel runs once per value of its variable, and each copy needs
/// data from at least one of its queries (it shows one line per metric
/// type, and only the type's line has data).
fn check_dashboard(
    d: &Dashboard,
    backend: Backend,
    b: &Backends,
    time: &TimeContext,
    vars: &BTreeMap<String, Choice>,
    pass: &str,
    failures: &mut Vec<String>,
) -> usize {
    let queries: Vec<_> = d
        .panel_queries()
        .into_iter()
        .chain(d.annotation_queries())
        .collect();
    // panel title → (queries run, queries with data) for the allowed-empty list
    let mut per_panel: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    // (repeated panel, value) → queries with data
    let mut repeats: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut ran = 0;
    for q in &queries {
        let allowed = ALLOWED_EMPTY.iter().find(|(uid, title, _)| {
            *uid == d.uid() && (q.panel == *title || q.row.as_deref() == Some(*title))
        });
        // These runs write per-request points; tests/stack_values.rs runs
        // the aggregate alternatives against a mode=aggregate run.
        if q.reads_aggregates() {
            continue;
        }
        let copies: Vec<(Option<String>, BTreeMap<String, Choice>)> = match &q.repeat {
            None => vec![(None, vars.clone())],
            Some(var) => {
                let values = match vars.get(var) {
                    Some(Choice::Values(v)) => v.clone(),
                    Some(Choice::Single(v)) => vec![v.clone()],
                    other => panic!("{}: repeat over {var}: {other:?}", d.file),
                };
                values
                    .into_iter()
                    .map(|value| {
                        let mut one = vars.clone();
                        one.insert(var.clone(), Choice::Single(value.clone()));
                        (Some(value), one)
                    })
                    .collect()
            }
        };
        for (copy, vars) in copies {
            ran += 1;
            let text = match interpolate(&q.text, backend, time, &vars) {
                Ok(t) => t,
                Err(e) => {
                    failures.push(format!("{} ({pass}) {}: {e}", d.file, q.place));
                    continue;
                }
            };
            let result = run_query(b, backend, &text, q.instant, time);
            if let Some(value) = &copy {
                let with_data = repeats.entry((q.panel.clone(), value.clone())).or_default();
                match result {
                    Err(e) => failures.push(format!(
                        "{} ({pass}) {} [{value}]: query failed: {e}\n    {text}",
                        d.file, q.place
                    )),
                    Ok(n) => *with_data += usize::from(n > 0),
                }
                continue;
            }
            let entry = per_panel.entry(q.panel.clone()).or_default();
            entry.0 += 1;
            match result {
                Err(e) => failures.push(format!(
                    "{} ({pass}) {}: query failed: {e}\n    {text}",
                    d.file, q.place
                )),
                Ok(0) if allowed.is_none() => failures.push(format!(
                    "{} ({pass}) {}: no data\n    {text}",
                    d.file, q.place
                )),
                Ok(0) => {}
                Ok(_) => entry.1 += 1,
            }
        }
    }
    for ((panel, value), with_data) in &repeats {
        if *with_data == 0 {
            failures.push(format!(
                "{} ({pass}) panel {panel:?} repeated for {value}: no query has data",
                d.file
            ));
        }
    }
    for (uid, title, reason) in ALLOWED_EMPTY.iter().filter(|(uid, ..)| *uid == d.uid()) {
        for q in queries
            .iter()
            .filter(|q| q.panel == *title || q.row.as_deref() == Some(*title))
        {
            let Some(&(ran, with_data)) = per_panel.get(&q.panel) else {
                continue;
            };
            if ran > 0 && ran == with_data {
                failures.push(format!(
                    "{uid} ({pass}) panel {:?} now has data: take {title:?} off ALLOWED_EMPTY ({reason})",
                    q.panel
                ));
                break;
            }
        }
    }
    ran
}
