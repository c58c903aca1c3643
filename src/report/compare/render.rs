//! A comparison as a console table, Markdown (for a pull-request comment),
//! JSON, or a self-contained HTML page.

use std::io::{self, Write};

use super::{Comparison, Row, Verdict};
use crate::metrics::ValueType;
use crate::report::format::{format_number, format_percent, format_value};
use crate::report::html::escape;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    Console,
    Json,
    Markdown,
    Html,
}

pub fn render_comparison(
    comparison: &Comparison,
    format: CompareFormat,
    out: &mut impl Write,
) -> io::Result<()> {
    match format {
        CompareFormat::Console => console(comparison, out),
        CompareFormat::Markdown => markdown(comparison, out),
        CompareFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, comparison)?;
            writeln!(out)
        }
        CompareFormat::Html => html(comparison, out),
    }
}

fn value(row: &Row, v: f64) -> String {
    match row.unit.as_str() {
        "ms" => format_value(ValueType::Time, v),
        "share" => format_percent(v),
        "req/s" => format!("{}/s", format_number((v * 100.0).round() / 100.0)),
        _ => format_number(v),
    }
}

fn change(row: &Row) -> String {
    if row.unit == "share" {
        return format!("{:+.2} pp", row.change * 100.0);
    }
    if row.change.is_infinite() {
        return "from 0".to_string();
    }
    format!("{:+.1}%", row.change * 100.0)
}

fn cells(row: &Row) -> [String; 7] {
    [
        row.scope.clone(),
        row.measure.clone(),
        value(row, row.baseline),
        value(row, row.current),
        change(row),
        row.verdict.label().to_string(),
        row.note.clone(),
    ]
}

const HEADERS: [&str; 7] = [
    "SCOPE", "MEASURE", "BASELINE", "CURRENT", "CHANGE", "VERDICT", "NOTE",
];

fn verdict_line(c: &Comparison) -> String {
    format!(
        "{} regressed, {} improved, {} unchanged",
        c.count(Verdict::Regressed),
        c.count(Verdict::Improved),
        c.count(Verdict::Unchanged)
    )
}

fn tolerance_line(c: &Comparison) -> String {
    let t = &c.tolerances;
    format!(
        "tolerances: rate ±{}, error rate ±{} pp, latency ±{} and ≥ {} ms, noise tests at alpha {}",
        format_percent(t.rate),
        format_number(t.error_rate * 100.0),
        format_percent(t.latency),
        format_number(t.latency_min_ms),
        format_number(t.alpha)
    )
}

fn missing_lines(c: &Comparison) -> Vec<String> {
    let mut lines = Vec::new();
    if !c.only_in_baseline.is_empty() {
        lines.push(format!(
            "only in the baseline (not compared): {}",
            c.only_in_baseline.join(", ")
        ));
    }
    if !c.only_in_current.is_empty() {
        lines.push(format!(
            "only in the current run (not compared): {}",
            c.only_in_current.join(", ")
        ));
    }
    lines
}

fn console(c: &Comparison, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "baseline: {}\ncurrent:  {}\n{}\n",
        c.baseline,
        c.current,
        tolerance_line(c)
    )?;
    let rows: Vec<[String; 7]> = c.rows.iter().map(cells).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if i == cells.len() - 1 {
                text.push_str(cell);
            } else if (2..5).contains(&i) {
                text.push_str(&format!("{}{cell}  ", " ".repeat(pad)));
            } else {
                text.push_str(&format!("{cell}{}  ", " ".repeat(pad)));
            }
        }
        text.trim_end().to_string()
    };
    writeln!(out, "{}", line(&HEADERS.map(String::from)))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    for l in missing_lines(c) {
        writeln!(out, "\n{l}")?;
    }
    let mark = if c.regressed() { "✗" } else { "✓" };
    writeln!(out, "\n{mark} {}", verdict_line(c))
}

fn markdown(c: &Comparison, out: &mut impl Write) -> io::Result<()> {
    let cell = |s: &str| s.replace('|', "\\|");
    writeln!(
        out,
        "## stampede compare\n\nBaseline `{}`, current `{}`; {}.\n",
        c.baseline,
        c.current,
        tolerance_line(c)
    )?;
    writeln!(
        out,
        "| Scope | Measure | Baseline | Current | Change | Verdict | Note |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---|---|")?;
    for r in &c.rows {
        let [scope, measure, base, cur, change, verdict, note] = cells(r);
        let verdict = if r.verdict == Verdict::Regressed {
            format!("**{verdict}**")
        } else {
            verdict
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&scope),
            measure,
            base,
            cur,
            change,
            verdict,
            cell(&note)
        )?;
    }
    for l in missing_lines(c) {
        writeln!(out, "\n{l}")?;
    }
    writeln!(out, "\n**{}**", verdict_line(c))
}

fn html(c: &Comparison, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>stampede compare</title>\n<style>\n{}\n\
         tr.regressed {{ background: #fef2f2; }} tr.improved {{ background: #f0fdf4; }}\n</style>\n</head>\n<body>\n\
         <h1>stampede compare</h1>\n<p><span class=\"verdict {}\" id=\"verdict\">{}</span></p>\n\
         <dl class=\"meta\"><dt>Baseline</dt><dd>{}</dd><dt>Current</dt><dd>{}</dd><dt>Tolerances</dt><dd>{}</dd></dl>",
        include_str!("../html/report.css"),
        if c.regressed() { "failed" } else { "passed" },
        escape(&verdict_line(c)),
        escape(&c.baseline),
        escape(&c.current),
        escape(tolerance_line(c).trim_start_matches("tolerances: "))
    )?;
    writeln!(
        out,
        "<table id=\"comparison\"><tr>{}</tr>",
        HEADERS.map(|h| format!("<th>{h}</th>")).concat()
    )?;
    for r in &c.rows {
        let cells: String = cells(r)
            .iter()
            .map(|v| format!("<td>{}</td>", escape(v)))
            .collect();
        writeln!(out, "<tr class=\"{}\">{cells}</tr>", r.verdict.label())?;
    }
    writeln!(out, "</table>")?;
    for l in missing_lines(c) {
        writeln!(out, "<p class=\"note\">{}</p>", escape(&l))?;
    }
    writeln!(out, "</body>\n</html>")
}
