//! `if:` on a step: the condition is a request check's, validated as one,
//! plus what only a step condition must know: whether a request can have
//! run before it (a condition on the last response needs one), and which
//! parts of responses the flow's conditions read, so requests keep them.

use super::Validator;
use super::steps::StepCtx;
use crate::scenario::condition::Condition;
use crate::scenario::locate::FieldPath;
use crate::scenario::model::{ConditionDef, StepDef};

/// What the `if:` conditions of a flow read from the last response. The
/// request an `if:` looks at can be any earlier one (in a group, a branch,
/// an earlier `if:`), so every request of the flow keeps these parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IfReads {
    pub body: bool,
    pub headers: bool,
}

impl IfReads {
    /// What the `if:`s in `steps` (nested ones included) read.
    pub fn of(steps: &[StepDef]) -> Self {
        let mut reads = IfReads::default();
        for step in steps {
            if let Some(def) = &step.if_ {
                reads.add_condition(def);
            }
            let nested: Vec<&[StepDef]> = [
                step.group.as_ref().map(|g| g.steps.as_slice()),
                step.repeat.as_ref().map(|r| r.steps.as_slice()),
            ]
            .into_iter()
            .flatten()
            .chain(step.choose.iter().flatten().map(|b| b.steps.as_slice()))
            .collect();
            for inner in nested {
                let more = IfReads::of(inner);
                reads.body |= more.body;
                reads.headers |= more.headers;
            }
        }
        reads
    }

    fn add_condition(&mut self, def: &ConditionDef) {
        self.body |= def.json.is_some()
            || def.body_contains.is_some()
            || def.body_not_contains.is_some()
            || def.body_matches.is_some();
        self.headers |= def.header.is_some() || def.cookie.is_some();
        if let Some(inner) = &def.not {
            self.add_condition(inner);
        }
    }
}

/// Whether running `step` may send an HTTP request, the kind of exchange
/// that sets the last response (`sse` and `websocket` do not).
pub(crate) fn may_send_request(step: &StepDef) -> bool {
    step.request.is_some()
        || step.batch.is_some()
        || step
            .group
            .as_ref()
            .is_some_and(|g| g.steps.iter().any(may_send_request))
        || step
            .choose
            .iter()
            .flatten()
            .any(|b| b.steps.iter().any(may_send_request))
        || step
            .repeat
            .as_ref()
            .is_some_and(|r| r.steps.iter().any(may_send_request))
}

impl Validator<'_> {
    /// The condition of a step's `if:`. A condition on the response is an
    /// error where no request can have run before the step in its flow.
    pub(super) fn step_condition(
        &mut self,
        def: &ConditionDef,
        path: &FieldPath,
        ctx: &StepCtx,
    ) -> Option<Condition> {
        let condition = self.condition(def, path, false)?;
        if condition.needs_response() && !ctx.after_request {
            self.problem(
                path,
                format!(
                    "`{}` looks at the last response, but no request runs before this step",
                    condition.describe()
                ),
                Some(
                    "put a request before it in the same flow, or test a value: if: { var: NAME, equals: VALUE }"
                        .into(),
                ),
            );
            return None;
        }
        Some(condition)
    }
}

#[cfg(test)]
#[path = "step_if_tests.rs"]
mod tests;
