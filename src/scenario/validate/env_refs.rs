//! Environment values that read other environment values
//! (`OAUTH_URL: "{{ BASE_URL }}/oauth"`), rendered in dependency order
//! whichever layer each value comes from, so a `--env BASE_URL=...` moves
//! every value built on it. A cycle is an error naming every step of it.

use std::collections::HashMap;

use super::Validator;
use crate::scenario::locate::FieldPath;
use crate::scenario::template::{Template, TemplateContext};
use crate::scenario::template_expr::referenced_names;

/// Where the value that won for a name was written, for errors.
#[derive(Clone, Debug)]
pub(super) enum EnvOrigin {
    /// Under `env:` or a profile's `env:` (the path of the key).
    File(FieldPath),
    /// Declared under `env:`, value taken from the process environment.
    Process(FieldPath),
    /// `--env NAME=VALUE`.
    Option,
}

/// An environment value before rendering.
pub(super) struct RawEnv {
    pub value: String,
    pub origin: EnvOrigin,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Visiting,
    Done,
    /// Reported, or reads one that was: values built on it stay unset
    /// without a second report.
    Failed,
}

impl Validator<'_> {
    /// Renders `raw` (in declaration order) into `self.env`.
    pub(super) fn render_env(&mut self, raw: &[(String, RawEnv)]) {
        let index: HashMap<&str, usize> = raw
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.as_str(), i))
            .collect();
        let mut states = vec![None; raw.len()];
        let mut stack = Vec::new();
        for i in 0..raw.len() {
            self.render_env_value(i, raw, &index, &mut states, &mut stack);
        }
    }

    fn render_env_value(
        &mut self,
        i: usize,
        raw: &[(String, RawEnv)],
        index: &HashMap<&str, usize>,
        states: &mut [Option<State>],
        stack: &mut Vec<usize>,
    ) -> State {
        if let Some(state) = states[i] {
            return state;
        }
        states[i] = Some(State::Visiting);
        stack.push(i);
        let (name, entry) = &raw[i];
        let mut state = State::Done;
        for reference in referenced_names(&entry.value) {
            let Some(&r) = index.get(reference) else {
                continue;
            };
            let reached = match states[r] {
                Some(State::Visiting) => {
                    let from = stack.iter().position(|&s| s == r).unwrap_or(0);
                    let cycle: Vec<&str> = stack[from..]
                        .iter()
                        .chain(std::iter::once(&r))
                        .map(|&s| raw[s].0.as_str())
                        .collect();
                    self.env_problem(
                        &raw[r].0,
                        &raw[r].1.origin,
                        format!(
                            "environment values read each other in a cycle: {}",
                            cycle.join(" → ")
                        ),
                        Some("an env value may read other env values, but not itself, directly or through others".into()),
                    );
                    State::Failed
                }
                _ => self.render_env_value(r, raw, index, states, stack),
            };
            if reached == State::Failed {
                state = State::Failed;
            }
        }
        if state == State::Done {
            state = self.compile_env_value(name, entry);
        }
        stack.pop();
        states[i] = Some(state);
        state
    }

    /// Renders one value whose references are rendered already.
    fn compile_env_value(&mut self, name: &str, entry: &RawEnv) -> State {
        if !entry.value.contains("{{") {
            self.env.insert(name.to_string(), entry.value.clone());
            return State::Done;
        }
        let ctx = TemplateContext {
            env: &self.env,
            process_env: Some(&self.options.process_env),
            variables: &self.variables,
            feeds: &self.feed_columns,
        };
        let problem = match Template::compile(&entry.value, &ctx) {
            Ok(t) => match t.as_static() {
                Some(text) => {
                    self.env.insert(name.to_string(), text.to_string());
                    return State::Done;
                }
                None => (
                    format!(
                        "{:?} reads a value that changes per VU or iteration; environment values are fixed when the test loads",
                        entry.value
                    ),
                    None,
                ),
            },
            Err(e) => (e.message, e.hint),
        };
        self.env_problem(name, &entry.origin, problem.0, problem.1);
        State::Failed
    }

    fn env_problem(
        &mut self,
        name: &str,
        origin: &EnvOrigin,
        message: String,
        hint: Option<String>,
    ) {
        match origin {
            EnvOrigin::File(path) => self.problem(path, message, hint),
            EnvOrigin::Process(path) => self.problem(
                path,
                format!("{message} (the value comes from the process environment)"),
                hint,
            ),
            EnvOrigin::Option => self.option_problem("--env", format!("{name}: {message}"), hint),
        }
    }
}
