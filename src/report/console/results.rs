//! The TOTAL RESULTS block: check totals and the check tree, then every
//! metric in its section (HTTP, STREAMS, EXECUTION, NETWORK, GENERATOR,
//! CUSTOM), aligned in columns.

use std::io::{self, Write};

use crate::metrics::generator::{SATURATION_HOLD, SATURATION_THRESHOLD};
use crate::metrics::{
    GeneratorHealth, MetricSummary, SeriesValue, Summary, TrendValue, ValueType, builtin,
};

use super::super::checks::{CHECKS_METRIC, CheckResult, GroupChecks};
use super::super::format::{format_counter_rate, format_per_second, format_percent, format_value};
use super::super::stats::{SUMMARY_PERCENTILES, average, merge_matching};
use super::super::whole_numbers::shown_percentile;
use super::{Palette, write_heading};

/// The built-in gauges of stampede's own CPU and memory.
const GENERATOR_METRICS: [&str; 2] = ["generator_cpu", "generator_memory"];
/// Labels are padded with dots to at least this width, as k6 does.
const MIN_LABEL_WIDTH: usize = 35;
const EXECUTION_METRICS: [&str; 7] = [
    "iterations",
    "interrupted_iterations",
    "iteration_duration",
    "dropped_iterations",
    "vus",
    "vus_max",
    "group_duration",
];

/// One printed metric line.
enum Row {
    /// Counters, rates and gauges: a main value and a detail.
    Pair {
        label: String,
        first: String,
        second: String,
    },
    /// Trends: `avg=… min=… med=… max=… p(90)=… p(95)=… p(99)=…`.
    Stats { label: String, tokens: Vec<String> },
}

impl Row {
    fn label(&self) -> &str {
        match self {
            Row::Pair { label, .. } | Row::Stats { label, .. } => label,
        }
    }
}

struct Section {
    title: Option<&'static str>,
    rows: Vec<Row>,
}

/// Column widths shared by every row of the block, so all values line up.
struct Widths {
    label: usize,
    first: usize,
    tokens: Vec<usize>,
}

pub(super) fn write_total_results(
    summary: &Summary,
    out: &mut impl Write,
    palette: Palette,
) -> io::Result<()> {
    let seconds = summary.duration.as_secs_f64();
    let checks_rows = summary
        .metric(CHECKS_METRIC)
        .map(|m| check_rows(m, seconds))
        .unwrap_or_default();
    let sections = metric_sections(summary, seconds);
    if checks_rows.is_empty() && sections.is_empty() {
        return Ok(());
    }
    write_heading(out, palette, "TOTAL RESULTS")?;
    let all_rows = checks_rows
        .iter()
        .chain(sections.iter().flat_map(|s| &s.rows));
    let widths = column_widths(all_rows);
    if !checks_rows.is_empty() {
        for row in &checks_rows {
            write_row(out, palette, &widths, row)?;
        }
        writeln!(out)?;
        let tree = GroupChecks::from_summary(summary);
        if !tree.is_empty() {
            write_group(out, palette, &tree, 4)?;
        }
    }
    for section in &sections {
        if let Some(title) = section.title {
            writeln!(out, "    {}", palette.bold(title))?;
        }
        for row in &section.rows {
            write_row(out, palette, &widths, row)?;
        }
        writeln!(out)?;
    }
    writeln!(out)
}

fn check_rows(checks: &MetricSummary, seconds: f64) -> Vec<Row> {
    let SeriesValue::Rate { trues, total } = checks.total else {
        return Vec::new();
    };
    let fails = total.saturating_sub(trues);
    vec![
        Row::Pair {
            label: "checks_total".into(),
            first: total.to_string(),
            second: format_per_second(per_second(total as f64, seconds)),
        },
        rate_row("checks_succeeded", trues, total),
        rate_row("checks_failed", fails, total),
    ]
}

fn metric_sections(summary: &Summary, seconds: f64) -> Vec<Section> {
    let titles = [
        "HTTP",
        "STREAMS",
        "EXECUTION",
        "NETWORK",
        "GENERATOR",
        "CUSTOM",
    ];
    let mut buckets: Vec<Vec<&MetricSummary>> = vec![Vec::new(); titles.len()];
    for metric in &summary.metrics {
        let name = metric.name.as_str();
        let bucket = if name == CHECKS_METRIC {
            continue;
        } else if name.starts_with("http_") {
            0
        } else if is_stream_metric(name) {
            1
        } else if EXECUTION_METRICS.contains(&name) {
            2
        } else if name.starts_with("data_") {
            3
        } else if GENERATOR_METRICS.contains(&name) {
            4
        } else {
            5
        };
        buckets[bucket].push(metric);
    }
    titles
        .into_iter()
        .zip(buckets)
        .filter_map(|(title, mut metrics)| {
            // The run's generator figures say more than the gauges' last values.
            if title == "GENERATOR"
                && let Some(health) = &summary.generator
            {
                return Some((title, generator_rows(health)));
            }
            if metrics.is_empty() {
                return None;
            }
            metrics.sort_by(|a, b| a.name.cmp(&b.name));
            let rows = metrics
                .into_iter()
                .flat_map(|m| metric_rows(m, seconds))
                .collect();
            Some((title, rows))
        })
        .map(|(title, rows)| Section {
            title: Some(title),
            rows,
        })
        .collect()
}

/// Peak and mean CPU per available core, peak memory, and how long the
/// generator was saturated (its latencies then include its own queueing).
fn generator_rows(health: &GeneratorHealth) -> Vec<Row> {
    let plural = |n: u64, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let threshold = format!("{:.0}%", SATURATION_THRESHOLD * 100.0);
    let hold = SATURATION_HOLD.as_secs();
    let saturated = if health.saturation_episodes == 0 {
        format!("its cores never above {threshold} busy for {hold}s in a row")
    } else {
        format!(
            "{}: its cores above {threshold} busy for {hold}s or more, latencies include stampede's own queueing",
            plural(u64::from(health.saturation_episodes), "episode")
        )
    };
    vec![
        Row::Pair {
            label: "generator_cpu".into(),
            first: format!("peak={}", format_percent(health.cpu_peak)),
            second: format!(
                "mean={} of {}",
                format_percent(health.cpu_mean),
                plural(health.cores as u64, "core")
            ),
        },
        Row::Pair {
            label: "generator_memory".into(),
            first: format!(
                "peak={}",
                format_value(ValueType::Data, health.memory_peak_bytes as f64)
            ),
            second: "resident".into(),
        },
        Row::Pair {
            label: "generator_saturated".into(),
            first: format!("{}s", health.saturated.as_secs_f64().round()),
            second: saturated,
        },
    ]
}

/// The built-in SSE and WebSocket metrics (a custom metric named `sse_x`
/// stays under CUSTOM).
fn is_stream_metric(name: &str) -> bool {
    (name.starts_with("sse_") || name.starts_with("ws_"))
        && builtin::ALL.iter().any(|(builtin, ..)| *builtin == name)
}

/// A metric's line, plus k6's `{ expected_response:true }` line under
/// `http_req_duration`: the duration of responses that were not failures.
fn metric_rows(metric: &MetricSummary, seconds: f64) -> Vec<Row> {
    let mut rows = vec![value_row(
        metric.name.clone(),
        &metric.total,
        metric.contains,
        seconds,
    )];
    if metric.name == "http_req_duration" {
        let expected = merge_matching(&metric.series, |t| {
            t.get("expected_response") == Some("true")
        });
        if let Some(value) = expected {
            rows.push(value_row(
                "  { expected_response:true }".into(),
                &value,
                metric.contains,
                seconds,
            ));
        }
    }
    rows
}

fn value_row(label: String, value: &SeriesValue, contains: ValueType, seconds: f64) -> Row {
    match value {
        SeriesValue::Counter { sum } => Row::Pair {
            label,
            first: format_value(contains, *sum),
            second: format_counter_rate(contains, per_second(*sum, seconds)),
        },
        SeriesValue::Rate { trues, total } => rate_row(&label, *trues, *total),
        SeriesValue::Gauge { last, min, max } => Row::Pair {
            label,
            first: format_value(contains, *last),
            second: format!(
                "min={} max={}",
                format_value(contains, *min),
                format_value(contains, *max)
            ),
        },
        SeriesValue::Trend(trend) => Row::Stats {
            label,
            tokens: trend_tokens(trend, contains),
        },
    }
}

fn trend_tokens(trend: &TrendValue, contains: ValueType) -> Vec<String> {
    let show = |v: f64| format_value(contains, v);
    let nth = |p: f64| show(shown_percentile(trend, contains, p));
    let mut tokens = vec![
        format!("avg={}", show(average(trend))),
        format!("min={}", show(trend.min)),
        format!("med={}", nth(50.0)),
        format!("max={}", show(trend.max)),
    ];
    for p in SUMMARY_PERCENTILES {
        tokens.push(format!("p({p})={}", nth(p)));
    }
    tokens
}

fn rate_row(label: &str, part: u64, total: u64) -> Row {
    let share = if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    };
    Row::Pair {
        label: label.to_string(),
        first: format_percent(share),
        second: format!("{part} out of {total}"),
    }
}

fn per_second(amount: f64, seconds: f64) -> f64 {
    if seconds > 0.0 { amount / seconds } else { 0.0 }
}

fn column_widths<'a>(rows: impl Iterator<Item = &'a Row>) -> Widths {
    let mut widths = Widths {
        label: MIN_LABEL_WIDTH,
        first: 0,
        tokens: Vec::new(),
    };
    for row in rows {
        widths.label = widths.label.max(row.label().chars().count() + 3);
        match row {
            Row::Pair { first, .. } => widths.first = widths.first.max(first.chars().count()),
            Row::Stats { tokens, .. } => {
                if widths.tokens.len() < tokens.len() {
                    widths.tokens.resize(tokens.len(), 0);
                }
                for (w, token) in widths.tokens.iter_mut().zip(tokens) {
                    *w = (*w).max(token.chars().count());
                }
            }
        }
    }
    widths
}

fn write_row(out: &mut impl Write, palette: Palette, widths: &Widths, row: &Row) -> io::Result<()> {
    let label = row.label();
    let dots = ".".repeat(widths.label - label.chars().count());
    write!(out, "    {label}{}: ", palette.dim(&dots))?;
    match row {
        Row::Pair { first, second, .. } => {
            let first = pad(first, widths.first);
            writeln!(out, "{} {second}", palette.cyan(&first))
        }
        Row::Stats { tokens, .. } => {
            let last = tokens.len().saturating_sub(1);
            let cells: Vec<String> = tokens
                .iter()
                .enumerate()
                .map(|(i, token)| {
                    if i == last {
                        token.clone()
                    } else {
                        pad(token, widths.tokens[i])
                    }
                })
                .collect();
            writeln!(out, "{}", palette.cyan(&cells.join(" ")))
        }
    }
}

fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

/// Checks of one group, then its subgroups under `█ name` headings, k6 style.
fn write_group(
    out: &mut impl Write,
    palette: Palette,
    group: &GroupChecks,
    indent: usize,
) -> io::Result<()> {
    let space = " ".repeat(indent);
    for check in &group.checks {
        write_check(out, palette, check, &space)?;
    }
    if !group.checks.is_empty() {
        writeln!(out)?;
    }
    for sub in group.groups.iter().filter(|g| !g.is_empty()) {
        writeln!(out, "{space}{}", palette.bold(&format!("█ {}", sub.name)))?;
        writeln!(out)?;
        write_group(out, palette, sub, indent + 2)?;
    }
    Ok(())
}

fn write_check(
    out: &mut impl Write,
    palette: Palette,
    check: &CheckResult,
    space: &str,
) -> io::Result<()> {
    if check.fails == 0 {
        return writeln!(out, "{space}{}", palette.verdict(true, &check.name));
    }
    writeln!(out, "{space}{}", palette.verdict(false, &check.name))?;
    let total = check.passes + check.fails;
    // Floor, so 99.9 % passing never reads as 100 %.
    let percent = check.passes * 100 / total;
    let detail = format!("↳  {percent}% — ✓ {} / ✗ {}", check.passes, check.fails);
    writeln!(out, "{space}  {}", palette.dim(&detail))
}
