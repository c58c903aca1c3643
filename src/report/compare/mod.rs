//! `stampede compare BASELINE CURRENT`: two summary exports side by side.
//! Per scope (all requests, each endpoint, each other trend metric) the
//! change in request rate, error rate and p50/p95/p99, each with a verdict
//! against [`Tolerances`]. A change past its tolerance is a regression only
//! if it is also more than the runs' own variability explains ([`noise`]):
//! per-interval percentiles from the timelines for latency, binomial noise
//! for error rates.

mod noise;
mod render;

use serde::Serialize;

use super::run_file::{EndpointRow, RunFile};
use crate::timeline::Bucket;

pub use noise::{mann_whitney_p, two_proportion_p};
pub use render::{CompareFormat, render_comparison};

/// How much change is tolerated before a verdict other than unchanged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tolerances {
    /// Relative change in requests per second (0.10: ±10 %).
    pub rate: f64,
    /// Absolute change in the failed share (0.01: ±1 percentage point).
    pub error_rate: f64,
    /// Relative change in a percentile (0.10: ±10 %)...
    pub latency: f64,
    /// ...and at least this many ms for time trends, so sub-millisecond
    /// jitter on fast endpoints is never a regression.
    pub latency_min_ms: f64,
    /// Significance level of the noise tests.
    pub alpha: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            rate: 0.10,
            error_rate: 0.01,
            latency: 0.10,
            latency_min_ms: 1.0,
            alpha: 0.05,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Improved,
    Unchanged,
    Regressed,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Regressed => "regressed",
        }
    }
}

/// One measure of one scope in both runs.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// `all requests`, an endpoint (`GET credits`) or a metric name.
    pub scope: String,
    /// `req/s`, `error rate`, `p50`, `p95` or `p99`.
    pub measure: String,
    /// `req/s`, `share` (0..=1) or the metric's unit (`ms` for time).
    pub unit: String,
    pub baseline: f64,
    pub current: f64,
    /// Relative change for rates and percentiles, absolute for error rates.
    pub change: f64,
    pub verdict: Verdict,
    /// The noise test's p-value, when one was run.
    pub p_value: Option<f64>,
    /// Why the verdict, when it is not evident from the numbers.
    pub note: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub baseline: String,
    pub current: String,
    pub tolerances: Tolerances,
    pub rows: Vec<Row>,
    /// Endpoints only one of the runs requested (not compared).
    pub only_in_baseline: Vec<String>,
    pub only_in_current: Vec<String>,
}

impl Comparison {
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Regressed)
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == verdict).count()
    }
}

const PERCENTILES: [(&str, f64, &str); 3] = [
    ("p50", 50.0, "med"),
    ("p95", 95.0, "p(95)"),
    ("p99", 99.0, "p(99)"),
];
const ALL_REQUESTS: &str = "all requests";

/// Compares `current` against `baseline`; the names label the output.
pub fn compare(
    baseline: &RunFile,
    current: &RunFile,
    names: (&str, &str),
    tolerances: &Tolerances,
) -> Comparison {
    let judge = Judge {
        baseline,
        current,
        tol: tolerances,
    };
    let mut rows = Vec::new();
    if let (Some(b), Some(c)) = (requests(baseline), requests(current)) {
        rows.push(judge.rate(ALL_REQUESTS, b, c));
        rows.push(judge.error_rate(ALL_REQUESTS, b, c));
        for (measure, p, field) in PERCENTILES {
            let (Some(bv), Some(cv)) = (
                baseline.metric_value("http_req_duration", field),
                current.metric_value("http_req_duration", field),
            ) else {
                continue;
            };
            let series = |b: &Bucket| b.trend("http_req_duration").map(|t| t.percentile(p));
            rows.push(judge.latency(ALL_REQUESTS, measure, "ms", (bv, cv), &series));
        }
    }
    let base_endpoints = baseline.endpoints();
    let cur_endpoints = current.endpoints();
    let find = |rows: &[EndpointRow], e: &EndpointRow| {
        rows.iter()
            .find(|r| r.name == e.name && r.method == e.method)
            .cloned()
    };
    for b in &base_endpoints {
        let Some(c) = find(&cur_endpoints, b) else {
            continue;
        };
        let scope = b.label();
        let counts = |run: &RunFile, e: &EndpointRow| Counts {
            requests: e.requests,
            failures: e.failures,
            seconds: run.duration_seconds(),
        };
        let (bc, cc) = (counts(baseline, b), counts(current, &c));
        rows.push(judge.rate(&scope, bc, cc));
        rows.push(judge.error_rate(&scope, bc, cc));
        for (measure, p, _) in PERCENTILES {
            let (name, method) = (b.name.clone(), b.method.clone());
            let series = move |bucket: &Bucket| {
                bucket
                    .endpoint(&name, &method)
                    .filter(|e| e.duration.count > 0)
                    .map(|e| e.duration.percentile(p))
            };
            let values = (b.duration.percentile(p), c.duration.percentile(p));
            rows.push(judge.latency(&scope, measure, "ms", values, &series));
        }
    }
    for (name, entry) in &baseline.metrics {
        let other_trend =
            entry.kind == "trend" && !name.contains('{') && name != "http_req_duration";
        let Some(cur_entry) = current.metrics.get(name).filter(|_| other_trend) else {
            continue;
        };
        let unit = if entry.contains == "time" { "ms" } else { "" };
        for (measure, p, field) in PERCENTILES {
            let value = |e: &super::run_file::MetricEntry| {
                e.values.get(field).and_then(serde_json::Value::as_f64)
            };
            let (Some(bv), Some(cv)) = (value(entry), value(cur_entry)) else {
                continue;
            };
            let metric = name.clone();
            let series = move |b: &Bucket| b.trend(&metric).map(|t| t.percentile(p));
            rows.push(judge.latency(name, measure, unit, (bv, cv), &series));
        }
    }
    let missing = |from: &[EndpointRow], other: &[EndpointRow]| {
        from.iter()
            .filter(|e| find(other, e).is_none())
            .map(EndpointRow::label)
            .collect()
    };
    Comparison {
        baseline: names.0.to_string(),
        current: names.1.to_string(),
        tolerances: tolerances.clone(),
        rows,
        only_in_baseline: missing(&base_endpoints, &cur_endpoints),
        only_in_current: missing(&cur_endpoints, &base_endpoints),
    }
}

#[derive(Clone, Copy, Debug)]
struct Counts {
    requests: u64,
    failures: u64,
    seconds: f64,
}

impl Counts {
    fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }

    fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.failures as f64 / self.requests as f64
        }
    }
}

fn requests(run: &RunFile) -> Option<Counts> {
    let requests = run.metric_value("http_reqs", "count")? as u64;
    Some(Counts {
        requests,
        failures: run.metric_value("http_req_failed", "passes").unwrap_or(0.0) as u64,
        seconds: run.duration_seconds(),
    })
}

struct Judge<'a> {
    baseline: &'a RunFile,
    current: &'a RunFile,
    tol: &'a Tolerances,
}

fn relative(baseline: f64, current: f64) -> f64 {
    if baseline != 0.0 {
        (current - baseline) / baseline
    } else if current == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

impl Judge<'_> {
    fn rate(&self, scope: &str, b: Counts, c: Counts) -> Row {
        let (bv, cv) = (b.rate(), c.rate());
        let change = relative(bv, cv);
        let verdict = if change < -self.tol.rate {
            Verdict::Regressed
        } else if change > self.tol.rate {
            Verdict::Improved
        } else {
            Verdict::Unchanged
        };
        row(
            scope,
            "req/s",
            "req/s",
            (bv, cv),
            change,
            verdict,
            None,
            String::new(),
        )
    }

    fn error_rate(&self, scope: &str, b: Counts, c: Counts) -> Row {
        let (bv, cv) = (b.error_rate(), c.error_rate());
        let change = cv - bv;
        let p = two_proportion_p(b.failures, b.requests, c.failures, c.requests);
        let (verdict, note) = self.significant(
            change.abs() > self.tol.error_rate,
            change > 0.0,
            p,
            "failed shares, two-proportion test",
        );
        row(
            scope,
            "error rate",
            "share",
            (bv, cv),
            change,
            verdict,
            p,
            note,
        )
    }

    /// A percentile: past the tolerance (relative, and absolute for time
    /// trends), then tested against the per-interval values of both timelines.
    fn latency(
        &self,
        scope: &str,
        measure: &str,
        unit: &str,
        (bv, cv): (f64, f64),
        per_interval: &dyn Fn(&Bucket) -> Option<f64>,
    ) -> Row {
        let change = relative(bv, cv);
        let min_abs = if unit == "ms" {
            self.tol.latency_min_ms
        } else {
            0.0
        };
        let beyond = change.abs() > self.tol.latency && (cv - bv).abs() > min_abs;
        let intervals = |run: &RunFile| -> Vec<f64> {
            run.timeline
                .as_ref()
                .map(|t| t.buckets.iter().filter_map(per_interval).collect())
                .unwrap_or_default()
        };
        let p = mann_whitney_p(&intervals(self.baseline), &intervals(self.current));
        let what = format!("per-interval {measure}, Mann-Whitney");
        let (verdict, note) = self.significant(beyond, cv > bv, p, &what);
        row(scope, measure, unit, (bv, cv), change, verdict, p, note)
    }

    /// The verdict for a change that is (or is not) `beyond` tolerance,
    /// with `p` the noise test's p-value (`None`: no test possible).
    fn significant(
        &self,
        beyond: bool,
        worse: bool,
        p: Option<f64>,
        test: &str,
    ) -> (Verdict, String) {
        if !beyond {
            return (Verdict::Unchanged, String::new());
        }
        let direction = if worse {
            Verdict::Regressed
        } else {
            Verdict::Improved
        };
        match p {
            Some(p) if p >= self.tol.alpha => (
                Verdict::Unchanged,
                format!("beyond tolerance but within noise ({test}: p={p:.3})"),
            ),
            Some(p) => (direction, format!("{test}: p={p:.4}")),
            None => (
                direction,
                "too few intervals to test for noise; judged on the whole-run value".to_string(),
            ),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    scope: &str,
    measure: &str,
    unit: &str,
    (baseline, current): (f64, f64),
    change: f64,
    verdict: Verdict,
    p_value: Option<f64>,
    note: String,
) -> Row {
    Row {
        scope: scope.to_string(),
        measure: measure.to_string(),
        unit: unit.to_string(),
        baseline,
        current,
        change,
        verdict,
        p_value,
        note,
    }
}
