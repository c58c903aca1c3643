//! The JSON Schema of scenario files (schemas/scenario.schema.json): the
//! committed file is what the model generates, and every shipped scenario
//! matches it, so the schema editors complete from cannot drift from what
//! the loader accepts.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde_json::{Value, json};
use stampede::scenario::schema::{SCHEMA_PATH, scenario_schema, scenario_schema_text};
use stampede::scenario::yaml::{deserialize, parse_document};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A YAML file as the JSON the schema judges: the loader's own tree, so
/// merge keys and aliases are resolved as the loader resolves them.
fn yaml_as_json(text: &str) -> Value {
    let document = parse_document(text, 0).expect("valid YAML");
    let (value, problems) = deserialize::<Value>(&document.root, &Default::default());
    assert_eq!(problems, vec![]);
    value.expect("any YAML reads as JSON")
}

fn schema_errors(instance: &Value) -> Vec<String> {
    static VALIDATOR: LazyLock<jsonschema::Validator> =
        LazyLock::new(|| jsonschema::validator_for(&scenario_schema()).expect("schema compiles"));
    VALIDATOR
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn committed_schema_is_current() {
    let committed = std::fs::read_to_string(root().join(SCHEMA_PATH)).unwrap_or_default();
    assert!(
        committed == scenario_schema_text(),
        "{SCHEMA_PATH} is stale: regenerate it with `cargo run -- schema --write`"
    );
    assert!(
        jsonschema::meta::is_valid(&scenario_schema()),
        "the schema is valid draft 2020-12"
    );
}

/// Every scenario the repository ships, and the include fragments beside them.
fn shipped_scenarios() -> Vec<PathBuf> {
    let mut files = vec![root().join("tests/fixtures/scenario/full.yaml")];
    for dir in [
        "scenarios",
        "bench/scenarios",
        "docs/examples",
        "docs/examples/fragments",
        "docs/examples/migrating",
        "docs/examples/tls",
    ] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    // Each suite is a folder of scenarios and include fragments, at any depth.
    collect_yaml_recursively(&root().join("scenarios/suites"), &mut files);
    files.sort();
    files
}

fn collect_yaml_recursively(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_yaml_recursively(&path, files);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
}

#[test]
fn every_shipped_scenario_matches_the_schema_and_names_it() {
    let files = shipped_scenarios();
    assert!(files.len() >= 20, "found only {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let errors = schema_errors(&yaml_as_json(&text));
        assert_eq!(errors, Vec::<String>::new(), "{}", path.display());
        // The first line points editors at the schema, relative to the file.
        let first = text.lines().next().unwrap_or("");
        let relative = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{}: first line {first:?}", path.display()));
        let schema = path.parent().unwrap().join(relative);
        assert!(
            schema.ends_with(SCHEMA_PATH) && schema.exists(),
            "{}: {relative}",
            path.display()
        );
    }
}

#[test]
fn schema_takes_templates_x_keys_and_include_and_refuses_unknown_keys() {
    let ok = yaml_as_json(
        "include: [fragments/common.yaml]\nx-defaults: &d { timeout: 5s }\nvus: \"{{ VUS }}\"\nduration: 10s\nhttp:\n  insecure_skip_tls_verify: \"{{ INSECURE }}\"\nflow:\n  - request: { <<: *d, url: \"http://h/\", x-note: kept out }\n",
    );
    assert_eq!(schema_errors(&ok), Vec::<String>::new());
    let bad =
        json!({ "vus": "ten", "flow": [{ "request": { "url": "http://h/", "metod": "GET" } }] });
    assert_eq!(
        schema_errors(&bad),
        vec![
            "\"ten\" is not valid under any of the schemas listed in the 'anyOf' keyword at /vus"
                .to_string(),
            // `request` is optional, so its schema is "RequestDef or null".
            "{\"url\":\"http://h/\",\"metod\":\"GET\"} is not valid under any of the schemas listed in the 'anyOf' keyword at /flow/0/request"
                .to_string(),
        ]
    );
}
