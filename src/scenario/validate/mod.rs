//! ScenarioFile -> TestPlan. Every problem found is collected (with its field
//! path) instead of stopping at the first; `load` then turns paths into line
//! numbers. Helpers return `Option`: `None` means "reported, keep going".

/// A request-check `ConditionDef` with the given subject fields and the
/// comparison operators (`exists`, `equals`, ... `in`) copied from `$def`:
/// SSE checks, WebSocket expects and WebSocket reply checks have the request
/// checks' operators under the same names and are validated as request
/// checks. One list, so an operator added to `ConditionDef` is added here
/// once for all of them.
macro_rules! condition_with_operators {
    ($def:expr, { $($subject:ident: $value:expr),* $(,)? }) => {{
        let def = $def;
        crate::scenario::model::ConditionDef {
            $($subject: $value,)*
            exists: def.exists,
            equals: def.equals.clone(),
            not_equals: def.not_equals.clone(),
            contains: def.contains.clone(),
            not_contains: def.not_contains.clone(),
            matches: def.matches.clone(),
            lt: def.lt.clone(),
            lte: def.lte.clone(),
            gt: def.gt.clone(),
            gte: def.gte.clone(),
            one_of: def.one_of.clone(),
            ..crate::scenario::model::ConditionDef::default()
        }
    }};
}

mod arrival;
mod checks;
mod env;
mod env_refs;
mod executor;
pub(crate) mod limits;
mod name;
pub(crate) mod network;
mod outputs;
mod overrides;
mod rendered;
mod request;
mod selectors;
mod shape;
mod sse;
mod step_if;
mod steps;
mod time_criteria;
mod top;
mod websocket;
mod ws_checks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::feed::DataFeed;
use super::load::LoadOptions;
use super::locate::FieldPath;
use super::model::ScenarioFile;
use super::model_types::{Scalar, Text};
use super::plan::TestPlan;
use super::template::{Template, TemplateContext};
use crate::metrics::{MetricRegistry, TagInterner, TagSet, TagSetId};
use crate::util::duration::parse_duration;

/// One problem, before it is given a line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: FieldPath,
    /// Shown instead of `path` when the problem is in a command-line option.
    pub option: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

/// Tag keys stampede sets itself; user tags may not use them.
pub const RESERVED_TAGS: &[&str] = &[
    "scenario",
    "name",
    "method",
    "status",
    "expected_response",
    "error_code",
    "group",
    "check",
    "testid",
    "instance",
    "url",
    "proto",
];

pub(crate) const DURATION_HINT: &str = "use e.g. 30s, 5m, 500ms";

/// Validation state: what is resolved so far and every problem found.
pub(crate) struct Validator<'o> {
    pub(crate) options: &'o LoadOptions,
    /// Directory data files are resolved against.
    pub(crate) base_dir: PathBuf,
    pub(crate) problems: Vec<Problem>,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) variables: Vec<String>,
    /// Declared feeds and their columns (`None`: the file could not be read).
    pub(crate) feed_columns: Vec<(String, Option<Vec<String>>)>,
    pub(crate) feeds: Vec<Arc<DataFeed>>,
    pub(crate) registry: MetricRegistry,
    pub(crate) default_timeout: Duration,
    /// `http.http2`, the last fallback of every request's HTTP version.
    pub(crate) default_http2: Option<bool>,
    /// `http.max_body_size`, the last fallback of every request's.
    pub(crate) default_max_body_size: u64,
    /// `http.tls`, which a scenario's `tls` is merged over.
    pub(crate) file_tls: crate::protocol::http::tls::TlsConfig,
    /// `http.insecure_skip_tls_verify`, for the requests' own TLS profiles.
    pub(crate) insecure_skip_tls_verify: bool,
    /// The TLS profiles of requests with their own `tls`, one per distinct
    /// merged configuration: requests that end up with the same settings
    /// share connections.
    pub(crate) request_tls: Vec<Arc<crate::protocol::http::tls::TlsProfile>>,
}

/// Validates a parsed file into a plan.
pub fn validate(
    file: &ScenarioFile,
    source: &Path,
    options: &LoadOptions,
) -> Result<TestPlan, Vec<Problem>> {
    let base_dir = source.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut v = Validator {
        options,
        base_dir,
        problems: Vec::new(),
        env: BTreeMap::new(),
        variables: Vec::new(),
        feed_columns: Vec::new(),
        feeds: Vec::new(),
        registry: MetricRegistry::with_builtins(),
        default_timeout: Duration::from_secs(60),
        default_http2: None,
        default_max_body_size: crate::protocol::http::DEFAULT_MAX_BODY_SIZE,
        file_tls: Default::default(),
        insecure_skip_tls_verify: false,
        request_tls: Vec::new(),
    };
    v.load_feeds(file);
    v.register_metrics(file);
    // Before the environment, so an env value reading an extracted
    // variable is told it reads a per-VU value, not an unknown name.
    v.collect_variables(file);
    v.resolve_env(file);
    let http = v.http_settings(file);
    let thresholds = v.thresholds(file);
    let root = FieldPath::root();
    let setup = v.steps(
        &file.setup,
        &root.key("setup"),
        &steps::StepCtx::test_level("::setup", options),
    );
    let teardown = v.steps(
        &file.teardown,
        &root.key("teardown"),
        &steps::StepCtx::test_level("::teardown", options),
    );
    let scenarios = v.scenarios(file);
    let outputs = v.outputs(file);
    v.run_tags();
    if !v.problems.is_empty() {
        return Err(v.problems);
    }
    Ok(TestPlan {
        source: source.to_path_buf(),
        env: v.env,
        registry: v.registry,
        feeds: v.feeds,
        variables: v.variables,
        setup,
        teardown,
        scenarios,
        thresholds,
        http,
        instance: options.instance.clone(),
        tags: options.tags.clone(),
        outputs,
    })
}

impl Validator<'_> {
    /// `--tag` keys may not be stampede's own tags (the CLI checks this
    /// first; library callers get it here).
    fn run_tags(&mut self) {
        for (key, _) in &self.options.tags {
            if RESERVED_TAGS.contains(&key.as_str()) {
                self.option_problem(
                    "--tag",
                    format!("tag {key:?} is set by stampede"),
                    Some(format!("reserved tags: {}", RESERVED_TAGS.join(", "))),
                );
            }
        }
    }

    pub(crate) fn problem(
        &mut self,
        path: &FieldPath,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.problems.push(Problem {
            path: path.clone(),
            option: None,
            message: message.into(),
            hint,
        });
    }

    pub(crate) fn option_problem(
        &mut self,
        option: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.problems.push(Problem {
            path: FieldPath::root(),
            option: Some(option.to_string()),
            message: message.into(),
            hint,
        });
    }

    /// A duration (templates rendered); zero allowed.
    pub(crate) fn duration(&mut self, text: &Text, path: &FieldPath) -> Option<Duration> {
        let rendered = self.render_load_time(&text.0, path)?;
        match parse_duration(&rendered) {
            Ok(d) => Some(d),
            Err(_) => {
                let message = if rendered == text.0 {
                    format!("invalid duration {:?}", text.0)
                } else {
                    rendered::not_a(&text.0, &rendered, "a duration")
                };
                self.problem(path, message, Some(DURATION_HINT.into()));
                None
            }
        }
    }

    /// A duration that must be longer than zero.
    pub(crate) fn positive_duration(&mut self, text: &Text, path: &FieldPath) -> Option<Duration> {
        let d = self.duration(text, path)?;
        if d.is_zero() {
            self.problem(path, "must be longer than 0s", Some(DURATION_HINT.into()));
            return None;
        }
        Some(d)
    }

    /// A positive byte count: a number of bytes, or a number with `B`,
    /// `KB`, `MB`, `GB` (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of
    /// 1024); templates rendered.
    pub(crate) fn byte_size(&mut self, size: &Scalar, path: &FieldPath) -> Option<u64> {
        let rendered = self.render_load_time(&size.text, path)?;
        match parse_byte_size(&rendered) {
            Some(0) => {
                self.problem(path, "must be more than 0 bytes", None);
                None
            }
            Some(n) => Some(n),
            None => {
                let message = if rendered == size.text {
                    format!("invalid size {:?}", size.text)
                } else {
                    rendered::not_a(&size.text, &rendered, "a size")
                };
                self.problem(
                    path,
                    message,
                    Some("a number of bytes, or e.g. 512KiB, 10MiB, 1GB".into()),
                );
                None
            }
        }
    }

    pub(crate) fn optional_duration(
        &mut self,
        text: Option<&Text>,
        path: &FieldPath,
        default: Duration,
    ) -> Option<Duration> {
        match text {
            Some(t) => self.duration(t, path),
            None => Some(default),
        }
    }

    pub(crate) fn template_context(&self) -> TemplateContext<'_> {
        TemplateContext {
            env: &self.env,
            process_env: Some(&self.options.process_env),
            variables: &self.variables,
            feeds: &self.feed_columns,
        }
    }

    /// Compiles a template, reporting errors at `path`.
    pub(crate) fn template(&mut self, text: &str, path: &FieldPath) -> Option<Template> {
        match Template::compile(text, &self.template_context()) {
            Ok(t) => Some(t),
            Err(e) => {
                self.problem(path, e.message, e.hint);
                None
            }
        }
    }
}

pub(crate) fn intern<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> TagSetId {
    TagInterner::global().intern(TagSet::new(pairs))
}

/// `10MiB` → 10485760; `None` when not a size (or past `u64`).
fn parse_byte_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

#[cfg(test)]
mod size_tests {
    use super::parse_byte_size;

    #[test]
    fn sizes_in_bytes_and_units() {
        assert_eq!(parse_byte_size("1024"), Some(1024));
        assert_eq!(parse_byte_size("10MiB"), Some(10 << 20));
        assert_eq!(parse_byte_size("512 KiB"), Some(512 << 10));
        assert_eq!(parse_byte_size("2GB"), Some(2_000_000_000));
        assert_eq!(parse_byte_size("10mb"), None);
        assert_eq!(parse_byte_size("MiB"), None);
        assert_eq!(parse_byte_size("-1"), None);
        assert_eq!(parse_byte_size("99999999999GiB"), None);
    }
}
