//! Time clauses of thresholds checked against the file: the scenario and
//! stage a `during`/`after` names must exist, or the criterion could only
//! fail after the run ("scenario did not run") instead of at load time.

use super::Validator;
use super::selectors::{scenario_hint, scenario_names};
use crate::metrics::threshold::{MetricSelector, ThresholdExpr};
use crate::metrics::threshold_time::TimeCriterion;
use crate::scenario::locate::FieldPath;
use crate::scenario::model::ScenarioFile;

impl Validator<'_> {
    /// Checks `expr`'s time clause, reporting at `path`. Returns the
    /// scenario it names when `--scenario` left that one out (the threshold
    /// is then skipped), `Some(None)` when it is judged, and `None` when a
    /// problem was reported.
    pub(super) fn time_clause(
        &mut self,
        selector: &MetricSelector,
        expr: &ThresholdExpr,
        abort_on_fail: bool,
        file: &ScenarioFile,
        path: &FieldPath,
    ) -> Option<Option<String>> {
        let Some(time) = expr.time.clone() else {
            return Some(None);
        };
        let time = time.with_default_scenario(selector.scenario());
        if abort_on_fail {
            self.problem(
                path,
                format!(
                    "{:?}: abort_on_fail cannot be used with a time clause",
                    expr.source
                ),
                Some("time criteria are judged on the timeline when the test ends".into()),
            );
            return None;
        }
        let scenarios = scenario_names(file);
        let needs_scenario = matches!(time, TimeCriterion::BreakingPoint { .. });
        let span = time.span();
        let named = span.and_then(|s| s.scenario.clone());
        let scenario = match named {
            Some(name) => {
                if !scenarios.contains(&name.as_str()) {
                    let hint = scenario_hint(&name, &scenarios);
                    self.problem(
                        path,
                        format!("{:?}: unknown scenario {name:?}", expr.source),
                        Some(hint),
                    );
                    return None;
                }
                name
            }
            None if scenarios.len() == 1 => scenarios[0].to_string(),
            None if span.is_some_and(|s| s.stage.is_some()) || needs_scenario => {
                self.problem(
                    path,
                    format!(
                        "{:?}: the file has several scenarios; say which",
                        expr.source
                    ),
                    Some(format!("e.g. during {} stage 1", scenarios[0])),
                );
                return None;
            }
            None => return Some(None),
        };
        if let Some(n) = span.and_then(|s| s.stage) {
            let stages = stage_count(file, &scenario);
            if n > stages {
                self.problem(
                    path,
                    format!(
                        "{:?}: scenario {scenario:?} has {stages} stage(s), not {n}",
                        expr.source
                    ),
                    None,
                );
                return None;
            }
        }
        let selected = &self.options.scenarios;
        Some((!selected.is_empty() && !selected.contains(&scenario)).then_some(scenario))
    }
}

/// The stages the timeline marks for `scenario`: a ramping executor's
/// `stages`, one for every other executor.
fn stage_count(file: &ScenarioFile, scenario: &str) -> usize {
    let stages = match &file.scenarios {
        Some(map) => map
            .0
            .iter()
            .find(|(name, _)| name == scenario)
            .and_then(|(_, def)| def.stages.as_ref()),
        None => file.stages.as_ref(),
    };
    stages.map_or(1, |s| s.len().max(1))
}
