//! The report's sections, each appended to the page as HTML. Cells that
//! show a number carry it unformatted in `data-value`, so tests (and
//! scripts scraping a report) read exact values.

use std::fmt::Write as _;

use serde_json::Value;

use super::escape;
use crate::metrics::ValueType;
use crate::report::format::{format_bytes, format_number, format_percent, format_value};
use crate::report::run_file::{RunFile, ThresholdStatus};
use crate::timeline::Timeline;

const PHASES: &[&str] = &[
    "http_req_blocked",
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
    "http_req_duration",
];
const TREND_COLUMNS: &[&str] = &["avg", "min", "med", "p(90)", "p(95)", "p(99)", "max"];

fn ms(value: f64) -> String {
    format_value(ValueType::Time, value)
}

/// A right-aligned cell showing `text` for `value`.
fn num_cell(page: &mut String, field: &str, value: f64, text: &str) {
    let _ = write!(
        page,
        "<td class=\"num\" data-field=\"{field}\" data-value=\"{value}\">{}</td>",
        escape(text)
    );
}

pub fn header(page: &mut String, run: &RunFile) {
    let verdict = if run.passed() { "passed" } else { "failed" };
    let _ = write!(
        page,
        "<h1>stampede load-test report</h1>\n<p><span class=\"verdict {verdict}\" id=\"verdict\">{}</span> \
         <span class=\"note\">run {}</span></p>\n<dl class=\"meta\">\n",
        verdict.to_uppercase(),
        escape(&run.state.end)
    );
    let mut item = |label: &str, value: &str| {
        let _ = writeln!(page, "<dt>{label}</dt><dd>{}</dd>", escape(value));
    };
    if let Some(meta) = &run.meta {
        item("Test id", &meta.testid);
        item(
            "Scenario file",
            meta.scenario_file.as_deref().unwrap_or("(ad hoc, --url)"),
        );
        item("Command line", &meta.command_line);
        item("stampede version", &meta.version);
    }
    item("Started", &utc_time(run.state.started_at_unix_ms));
    item("Duration", &ms(run.state.test_run_duration_ms));
    if let Some(by) = &run.state.aborted_by {
        item("Aborted by", by);
    }
    page.push_str("</dl>\n");
}

/// `2026-12-06 05:59:05 UTC` from Unix milliseconds.
fn utc_time(unix_ms: f64) -> String {
    let secs = (unix_ms / 1000.0).floor() as i64;
    let (year, month, day) = crate::util::civil_date::civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

pub fn thresholds(page: &mut String, run: &RunFile) {
    page.push_str("<h2>Thresholds</h2>\n");
    if run.thresholds.is_empty() {
        page.push_str("<p class=\"note\">The scenario sets no thresholds.</p>\n");
        return;
    }
    page.push_str(
        "<table id=\"thresholds\"><tr><th>Metric</th><th>Threshold</th><th class=\"num\">Observed</th><th>Result</th></tr>\n",
    );
    for t in &run.thresholds {
        let status = ThresholdStatus::of(t);
        let metric = t.metric.split('{').next().unwrap_or_default();
        let is_time = run
            .metrics
            .get(metric)
            .is_some_and(|m| m.contains == "time");
        let observed = match t.observed {
            _ if status != ThresholdStatus::Skipped && t.detail.is_some() => t
                .detail
                .as_ref()
                .map(|d| d.text.clone())
                .unwrap_or_default(),
            None if status == ThresholdStatus::Skipped => t
                .skipped_because
                .clone()
                .unwrap_or_else(|| "not judged".into()),
            None => "no samples".to_string(),
            Some(v) if is_time && !t.expression.starts_with("count") => ms(v),
            Some(v) => format_number(v),
        };
        let _ = writeln!(
            page,
            "<tr data-status=\"{0}\"><td><code>{1}</code></td><td><code>{2}</code></td><td class=\"num\">{3}</td><td class=\"{0}\">{0}</td></tr>",
            status.label(),
            escape(&t.metric),
            escape(&t.expression),
            escape(&observed)
        );
    }
    page.push_str("</table>\n");
}

/// Where each ramp's load first broke the default bounds.
pub fn breaking_points(page: &mut String, run: &RunFile) {
    if run.breaking_points.is_empty() {
        return;
    }
    page.push_str(
        "<h2>Breaking points</h2>\n<p class=\"note\">The planned load in the middle of the first interval where the bound was crossed.</p>\n\
         <table id=\"breaking-points\"><tr><th>Scenario</th><th>Series</th><th>Bound</th><th class=\"num\">Load</th><th class=\"num\">At</th><th class=\"num\">Observed</th></tr>\n",
    );
    for point in &run.breaking_points {
        let unit = escape(&point.unit);
        let (load, at, observed) = match (point.load, point.start_ms) {
            (Some(load), Some(start)) => (
                format!("{} {unit}", format_number(load)),
                format!("{} s", format_number(start as f64 / 1000.0)),
                point.observed.map_or_else(String::new, |v| {
                    // The default criteria judge the failure rate and latency.
                    if point.metric.starts_with("http_req_failed") {
                        crate::report::format_percent(v)
                    } else {
                        ms(v)
                    }
                }),
            ),
            _ => (
                format!(
                    "not reached (up to {} {unit})",
                    format_number(point.max_load)
                ),
                String::new(),
                String::new(),
            ),
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td class=\"num\">{load}</td><td class=\"num\">{at}</td><td class=\"num\">{observed}</td></tr>",
            escape(&point.scenario),
            escape(&point.metric),
            escape(&point.condition)
        );
    }
    page.push_str("</table>\n");
}

pub fn over_time(page: &mut String, timeline: &Timeline, data: &super::charts::ChartData) {
    let _ = write!(
        page,
        "<h2>Over time</h2>\n<p class=\"note\">One point per {} (dashed lines: planned stages).</p>\n<div class=\"charts\">\n",
        ms(timeline.bucket_ms as f64)
    );
    for chart in &data.charts {
        let _ = writeln!(
            page,
            "<div class=\"chart\"><h3>{} ({})</h3><div id=\"chart-{}\" class=\"plot\"></div></div>",
            escape(&chart.title),
            escape(&chart.unit),
            escape(&chart.id)
        );
    }
    page.push_str("</div>\n");
    if !timeline.stages.is_empty() {
        page.push_str("<table id=\"stages\"><tr><th>Scenario</th><th>Stage</th><th class=\"num\">From</th><th class=\"num\">To</th></tr>\n");
        for s in &timeline.stages {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&s.scenario),
                escape(&s.label),
                ms(s.start_ms as f64),
                ms(s.end_ms as f64)
            );
        }
        page.push_str("</table>\n");
    }
}

pub fn endpoints(page: &mut String, run: &RunFile) {
    let rows = run.endpoints();
    if rows.is_empty() {
        return;
    }
    page.push_str(
        "<h2>Endpoints</h2>\n<p class=\"note\">Row colour against the endpoint's own thresholds: \
         green passed, yellow passed within 10 % of the limit, red failed; none without thresholds.</p>\n\
         <table id=\"endpoints\"><tr><th>Name</th><th>Method</th><th class=\"num\">Requests</th>\
         <th class=\"num\">Success</th><th class=\"num\">Avg</th><th class=\"num\">p95</th>\
         <th class=\"num\">p99</th><th class=\"num\">Bytes/req</th></tr>\n",
    );
    for row in &rows {
        let status = run.endpoint_status(row);
        let _ = write!(
            page,
            "<tr class=\"status-{0}\" data-status=\"{0}\" data-name=\"{1}\" data-method=\"{2}\"><td>{1}</td><td>{2}</td>",
            status.class(),
            escape(&row.name),
            escape(&row.method)
        );
        num_cell(
            page,
            "requests",
            row.requests as f64,
            &row.requests.to_string(),
        );
        match row.success() {
            Some(s) => num_cell(page, "success", s, &format_percent(s)),
            None => page.push_str("<td class=\"num\" data-field=\"success\">-</td>"),
        }
        let d = &row.duration;
        num_cell(page, "avg", d.avg(), &ms(d.avg()));
        num_cell(page, "p95", d.percentile(95.0), &ms(d.percentile(95.0)));
        num_cell(page, "p99", d.percentile(99.0), &ms(d.percentile(99.0)));
        match row.bytes_per_request {
            Some(b) => num_cell(page, "bytes_per_request", b, &format_bytes(b)),
            None => page.push_str("<td class=\"num\" data-field=\"bytes_per_request\">-</td>"),
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
}

pub fn errors(page: &mut String, run: &RunFile) {
    let rows = run.errors();
    page.push_str("<h2>Errors</h2>\n");
    if rows.is_empty() {
        page.push_str("<p class=\"note\">No request failed.</p>\n");
        return;
    }
    page.push_str("<table id=\"errors\"><tr><th>Endpoint</th><th>Status</th><th>Error code</th><th class=\"num\">Requests</th></tr>\n");
    for e in &rows {
        let _ = write!(
            page,
            "<tr><td>{} {}</td><td>{}</td><td>{}</td>",
            escape(&e.method),
            escape(&e.name),
            escape(&e.status),
            escape(if e.error_code.is_empty() {
                "-"
            } else {
                &e.error_code
            })
        );
        num_cell(page, "count", e.count as f64, &e.count.to_string());
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
}

pub fn checks(page: &mut String, run: &RunFile) {
    let mut rows = Vec::new();
    collect_checks(&run.root_group, &mut rows);
    if rows.is_empty() {
        return;
    }
    page.push_str("<h2>Checks</h2>\n<table id=\"checks\"><tr><th>Check</th><th class=\"num\">Passes</th><th class=\"num\">Fails</th><th class=\"num\">Success</th></tr>\n");
    for (path, passes, fails) in rows {
        let total = passes + fails;
        let share = if total > 0.0 { passes / total } else { 0.0 };
        let class = if fails > 0.0 { "failed" } else { "passed" };
        let _ = write!(page, "<tr><td class=\"{class}\">{}</td>", escape(&path));
        num_cell(page, "passes", passes, &format_number(passes));
        num_cell(page, "fails", fails, &format_number(fails));
        num_cell(page, "success", share, &format_percent(share));
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
}

/// (path, passes, fails) of every check in `group` and its subgroups.
fn collect_checks(group: &Value, rows: &mut Vec<(String, f64, f64)>) {
    if let Some(checks) = group.get("checks").and_then(Value::as_object) {
        for check in checks.values() {
            let field = |k: &str| check.get(k).and_then(Value::as_f64).unwrap_or(0.0);
            let path = check.get("path").and_then(Value::as_str).unwrap_or("");
            rows.push((
                path.trim_start_matches("::").to_string(),
                field("passes"),
                field("fails"),
            ));
        }
    }
    if let Some(groups) = group.get("groups").and_then(Value::as_object) {
        for sub in groups.values() {
            collect_checks(sub, rows);
        }
    }
}

/// A table of trend metrics: one row each, the summary's statistics.
fn trend_table(page: &mut String, run: &RunFile, id: &str, names: &[&str]) {
    let _ = write!(page, "<table id=\"{id}\"><tr><th>Metric</th>");
    for column in TREND_COLUMNS {
        let _ = write!(page, "<th class=\"num\">{column}</th>");
    }
    page.push_str("</tr>\n");
    for name in names {
        let Some(entry) = run.metrics.get(*name) else {
            continue;
        };
        let _ = write!(page, "<tr><td>{}</td>", escape(name));
        for column in TREND_COLUMNS {
            let v = entry
                .values
                .get(*column)
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            let text = if entry.contains == "time" {
                ms(v)
            } else {
                format_number(v)
            };
            num_cell(page, column, v, &text);
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
}

pub fn timing_phases(page: &mut String, run: &RunFile) {
    if !run.metrics.contains_key("http_req_duration") {
        return;
    }
    page.push_str("<h2>Timing phases</h2>\n");
    trend_table(page, run, "phases", PHASES);
}

pub fn streams(page: &mut String, run: &RunFile) {
    let names: Vec<&str> = run
        .metrics
        .keys()
        .map(String::as_str)
        .filter(|n| n.starts_with("sse_") || n.starts_with("ws_"))
        .collect();
    if names.is_empty() {
        return;
    }
    page.push_str("<h2>SSE and WebSocket</h2>\n");
    let (trends, others): (Vec<&str>, Vec<&str>) = names
        .into_iter()
        .partition(|n| run.metrics[*n].kind == "trend");
    trend_table(page, run, "stream-trends", &trends);
    metric_list(page, run, "stream-counts", &others);
}

pub fn other_metrics(page: &mut String, run: &RunFile) {
    let names: Vec<&str> = run
        .metrics
        .keys()
        .map(String::as_str)
        .filter(|n| {
            !n.contains('{')
                && !n.starts_with("sse_")
                && !n.starts_with("ws_")
                && !PHASES.contains(n)
        })
        .collect();
    page.push_str("<h2>Other metrics</h2>\n");
    let (trends, others): (Vec<&str>, Vec<&str>) = names
        .into_iter()
        .partition(|n| run.metrics[*n].kind == "trend");
    metric_list(page, run, "metrics", &others);
    if !trends.is_empty() {
        trend_table(page, run, "other-trends", &trends);
    }
}

/// Counters, rates and gauges with their main figures.
fn metric_list(page: &mut String, run: &RunFile, id: &str, names: &[&str]) {
    if names.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<table id=\"{id}\"><tr><th>Metric</th><th>Type</th><th class=\"num\">Value</th><th class=\"num\">Detail</th></tr>"
    );
    for name in names {
        let entry = &run.metrics[*name];
        let get = |k: &str| entry.values.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        let contains = match entry.contains.as_str() {
            "time" => ValueType::Time,
            "data" => ValueType::Data,
            _ => ValueType::Default,
        };
        let (value, text, detail) = match entry.kind.as_str() {
            "counter" => (
                get("count"),
                format_value(contains, get("count")),
                format!("{}/s", format_value(contains, get("rate"))),
            ),
            "rate" => (
                get("rate"),
                format_percent(get("rate")),
                format!(
                    "{} of {}",
                    format_number(get("passes")),
                    format_number(get("passes") + get("fails"))
                ),
            ),
            _ => (
                get("value"),
                format_value(contains, get("value")),
                format!(
                    "min {} max {}",
                    format_value(contains, get("min")),
                    format_value(contains, get("max"))
                ),
            ),
        };
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td>",
            escape(name),
            escape(&entry.kind)
        );
        num_cell(page, "value", value, &text);
        let _ = writeln!(page, "<td class=\"num\">{}</td></tr>", escape(&detail));
    }
    page.push_str("</table>\n");
}

pub fn generator(page: &mut String, run: &RunFile) {
    let Some(health) = &run.generator else { return };
    let get = |k: &str| health.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    page.push_str("<h2>Load generator health</h2>\n<dl class=\"meta\" id=\"generator\">\n");
    let rows = [
        ("Cores", format_number(get("cores"))),
        ("CPU peak", format_percent(get("cpu_peak"))),
        ("CPU mean", format_percent(get("cpu_mean"))),
        ("Memory peak", format_bytes(get("memory_peak_bytes"))),
        (
            "Saturated",
            format!(
                "{} s in {} episodes",
                format_number(get("saturated_seconds")),
                format_number(get("saturation_episodes"))
            ),
        ),
    ];
    for (label, value) in rows {
        let _ = writeln!(page, "<dt>{label}</dt><dd>{}</dd>", escape(&value));
    }
    page.push_str("</dl>\n<p class=\"note\">CPU per available core; a saturated generator measures itself, not the target.</p>\n");
}
