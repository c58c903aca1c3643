//! Runs a shipped suite with the built binary against an in-process demo
//! target and reads back what the suite's pass criteria need: the exit
//! code, the summary export and the console text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use stampede::demo::{DemoConfig, DemoStats};

/// One finished run of `stampede run` on a suite file.
pub struct SuiteRun {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub summary: Value,
    /// What the demo target counted, read once the run ended.
    pub demo_stats: DemoStats,
}

pub fn suite_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/suites")
        .join(relative)
}

/// Starts a demo target with `config`, runs `file` against it with `args`
/// (BASE_URL is the demo's), and stops the target.
pub async fn run_suite(config: DemoConfig, file: &str, args: &[&str]) -> SuiteRun {
    let demo = crate::common::demo(config).await;
    let base_url = demo.base_url();
    let file = suite_file(file);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let run = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("summary.json");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(["run", "--quiet", "--env"])
            .arg(format!("BASE_URL={base_url}"))
            .arg("--summary-export")
            .arg(&export)
            .args(&args)
            .arg(&file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let text = std::fs::read(&export)
            .unwrap_or_else(|e| panic!("no summary export ({e}); stdout:\n{stdout}"));
        (
            out.status.code(),
            serde_json::from_slice(&text).unwrap(),
            stdout,
        )
    })
    .await
    .unwrap();
    let demo_stats = demo.stats();
    demo.shutdown().await;
    SuiteRun {
        exit_code: run.0,
        summary: run.1,
        stdout: run.2,
        demo_stats,
    }
}

impl SuiteRun {
    /// `http_reqs` per `(scenario, name)`, summed over every other tag.
    pub fn requests_per_endpoint(&self) -> BTreeMap<(String, String), u64> {
        let mut counts = BTreeMap::new();
        for series in self.summary["series"]["http_reqs"].as_array().unwrap() {
            let tag = |key: &str| series["tags"][key].as_str().unwrap_or("").to_string();
            *counts.entry((tag("scenario"), tag("name"))).or_default() +=
                series["count"].as_u64().unwrap();
        }
        counts
    }

    /// `http_reqs` of one scenario, summed over its names.
    pub fn requests_of_scenario(&self, scenario: &str) -> u64 {
        self.requests_per_endpoint()
            .iter()
            .filter(|((s, _), _)| s == scenario)
            .map(|(_, count)| count)
            .sum()
    }

    /// Every threshold as `metric: expression` with its state
    /// (`passed`, `failed`, `skipped`).
    pub fn threshold_states(&self) -> BTreeMap<String, String> {
        self.summary["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    format!(
                        "{}: {}",
                        t["metric"].as_str().unwrap(),
                        t["expression"].as_str().unwrap()
                    ),
                    t["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The thresholds in `state`.
    pub fn thresholds_in(&self, state: &str) -> Vec<String> {
        self.threshold_states()
            .into_iter()
            .filter(|(_, s)| s == state)
            .map(|(t, _)| t)
            .collect()
    }

    /// Panics unless every threshold was judged on samples (or on a counter,
    /// which is 0 when it never fired) and every check has passes or fails.
    pub fn assert_everything_evaluated(&self) {
        assert!(
            !self.stdout.contains("(no samples)"),
            "a threshold had no samples:\n{}",
            self.stdout
        );
        for t in self.summary["thresholds"].as_array().unwrap() {
            assert!(
                t["state"] == "skipped" || !t["observed"].is_null(),
                "threshold not evaluated: {t}"
            );
        }
    }

    /// (passes, fails) per check name, over every group.
    pub fn checks(&self) -> BTreeMap<String, (u64, u64)> {
        let mut out = BTreeMap::new();
        collect_checks(&self.summary["root_group"], &mut out);
        out
    }

    /// (passes, fails) of a rate metric over the whole run.
    pub fn rate(&self, metric: &str) -> (u64, u64) {
        let m = &self.summary["metrics"][metric];
        (
            m["passes"].as_u64().unwrap_or(0),
            m["fails"].as_u64().unwrap_or(0),
        )
    }

    pub fn metric_count(&self, metric: &str) -> u64 {
        self.summary["metrics"][metric]["count"]
            .as_u64()
            .unwrap_or(0)
    }
}

fn collect_checks(group: &Value, out: &mut BTreeMap<String, (u64, u64)>) {
    if let Some(checks) = group["checks"].as_object() {
        for (name, check) in checks {
            let entry = out.entry(name.clone()).or_insert((0, 0));
            entry.0 += check["passes"].as_u64().unwrap();
            entry.1 += check["fails"].as_u64().unwrap();
        }
    }
    if let Some(groups) = group["groups"].as_object() {
        for child in groups.values() {
            collect_checks(child, out);
        }
    }
}
