//! The JSON Schema of scenario files, generated from the model (`schemars`
//! reads the same serde attributes and doc comments the loader uses), then
//! adjusted for what the loader accepts beyond the Rust types: a template
//! (`"{{ VUS }}"`) wherever a number or boolean goes, `x-` keys in every
//! struct-typed mapping, and the top-level `include:` list. Written to
//! `schemas/scenario.schema.json` by `stampede schema`; editors use it for
//! completion, and a test fails when the committed file is stale.
//!
//! The same generated schema tells the loader's deserializer which fields
//! of each struct are required ([`required_fields`]).

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::model::ScenarioFile;
use super::yaml::de::RequiredFields;

/// Where the committed schema lives, relative to the repository root.
pub const SCHEMA_PATH: &str = "schemas/scenario.schema.json";

/// The schema as `schemars` derives it, before the adjustments.
fn derived() -> Value {
    schemars::schema_for!(ScenarioFile).to_value()
}

/// The published schema.
pub fn scenario_schema() -> Value {
    let mut schema = derived();
    allow_templates_and_extensions(&mut schema);
    if let Some(root) = schema.as_object_mut() {
        root.insert("title".into(), json!("stampede scenario file"));
        if let Some(Value::Object(props)) = root.get_mut("properties") {
            props.insert(
                "include".into(),
                json!({
                    "description": "Fragments merged into this file, paths relative to it (see docs/scenario-format.md, Includes).",
                    "type": "array",
                    "items": { "type": "string" }
                }),
            );
        }
    }
    schema
}

/// The schema as the text of `schemas/scenario.schema.json`.
pub fn scenario_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&scenario_schema()).expect("a JSON value prints");
    text.push('\n');
    text
}

/// Required fields by struct name, from the derived schema's `required`
/// lists (`$defs` by name, the root by its title).
pub fn required_fields() -> &'static RequiredFields {
    static REQUIRED: OnceLock<RequiredFields> = OnceLock::new();
    REQUIRED.get_or_init(|| {
        let schema = derived();
        let mut out = RequiredFields::new();
        let mut add = |name: &str, def: &Value| {
            if let Some(Value::Array(list)) = def.get("required") {
                let fields = list
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect();
                out.insert(name.to_string(), fields);
            }
        };
        if let Some(title) = schema.get("title").and_then(Value::as_str) {
            add(title, &schema);
        }
        if let Some(Value::Object(defs)) = schema.get("$defs") {
            for (name, def) in defs {
                add(name, def);
            }
        }
        out
    })
}

/// A string holding a template is accepted wherever a number or boolean is.
fn template_string() -> Value {
    json!({ "type": "string", "pattern": "\\{\\{" })
}

fn allow_templates_and_extensions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                allow_templates_and_extensions(child);
            }
            if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                map.insert(
                    "patternProperties".into(),
                    json!({ "^x-": { "description": "Ignored: a place for anchors." } }),
                );
            }
            if takes_numbers_not_strings(map) {
                wrap_with_template(map);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(allow_templates_and_extensions),
        _ => {}
    }
}

fn takes_numbers_not_strings(map: &Map<String, Value>) -> bool {
    let types: Vec<&str> = match map.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => return false,
    };
    types
        .iter()
        .any(|t| matches!(*t, "integer" | "number" | "boolean"))
        && !types.contains(&"string")
}

/// `{type: integer, ...}` → `{anyOf: [{type: integer, ...}, template]}`,
/// the description kept outside so editors still show it.
fn wrap_with_template(map: &mut Map<String, Value>) {
    let description = map.remove("description");
    let default = map.remove("default");
    let original = Value::Object(std::mem::take(map));
    map.insert("anyOf".into(), json!([original, template_string()]));
    if let Some(d) = description {
        map.insert("description".into(), d);
    }
    if let Some(d) = default {
        map.insert("default".into(), d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_fields_come_from_the_model() {
        let required = required_fields();
        assert_eq!(required.get("RequestDef"), Some(&vec!["url".to_string()]));
        assert_eq!(
            required.get("StageDef"),
            Some(&vec!["duration".to_string(), "target".to_string()])
        );
        assert_eq!(required.get("StepDef"), None);
    }

    #[test]
    fn numbers_also_take_templates_and_structs_take_x_keys() {
        let schema = scenario_schema();
        let vus = &schema["properties"]["vus"];
        assert_eq!(vus["anyOf"][1], template_string(), "{vus}");
        assert_eq!(
            schema["$defs"]["RequestDef"]["patternProperties"]["^x-"]["description"],
            "Ignored: a place for anchors."
        );
        assert_eq!(schema["properties"]["include"]["type"], "array");
    }
}
