//! The BREAKING POINTS section: for each ramping scenario, the planned load
//! at which its default bounds were first crossed.

use std::io::{self, Write};

use super::{Palette, write_heading};
use crate::metrics::Summary;
use crate::report::{format_number, format_percent};

pub(super) fn write_breaking_points(
    summary: &Summary,
    out: &mut impl Write,
    palette: Palette,
) -> io::Result<()> {
    if summary.breaking_points.is_empty() {
        return Ok(());
    }
    write_heading(out, palette, "BREAKING POINTS")?;
    for point in &summary.breaking_points {
        let what = format!(
            "{}: {} {}",
            point.scenario,
            point.metric.split('{').next().unwrap_or_default(),
            point.condition
        );
        let line = match (point.load, point.start_ms, point.observed) {
            (Some(load), Some(start), Some(observed)) => {
                let observed = if point.metric.starts_with("http_req_failed") {
                    format_percent(observed)
                } else {
                    format!("{}ms", format_number(observed))
                };
                palette.red(&format!(
                    "{what} crossed at {} {} (t={} s, {observed})",
                    format_number(load),
                    point.unit,
                    format_number(start as f64 / 1000.0)
                ))
            }
            _ => palette.green(&format!(
                "{what} held up to {} {}",
                format_number(point.max_load),
                point.unit
            )),
        };
        writeln!(out, "    {line}")?;
    }
    writeln!(out)
}
