//! `stampede merge`: the summary exports of a distributed test's instances
//! into one test's summary and verdict. Thresholds are judged again on the
//! merged values: a threshold every instance passes on its share (say
//! `http_reqs: count>=1000` with 4 x 300) can fail the test as a whole.
//! The instances' timelines combine into the test's, which the merged
//! export carries and the merged report charts.

use std::io::Write;
use std::path::Path;

use super::args::MergeArgs;
use super::color::Colors;
use super::run_cmd::{exit_code_for, write_export_and_report};
use crate::exit_code;
use crate::report::merge::{
    InstanceExport, MergedTimeline, RunIdentity, merge_instances, merged_json, read_export,
};
use crate::report::{ConsoleOptions, render_console};

pub fn merge(args: MergeArgs, colors: Colors) -> i32 {
    let mut instances = Vec::with_capacity(args.summaries.len());
    for path in &args.summaries {
        match read_summary(path) {
            Ok(export) => instances.push((path.display().to_string(), export)),
            Err(message) => {
                eprintln!("error: {}: {message}", path.display());
                return exit_code::INVALID_SUMMARY;
            }
        }
    }
    let merged = match merge_instances(&instances) {
        Ok(merged) => merged,
        Err(refusal) => {
            eprintln!("error: cannot merge: {refusal}");
            return exit_code::SUMMARIES_NOT_ONE_TEST;
        }
    };
    if let MergedTimeline::Partial { without } = &merged.timeline {
        eprintln!(
            "warning: no timeline in {} (run with --no-timeline, or by an older stampede): \
             the merged summary and report have no timeline, rather than one of part of the test",
            without.join(", ")
        );
    }
    let mut stdout = std::io::stdout().lock();
    let _ = write_instances(&merged.identity, &mut stdout);
    let console = ConsoleOptions {
        color: colors.stdout,
    };
    if let Err(e) = render_console(&merged.summary, &mut stdout, &console) {
        eprintln!("error: cannot print the summary: {e}");
    }
    let _ = stdout.flush();
    let doc = merged_json(&merged);
    if !write_export_and_report(&doc, args.summary_export.as_deref(), args.report.as_deref()) {
        return exit_code::RUNTIME_ERROR;
    }
    exit_code_for(&merged.summary)
}

fn read_summary(path: &Path) -> Result<InstanceExport, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    read_export(&doc).map_err(|e| format!("not a summary export: {e}"))
}

/// One line per instance (segment, instance tag, start lag) and the late
/// ones counted, so a verdict on a test whose instances did not start
/// together says so.
fn write_instances(identity: &RunIdentity, out: &mut impl Write) -> std::io::Result<()> {
    let count = identity.merged_from.len();
    writeln!(out, "\n  MERGED {count} INSTANCE(S) OF ONE TEST\n")?;
    for instance in &identity.merged_from {
        let segment = instance.segment.as_deref().unwrap_or("whole");
        let start = match instance.start_lag_ms {
            Some(lag) if instance.late => format!("started {:.1} s late", lag / 1000.0),
            Some(lag) => format!("started on time (+{lag:.0} ms)"),
            None => "no --start-at".to_string(),
        };
        writeln!(
            out,
            "    segment {segment:<7} {:<32} {start}",
            instance.instance
        )?;
    }
    let late = identity.merged_from.iter().filter(|i| i.late).count();
    if late > 0 {
        writeln!(
            out,
            "\n    ✗ {late} of {count} instance(s) started late: the merged load ran out of step with the planned profile"
        )?;
    }
    Ok(())
}
