//! Environment resolution and the list of VU variables.

use super::Validator;
use super::env_refs::{EnvOrigin, RawEnv};
use crate::scenario::locate::FieldPath;
use crate::scenario::model::{ScenarioFile, StepDef};
use crate::scenario::suggest;

impl Validator<'_> {
    /// file `env:` < process environment < profile < `--env`. Only keys the
    /// file, the profile or `--env` name are kept in the plan; templates may
    /// still read any process variable (as written: only declared values
    /// are rendered). Values may read each other (`env_refs`).
    pub(crate) fn resolve_env(&mut self, file: &ScenarioFile) {
        let mut raw: Vec<(String, RawEnv)> = Vec::new();
        let mut set = |name: &str, value: String, origin: EnvOrigin| {
            let entry = RawEnv { value, origin };
            match raw.iter_mut().find(|(n, _)| n == name) {
                Some((_, old)) => *old = entry,
                None => raw.push((name.to_string(), entry)),
            }
        };
        let env_path = FieldPath::root().key("env");
        for (key, value) in &file.env.0 {
            let path = env_path.key(key);
            match self.options.process_env.get(key) {
                Some(v) => set(key, v.clone(), EnvOrigin::Process(path)),
                None => set(key, value.text.clone(), EnvOrigin::File(path)),
            }
        }
        if let Some(name) = &self.options.profile {
            match file.profiles.get(name) {
                Some(profile) => {
                    let path = FieldPath::root().key("profiles").key(name).key("env");
                    for (key, value) in &profile.env.0 {
                        set(key, value.text.clone(), EnvOrigin::File(path.key(key)));
                    }
                }
                None => {
                    let hint = if file.profiles.is_empty() {
                        "this file defines no profiles".to_string()
                    } else {
                        format!(
                            "profiles in this file: {}",
                            suggest::list(file.profiles.keys())
                        )
                    };
                    self.option_problem(
                        "--profile",
                        format!("unknown profile {name:?}"),
                        Some(hint),
                    );
                }
            }
        }
        for (key, value) in &self.options.env_overrides {
            set(key, value.clone(), EnvOrigin::Option);
        }
        self.render_env(&raw);
    }

    /// Every extract target, in order of first appearance, so each gets a
    /// `VarSlot` before any template is compiled.
    pub(crate) fn collect_variables(&mut self, file: &ScenarioFile) {
        let root = FieldPath::root();
        let mut lists: Vec<(&[StepDef], FieldPath)> = vec![
            (&file.setup, root.key("setup")),
            (&file.teardown, root.key("teardown")),
        ];
        if let Some(steps) = &file.vu_setup {
            lists.push((steps, root.key("vu_setup")));
        }
        if let Some(steps) = &file.flow {
            lists.push((steps, root.key("flow")));
        }
        if let Some(scenarios) = &file.scenarios {
            for (name, s) in &scenarios.0 {
                let base = root.key("scenarios").key(name);
                lists.push((&s.setup, base.key("setup")));
                lists.push((&s.flow, base.key("flow")));
            }
        }
        for (steps, path) in lists {
            self.collect_from(steps, &path);
        }
    }

    fn collect_from(&mut self, steps: &[StepDef], path: &FieldPath) {
        for (i, step) in steps.iter().enumerate() {
            let at = path.index(i);
            if let Some(r) = &step.request {
                for (name, _) in &r.extract.0 {
                    self.declare_variable(name, &at.key("request").key("extract").key(name));
                }
            }
            if let Some(sse) = &step.sse {
                for (name, _) in &sse.extract.0 {
                    self.declare_variable(name, &at.key("sse").key("extract").key(name));
                }
            }
            if let Some(ws) = &step.websocket {
                let steps = at.key("websocket").key("steps");
                for (i, ws_step) in ws.steps.iter().enumerate() {
                    for (name, _) in ws_step.expect.iter().flat_map(|e| &e.extract.0) {
                        let path = steps.index(i).key("expect").key("extract").key(name);
                        self.declare_variable(name, &path);
                    }
                }
            }
            if let Some(g) = &step.group {
                self.collect_from(&g.steps, &at.key("group").key("steps"));
            }
            if let Some(b) = &step.batch {
                for (j, r) in b.requests.iter().enumerate() {
                    for (name, _) in &r.extract.0 {
                        let p = at
                            .key("batch")
                            .key("requests")
                            .index(j)
                            .key("extract")
                            .key(name);
                        self.declare_variable(name, &p);
                    }
                }
            }
            if let Some(branches) = &step.choose {
                for (j, branch) in branches.iter().enumerate() {
                    self.collect_from(&branch.steps, &at.key("choose").index(j).key("steps"));
                }
            }
            if let Some(r) = &step.repeat {
                self.collect_from(&r.steps, &at.key("repeat").key("steps"));
            }
        }
    }

    fn declare_variable(&mut self, name: &str, path: &FieldPath) {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || name.starts_with("__") {
            self.problem(
                path,
                format!("invalid variable name {name:?}"),
                Some(
                    "use letters, digits and underscores, not starting with a digit or \"__\""
                        .into(),
                ),
            );
        } else if !self.variables.iter().any(|v| v == name) {
            self.variables.push(name.to_string());
        }
    }
}
