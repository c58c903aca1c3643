//! Threshold selectors (`http_req_duration{scenario:stress,name:login}`)
//! checked against the file: a misspelt tag key or scenario name would
//! otherwise match nothing and surface only after the run, as a threshold
//! without samples. Custom tag keys can come from several places, so a key
//! is rejected only when nothing in the file or on the command line can set it.

use super::{RESERVED_TAGS, Validator};
use crate::metrics::threshold::MetricSelector;
use crate::scenario::locate::FieldPath;
use crate::scenario::model::{ScenarioFile, StepDef};
use crate::scenario::suggest;

/// The name of the scenario the top-level shorthand (`flow:`) makes.
const SHORTHAND_SCENARIO: &str = "default";

impl Validator<'_> {
    /// Checks the selector's tag keys and `scenario` values, reporting at
    /// `path`. Returns the scenario it names when `--scenario` left that
    /// scenario out (the threshold is then skipped), `Some(None)` when the
    /// threshold is judged, and `None` when a problem was reported.
    pub(super) fn unselected_scenario(
        &mut self,
        selector: &MetricSelector,
        file: &ScenarioFile,
        path: &FieldPath,
    ) -> Option<Option<String>> {
        let keys = known_tag_keys(file, &self.options.tags);
        let scenarios = scenario_names(file);
        let mut unselected = None;
        for (key, value) in &selector.filter {
            if !keys.contains(&key.as_str()) {
                let close = suggest::similar(key, keys.iter().copied());
                let hint = if close.is_empty() {
                    format!(
                        "tag keys in this run: {}; add one with a scenario's `tags:` or --tag",
                        suggest::list(keys.iter().copied())
                    )
                } else {
                    format!("did you mean {}?", suggest::list(close))
                };
                self.problem(path, format!("unknown tag key {key:?}"), Some(hint));
                return None;
            }
            if key != "scenario" {
                continue;
            }
            if !scenarios.contains(&value.as_str()) {
                let hint = scenario_hint(value, &scenarios);
                self.problem(path, format!("unknown scenario {value:?}"), Some(hint));
                return None;
            }
            let selected = &self.options.scenarios;
            if !selected.is_empty() && !selected.contains(value) {
                unselected = Some(value.clone());
            }
        }
        Some(unselected)
    }
}

/// The hint for an unknown scenario `name`: the close names, else all.
pub(super) fn scenario_hint(name: &str, scenarios: &[&str]) -> String {
    let close = suggest::similar(name, scenarios.iter().copied());
    if close.is_empty() {
        format!(
            "scenarios in this file: {}",
            suggest::list(scenarios.iter().copied())
        )
    } else {
        format!("did you mean {}?", suggest::list(close))
    }
}

/// Scenario names in file order; the shorthand form has one, `default`.
pub(super) fn scenario_names(file: &ScenarioFile) -> Vec<&str> {
    match &file.scenarios {
        Some(scenarios) => scenarios.keys().collect(),
        None => vec![SHORTHAND_SCENARIO],
    }
}

/// Every tag key a sample of this run can carry, sorted: the keys stampede
/// sets itself, each scenario's `tags:` and `--tag` (`cli_tags`). A new
/// place that sets tags adds its keys here, or thresholds on them are
/// rejected as typos.
fn known_tag_keys<'a>(file: &'a ScenarioFile, cli_tags: &'a [(String, String)]) -> Vec<&'a str> {
    let scenario_tags = file
        .scenarios
        .iter()
        .flat_map(|s| &s.0)
        .flat_map(|(_, def)| def.tags.keys());
    let mut keys: Vec<&str> = RESERVED_TAGS
        .iter()
        .copied()
        .chain(scenario_tags)
        .chain(cli_tags.iter().map(|(k, _)| k.as_str()))
        .collect();
    for steps in every_step_list(file) {
        header_tag_keys(steps, &mut keys);
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Every top-level step list of the file: test and VU setup, teardown, the
/// shorthand flow and each scenario's setup and flow.
fn every_step_list(file: &ScenarioFile) -> Vec<&[StepDef]> {
    let mut lists: Vec<&[StepDef]> = vec![&file.setup, &file.teardown];
    lists.extend(file.vu_setup.as_deref());
    lists.extend(file.flow.as_deref());
    for (_, scenario) in file.scenarios.iter().flat_map(|s| &s.0) {
        lists.push(&scenario.setup);
        lists.push(&scenario.flow);
    }
    lists
}

/// The keys of every request's `tags_from_headers`, nested steps included.
fn header_tag_keys<'a>(steps: &'a [StepDef], keys: &mut Vec<&'a str>) {
    for step in steps {
        let requests = step
            .request
            .iter()
            .chain(step.batch.iter().flat_map(|b| &b.requests));
        keys.extend(requests.flat_map(|r| r.tags_from_headers.keys()));
        if let Some(group) = &step.group {
            header_tag_keys(&group.steps, keys);
        }
        for branch in step.choose.iter().flatten() {
            header_tag_keys(&branch.steps, keys);
        }
        if let Some(repeat) = &step.repeat {
            header_tag_keys(&repeat.steps, keys);
        }
    }
}
