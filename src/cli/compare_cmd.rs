//! `stampede compare BASELINE CURRENT`: exit code 99 when anything regressed.

use std::io::Write;

use super::args::CompareArgs;
use crate::exit_code;
use crate::report::{RunFile, Tolerances, compare as compare_runs, render_comparison};

pub fn compare(args: &CompareArgs) -> i32 {
    let read = |path: &std::path::Path| RunFile::read(path).map_err(|e| eprintln!("error: {e}"));
    let (Ok(baseline), Ok(current)) = (read(&args.baseline), read(&args.current)) else {
        return exit_code::RUNTIME_ERROR;
    };
    let tolerances = Tolerances {
        rate: args.rate_tolerance,
        error_rate: args.error_rate_tolerance,
        latency: args.latency_tolerance,
        latency_min_ms: args.latency_min_change.as_secs_f64() * 1000.0,
        alpha: args.alpha,
    };
    let names = (
        args.baseline.display().to_string(),
        args.current.display().to_string(),
    );
    let comparison = compare_runs(&baseline, &current, (&names.0, &names.1), &tolerances);
    let mut text = Vec::new();
    if let Err(e) = render_comparison(&comparison, args.format, &mut text) {
        eprintln!("error: cannot render the comparison: {e}");
        return exit_code::RUNTIME_ERROR;
    }
    let written = match &args.output {
        Some(path) => std::fs::write(path, &text),
        None => std::io::stdout().lock().write_all(&text),
    };
    if let Err(e) = written {
        eprintln!("error: cannot write the comparison: {e}");
        return exit_code::RUNTIME_ERROR;
    }
    if comparison.regressed() {
        exit_code::THRESHOLDS_FAILED
    } else {
        exit_code::PASS
    }
}
