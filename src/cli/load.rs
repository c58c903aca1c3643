//! From command-line arguments to a TestPlan, with errors printed one per line.

use std::collections::HashMap;
use std::path::Path;

use super::args::PlanArgs;
use crate::scenario::{self, LoadOptions, Scale, ScenarioErrors, Share, TestPlan};

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
        rate: args.rate,
        scale: Scale {
            vus: args.scale_vus.unwrap_or(1.0),
            rate: args.scale_rate.unwrap_or(1.0),
            duration: args.scale_duration.unwrap_or(1.0),
        },
        segment: args.segment,
        instance: None,
        tags: Vec::new(),
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

/// The default `instance` tag: the host name, plus `-i/n` when segmented.
pub fn default_instance(segment: Option<Share>) -> String {
    let host = hostname().unwrap_or_else(|| "localhost".to_string());
    match segment {
        Some(s) => format!("{host}-{}/{}", s.index + 1, s.count),
        None => host,
    }
}

fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
    (!name.is_empty()).then_some(name)
}
