//! Scenarios: the top-level shorthand, executors, scenario selection and the
//! k6-style command-line overrides (`--vus`, `--duration`, `--iterations`).

use std::sync::Arc;
use std::time::Duration;

use super::steps::StepCtx;
use super::{RESERVED_TAGS, Validator};
use crate::scenario::locate::FieldPath;
use crate::scenario::model::{ScenarioDef, ScenarioFile, StageDef};
use crate::scenario::plan::{ExecutorPlan, ScenarioPlan, Stage};
use crate::scenario::suggest;

const EXECUTORS: &str = "constant-vus, ramping-vus, per-vu-iterations, shared-iterations, constant-arrival-rate, ramping-arrival-rate";
pub(super) const DEFAULT_GRACEFUL: Duration = Duration::from_secs(30);
pub(super) const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(600);

impl Validator<'_> {
    pub(crate) fn scenarios(&mut self, file: &ScenarioFile) -> Vec<ScenarioPlan> {
        let root = FieldPath::root();
        let shorthand_keys: Vec<&str> = [
            ("vus", file.vus.is_some()),
            ("duration", file.duration.is_some()),
            ("iterations", file.iterations.is_some()),
            ("stages", file.stages.is_some()),
            ("flow", file.flow.is_some()),
            ("vu_setup", file.vu_setup.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let mut plans = Vec::new();
        let mut names = Vec::new();
        match &file.scenarios {
            Some(scenarios) => {
                for key in &shorthand_keys {
                    self.problem(
                        &root.key(key),
                        format!("top-level `{key}` cannot be combined with `scenarios:`"),
                        Some("move it into a scenario, or remove `scenarios:` to use the shorthand form".into()),
                    );
                }
                if scenarios.is_empty() {
                    self.problem(&root.key("scenarios"), "needs at least one scenario", None);
                }
                for (name, def) in &scenarios.0 {
                    names.push(name.clone());
                    let path = root.key("scenarios").key(name);
                    if let Some(plan) = self.scenario(name, def, &path, "setup", false) {
                        plans.push(plan);
                    }
                }
            }
            None => {
                if file.flow.is_none() {
                    self.problem(
                        &root,
                        "no scenarios: add `scenarios:` or a top-level `flow:`",
                        Some(
                            "e.g. vus: 10, duration: 30s, flow: [ { request: { url: ... } } ]"
                                .into(),
                        ),
                    );
                    return plans;
                }
                if file.iterations.is_some() && file.stages.is_some() {
                    self.problem(
                        &root.key("iterations"),
                        "`iterations` cannot be combined with `stages`",
                        None,
                    );
                    return plans;
                }
                let def = shorthand(file);
                names.push("default".to_string());
                if let Some(plan) = self.scenario("default", &def, &root, "vu_setup", true) {
                    plans.push(plan);
                }
            }
        }
        let selected = self.options.scenarios.clone();
        for wanted in &selected {
            if !names.contains(wanted) {
                let close = suggest::similar(wanted, names.iter().map(String::as_str));
                let hint = if close.is_empty() {
                    format!(
                        "scenarios in this file: {}",
                        suggest::list(names.iter().map(String::as_str))
                    )
                } else {
                    format!("did you mean {}?", suggest::list(close))
                };
                self.option_problem(
                    "--scenario",
                    format!("unknown scenario {wanted:?}"),
                    Some(hint),
                );
            }
        }
        if !selected.is_empty() {
            plans.retain(|p| selected.contains(&p.name));
            // Chosen alone, a scenario runs now instead of idling until a
            // start_time that was set to follow scenarios that are not
            // running: the earliest selected one starts at 0 and the others
            // keep their offsets from it.
            let earliest = plans.iter().map(|p| p.start_time).min().unwrap_or_default();
            for plan in &mut plans {
                plan.start_time -= earliest;
            }
        }
        for plan in &mut plans {
            self.apply_overrides(plan);
        }
        self.shape(&mut plans);
        self.check_limits(&plans, file.scenarios.is_some());
        plans
    }

    fn scenario(
        &mut self,
        name: &str,
        def: &ScenarioDef,
        path: &FieldPath,
        setup_key: &str,
        shorthand: bool,
    ) -> Option<ScenarioPlan> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.problem(
                path,
                format!("invalid scenario name {name:?}"),
                Some("use letters, digits, '_' and '-'".into()),
            );
        }
        let executor = self.executor(def, path, shorthand);
        let graceful_stop = self.optional_duration(
            def.graceful_stop.as_ref(),
            &path.key("graceful_stop"),
            DEFAULT_GRACEFUL,
        );
        let start_time = self.optional_duration(
            def.start_time.as_ref(),
            &path.key("start_time"),
            Duration::ZERO,
        );
        let mut tags = Vec::new();
        for (key, value) in &def.tags.0 {
            if RESERVED_TAGS.contains(&key.as_str()) {
                self.problem(
                    &path.key("tags").key(key),
                    format!("tag {key:?} is set by stampede"),
                    Some(format!("reserved tags: {}", RESERVED_TAGS.join(", "))),
                );
            } else {
                tags.push((key.clone(), value.text.clone()));
            }
        }
        let mut ctx = StepCtx::scenario(name, tags.clone(), self.options);
        ctx.http2 = self.optional_value(def.http2.as_ref(), &path.key("http2"));
        ctx.max_body_size = def
            .max_body_size
            .as_ref()
            .and_then(|size| self.byte_size(size, &path.key("max_body_size")));
        // Before the steps: a request's own `tls` is merged over it.
        let tls = def
            .tls
            .as_ref()
            .map(|tls| self.scenario_tls(tls, &path.key("tls")));
        ctx.tls = tls.clone().map(Arc::new);
        let tag_set = super::intern(ctx.tags());
        let vu_setup = self.steps(&def.setup, &path.key(setup_key), &ctx);
        let flow_path = path.key("flow");
        if def.flow.is_empty() {
            self.problem(&flow_path, "needs at least one step", None);
        }
        let flow = self.steps(&def.flow, &flow_path, &ctx);
        Some(ScenarioPlan {
            name: name.to_string(),
            executor: executor?,
            start_time: start_time?,
            graceful_stop: graceful_stop?,
            tags,
            tag_set,
            share: crate::scenario::plan::Share::WHOLE,
            vu_id_base: 0,
            tls,
            vu_setup,
            flow,
        })
    }

    fn executor(
        &mut self,
        def: &ScenarioDef,
        path: &FieldPath,
        shorthand: bool,
    ) -> Option<ExecutorPlan> {
        let kind = match def.executor.as_deref() {
            Some(k) => k,
            None if def.rate.is_some() => "constant-arrival-rate",
            None if def.start_rate.is_some() => "ramping-arrival-rate",
            None if def.stages.is_some() => "ramping-vus",
            None if def.iterations.is_some() => "shared-iterations",
            None => "constant-vus",
        };
        let allowed: &[&str] = match kind {
            "constant-vus" => &["vus", "duration"],
            "ramping-vus" => &["start_vus", "stages", "graceful_ramp_down"],
            "per-vu-iterations" | "shared-iterations" => &["vus", "iterations", "max_duration"],
            "constant-arrival-rate" => &[
                "rate",
                "time_unit",
                "duration",
                "preallocated_vus",
                "max_vus",
            ],
            "ramping-arrival-rate" => &[
                "start_rate",
                "time_unit",
                "stages",
                "preallocated_vus",
                "max_vus",
            ],
            other => {
                let close = suggest::similar(other, EXECUTORS.split(", "));
                let hint = if close.is_empty() {
                    format!("use {EXECUTORS}")
                } else {
                    format!("did you mean {}?", suggest::list(close))
                };
                self.problem(
                    &path.key("executor"),
                    format!("unknown executor {other:?}"),
                    Some(hint),
                );
                return None;
            }
        };
        let present = [
            ("vus", def.vus.is_some()),
            ("duration", def.duration.is_some()),
            ("iterations", def.iterations.is_some()),
            ("max_duration", def.max_duration.is_some()),
            ("start_vus", def.start_vus.is_some()),
            ("stages", def.stages.is_some()),
            ("graceful_ramp_down", def.graceful_ramp_down.is_some()),
            ("rate", def.rate.is_some()),
            ("start_rate", def.start_rate.is_some()),
            ("time_unit", def.time_unit.is_some()),
            ("preallocated_vus", def.preallocated_vus.is_some()),
            ("max_vus", def.max_vus.is_some()),
        ];
        let mut ok = true;
        for (key, set) in present {
            if set && !allowed.contains(&key) && !shorthand {
                self.problem(
                    &path.key(key),
                    format!("`{key}` is not used by {kind}"),
                    Some(format!("{kind} takes {}", allowed.join(", "))),
                );
                ok = false;
            }
        }
        if kind.ends_with("arrival-rate") {
            let plan = self.arrival_executor(kind, def, path)?;
            return ok.then_some(plan);
        }
        let vus = self.value_or(def.vus.as_ref(), &path.key("vus"), 1);
        if vus == Some(0) {
            self.problem(&path.key("vus"), "must be at least 1", None);
            ok = false;
        }
        let vus = vus?;
        let plan = match kind {
            "constant-vus" => {
                let Some(text) = &def.duration else {
                    let hint = if shorthand {
                        "add e.g. `duration: 30s` or `iterations: 100`"
                    } else {
                        "add e.g. `duration: 30s`"
                    };
                    self.problem(path, format!("{kind} needs `duration`"), Some(hint.into()));
                    return None;
                };
                let duration = self.positive_duration(text, &path.key("duration"))?;
                ExecutorPlan::ConstantVus { vus, duration }
            }
            "ramping-vus" => {
                // The shorthand's `vus` is its ramp's start.
                let key = if shorthand { "vus" } else { "start_vus" };
                let start_vus = self.value_or(def.start_vus.as_ref(), &path.key(key), 1)?;
                let stages = self.stages(
                    def.stages.as_deref().unwrap_or_default(),
                    &path.key("stages"),
                    start_vus,
                )?;
                let graceful_ramp_down = self.optional_duration(
                    def.graceful_ramp_down.as_ref(),
                    &path.key("graceful_ramp_down"),
                    DEFAULT_GRACEFUL,
                )?;
                ExecutorPlan::RampingVus {
                    start_vus,
                    stages,
                    graceful_ramp_down,
                }
            }
            _ => {
                let iterations =
                    self.value_or(def.iterations.as_ref(), &path.key("iterations"), 1)?;
                if iterations == 0 {
                    self.problem(&path.key("iterations"), "must be at least 1", None);
                    return None;
                }
                let max_duration = match &def.max_duration {
                    // The shorthand's `duration` caps its iterations.
                    Some(t) => {
                        let key = if shorthand {
                            "duration"
                        } else {
                            "max_duration"
                        };
                        self.positive_duration(t, &path.key(key))?
                    }
                    None => DEFAULT_MAX_DURATION,
                };
                if kind == "per-vu-iterations" {
                    ExecutorPlan::PerVuIterations {
                        vus,
                        iterations,
                        max_duration,
                    }
                } else {
                    if iterations < vus {
                        self.problem(&path.key("iterations"), format!("shared-iterations needs at least as many iterations ({iterations}) as VUs ({vus})"), None);
                        return None;
                    }
                    ExecutorPlan::SharedIterations {
                        vus,
                        iterations,
                        max_duration,
                    }
                }
            }
        };
        ok.then_some(plan)
    }

    pub(super) fn stages(
        &mut self,
        defs: &[StageDef],
        path: &FieldPath,
        start_vus: u64,
    ) -> Option<Vec<Stage>> {
        let stages: Vec<Stage> = self
            .timed_stages(
                defs,
                path,
                "ramping-vus",
                "e.g. stages: [ { duration: 30s, target: 10 } ]",
            )?
            .into_iter()
            .map(|(duration, target)| Stage { duration, target })
            .collect();
        if start_vus == 0 && stages.iter().all(|s| s.target == 0) {
            self.problem(
                path,
                "every stage targets 0 VUs and start_vus is 0: nothing would run",
                None,
            );
            return None;
        }
        Some(stages)
    }

    /// Stage durations and targets, shared by ramping-vus and
    /// ramping-arrival-rate: at least one stage, every duration valid, and a
    /// total longer than 0s.
    pub(super) fn timed_stages(
        &mut self,
        defs: &[StageDef],
        path: &FieldPath,
        executor: &str,
        example: &str,
    ) -> Option<Vec<(Duration, u64)>> {
        if defs.is_empty() {
            self.problem(
                path,
                format!("{executor} needs at least one stage"),
                Some(example.into()),
            );
            return None;
        }
        let mut stages = Vec::new();
        let mut ok = true;
        for (i, s) in defs.iter().enumerate() {
            let duration = self.duration(&s.duration, &path.index(i).key("duration"));
            let target = self.value(&s.target, &path.index(i).key("target"));
            match (duration, target) {
                (Some(duration), Some(target)) => stages.push((duration, target)),
                _ => ok = false,
            }
        }
        if !ok {
            return None;
        }
        if stages.iter().all(|(duration, _)| duration.is_zero()) {
            self.problem(
                path,
                "the stages' total duration must be longer than 0s",
                None,
            );
            return None;
        }
        Some(stages)
    }
}

/// The top-level shorthand as a scenario: stages -> ramping-vus (from `vus`),
/// iterations -> shared-iterations (`duration` as max_duration), duration ->
/// constant-vus, nothing -> each VU runs the flow once.
fn shorthand(file: &ScenarioFile) -> ScenarioDef {
    let mut def = ScenarioDef {
        flow: file.flow.clone().unwrap_or_default(),
        setup: file.vu_setup.clone().unwrap_or_default(),
        ..ScenarioDef::default()
    };
    if file.stages.is_some() {
        def.executor = Some("ramping-vus".into());
        def.start_vus = file.vus.clone();
        def.stages = file.stages.clone();
    } else if file.iterations.is_some() {
        def.executor = Some("shared-iterations".into());
        def.vus = file.vus.clone();
        def.iterations = file.iterations.clone();
        def.max_duration = file.duration.clone();
    } else if file.duration.is_some() {
        def.executor = Some("constant-vus".into());
        def.vus = file.vus.clone();
        def.duration = file.duration.clone();
    } else {
        def.executor = Some("per-vu-iterations".into());
        def.vus = file.vus.clone();
    }
    def
}
