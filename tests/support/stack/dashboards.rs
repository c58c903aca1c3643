#![allow(dead_code)] // each test file uses a different part of these helpers
//! The committed dashboards and provisioning files, read the way Grafana
//! reads them: panels (rows' nested panels included), their queries, the
//! annotation queries and the template variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Which query language a query is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Prometheus,
    InfluxQl,
}

impl Backend {
    pub fn from_type(kind: &str) -> Option<Backend> {
        match kind {
            "prometheus" => Some(Backend::Prometheus),
            "influxdb" => Some(Backend::InfluxQl),
            _ => None,
        }
    }
}

pub struct Dashboard {
    pub file: String,
    pub json: Value,
}

/// One query of a panel, an annotation or a variable.
#[derive(Clone, Debug)]
pub struct Query {
    /// `Panel title / B`, `annotation Test start`, `variable scenario`.
    pub place: String,
    /// The panel's (or annotation's) title.
    pub panel: String,
    /// The collapsed row the panel sits in, if any.
    pub row: Option<String>,
    /// The target's refId (`Anno` for annotations). On the InfluxDB
    /// dashboard a refId ending in [`AGGREGATE_SUFFIX`] reads the fields of
    /// `mode=aggregate` points and finds nothing in per-request data.
    pub ref_id: String,
    /// The variable the panel is repeated for (one copy per chosen value).
    pub repeat: Option<String>,
    pub text: String,
    pub instant: bool,
}

/// See [`Query::ref_id`].
pub const AGGREGATE_SUFFIX: &str = "_aggregate";

impl Query {
    pub fn reads_aggregates(&self) -> bool {
        self.ref_id.ends_with(AGGREGATE_SUFFIX)
    }
}

/// Every `*.json` under grafana/dashboards/, sorted by file name.
pub fn load_dashboards() -> Vec<Dashboard> {
    let dir = repo_root().join("grafana/dashboards");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboards in {}", dir.display());
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read dashboard");
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
            Dashboard {
                file: path.file_name().unwrap().to_string_lossy().into_owned(),
                json,
            }
        })
        .collect()
}

impl Dashboard {
    pub fn uid(&self) -> &str {
        self.json["uid"].as_str().unwrap_or("")
    }

    /// Every panel, rows included, with the title of the row that holds it
    /// when the row is collapsed (its panels nest inside it).
    pub fn panels(&self) -> Vec<(&Value, Option<String>)> {
        let mut out = Vec::new();
        for p in self.json["panels"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            out.push((p, None));
            let row_title = p["title"].as_str().map(str::to_string);
            for inner in p["panels"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                out.push((inner, row_title.clone()));
            }
        }
        out
    }

    pub fn variables(&self) -> &[Value] {
        self.json["templating"]["list"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The backend behind `${datasource}` (the datasource variable's type).
    pub fn backend(&self) -> Backend {
        let var = self
            .variables()
            .iter()
            .find(|v| v["type"] == "datasource")
            .unwrap_or_else(|| panic!("{}: no datasource variable", self.file));
        Backend::from_type(var["query"].as_str().unwrap_or(""))
            .unwrap_or_else(|| panic!("{}: unknown datasource type {}", self.file, var["query"]))
    }

    /// Every panel target, in panel order.
    pub fn panel_queries(&self) -> Vec<Query> {
        let mut out = Vec::new();
        for (p, row) in self.panels() {
            for t in p["targets"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let text = t["expr"]
                    .as_str()
                    .or(t["query"].as_str())
                    .unwrap_or("")
                    .to_string();
                let title = p["title"].as_str().unwrap_or("");
                let ref_id = t["refId"].as_str().unwrap_or("?").to_string();
                out.push(Query {
                    place: format!("panel {title:?} / {ref_id}"),
                    ref_id,
                    repeat: p["repeat"].as_str().map(str::to_string),
                    panel: title.to_string(),
                    row: row.clone(),
                    text,
                    instant: t["instant"] == true,
                });
            }
        }
        out
    }

    /// Annotation queries (the built-in Grafana one has none).
    pub fn annotation_queries(&self) -> Vec<Query> {
        let list = self.json["annotations"]["list"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        list.iter()
            .filter(|a| a["builtIn"] != 1)
            .map(|a| Query {
                place: format!("annotation {:?}", a["name"].as_str().unwrap_or("")),
                panel: a["name"].as_str().unwrap_or("").to_string(),
                ref_id: "Anno".to_string(),
                repeat: None,
                row: None,
                text: a["expr"]
                    .as_str()
                    .or(a["query"].as_str())
                    .unwrap_or("")
                    .to_string(),
                instant: false,
            })
            .collect()
    }
}

/// The query text of a `query` variable (string, or the Prometheus editor's object).
pub fn variable_query(var: &Value) -> String {
    match &var["query"] {
        Value::String(s) => s.clone(),
        other => other["query"].as_str().unwrap_or("").to_string(),
    }
}

/// Provisioned datasources: uid → (type, jsonData).
pub fn provisioned_datasources() -> BTreeMap<String, (String, Value)> {
    let mut out = BTreeMap::new();
    for path in yaml_files(&repo_root().join("grafana/provisioning/datasources")) {
        let doc = read_yaml(&path);
        for ds in doc["datasources"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let uid = ds["uid"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: datasource without uid", path.display()));
            let kind = ds["type"].as_str().unwrap_or("").to_string();
            out.insert(uid.to_string(), (kind, ds["jsonData"].clone()));
        }
    }
    out
}

pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
}

/// A YAML file as JSON values (serde_norway → serde_json::Value).
pub fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text)
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

/// A Go-style duration of the datasource's `timeInterval` (`5s`, `1m`) in seconds.
pub fn time_interval_secs(json_data: &Value) -> u64 {
    let text = json_data["timeInterval"].as_str().unwrap_or("15s");
    let (num, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = num
        .parse()
        .unwrap_or_else(|_| panic!("bad timeInterval {text:?}"));
    match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => panic!("bad timeInterval {text:?}"),
    }
}
