//! `stampede report SUMMARY -o FILE`: the HTML report of a past run.

use super::args::ReportArgs;
use crate::exit_code;
use crate::report::{RunFile, render_html};

pub fn report(args: &ReportArgs) -> i32 {
    let run = match RunFile::read(&args.summary) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::RUNTIME_ERROR;
        }
    };
    if run.timeline.is_none() {
        eprintln!(
            "warning: {} has no timeline (written by an older stampede): the report has no charts over time",
            args.summary.display()
        );
    }
    match std::fs::write(&args.output, render_html(&run)) {
        Ok(()) => exit_code::PASS,
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", args.output.display());
            exit_code::RUNTIME_ERROR
        }
    }
}
