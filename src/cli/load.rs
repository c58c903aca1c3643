//! From command-line arguments to a TestPlan, with errors printed one per line.

use std::collections::HashMap;
use std::path::Path;

use super::args::PlanArgs;
use crate::scenario::{self, LoadOptions, ScenarioErrors, TestPlan};

pub fn load_options(args: &PlanArgs, extra_env: Vec<(String, String)>) -> LoadOptions {
    let mut env_overrides = args.env.clone();
    env_overrides.extend(extra_env);
    LoadOptions {
        env_overrides,
        process_env: std::env::vars().collect::<HashMap<_, _>>(),
        profile: args.profile.clone(),
        scenarios: args.scenarios.clone(),
        vus: args.vus,
        duration: args.duration,
        iterations: args.iterations,
    }
}

pub fn load_file(path: &Path, options: &LoadOptions) -> Result<TestPlan, ScenarioErrors> {
    scenario::load(path, options)
}

/// Prints every problem, one line each, to stderr.
pub fn print_errors(errors: &ScenarioErrors) {
    for error in &errors.0 {
        eprintln!("error: {error}");
    }
}
