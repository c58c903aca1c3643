//! The ENDPOINTS table (one row per request name and method, what users
//! paste into analysis reports) and the ERRORS table of failed requests.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::metrics::{MetricSummary, SeriesValue, Summary, TagSet, TrendValue, ValueType};

use super::super::format::{format_bytes, format_percent, format_value};
use super::super::stats::{average, merge_matching, merge_trends, percentile};
use super::{Palette, write_heading};

const DURATION: &str = "http_req_duration";
const FAILED: &str = "http_req_failed";
const RECEIVED: &str = "data_received";
/// Shown for a tag a series does not carry.
const MISSING: &str = "-";

fn tag<'a>(tags: &'a TagSet, key: &str) -> &'a str {
    tags.get(key).unwrap_or(MISSING)
}

fn same_endpoint(tags: &TagSet, name: &str, method: &str) -> bool {
    tag(tags, "name") == name && tag(tags, "method") == method
}

pub(super) fn write_endpoints(
    summary: &Summary,
    out: &mut impl Write,
    palette: Palette,
) -> io::Result<()> {
    let Some(duration) = summary.metric(DURATION) else {
        return Ok(());
    };
    // Every status, expected_response and error_code of an endpoint in one row.
    let mut endpoints: BTreeMap<(&str, &str), Vec<&TrendValue>> = BTreeMap::new();
    for (tags, value) in &duration.series {
        if let SeriesValue::Trend(trend) = value {
            let key = (tag(tags, "name"), tag(tags, "method"));
            endpoints.entry(key).or_default().push(trend);
        }
    }
    if endpoints.is_empty() {
        return Ok(());
    }
    let headers = [
        "NAME",
        "METHOD",
        "REQS",
        "SUCCESS",
        "AVG",
        "P95",
        "P99",
        "BYTES/REQ",
    ];
    let mut rows = Vec::with_capacity(endpoints.len());
    for ((name, method), trends) in endpoints {
        let Some(trend) = merge_trends(trends) else {
            continue;
        };
        let success = success_share(summary, duration, name, method)
            .map_or_else(|| MISSING.to_string(), format_percent);
        let bytes = received_bytes(summary, name, method)
            .filter(|_| trend.count > 0)
            .map_or_else(
                || MISSING.to_string(),
                |b| format_bytes(b / trend.count as f64),
            );
        let time = |v: f64| format_value(ValueType::Time, v);
        rows.push(vec![
            name.to_string(),
            method.to_string(),
            trend.count.to_string(),
            success,
            time(average(&trend)),
            time(percentile(&trend, 95.0)),
            time(percentile(&trend, 99.0)),
            bytes,
        ]);
    }
    write_heading(out, palette, "ENDPOINTS")?;
    write_table(out, palette, &headers, &rows)?;
    writeln!(out)?;
    writeln!(out)
}

/// Share of the endpoint's requests that were expected responses: from
/// `http_req_failed` when recorded, else from the duration series'
/// `expected_response` tag; `None` when neither says.
fn success_share(
    summary: &Summary,
    duration: &MetricSummary,
    name: &str,
    method: &str,
) -> Option<f64> {
    let failed = summary
        .metric(FAILED)
        .and_then(|m| merge_matching(&m.series, |t| same_endpoint(t, name, method)));
    // Not a let-chain: the crate keeps rust-version 1.85.
    match failed {
        Some(SeriesValue::Rate { trues, total }) if total > 0 => {
            return Some(1.0 - trues as f64 / total as f64);
        }
        _ => {}
    }
    let (mut expected, mut tagged) = (0u64, 0u64);
    for (tags, value) in &duration.series {
        let (SeriesValue::Trend(trend), Some(flag)) = (value, tags.get("expected_response")) else {
            continue;
        };
        if same_endpoint(tags, name, method) {
            tagged += trend.count;
            if flag == "true" {
                expected += trend.count;
            }
        }
    }
    (tagged > 0).then(|| expected as f64 / tagged as f64)
}

fn received_bytes(summary: &Summary, name: &str, method: &str) -> Option<f64> {
    let received = summary.metric(RECEIVED)?;
    match merge_matching(&received.series, |t| same_endpoint(t, name, method))? {
        SeriesValue::Counter { sum } => Some(sum),
        _ => None,
    }
}

/// Failed requests by endpoint, status and error code.
pub(super) fn write_errors(
    summary: &Summary,
    out: &mut impl Write,
    palette: Palette,
) -> io::Result<()> {
    let mut errors: BTreeMap<[&str; 4], u64> = BTreeMap::new();
    if let Some(failed) = summary.metric(FAILED) {
        for (tags, value) in &failed.series {
            match value {
                SeriesValue::Rate { trues, .. } if *trues > 0 => {
                    *errors.entry(error_key(tags)).or_default() += trues;
                }
                _ => {}
            }
        }
    } else if let Some(duration) = summary.metric(DURATION) {
        for (tags, value) in &duration.series {
            match value {
                SeriesValue::Trend(trend)
                    if tags.get("expected_response") == Some("false") && trend.count > 0 =>
                {
                    *errors.entry(error_key(tags)).or_default() += trend.count;
                }
                _ => {}
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let rows: Vec<Vec<String>> = errors
        .into_iter()
        .map(|(k, count)| {
            let mut row: Vec<String> = k.iter().map(|s| s.to_string()).collect();
            row.push(count.to_string());
            row
        })
        .collect();
    write_heading(out, palette, "ERRORS")?;
    write_table(
        out,
        palette,
        &["NAME", "METHOD", "STATUS", "ERROR_CODE", "COUNT"],
        &rows,
    )?;
    writeln!(out)?;
    writeln!(out)
}

fn error_key(tags: &TagSet) -> [&str; 4] {
    [
        tag(tags, "name"),
        tag(tags, "method"),
        tag(tags, "status"),
        tag(tags, "error_code"),
    ]
}

/// Left-aligned columns as wide as their widest cell, two spaces apart;
/// the last column is not padded so lines carry no trailing blanks.
fn write_table(
    out: &mut impl Write,
    palette: Palette,
    headers: &[&str],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            text.push_str(cell);
            if i < last {
                let pad = widths[i] - cell.chars().count() + 2;
                text.push_str(&" ".repeat(pad));
            }
        }
        text
    };
    writeln!(out, "    {}", palette.bold(&line(headers.to_vec())))?;
    for row in rows {
        writeln!(
            out,
            "    {}",
            line(row.iter().map(String::as_str).collect())
        )?;
    }
    Ok(())
}
