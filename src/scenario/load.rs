//! Entry points: read a scenario file, parse it, validate it into a plan,
//! and turn every problem into a one-line error with its position.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::error::{ScenarioError, ScenarioErrors};
use super::locate::Locator;
use super::model::ScenarioFile;
use super::plan::{Share, TestPlan};
use super::validate::{self, Problem};

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
    let file = parse(text, source)?;
    let mut plan = validate::validate(&file, source, options)
        .map_err(|problems| locate_problems(problems, text, source))?;
    locate_outputs(&mut plan, text, source);
    Ok(plan)
}

/// Gives each output of the file its `FILE:LINE:COL` origin, so errors its
/// kind reports later (an unknown option) point at the entry.
fn locate_outputs(plan: &mut TestPlan, text: &str, source: &Path) {
    if plan.outputs.is_empty() {
        return;
    }
    let locator = Locator::new(text);
    let root = super::locate::FieldPath::root().key("outputs");
    for (i, spec) in plan.outputs.iter_mut().enumerate() {
        spec.origin = match locator.locate(&root.index(i)) {
            Some((line, column)) => format!("{}:{line}:{column}", source.display()),
            None => format!("{}: outputs[{i}]", source.display()),
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

fn parse(text: &str, source: &Path) -> Result<ScenarioFile, ScenarioErrors> {
    if text
        .trim()
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Err(ScenarioErrors::single(
            ScenarioError::new(source, "", "the scenario file is empty")
                .with_hint("start with e.g. `vus: 1`, `duration: 10s` and a `flow:` list"),
        ));
    }
    if let Some((line, column)) = super::nesting::too_deep(text) {
        return Err(ScenarioErrors::single(
            ScenarioError::new(
                source,
                "",
                format!(
                    "invalid YAML: nested more than {} levels deep",
                    super::nesting::MAX_NESTING
                ),
            )
            .at(line, column),
        ));
    }
    serde_norway::from_str(text).map_err(|e| ScenarioErrors::single(serde_error(&e, source)))
}

/// Splits serde_norway's `path: message at line L column C` into our parts.
fn serde_error(error: &serde_norway::Error, source: &Path) -> ScenarioError {
    let mut text = error.to_string();
    let location = error.location();
    if let Some(loc) = &location {
        let suffix = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(at) = text.find(&suffix) {
            text.replace_range(at..at + suffix.len(), "");
        }
    }
    let mut field = String::new();
    if let Some((head, rest)) = text.split_once(": ") {
        let is_path =
            !head.is_empty() && !head.contains(char::is_whitespace) && !head.contains('`');
        if is_path {
            field = head.to_string();
            text = rest.to_string();
        }
    }
    let is_yaml_syntax = !text.starts_with("unknown field")
        && !text.starts_with("invalid type")
        && !text.starts_with("missing field")
        && !text.starts_with("invalid value")
        && !text.starts_with("duplicate key")
        && !text.starts_with("unknown variant")
        && !text.starts_with("invalid length");
    let mut hint = None;
    if let Some((message, expected)) = text.split_once(", expected ")
        && (message.starts_with("unknown field") || message.starts_with("unknown variant"))
    {
        hint = Some(format!("expected {expected}"));
        text = message.to_string();
    }
    if is_yaml_syntax && field.is_empty() {
        text = format!("invalid YAML: {text}");
    }
    let mut out = ScenarioError::new(source, field, text);
    out.hint = hint;
    if let Some(loc) = location {
        out = out.at(loc.line(), loc.column());
    }
    out
}

fn locate_problems(problems: Vec<Problem>, text: &str, source: &Path) -> ScenarioErrors {
    let locator = Locator::new(text);
    let mut errors: Vec<ScenarioError> = problems
        .into_iter()
        .map(|p| {
            let field = p.option.clone().unwrap_or_else(|| p.path.to_string());
            let mut e = ScenarioError::new(source, field, p.message);
            e.hint = p.hint;
            if p.option.is_none()
                && let Some((line, column)) = locator.locate(&p.path)
            {
                e = e.at(line, column);
            }
            e
        })
        .collect();
    // File order; option problems (no position) last.
    errors.sort_by_key(|e| (e.line.is_none(), e.line, e.column));
    ScenarioErrors(errors)
}
