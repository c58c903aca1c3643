//! Ad-hoc mode: `stampede run --url URL --method M --header 'K: V' --body B`
//! builds the same model a file would give and validates it on the same path.

use std::path::Path;

use super::error::{ScenarioError, ScenarioErrors};
use super::load::{LoadOptions, validate_model};
use super::model::{RequestDef, ScenarioFile, StepDef};
use super::model_types::{OrderedMap, Scalar};
use super::plan::TestPlan;

/// The request given on the command line.
#[derive(Clone, Debug, Default)]
pub struct AdhocRequest {
    pub url: String,
    /// Default GET.
    pub method: Option<String>,
    /// `K: V` strings as typed.
    pub headers: Vec<String>,
    pub body: Option<String>,
}

/// Name used as the "file" in ad-hoc errors.
pub const ADHOC_SOURCE: &str = "<command line>";

/// One scenario `default` requesting `request`; executor from `options`
/// (`--vus`/`--duration`/`--iterations`), else 1 VU running once.
pub fn adhoc_plan(
    request: &AdhocRequest,
    options: &LoadOptions,
) -> Result<TestPlan, ScenarioErrors> {
    let source = Path::new(ADHOC_SOURCE);
    let mut headers = Vec::new();
    let mut errors = Vec::new();
    for h in &request.headers {
        match h.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                headers.push((k.trim().to_string(), Scalar::string(v.trim())))
            }
            _ => errors.push(ScenarioError::new(
                source,
                "--header",
                format!("{h:?} is not of the form 'Name: value'"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ScenarioErrors(errors));
    }
    let file = ScenarioFile {
        flow: Some(vec![StepDef {
            request: Some(RequestDef {
                url: request.url.clone(),
                method: request.method.clone(),
                headers: OrderedMap(headers),
                body: request.body.clone(),
                ..RequestDef::default()
            }),
            ..StepDef::default()
        }]),
        ..ScenarioFile::default()
    };
    validate_model(&file, source, options).map_err(|problems| {
        ScenarioErrors(
            problems
                .into_iter()
                .map(|p| {
                    let path = p.path.to_string();
                    let field = p.option.unwrap_or_else(|| option_for(&path));
                    let mut e = ScenarioError::new(source, field, p.message);
                    e.hint = p.hint;
                    e
                })
                .collect(),
        )
    })
}

/// The command-line option a model path came from.
fn option_for(path: &str) -> String {
    let tail = path.strip_prefix("flow[0].request.").unwrap_or(path);
    let option = match tail.split('.').next().unwrap_or("") {
        "url" => "--url",
        "method" => "--method",
        "headers" => "--header",
        "body" => "--body",
        _ => return path.to_string(),
    };
    option.to_string()
}
