//! The k6-style end-of-test summary on a terminal: thresholds, total results
//! by section, checks, a per-endpoint table, errors and the verdict.

mod breaking;
mod endpoints;
mod results;

use std::io::{self, Write};

use crate::metrics::threshold::Aggregation;
use crate::metrics::{
    MetricKind, RunEnd, SinkReport, Summary, ThresholdOutcome, ThresholdVerdict, ValueType,
};

use super::format::{format_number, format_percent, format_value};
use super::stats::percentile_label;

/// How the console summary is printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConsoleOptions {
    /// Emit ANSI colours (only for terminals; files and tests get plain text).
    pub color: bool,
}

/// Writes the end-of-test summary. Output depends only on `summary` and
/// `options`, so it is reproducible byte for byte.
pub fn render_console(
    summary: &Summary,
    out: &mut impl Write,
    options: &ConsoleOptions,
) -> io::Result<()> {
    render_console_with_outputs(summary, &[], out, options)
}

/// [`render_console`] plus an `OUTPUTS` section (before the verdict) when
/// the run had outputs.
pub fn render_console_with_outputs(
    summary: &Summary,
    outputs: &[SinkReport],
    out: &mut impl Write,
    options: &ConsoleOptions,
) -> io::Result<()> {
    let palette = Palette {
        color: options.color,
    };
    if !summary.thresholds.is_empty() {
        write_thresholds(summary, out, palette)?;
    }
    breaking::write_breaking_points(summary, out, palette)?;
    results::write_total_results(summary, out, palette)?;
    endpoints::write_endpoints(summary, out, palette)?;
    endpoints::write_errors(summary, out, palette)?;
    if !outputs.is_empty() {
        write_heading(out, palette, "OUTPUTS")?;
        super::outputs::write_outputs(outputs, out)?;
    }
    write_run_end(summary, out, palette)
}

/// ANSI styling that collapses to plain text when colour is off. Styles are
/// applied after padding so colour never changes alignment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Palette {
    color: bool,
}

impl Palette {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub(crate) fn green(self, text: &str) -> String {
        self.paint("32", text)
    }
    pub(crate) fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
    pub(crate) fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
    pub(crate) fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
    pub(crate) fn cyan(self, text: &str) -> String {
        self.paint("36", text)
    }
    /// `✓ text` in green or `✗ text` in red.
    pub(crate) fn verdict(self, ok: bool, text: &str) -> String {
        if ok {
            self.green(&format!("✓ {text}"))
        } else {
            self.red(&format!("✗ {text}"))
        }
    }
}

fn write_heading(out: &mut impl Write, palette: Palette, title: &str) -> io::Result<()> {
    writeln!(out, "  {}", palette.bold(&format!("█ {title}")))?;
    writeln!(out)
}

/// Thresholds grouped under their metric selector, in the order first defined.
fn write_thresholds(summary: &Summary, out: &mut impl Write, palette: Palette) -> io::Result<()> {
    write_heading(out, palette, "THRESHOLDS")?;
    let mut selectors: Vec<&str> = Vec::new();
    for outcome in &summary.thresholds {
        let source = outcome.threshold.selector.source.as_str();
        if !selectors.contains(&source) {
            selectors.push(source);
        }
    }
    for selector in selectors {
        writeln!(out, "    {selector}")?;
        for outcome in summary
            .thresholds
            .iter()
            .filter(|o| o.threshold.selector.source == selector)
        {
            let line = match (&outcome.verdict, &outcome.threshold.unselected_scenario) {
                (ThresholdVerdict::Skipped, Some(scenario)) => palette.dim(&format!(
                    "- '{}' skipped: scenario {scenario:?} not selected",
                    outcome.threshold.expr.source
                )),
                (verdict, _) => {
                    let text = format!(
                        "'{}' {}",
                        outcome.threshold.expr.source,
                        observed_text(summary, outcome)
                    );
                    palette.verdict(*verdict == ThresholdVerdict::Passed, &text)
                }
            };
            writeln!(out, "    {line}")?;
        }
        writeln!(out)?;
    }
    writeln!(out)
}

/// `p(95)=12.34ms`, `rate=0.50%`, `rate=29.92/s`, `count=1200`, in the
/// metric's units.
fn observed_text(summary: &Summary, outcome: &ThresholdOutcome) -> String {
    if let Some(detail) = &outcome.detail {
        return detail.text.clone();
    }
    let aggregation = outcome.threshold.expr.aggregation;
    let label = match aggregation {
        Aggregation::Avg => "avg".to_string(),
        Aggregation::Min => "min".to_string(),
        Aggregation::Max => "max".to_string(),
        Aggregation::Med => "med".to_string(),
        Aggregation::Count => "count".to_string(),
        Aggregation::Rate => "rate".to_string(),
        Aggregation::Value => "value".to_string(),
        Aggregation::Percentile(p) => percentile_label(p),
    };
    let Some(observed) = outcome.observed else {
        return format!("{label}=(no samples)");
    };
    let metric = summary.metric(&outcome.threshold.selector.metric);
    let contains = metric.map_or(ValueType::Default, |m| m.contains);
    let value = match aggregation {
        // A counter's rate is its sum per second of the run (k6), not a
        // share: `29.92/s`. Two decimals, as the threshold compares exactly.
        Aggregation::Rate if outcome.threshold.kind == MetricKind::Counter => {
            format!("{}/s", format_value(contains, observed))
        }
        Aggregation::Rate => format_percent(observed),
        // A trend's or rate's count is a number of samples, not a value in units.
        Aggregation::Count if outcome.threshold.kind != MetricKind::Counter => {
            format_number(observed)
        }
        _ => format_value(contains, observed),
    };
    format!("{label}={value}")
}

fn write_run_end(summary: &Summary, out: &mut impl Write, palette: Palette) -> io::Result<()> {
    let mut wrote = false;
    match &summary.end {
        RunEnd::Completed => {}
        RunEnd::AbortedByThreshold(threshold) => {
            let text = format!("test aborted: threshold {threshold} crossed");
            writeln!(out, "  {}", palette.verdict(false, &text))?;
            wrote = true;
        }
        RunEnd::Interrupted => {
            writeln!(out, "  {}", palette.verdict(false, "test interrupted"))?;
            wrote = true;
        }
    }
    let count = |verdict| {
        summary
            .thresholds
            .iter()
            .filter(|t| t.verdict == verdict)
            .count()
    };
    let (crossed, skipped) = (
        count(ThresholdVerdict::Failed),
        count(ThresholdVerdict::Skipped),
    );
    let judged = summary.thresholds.len() - skipped;
    if !summary.thresholds.is_empty() {
        let mut text = if crossed == 0 {
            "all thresholds passed".to_string()
        } else {
            format!("{crossed} of {judged} thresholds crossed")
        };
        if skipped > 0 {
            text.push_str(&format!(", {skipped} skipped"));
        }
        writeln!(out, "  {}", palette.verdict(crossed == 0, &text))?;
        wrote = true;
    }
    if wrote {
        writeln!(out)?;
    }
    Ok(())
}
