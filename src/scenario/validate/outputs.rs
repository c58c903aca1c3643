//! The `outputs:` section: each entry becomes an [`OutputSpec`] through the
//! same [`SpecBuilder`] the `--out` flag uses, so both accept the same
//! options with the same messages. Problems carry the entry's field path and
//! so its line and column.

use serde_norway::Value;

use super::Validator;
use crate::output::{
    OutputConfigError, OutputKind, OutputSpec, SpecBuilder, message_without_origin,
};
use crate::scenario::locate::FieldPath;
use crate::scenario::model::ScenarioFile;
use crate::scenario::model_types::OrderedMap;

const KINDS: &str = "prometheus-rw, otlp, influxdb, json, csv";

impl Validator<'_> {
    pub(crate) fn outputs(&mut self, file: &ScenarioFile) -> Vec<OutputSpec> {
        let root = FieldPath::root().key("outputs");
        let mut specs = Vec::new();
        for (i, entry) in file.outputs.iter().enumerate() {
            let path = root.index(i);
            if let Some(spec) = self.output(entry, &path) {
                specs.push(spec);
            }
        }
        specs
    }

    fn output(&mut self, entry: &OrderedMap<Value>, path: &FieldPath) -> Option<OutputSpec> {
        let get = |key: &str| entry.0.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let Some(kind_value) = get("type") else {
            self.problem(path, "missing `type`", Some(format!("one of {KINDS}")));
            return None;
        };
        let kind_text = scalar_text(kind_value).unwrap_or_default();
        let Some(kind) = OutputKind::parse(&kind_text) else {
            self.problem(
                &path.key("type"),
                format!("unknown output type {kind_text:?}"),
                Some(format!("one of {KINDS}")),
            );
            return None;
        };
        let (target_key, wrong_key) = if kind.is_network() {
            ("url", "path")
        } else {
            ("path", "url")
        };
        if get(wrong_key).is_some() {
            self.problem(
                &path.key(wrong_key),
                format!("{kind} takes `{target_key}`, not `{wrong_key}`"),
                None,
            );
            return None;
        }
        let target = match get(target_key) {
            Some(v) => match scalar_text(v) {
                Some(t) if !t.is_empty() => t,
                _ => {
                    self.problem(&path.key(target_key), "expected a non-empty text", None);
                    return None;
                }
            },
            None if kind == OutputKind::Otlp => String::new(),
            None => {
                self.problem(path, format!("missing `{target_key}`"), None);
                return None;
            }
        };

        let mut builder = SpecBuilder::new(kind, target, path.to_string());
        let mut ok = true;
        for (key, value) in &entry.0 {
            if !matches!(key.as_str(), "type" | "url" | "path") {
                ok &= self.output_option(&mut builder, key, value, &path.key(key));
            }
        }
        if !ok {
            return None;
        }
        let env = &self.options.process_env;
        match builder.finish(|var| env.get(var).cloned()) {
            Ok(spec) => Some(spec),
            Err(problem) => {
                let mut at = path.clone();
                for part in problem.field.split('.').filter(|p| !p.is_empty()) {
                    at = at.key(part);
                }
                self.problem(&at, message_without_origin(&problem.error), None);
                None
            }
        }
    }

    /// Applies `f` to each `name: value` of a map; problems are reported here.
    fn each_pair(
        &mut self,
        map: &Value,
        at: &FieldPath,
        f: impl Fn(&mut SpecBuilder, &str, &str) -> Result<(), OutputConfigError>,
        builder: &mut SpecBuilder,
    ) -> bool {
        let Value::Mapping(map) = map else {
            self.problem(at, "expected a map of `Name: value`", None);
            return false;
        };
        let mut ok = true;
        for (name, value) in map {
            let (Some(name), Some(value)) = (scalar_text(name), scalar_text(value)) else {
                self.problem(at, "expected `Name: value` pairs", None);
                ok = false;
                continue;
            };
            if let Err(e) = f(builder, &name, &value) {
                self.problem(&at.key(&name), bad_option_message(&e), None);
                ok = false;
            }
        }
        ok
    }

    fn basic_auth(&mut self, map: &Value, at: &FieldPath, builder: &mut SpecBuilder) -> bool {
        let Value::Mapping(map) = map else {
            self.problem(
                at,
                "expected `{ username: ..., password_env: VARIABLE }`",
                None,
            );
            return false;
        };
        let mut ok = true;
        for (key, value) in map {
            let key = scalar_text(key).unwrap_or_default();
            let value = scalar_text(value);
            let result = match (key.as_str(), value) {
                ("username", Some(v)) => {
                    builder.username(&v);
                    Ok(())
                }
                ("password_env", Some(v)) => builder.password_env("basic_auth.password_env", &v),
                ("password", _) => {
                    self.problem(
                        &at.key("password"),
                        "secrets are not accepted in the file; name an environment variable with password_env",
                        None,
                    );
                    ok = false;
                    continue;
                }
                (other, _) => {
                    self.problem(
                        &at.key(other),
                        format!("unknown key {other:?}"),
                        Some("basic_auth takes username and password_env".into()),
                    );
                    ok = false;
                    continue;
                }
            };
            if let Err(e) = result {
                self.problem(&at.key(&key), bad_option_message(&e), None);
                ok = false;
            }
        }
        ok
    }

    /// Applies one option of an entry; reports a problem and returns false
    /// when it is invalid.
    fn output_option(
        &mut self,
        builder: &mut SpecBuilder,
        key: &str,
        value: &Value,
        at: &FieldPath,
    ) -> bool {
        let result = match (key, value) {
            ("headers", Value::Mapping(_)) => {
                return self.each_pair(
                    value,
                    at,
                    |b, name, v| b.header(&format!("headers.{name}"), name, v),
                    builder,
                );
            }
            ("headers_env", Value::Mapping(_)) => {
                return self.each_pair(
                    value,
                    at,
                    |b, name, var| b.header_env(&format!("headers_env.{name}"), name, var),
                    builder,
                );
            }
            ("headers" | "headers_env", _) => {
                self.problem(at, "expected a map of `Name: value`", None);
                return false;
            }
            ("basic_auth", _) => return self.basic_auth(value, at, builder),
            (_, Value::Sequence(items)) => {
                match items.iter().map(scalar_text).collect::<Option<Vec<_>>>() {
                    Some(items) => builder.set_list(key, &items),
                    None => {
                        self.problem(at, "expected a list of values", None);
                        return false;
                    }
                }
            }
            (_, v) => match scalar_text(v) {
                Some(text) => builder.set(key, &text),
                None => {
                    self.problem(at, "expected a value or a list of values", None);
                    return false;
                }
            },
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                self.problem(at, bad_option_message(&e), None);
                false
            }
        }
    }
}

/// The message of a builder error without the `origin: option KEY:` prefix
/// (the scenario error names the field itself).
fn bad_option_message(error: &OutputConfigError) -> String {
    match error {
        OutputConfigError::BadOption { message, .. } => message.clone(),
        other => message_without_origin(other),
    }
}

/// A YAML scalar as text; `None` for maps, lists and null.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
