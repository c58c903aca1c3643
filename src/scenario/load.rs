//! Entry points: read a scenario file, parse it, validate it into a plan,
//! and turn every problem into a one-line error with its position.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use super::error::{ScenarioError, ScenarioErrors};
use super::locate::{Locator, Seg};
use super::model::ScenarioFile;
use super::parse::{Parsed, parse};
use super::plan::{Share, TestPlan};
use super::validate::{self, Problem};
use super::yaml::Mark;

/// What the command line adds to a scenario file.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--env K=V`, highest priority.
    pub env_overrides: Vec<(String, String)>,
    /// The process environment (`std::env::vars()`); tests pass their own.
    pub process_env: HashMap<String, String>,
    /// `--profile NAME`.
    pub profile: Option<String>,
    /// `--scenario NAME` (repeatable); empty selects all.
    pub scenarios: Vec<String>,
    /// `--vus`, `--duration`, `--iterations`, applied to every selected scenario as k6 does.
    pub vus: Option<u64>,
    pub duration: Option<Duration>,
    pub iterations: Option<u64>,
    /// `--rate R`: every selected scenario becomes constant-arrival-rate at R
    /// iterations per second for `--duration`.
    pub rate: Option<f64>,
    /// `--scale-vus`, `--scale-rate`, `--scale-duration`: multiply every
    /// selected scenario's VU counts, rates and durations (after the overrides).
    pub scale: Scale,
    /// `--segment i/n`: run only this instance's share of every scenario.
    pub segment: Option<Share>,
    /// Value of the `instance` tag added to every tag set; none when `None`.
    pub instance: Option<String>,
    /// `--tag K=V`: tags added to every tag set (a scenario's own tags win).
    pub tags: Vec<(String, String)>,
}

/// Factors applied to every selected scenario; 1.0 leaves it as written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub vus: f64,
    pub rate: f64,
    pub duration: f64,
}

impl Default for Scale {
    fn default() -> Self {
        Scale {
            vus: 1.0,
            rate: 1.0,
            duration: 1.0,
        }
    }
}

impl LoadOptions {
    /// Options with the real process environment.
    pub fn from_process_env() -> Self {
        LoadOptions {
            process_env: std::env::vars().collect(),
            ..LoadOptions::default()
        }
    }
}

/// Reads and validates a scenario file.
pub fn load(path: &Path, options: &LoadOptions) -> Result<TestPlan, ScenarioErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ScenarioErrors::single(ScenarioError::new(
            path,
            "",
            format!("cannot read scenario file: {e}"),
        ))
    })?;
    load_str(&text, path, options)
}

/// Validates scenario text; `source` names it in errors and anchors relative data paths.
pub fn load_str(
    text: &str,
    source: &Path,
    options: &LoadOptions,
) -> Result<TestPlan, ScenarioErrors> {
    let parsed = parse(text, source)?;
    let locator = Locator::new(parsed.root.clone());
    let validated = parsed
        .file
        .as_ref()
        .map(|file| validate::validate(file, source, options));
    let mut errors: Vec<(Option<Mark>, ScenarioError)> = parsed
        .problems
        .iter()
        .map(|p| {
            let error = parsed.error_at(
                Some(p.mark),
                p.field.to_string(),
                p.message.clone(),
                p.hint.clone(),
            );
            (Some(p.mark), error)
        })
        .collect();
    match validated {
        Some(Ok(mut plan)) if errors.is_empty() => {
            locate_outputs(&mut plan, &locator, &parsed);
            return Ok(plan);
        }
        Some(Err(problems)) => {
            // A validation problem at or under a path with a parse problem
            // is about the placeholder put there: left out. One set lookup
            // per prefix keeps this linear in the number of problems.
            let blocking: HashSet<&[Seg]> = parsed
                .problems
                .iter()
                .map(|e| e.blocks.0.as_slice())
                .collect();
            let blocked = |p: &Problem| {
                p.option.is_none()
                    && (0..=p.path.0.len()).any(|n| blocking.contains(&p.path.0[..n]))
            };
            for p in problems.into_iter().filter(|p| !blocked(p)) {
                let mark = p
                    .option
                    .is_none()
                    .then(|| locator.locate(&p.path))
                    .flatten();
                let field = p.option.clone().unwrap_or_else(|| p.path.to_string());
                errors.push((mark, parsed.error_at(mark, field, p.message, p.hint)));
            }
        }
        _ => {}
    }
    // File order (the scenario file, then its includes); problems in
    // command-line options (no position) last.
    errors.sort_by_key(|(mark, _)| (mark.is_none(), *mark));
    // An anchored mapping merged into many places is read once per place;
    // a mistake in it is one mistake, reported once (under the first path).
    let mut seen = HashSet::new();
    errors.retain(|(mark, e)| mark.is_none() || seen.insert((*mark, e.message.clone())));
    Err(ScenarioErrors(errors.into_iter().map(|(_, e)| e).collect()))
}

/// Gives each output of the file its `FILE:LINE:COL` origin, so errors its
/// kind reports later (an unknown option) point at the entry.
fn locate_outputs(plan: &mut TestPlan, locator: &Locator, parsed: &Parsed) {
    let root = super::locate::FieldPath::root().key("outputs");
    for (i, spec) in plan.outputs.iter_mut().enumerate() {
        spec.origin = match locator.locate(&root.index(i)) {
            Some(mark) => format!(
                "{}:{}:{}",
                parsed.files[mark.file as usize].display(),
                mark.line,
                mark.column
            ),
            None => format!("{}: outputs[{i}]", parsed.files[0].display()),
        };
    }
}

/// Validates a model built in code (ad-hoc mode); errors carry no positions.
pub(crate) fn validate_model(
    file: &ScenarioFile,
    source: &Path,
    options: &LoadOptions,
) -> Result<TestPlan, Vec<Problem>> {
    validate::validate(file, source, options)
}
