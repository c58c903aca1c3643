//! Steps: request, group, sleep, batch, choose, repeat, sse, websocket.

use std::sync::Arc;

use super::Validator;
use super::step_if::{IfReads, may_send_request};
use crate::protocol::http::tls::TlsConfig;
use crate::scenario::load::LoadOptions;
use crate::scenario::locate::FieldPath;
use crate::scenario::model::{BatchDef, ChooseBranchDef, GroupDef, RepeatDef, SleepDef, StepDef};
use crate::scenario::model_types::TextOr;
use crate::scenario::plan::{
    BatchStep, ChooseBranch, ChooseStep, GroupStep, IfStep, RepeatStep, SleepSpec, Step,
};

/// Largest number of requests one batch may expand to (copies included).
const MAX_BATCH_REQUESTS: u64 = 100_000;

const STEP_KINDS: &str = "request, group, sleep, batch, choose, repeat, sse or websocket";

/// Where steps sit: their scenario, enclosing groups, tags, whether an
/// enclosing `repeat` or an `if:` of the flow reads response bodies, and
/// whether a request can have run before.
#[derive(Clone, Debug)]
pub(crate) struct StepCtx {
    pub scenario: Option<String>,
    /// k6's group path, `::outer::inner`; `None` at the top of a flow.
    pub group: Option<String>,
    pub user_tags: Vec<(String, String)>,
    /// The run's `instance` tag (`--instance`, or host and segment from the CLI).
    pub instance: Option<String>,
    /// `--tag` tags of the whole run.
    pub run_tags: Vec<(String, String)>,
    pub body_repeat: bool,
    /// The scenario's `http2`; `None` at test level and when unset.
    pub http2: Option<bool>,
    /// The scenario's `max_body_size`; `None` at test level and when unset.
    pub max_body_size: Option<u64>,
    /// The scenario's `tls` merged over `http.tls`, which a request's own
    /// `tls` is merged over; `None` at test level and when unset (`http.tls`).
    pub tls: Option<Arc<TlsConfig>>,
    /// What the flow's `if:` conditions read from responses.
    pub if_reads: IfReads,
    /// A request of this flow may have run before the step (an `if:` on
    /// the last response needs one).
    pub after_request: bool,
}

impl StepCtx {
    /// Test-level setup/teardown: no scenario, tagged with a `::setup` style group as k6 does.
    pub fn test_level(group: &str, options: &LoadOptions) -> Self {
        StepCtx {
            scenario: None,
            group: Some(group.to_string()),
            user_tags: Vec::new(),
            instance: options.instance.clone(),
            run_tags: options.tags.clone(),
            body_repeat: false,
            http2: None,
            max_body_size: None,
            tls: None,
            if_reads: IfReads::default(),
            after_request: false,
        }
    }

    pub fn scenario(name: &str, user_tags: Vec<(String, String)>, options: &LoadOptions) -> Self {
        StepCtx {
            scenario: Some(name.to_string()),
            group: None,
            user_tags,
            instance: options.instance.clone(),
            run_tags: options.tags.clone(),
            body_repeat: false,
            http2: None,
            max_body_size: None,
            tls: None,
            if_reads: IfReads::default(),
            after_request: false,
        }
    }

    /// Run tags, then the scenario's user tags (which win over run tags),
    /// then `scenario`, `group` and `instance` (built-in keys win; user tags
    /// may not use them anyway).
    pub fn tags(&self) -> Vec<(String, String)> {
        let mut tags = self.run_tags.clone();
        tags.extend(self.user_tags.iter().cloned());
        if let Some(s) = &self.scenario {
            tags.push(("scenario".into(), s.clone()));
        }
        if let Some(g) = &self.group {
            tags.push(("group".into(), g.clone()));
        }
        if let Some(i) = &self.instance {
            tags.push(("instance".into(), i.clone()));
        }
        tags
    }
}

impl Validator<'_> {
    pub(crate) fn steps(
        &mut self,
        steps: &[StepDef],
        path: &FieldPath,
        ctx: &StepCtx,
    ) -> Vec<Step> {
        let mut ctx = ctx.clone();
        let reads = IfReads::of(steps);
        ctx.if_reads.body |= reads.body;
        ctx.if_reads.headers |= reads.headers;
        let mut out = Vec::with_capacity(steps.len());
        for (i, def) in steps.iter().enumerate() {
            let at = path.index(i);
            let step = self.step(def, &at, &ctx);
            let condition = match &def.if_ {
                Some(c) => self.step_condition(c, &at.key("if"), &ctx),
                None => None,
            };
            match (step, &def.if_) {
                (Some(step), None) => out.push(step),
                (Some(step), Some(_)) => {
                    if let Some(condition) = condition {
                        out.push(Step::If(Box::new(IfStep { condition, step })));
                    }
                }
                (None, _) => {}
            }
            ctx.after_request |= may_send_request(def);
        }
        out
    }

    /// Steps that must not be empty.
    fn nonempty_steps(&mut self, steps: &[StepDef], path: &FieldPath, ctx: &StepCtx) -> Vec<Step> {
        if steps.is_empty() {
            self.problem(path, "needs at least one step", None);
        }
        self.steps(steps, path, ctx)
    }

    fn step(&mut self, step: &StepDef, path: &FieldPath, ctx: &StepCtx) -> Option<Step> {
        let present: Vec<&str> = [
            ("request", step.request.is_some()),
            ("group", step.group.is_some()),
            ("sleep", step.sleep.is_some()),
            ("batch", step.batch.is_some()),
            ("choose", step.choose.is_some()),
            ("repeat", step.repeat.is_some()),
            ("sse", step.sse.is_some()),
            ("websocket", step.websocket.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        match present.as_slice() {
            [] if step.if_.is_some() => {
                self.problem(
                    path,
                    format!("`if` has no step to guard; a step is one of {STEP_KINDS}"),
                    Some("write the step's key beside `if`, e.g. `- if: {...}` then `  request: {...}`".into()),
                );
                return None;
            }
            [] => {
                self.problem(
                    path,
                    format!("empty step; a step is one of {STEP_KINDS}"),
                    None,
                );
                return None;
            }
            [_] => {}
            many => {
                self.problem(
                    path,
                    format!(
                        "a step has exactly one of {STEP_KINDS}, found {}",
                        many.join(" and ")
                    ),
                    Some("start each step with its own '-' list item".into()),
                );
                return None;
            }
        }
        if let Some(r) = &step.request {
            let at = path.key("request");
            if r.copies.is_some() {
                self.problem(
                    &at.key("copies"),
                    "`copies` is only used inside a batch",
                    None,
                );
            }
            return self
                .request(r, &at, ctx)
                .map(|r| Step::Request(Arc::new(r)));
        }
        if let Some(g) = &step.group {
            return self.group(g, &path.key("group"), ctx).map(Step::Group);
        }
        if let Some(s) = &step.sleep {
            return self.sleep(s, &path.key("sleep")).map(Step::Sleep);
        }
        if let Some(b) = &step.batch {
            return self.batch(b, &path.key("batch"), ctx).map(Step::Batch);
        }
        if let Some(c) = &step.choose {
            return self.choose(c, &path.key("choose"), ctx).map(Step::Choose);
        }
        if let Some(s) = &step.sse {
            return self
                .sse(s, &path.key("sse"), ctx)
                .map(|s| Step::Sse(Arc::new(s)));
        }
        if let Some(w) = &step.websocket {
            return self
                .websocket(w, &path.key("websocket"), ctx)
                .map(|w| Step::WebSocket(Arc::new(w)));
        }
        let r = step.repeat.as_ref()?;
        self.repeat(r, &path.key("repeat"), ctx).map(Step::Repeat)
    }

    fn group(&mut self, def: &GroupDef, path: &FieldPath, ctx: &StepCtx) -> Option<GroupStep> {
        if def.name.trim().is_empty() || def.name.contains("::") {
            self.problem(
                &path.key("name"),
                format!("invalid group name {:?}", def.name),
                Some("use a non-empty name without \"::\"".into()),
            );
        }
        let mut inner = ctx.clone();
        inner.group = Some(format!(
            "{}::{}",
            ctx.group.as_deref().unwrap_or(""),
            def.name
        ));
        let tag_set = super::intern(inner.tags());
        let steps = self.nonempty_steps(&def.steps, &path.key("steps"), &inner);
        Some(GroupStep {
            name: def.name.clone(),
            tag_set,
            steps,
        })
    }

    fn sleep(&mut self, def: &SleepDef, path: &FieldPath) -> Option<SleepSpec> {
        match def {
            TextOr::Text(t) => self
                .positive_duration(t, path)
                .map(|d| SleepSpec::Fixed(self.paced(d))),
            TextOr::Map(range) => {
                let min = self.duration(&range.min, &path.key("min"));
                let max = self.positive_duration(&range.max, &path.key("max"));
                let (min, max) = (min?, max?);
                if min > max {
                    self.problem(
                        path,
                        format!("min ({}) is larger than max ({})", range.min.0, range.max.0),
                        None,
                    );
                    return None;
                }
                Some(SleepSpec::Between(self.paced(min), self.paced(max)))
            }
        }
    }

    fn batch(&mut self, def: &BatchDef, path: &FieldPath, ctx: &StepCtx) -> Option<BatchStep> {
        if def.requests.is_empty() {
            self.problem(&path.key("requests"), "needs at least one request", None);
            return None;
        }
        let mut requests = Vec::new();
        let mut total: u64 = 0;
        let mut ok = true;
        for (i, r) in def.requests.iter().enumerate() {
            let at = path.key("requests").index(i);
            let Some(copies) = self.value_or(r.copies.as_ref(), &at.key("copies"), 1) else {
                ok = false;
                continue;
            };
            if copies == 0 {
                self.problem(&at.key("copies"), "must be at least 1", None);
                ok = false;
                continue;
            }
            total = total.saturating_add(copies);
            match self.request(r, &at, ctx) {
                Some(step) => {
                    let step = Arc::new(step);
                    if total <= MAX_BATCH_REQUESTS {
                        requests.extend(std::iter::repeat_n(step, copies as usize));
                    }
                }
                None => ok = false,
            }
        }
        if total > MAX_BATCH_REQUESTS {
            self.problem(
                &path.key("requests"),
                format!("expands to {total} requests; at most {MAX_BATCH_REQUESTS} are allowed"),
                None,
            );
            return None;
        }
        let concurrency = match &def.concurrency {
            Some(n) => Some(self.value(n, &path.key("concurrency"))?),
            None => None,
        };
        let concurrency = match concurrency {
            Some(0) => {
                self.problem(&path.key("concurrency"), "must be at least 1", None);
                return None;
            }
            Some(n) => n.min(total) as usize,
            None => total as usize,
        };
        ok.then_some(BatchStep {
            concurrency,
            requests,
        })
    }

    fn choose(
        &mut self,
        branches: &[ChooseBranchDef],
        path: &FieldPath,
        ctx: &StepCtx,
    ) -> Option<ChooseStep> {
        if branches.is_empty() {
            self.problem(path, "needs at least one branch", None);
            return None;
        }
        let mut out = Vec::new();
        let mut total_weight = 0.0;
        for (i, b) in branches.iter().enumerate() {
            let at = path.index(i);
            let weight = self.value(&b.weight, &at.key("weight"));
            if let Some(w) = weight
                && !(w.is_finite() && w > 0.0)
            {
                self.problem(
                    &at.key("weight"),
                    format!("must be a number greater than 0, got {w}"),
                    None,
                );
            }
            let weight = weight.unwrap_or(0.0);
            total_weight += weight;
            let steps = self.nonempty_steps(&b.steps, &at.key("steps"), ctx);
            out.push(ChooseBranch {
                weight,
                name: b.name.clone(),
                steps,
            });
        }
        Some(ChooseStep {
            branches: out,
            total_weight,
        })
    }

    fn repeat(&mut self, def: &RepeatDef, path: &FieldPath, ctx: &StepCtx) -> Option<RepeatStep> {
        let until = self.condition(&def.until, &path.key("until"), true);
        let interval = match &def.interval {
            Some(t) => self.positive_duration(t, &path.key("interval")),
            None => Some(std::time::Duration::from_secs(1)),
        };
        let max_attempts = self
            .value_or(def.max_attempts.as_ref(), &path.key("max_attempts"), 10)
            .unwrap_or(1);
        if max_attempts == 0 {
            self.problem(&path.key("max_attempts"), "must be at least 1", None);
        }
        if !contains_request(&def.steps) {
            self.problem(
                &path.key("steps"),
                "needs at least one request (`until` is checked on the last response)",
                None,
            );
        }
        let mut inner = ctx.clone();
        inner.body_repeat |= until.as_ref().is_some_and(|c| c.needs_body());
        // From the second attempt on, the attempt before has sent its requests.
        inner.after_request |= def.steps.iter().any(may_send_request);
        let steps = self.nonempty_steps(&def.steps, &path.key("steps"), &inner);
        let until = until?;
        let check_name = def
            .until
            .name
            .clone()
            .unwrap_or_else(|| format!("until {}", until.describe()));
        let mut tags = ctx.tags();
        tags.push(("check".into(), check_name.clone()));
        Some(RepeatStep {
            steps,
            until,
            interval: interval?,
            max_attempts: max_attempts.max(1),
            check_name,
            check_tag_set: super::intern(tags),
        })
    }
}

fn contains_request(steps: &[StepDef]) -> bool {
    steps.iter().any(|s| {
        s.request.is_some()
            || s.batch.is_some()
            || s.group.as_ref().is_some_and(|g| contains_request(&g.steps))
            || s.choose
                .as_ref()
                .is_some_and(|c| c.iter().all(|b| contains_request(&b.steps)))
            || s.repeat
                .as_ref()
                .is_some_and(|r| contains_request(&r.steps))
    })
}
