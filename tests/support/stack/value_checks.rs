#![allow(dead_code)] // each test file uses a different part of these helpers
//! Compares what dashboard panels show with a run's summary: each check
//! names a panel and a query (refId), the variables chosen, and the figures
//! expected per row.

use std::collections::BTreeMap;

use super::backend_query::{Backends, Valued, query_values, variable_options};
use super::dashboards::{Backend, Dashboard, load_dashboards, variable_query};
use super::grafana::{Choice, TimeContext, interpolate};
use hdrhistogram::Histogram;

use super::summary_figures::{Group, SummaryFigures, quantile};

/// HDR histograms keep 3 significant digits: a value is within 0.1 %.
pub const HDR_RESOLUTION: f64 = 0.001;
/// The remote-write output's default native-histogram schema.
const REMOTE_WRITE_SCHEMA: i32 = 5;

/// The relative width of a native-histogram bucket of `schema`: a quantile
/// Prometheus reads off it lies within this share of the true value.
pub fn bucket_resolution(schema: i32) -> f64 {
    2f64.powf(2f64.powi(-schema)) - 1.0
}

pub struct Runs {
    pub rw: SummaryFigures,
    pub otlp: SummaryFigures,
    /// The coarsest exponential scale the OTLP output sent.
    pub otlp_scale: Option<i32>,
}

impl Runs {
    pub fn rw_resolution(&self) -> f64 {
        bucket_resolution(REMOTE_WRITE_SCHEMA) + HDR_RESOLUTION
    }

    pub fn otlp_resolution(&self) -> f64 {
        let scale = self
            .otlp_scale
            .expect("the OTLP output sent no exponential histogram");
        bucket_resolution(scale) + HDR_RESOLUTION
    }
}

/// How close a shown value must be.
#[derive(Clone, Copy, Debug)]
pub enum Tol {
    /// Equal (counts: both are integers carried exactly).
    Exact,
    /// Within this share of the expected value.
    Rel(f64),
    /// Within this absolute distance.
    Abs(f64),
    /// Anywhere in [lo, hi] (an estimate the panel documents as one).
    Range(f64, f64),
}

impl Tol {
    fn accepts(self, want: f64, got: f64) -> bool {
        match self {
            Tol::Exact => got == want,
            Tol::Rel(r) => (got - want).abs() <= r * want.abs(),
            Tol::Abs(a) => (got - want).abs() <= a,
            Tol::Range(lo, hi) => (lo..=hi).contains(&got),
        }
    }
}

/// HDR histograms of time hold whole microseconds.
const HDR_QUANTUM_S: f64 = 1e-6;

/// Tolerance for a latency (seconds) read off a histogram of relative
/// resolution `res`: a bucket's width around the value, plus the
/// microsecond a sample may have been rounded by before it was bucketed
/// (enough to cross a bucket boundary: 122.407 µs is recorded as 122 µs).
pub fn latency_tol(res: f64, want: f64) -> Tol {
    Tol::Abs(want.abs() * res + HDR_QUANTUM_S)
}

pub struct Checker<'a> {
    b: &'a Backends<'a>,
    from_ms: i64,
    to_ms: i64,
    dashboards: Vec<Dashboard>,
    checked: usize,
    failures: Vec<String>,
}

impl<'a> Checker<'a> {
    pub fn new(b: &'a Backends<'a>, from_ms: i64, to_ms: i64) -> Self {
        Checker {
            b,
            from_ms,
            to_ms,
            dashboards: load_dashboards(),
            checked: 0,
            failures: Vec::new(),
        }
    }

    pub fn finish(self) -> (usize, Vec<String>) {
        (self.checked, self.failures)
    }

    fn dashboard(&self, uid: &str) -> &Dashboard {
        self.dashboards
            .iter()
            .find(|d| d.uid() == uid)
            .unwrap_or_else(|| panic!("no dashboard {uid}"))
    }

    fn time(&self, backend: Backend) -> TimeContext {
        // The provisioned datasources' minimum interval (5 s) for both.
        let _ = backend;
        TimeContext::new(self.from_ms, self.to_ms, 5)
    }

    /// Resolves the variables in order as Grafana does on load, with
    /// `given` choices for some of them: custom ones take their current
    /// value, "All" its allValue (or every option), others the first option.
    pub fn variables(
        &mut self,
        uid: &str,
        given: &[(&str, Choice)],
    ) -> Result<BTreeMap<String, Choice>, String> {
        let d = self.dashboard(uid);
        let backend = d.backend();
        let time = self.time(backend);
        let mut vars = BTreeMap::new();
        for v in d.variables() {
            let name = v["name"].as_str().unwrap_or("").to_string();
            if let Some((_, choice)) = given.iter().find(|(n, _)| *n == name) {
                vars.insert(name, choice.clone());
                continue;
            }
            let choice = match v["type"].as_str() {
                Some("custom") => {
                    Choice::Single(v["current"]["value"].as_str().unwrap_or("").to_string())
                }
                Some("query") => {
                    let query = interpolate(&variable_query(v), backend, &time, &vars)?;
                    let options = variable_options(
                        self.b,
                        backend,
                        &query,
                        v["regex"].as_str().unwrap_or(""),
                        &time,
                    )
                    .map_err(|e| format!("{uid} variable {name}: {e}"))?;
                    if v["includeAll"] == true {
                        match v["allValue"].as_str() {
                            Some(all) => Choice::All(all.to_string()),
                            None => Choice::Values(options),
                        }
                    } else {
                        Choice::Single(
                            options
                                .first()
                                .ok_or(format!("{uid} variable {name}: no options from {query}"))?
                                .clone(),
                        )
                    }
                }
                _ => continue,
            };
            vars.insert(name, choice);
        }
        Ok(vars)
    }

    /// The raw samples of `selector` over the last hour: per series (labels
    /// as `k=v` joined by commas), (Unix seconds, value) in time order.
    pub fn raw_samples(&self, selector: &str) -> BTreeMap<String, Vec<(f64, f64)>> {
        let data = self
            .b
            .prometheus
            .api(
                "/api/v1/query",
                &super::http::form(&[
                    ("query", &format!("{selector}[1h]")),
                    ("time", &format!("{:.3}", self.to_ms as f64 / 1000.0)),
                ]),
            )
            .expect("range-vector query");
        data["result"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|s| {
                let labels: Vec<String> = s["metric"]
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                            .collect()
                    })
                    .unwrap_or_default();
                let values = s["values"]
                    .as_array()
                    .unwrap_or(&Vec::new())
                    .iter()
                    .filter_map(|p| Some((p[0].as_f64()?, p[1].as_str()?.parse().ok()?)))
                    .collect();
                (labels.join(","), values)
            })
            .collect()
    }

    /// The end marker's value of run `testid` (Unix seconds).
    pub fn end_marker_s(&self, testid: &str) -> f64 {
        let samples = self.raw_samples(&format!(
            "stampede_test_end_timestamp_seconds{{testid=\"{testid}\"}}"
        ));
        samples
            .values()
            .flat_map(|s| s.iter().map(|(_, v)| *v))
            .fold(f64::NAN, f64::max)
    }

    /// Records a failure unless `ok`.
    pub fn require(&mut self, ok: bool, what: String) {
        self.checked += 1;
        if !ok {
            self.failures.push(what);
        }
    }

    /// The start marker of each run, in ms since the epoch.
    pub fn start_markers_ms(&self, testids: &[&str]) -> Vec<f64> {
        testids
            .iter()
            .map(|id| {
                let data = self
                    .b
                    .prometheus
                    .api(
                        "/api/v1/query",
                        &super::http::form(&[
                            (
                                "query",
                                &format!(
                                    "max(last_over_time(stampede_test_start_timestamp_seconds{{testid=\"{id}\"}}[1h]))"
                                ),
                            ),
                            ("time", &format!("{:.3}", self.to_ms as f64 / 1000.0)),
                        ]),
                    )
                    .expect("start marker");
                let secs: f64 = data["result"][0]["value"][1]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("no start marker for {id}: {data}"));
                (secs * 1000.0).round()
            })
            .collect()
    }

    /// What the target `ref_id` of panel `title` returns with `vars`.
    fn rows(
        &mut self,
        uid: &str,
        title: &str,
        ref_id: &str,
        vars: &BTreeMap<String, Choice>,
    ) -> Option<Vec<Valued>> {
        let d = self.dashboard(uid);
        let backend = d.backend();
        let time = self.time(backend);
        let Some(q) = d
            .panel_queries()
            .into_iter()
            .find(|q| q.panel == title && q.ref_id == ref_id)
        else {
            self.failures
                .push(format!("{uid}: no panel {title:?} with query {ref_id}"));
            return None;
        };
        let result = interpolate(&q.text, backend, &time, vars)
            .and_then(|text| query_values(self.b, backend, &text, q.instant, &time));
        match result {
            Ok(rows) => Some(rows),
            Err(e) => {
                self.failures.push(format!("{uid} {}: {e}", q.place));
                None
            }
        }
    }

    fn record(&mut self, place: &str, want: f64, got: Option<f64>, tol: Tol) {
        self.checked += 1;
        match got {
            Some(got) if tol.accepts(want, got) => {}
            Some(got) => self.failures.push(format!(
                "{place}: shows {got}, summary says {want} ({tol:?})"
            )),
            None => self
                .failures
                .push(format!("{place}: shows nothing, summary says {want}")),
        }
    }

    /// A stat: the query returns one value.
    pub fn one(
        &mut self,
        uid: &str,
        title: &str,
        ref_id: &str,
        vars: &BTreeMap<String, Choice>,
        want: f64,
        tol: Tol,
    ) -> Option<f64> {
        let rows = self.rows(uid, title, ref_id, vars)?;
        let place = format!("{uid} [{}] {title:?}/{ref_id}", describe(vars));
        if rows.len() > 1 {
            self.failures
                .push(format!("{place}: {} series, expected one", rows.len()));
        }
        let got = rows.first().map(|r| r.value);
        self.record(&place, want, got, tol);
        got
    }

    /// A table or a per-series query: one row per group of `keys` (plus
    /// `column` = `column` for InfluxDB tables), each compared with `want`;
    /// rows the summary does not have, or missing ones, fail.
    #[allow(clippy::too_many_arguments)]
    pub fn by(
        &mut self,
        uid: &str,
        title: &str,
        ref_id: &str,
        vars: &BTreeMap<String, Choice>,
        keys: &[&str],
        column: Option<&str>,
        want: &BTreeMap<Group, f64>,
        tol: impl Fn(&Group, f64) -> Tol,
    ) {
        let Some(rows) = self.rows(uid, title, ref_id, vars) else {
            return;
        };
        let place = format!("{uid} [{}] {title:?}/{ref_id}", describe(vars));
        let mut got: BTreeMap<Group, f64> = BTreeMap::new();
        for r in rows {
            if column.is_some_and(|c| r.labels.get("column").map(String::as_str) != Some(c)) {
                continue;
            }
            let group: Group = keys
                .iter()
                .map(|k| r.labels.get(*k).cloned().unwrap_or_default())
                .collect();
            if got.insert(group.clone(), r.value).is_some() {
                self.failures
                    .push(format!("{place}: two rows for {group:?}"));
            }
        }
        for (group, &w) in want {
            let g = got.remove(group);
            let row_place = format!("{place} {}{group:?}", column.unwrap_or(""));
            self.record(&row_place, w, g, tol(group, w));
        }
        for (group, value) in got {
            self.failures.push(format!(
                "{place}: row {group:?} = {value} is not in the summary"
            ));
        }
    }
}

fn describe(vars: &BTreeMap<String, Choice>) -> String {
    ["testid", "baseline"]
        .iter()
        .filter_map(|k| vars.get(*k).map(|c| format!("{k}={c:?}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The four figures of a custom metric panel: the metric and which line
/// (refId) shows it.
pub fn custom_lines(s: &SummaryFigures) -> Vec<(&'static str, &'static str, f64)> {
    vec![
        ("graph_pages", "B", s.metric("graph_pages", "count")),
        ("graphs_ok", "C", s.metric("graphs_ok", "rate")),
        ("graphs_listed", "D", s.metric("graphs_listed", "value")),
        ("graph_page_size", "A", s.metric("graph_page_size", "p(95)")),
    ]
}

/// Per-endpoint figures of a run (keys name, method), in the dashboards'
/// units: `ms_per_unit` 1000 for Prometheus (seconds), 1 for InfluxDB (ms).
pub struct Endpoints {
    pub requests: BTreeMap<Group, f64>,
    pub error_rate: BTreeMap<Group, f64>,
    pub min: BTreeMap<Group, f64>,
    pub avg: BTreeMap<Group, f64>,
    pub max: BTreeMap<Group, f64>,
    /// (q, per group)
    pub quantiles: Vec<(f64, BTreeMap<Group, f64>)>,
    /// The merged histograms, in micro-units.
    pub histograms: BTreeMap<Group, Histogram<u64>>,
}

/// The values a nearest-rank percentile of the samples behind `h` may take
/// (display units): InfluxDB's `percentile()` rounds the rank q·N to the
/// nearest sample and `median()` averages the middle two, while HDR takes
/// rank ⌈q·N⌉, so they may pick a neighbouring sample. The range spans the
/// samples one rank either side, widened by HDR's resolution.
pub fn rank_range(h: &Histogram<u64>, q: f64) -> (f64, f64) {
    let n = h.len() as f64;
    let lo = quantile(h, (q - 1.0 / n).max(0.0));
    let hi = quantile(h, (q + 1.0 / n).min(1.0));
    (lo * (1.0 - HDR_RESOLUTION), hi * (1.0 + HDR_RESOLUTION))
}

pub fn endpoints(s: &SummaryFigures, keys: &[&str], ms_per_unit: f64) -> Endpoints {
    let scale = |m: BTreeMap<Group, f64>| -> BTreeMap<Group, f64> {
        m.into_iter().map(|(g, v)| (g, v / ms_per_unit)).collect()
    };
    let sums = s.sum_by("http_req_duration", "sum", keys);
    let counts = s.sum_by("http_req_duration", "count", keys);
    let histograms = s.histogram_by("http_req_duration", keys);
    Endpoints {
        requests: s.sum_by("http_reqs", "count", keys),
        error_rate: s.rate_by("http_req_failed", keys),
        min: scale(s.extreme_by("http_req_duration", "min", keys)),
        avg: scale(
            sums.iter()
                .map(|(g, sum)| (g.clone(), sum / counts[g]))
                .collect(),
        ),
        max: scale(s.extreme_by("http_req_duration", "max", keys)),
        quantiles: [0.5, 0.95, 0.99]
            .into_iter()
            .map(|q| {
                (
                    q,
                    histograms
                        .iter()
                        .map(|(g, h)| (g.clone(), quantile(h, q) / ms_per_unit))
                        .collect(),
                )
            })
            .collect(),
        histograms,
    }
}

/// Every threshold's outcome as the dashboards show it (1 passed, 0 failed),
/// keyed by (metric, threshold).
pub fn threshold_rows(s: &SummaryFigures) -> BTreeMap<Group, f64> {
    s.json["thresholds"]
        .as_array()
        .expect("summary thresholds")
        .iter()
        .map(|t| {
            (
                vec![
                    t["metric"].as_str().unwrap_or("").to_string(),
                    t["expression"].as_str().unwrap_or("").to_string(),
                ],
                f64::from(u8::from(t["ok"] == true)),
            )
        })
        .collect()
}
