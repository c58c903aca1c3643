//! How each output fared: points sent, retried and dropped, snapshots it
//! missed, and its first errors — on the console and in the summary JSON.
//! Both appear only when the run had outputs.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::metrics::SinkReport;

/// Errors shown per output on the console; the summary JSON has them all.
const CONSOLE_ERRORS: usize = 3;

/// The body of the `█ OUTPUTS` section (the console writes the heading).
pub(crate) fn write_outputs(reports: &[SinkReport], out: &mut impl Write) -> io::Result<()> {
    for report in reports {
        writeln!(out, "    {}", report.name)?;
        match report.points {
            Some(p) => writeln!(
                out,
                "      points     {} sent, {} retried, {} dropped",
                p.sent, p.retried, p.dropped
            )?,
            None => writeln!(out, "      points     not counted by this output")?,
        }
        writeln!(
            out,
            "      snapshots  {} written, {} dropped",
            report.snapshots_written, report.snapshots_dropped
        )?;
        for (i, error) in report.errors.iter().take(CONSOLE_ERRORS).enumerate() {
            let label = if i == 0 { "errors   " } else { "         " };
            writeln!(out, "      {label}  {error}")?;
        }
        if report.errors.len() > CONSOLE_ERRORS {
            writeln!(
                out,
                "                 ({} more in the summary JSON)",
                report.errors.len() - CONSOLE_ERRORS
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out)
}

/// The summary JSON's `outputs` array.
pub(crate) fn outputs_json(reports: &[SinkReport]) -> Value {
    Value::Array(
        reports
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "points": r.points.map(|p| json!({
                        "sent": p.sent,
                        "retried": p.retried,
                        "dropped": p.dropped,
                    })),
                    "snapshots_written": r.snapshots_written,
                    "snapshots_dropped": r.snapshots_dropped,
                    "errors": r.errors,
                })
            })
            .collect(),
    )
}
