//! `stampede validate FILE`.

use super::args::ValidateArgs;
use super::load::{load_file, load_options, print_errors};
use crate::exit_code;

pub fn validate(args: ValidateArgs) -> i32 {
    let mut options = load_options(&args.plan, Vec::new());
    options.tags = args.tags;
    match load_file(&args.file, &options) {
        Ok(plan) => {
            let requests = plan.scenarios.len();
            let skipped = plan
                .thresholds
                .iter()
                .filter(|t| t.unselected_scenario.is_some())
                .count();
            println!(
                "✓ {} is valid: {} scenario{} ({}), {} threshold{}{}",
                args.file.display(),
                requests,
                if requests == 1 { "" } else { "s" },
                plan.scenarios
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                plan.thresholds.len(),
                if plan.thresholds.len() == 1 { "" } else { "s" },
                if skipped == 0 {
                    String::new()
                } else {
                    format!(" ({skipped} skipped: scenario not selected)")
                },
            );
            exit_code::PASS
        }
        Err(errors) => {
            print_errors(&errors);
            eprintln!(
                "✗ {}: {} problem{}",
                args.file.display(),
                errors.0.len(),
                if errors.0.len() == 1 { "" } else { "s" }
            );
            exit_code::INVALID_SCENARIO
        }
    }
}
