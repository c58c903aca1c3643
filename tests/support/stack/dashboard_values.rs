#![allow(dead_code)] // each test file uses a different part of these helpers
//! What each shipped dashboard must show for a run, panel by panel, from
//! the run's summary (see value_checks.rs for how values are compared).

use std::collections::BTreeMap;

use super::grafana::Choice;
use super::summary_figures::{Group, SummaryFigures};
use super::value_checks::{
    Checker, HDR_RESOLUTION, Runs, Tol, custom_lines, endpoints, latency_tol, rank_range,
    threshold_rows,
};

const OVERVIEW: &str = "stampede-overview";
const INFLUX: &str = "stampede-overview-influxdb";
const COMPARE: &str = "stampede-compare";
const TESTS: &str = "stampede-tests";
const ENDPOINT: [&str; 2] = ["name", "method"];
const STATUS_ROW: [&str; 4] = ["name", "method", "status", "error_code"];

fn latency(res: f64) -> impl Fn(&Group, f64) -> Tol {
    move |_, want| latency_tol(res, want)
}

fn exact(_: &Group, _: f64) -> Tol {
    Tol::Exact
}

fn rate(_: &Group, _: f64) -> Tol {
    Tol::Rel(1e-9)
}

fn mean(_: &Group, _: f64) -> Tol {
    Tol::Rel(1e-6)
}

impl Checker<'_> {
    /// stampede / Test overview for run `testid` (remote-write or OTLP);
    /// `res` is the relative resolution of the native histograms it holds.
    pub fn prometheus_overview(&mut self, testid: &str, s: &SummaryFigures, res: f64) {
        let vars =
            match self.variables(OVERVIEW, &[("testid", Choice::Values(vec![testid.into()]))]) {
                Ok(v) => v,
                Err(e) => panic!("{e}"),
            };
        let v = &vars;
        let count = s.metric("http_reqs", "count");
        self.one(OVERVIEW, "Requests", "A", v, count, Tol::Exact);
        let failed = s.metric("http_req_failed", "rate");
        self.one(OVERVIEW, "Error rate", "A", v, failed, Tol::Rel(1e-9));
        for (title, p) in [("p95 latency", "p(95)"), ("p99 latency", "p(99)")] {
            let want = s.metric("http_req_duration", p) / 1000.0;
            self.one(OVERVIEW, title, "A", v, want, latency_tol(res, want));
        }
        // The busiest $__rate_interval window: at least the whole run's
        // mean rate, at most twice it for this steady load.
        let mean_rate = s.metric("http_reqs", "rate");
        self.one(
            OVERVIEW,
            "Peak request rate",
            "A",
            v,
            mean_rate,
            Tol::Range(mean_rate * 0.5, mean_rate * 2.0),
        );
        self.one(
            OVERVIEW,
            "Peak VUs",
            "A",
            v,
            s.metric("vus", "max"),
            Tol::Exact,
        );
        self.one(
            OVERVIEW,
            "Iterations",
            "A",
            v,
            s.metric("iterations", "count"),
            Tol::Exact,
        );
        self.one(
            OVERVIEW,
            "Checks passed",
            "A",
            v,
            s.metric("checks", "rate"),
            Tol::Rel(1e-9),
        );

        let e = endpoints(s, &ENDPOINT, 1000.0);
        let t = "Per endpoint";
        self.by(OVERVIEW, t, "A", v, &ENDPOINT, None, &e.requests, exact);
        self.by(OVERVIEW, t, "B", v, &ENDPOINT, None, &e.error_rate, rate);
        self.by(OVERVIEW, t, "C", v, &ENDPOINT, None, &e.min, latency(res));
        self.by(OVERVIEW, t, "D", v, &ENDPOINT, None, &e.avg, mean);
        for ((_, want), r) in e.quantiles.iter().zip(["E", "F", "G"]) {
            self.by(OVERVIEW, t, r, v, &ENDPOINT, None, want, latency(res));
        }
        self.by(OVERVIEW, t, "H", v, &ENDPOINT, None, &e.max, latency(res));
        let statuses = s.sum_by("http_reqs", "count", &STATUS_ROW);
        self.by(
            OVERVIEW,
            "Responses by status",
            "A",
            v,
            &STATUS_ROW,
            None,
            &statuses,
            exact,
        );
        let thresholds = threshold_rows(s);
        self.by(
            OVERVIEW,
            "Threshold results",
            "A",
            v,
            &["metric", "threshold"],
            None,
            &thresholds,
            exact,
        );
        // Over time: each threshold has a state from every push of the run
        // (a 16 s run with 5 s pushes: three during the run), all passing
        // here, then its outcome at the end.
        let over_time =
            self.raw_samples(&format!("stampede_threshold_passed{{testid=\"{testid}\"}}"));
        self.require(
            over_time.len() == thresholds.len(),
            format!(
                "{testid}: {} threshold series, the summary has {} thresholds",
                over_time.len(),
                thresholds.len()
            ),
        );
        let end = self.end_marker_s(testid);
        for (series, samples) in &over_time {
            let during = samples.iter().filter(|(t, _)| *t < end - 0.5).count();
            self.require(
                during >= 3 && samples.iter().all(|(_, v)| *v == 1.0),
                format!(
                    "{testid}: threshold {series}: {during} states before the end, samples {samples:?}"
                ),
            );
        }

        for (metric, line, want) in custom_lines(s) {
            let mut one = vars.clone();
            one.insert("custom".into(), Choice::Single(metric.into()));
            let tol = if line == "A" {
                Tol::Rel(res)
            } else {
                Tol::Rel(1e-9)
            };
            self.one(OVERVIEW, "Custom metric: $custom", line, &one, want, tol);
        }
    }

    /// stampede / Test overview (InfluxDB) for run `testid`, written as
    /// per-request points or (`aggregate`) as interval points.
    pub fn influx_overview(&mut self, testid: &str, s: &SummaryFigures, aggregate: bool) {
        let vars = match self.variables(INFLUX, &[("testid", Choice::Values(vec![testid.into()]))])
        {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        let v = &vars;
        // The query that reads this mode's fields.
        let r = |base: &str| {
            if aggregate {
                format!("{base}_aggregate")
            } else {
                base.to_string()
            }
        };
        let pct = HDR_RESOLUTION * 2.0;
        self.one(
            INFLUX,
            "Requests",
            "A",
            v,
            s.metric("http_reqs", "count"),
            Tol::Exact,
        );
        self.one(
            INFLUX,
            "Error rate",
            &r("A"),
            v,
            s.metric("http_req_failed", "rate"),
            Tol::Rel(1e-9),
        );
        let max = s.metric("http_req_duration", "max");
        for (title, p) in [("p95 latency", "p(95)"), ("p99 latency", "p(99)")] {
            let want = s.metric("http_req_duration", p);
            // Aggregate points hold interval percentiles: the highest of them
            // bounds the whole run's from above (every interval has at least
            // that share of samples below it), and the maximum bounds it.
            let tol = if aggregate {
                Tol::Range(want * (1.0 - HDR_RESOLUTION), max * (1.0 + HDR_RESOLUTION))
            } else {
                Tol::Rel(pct)
            };
            self.one(INFLUX, title, &r("A"), v, want, tol);
        }
        self.one(
            INFLUX,
            "Average latency",
            &r("A"),
            v,
            s.metric("http_req_duration", "avg"),
            Tol::Rel(1e-6),
        );
        self.one(
            INFLUX,
            "Peak VUs",
            "A",
            v,
            s.metric("vus", "max"),
            Tol::Exact,
        );
        self.one(
            INFLUX,
            "Iterations",
            "A",
            v,
            s.metric("iterations", "count"),
            Tol::Exact,
        );
        self.one(
            INFLUX,
            "Checks passed",
            &r("A"),
            v,
            s.metric("checks", "rate"),
            Tol::Rel(1e-9),
        );

        let e = endpoints(s, &ENDPOINT, 1.0);
        let t = "Per endpoint";
        self.by(
            INFLUX,
            t,
            "A",
            v,
            &ENDPOINT,
            Some("requests"),
            &e.requests,
            exact,
        );
        self.by(
            INFLUX,
            t,
            &r("B"),
            v,
            &ENDPOINT,
            Some("error_rate"),
            &e.error_rate,
            rate,
        );
        self.by(INFLUX, t, &r("C"), v, &ENDPOINT, Some("min"), &e.min, mean);
        self.by(INFLUX, t, &r("C"), v, &ENDPOINT, Some("avg"), &e.avg, mean);
        self.by(INFLUX, t, &r("C"), v, &ENDPOINT, Some("max"), &e.max, mean);
        for ((q, want), (column, base)) in
            e.quantiles
                .iter()
                .zip([("med", "D"), ("p95", "E"), ("p99", "F")])
        {
            if aggregate {
                let maxes = e.max.clone();
                self.by(
                    INFLUX,
                    t,
                    &r(base),
                    v,
                    &ENDPOINT,
                    Some(column),
                    want,
                    move |g, w| {
                        Tol::Range(
                            w * (1.0 - HDR_RESOLUTION),
                            maxes[g] * (1.0 + HDR_RESOLUTION),
                        )
                    },
                );
            } else {
                let ranges: BTreeMap<Group, (f64, f64)> = e
                    .histograms
                    .iter()
                    .map(|(g, h)| (g.clone(), rank_range(h, *q)))
                    .collect();
                self.by(
                    INFLUX,
                    t,
                    base,
                    v,
                    &ENDPOINT,
                    Some(column),
                    want,
                    move |g, _| {
                        let (lo, hi) = ranges[g];
                        Tol::Range(lo, hi)
                    },
                );
            }
        }
        let statuses = s.sum_by("http_reqs", "count", &STATUS_ROW);
        self.by(
            INFLUX,
            "Responses by status",
            "A",
            v,
            &STATUS_ROW,
            Some("requests"),
            &statuses,
            exact,
        );
        let thresholds = threshold_rows(s);
        self.by(
            INFLUX,
            "Threshold results",
            "A",
            v,
            &["metric", "threshold"],
            Some("result"),
            &thresholds,
            exact,
        );
    }

    /// stampede / Compare runs: `baseline` and `current` must be the
    /// default choices (the previous and the latest run), and every figure
    /// of both and their changes must match the summaries.
    pub fn compare_runs(&mut self, baseline: &str, current: &str, runs: &Runs) {
        let defaults = match self.variables(COMPARE, &[]) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        for (var, want) in [("testid", current), ("baseline", baseline)] {
            let chosen = format!("{:?}", defaults.get(var));
            assert_eq!(
                chosen,
                format!("{:?}", Some(Choice::Single(want.into()))),
                "Compare's default {var}"
            );
        }
        let v = &defaults;
        // The shift aligns the baseline's series with the current run's: the
        // difference of the two runs' start markers, in whole milliseconds.
        let starts = self.start_markers_ms(&[baseline, current]);
        let shift_ms = starts[1] - starts[0];
        match v.get("shift") {
            Some(Choice::Single(shift)) => {
                let got: f64 = shift.parse().expect("shift is a number");
                assert!(
                    (got - shift_ms).abs() <= 1.0,
                    "shift {got} ms, the start markers differ by {shift_ms} ms"
                );
            }
            other => panic!("shift variable: {other:?}"),
        }
        let (b, c) = (&runs.rw, &runs.otlp);
        let change = |base: f64, cur: f64| (cur - base) / base;
        for (title, metric, field) in [
            ("Requests", "http_reqs", "count"),
            ("Error rate", "http_req_failed", "rate"),
            ("Checks passed", "checks", "rate"),
        ] {
            let (wb, wc) = (b.metric(metric, field), c.metric(metric, field));
            let tol = if field == "count" {
                Tol::Exact
            } else {
                Tol::Rel(1e-9)
            };
            self.one(COMPARE, title, "A", v, wb, tol);
            self.one(COMPARE, title, "B", v, wc, tol);
            self.one(COMPARE, title, "C", v, change(wb, wc), Tol::Rel(1e-9));
        }
        for (title, p) in [("p95 latency", "p(95)"), ("p99 latency", "p(99)")] {
            let wb = b.metric("http_req_duration", p) / 1000.0;
            let wc = c.metric("http_req_duration", p) / 1000.0;
            let gb = self.one(
                COMPARE,
                title,
                "A",
                v,
                wb,
                latency_tol(runs.rw_resolution(), wb),
            );
            let gc = self.one(
                COMPARE,
                title,
                "B",
                v,
                wc,
                latency_tol(runs.otlp_resolution(), wc),
            );
            if let (Some(gb), Some(gc)) = (gb, gc) {
                // The change is computed from the two shown values.
                self.one(COMPARE, title, "C", v, change(gb, gc), Tol::Rel(1e-9));
            }
        }
        let eb = endpoints(b, &ENDPOINT, 1000.0);
        let ec = endpoints(c, &ENDPOINT, 1000.0);
        let t = "Per endpoint";
        self.by(COMPARE, t, "A", v, &ENDPOINT, None, &eb.requests, exact);
        self.by(COMPARE, t, "B", v, &ENDPOINT, None, &ec.requests, exact);
        let changes: BTreeMap<Group, f64> = eb
            .requests
            .iter()
            .map(|(g, base)| (g.clone(), change(*base, ec.requests[g])))
            .collect();
        // Equal request counts make a change of 0, which a relative
        // tolerance cannot check: compare those absolutely.
        self.by(COMPARE, t, "C", v, &ENDPOINT, None, &changes, |_, w| {
            if w == 0.0 {
                Tol::Abs(1e-12)
            } else {
                Tol::Rel(1e-9)
            }
        });
        self.by(COMPARE, t, "D", v, &ENDPOINT, None, &eb.error_rate, rate);
        self.by(COMPARE, t, "E", v, &ENDPOINT, None, &ec.error_rate, rate);
        let (p95b, p95c) = (&eb.quantiles[1].1, &ec.quantiles[1].1);
        self.by(
            COMPARE,
            t,
            "F",
            v,
            &ENDPOINT,
            None,
            p95b,
            latency(runs.rw_resolution()),
        );
        self.by(
            COMPARE,
            t,
            "G",
            v,
            &ENDPOINT,
            None,
            p95c,
            latency(runs.otlp_resolution()),
        );
    }

    /// stampede / Test runs: one row per run with its figures.
    pub fn test_list(&mut self, runs: &[(&str, &SummaryFigures, f64)]) {
        let v = match self.variables(TESTS, &[]) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        let row = |f: &dyn Fn(&SummaryFigures) -> f64| -> BTreeMap<Group, f64> {
            runs.iter()
                .map(|(id, s, _)| (vec![id.to_string()], f(s)))
                .collect()
        };
        let t = "Runs";
        let id = ["testid"];
        let start = row(&|s| s.json["state"]["startedAtUnixMs"].as_f64().unwrap());
        // The start marker is the first snapshot's wall-clock time minus the
        // run time it reports; the summary reads the clock as the run starts:
        // a few milliseconds apart.
        self.by(TESTS, t, "A", &v, &id, None, &start, |_, _| Tol::Abs(20.0));
        let duration = row(&|s| s.json["state"]["testRunDurationMs"].as_f64().unwrap() / 1000.0);
        self.by(TESTS, t, "B", &v, &id, None, &duration, |_, _| {
            Tol::Abs(0.01)
        });
        self.by(
            TESTS,
            t,
            "C",
            &v,
            &id,
            None,
            &row(&|s| s.metric("vus_max", "max")),
            exact,
        );
        self.by(
            TESTS,
            t,
            "D",
            &v,
            &id,
            None,
            &row(&|s| s.metric("http_reqs", "count")),
            exact,
        );
        self.by(
            TESTS,
            t,
            "E",
            &v,
            &id,
            None,
            &row(&|s| s.metric("http_req_failed", "rate")),
            rate,
        );
        let p95 = row(&|s| s.metric("http_req_duration", "p(95)") / 1000.0);
        let resolutions: BTreeMap<Group, f64> = runs
            .iter()
            .map(|(id, _, res)| (vec![id.to_string()], *res))
            .collect();
        self.by(TESTS, t, "F", &v, &id, None, &p95, move |g, want| {
            latency_tol(resolutions[g], want)
        });
        let verdict = row(&|s| {
            f64::from(u8::from(
                s.json["thresholds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|t| t["ok"] == true),
            ))
        });
        self.by(TESTS, t, "G", &v, &id, None, &verdict, exact);
    }
}
