//! Runs a shipped suite (scenarios/suites/) with the built binary against an
//! in-process demo target and reads back what the suite's pass criteria
//! need: the exit code, the summary export and the console text. Shared by
//! `tests/suites_smoke.rs` and `tests/suite_agent_platform.rs`, so each test
//! states only its suite, its arguments and its expected figures.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use stampede::demo::{DemoConfig, DemoServer, DemoStats};

/// Exit code of a run whose thresholds failed.
pub const THRESHOLDS_FAILED: i32 = 99;

/// One finished run of `stampede run` on a suite file.
pub struct SuiteRun {
    /// The suite file, relative to scenarios/suites/, for messages.
    pub file: String,
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
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
    let demo = DemoServer::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("demo target starts");
    let base_url = demo.base_url();
    let path = suite_file(file);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (exit_code, summary, stdout, stderr) = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let export = dir.path().join("summary.json");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
            .env_remove("BASE_URL")
            .env("STAMPEDE_LOG", "warn")
            .args(["run", "--quiet", "--env"])
            .arg(format!("BASE_URL={base_url}"))
            .arg("--summary-export")
            .arg(&export)
            .args(&args)
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let text = std::fs::read(&export).unwrap_or_else(|e| {
            panic!("no summary export ({e}); stdout:\n{stdout}\nstderr:\n{stderr}")
        });
        (
            out.status.code(),
            serde_json::from_slice(&text).unwrap(),
            stdout,
            stderr,
        )
    })
    .await
    .unwrap();
    let demo_stats = demo.stats();
    demo.shutdown().await;
    SuiteRun {
        file: file.to_string(),
        exit_code,
        stdout,
        stderr,
        summary,
        demo_stats,
    }
}

/// `(scenario, name, count)` rows as [`SuiteRun::requests_per_endpoint`]
/// returns them.
pub fn pairs(expected: &[(&str, &str, u64)]) -> Vec<((String, String), u64)> {
    expected
        .iter()
        .map(|(s, n, c)| ((s.to_string(), n.to_string()), *c))
        .collect()
}

impl SuiteRun {
    /// The file, the console and the log, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "{}\nstdout:\n{}\nstderr:\n{}",
            self.file, self.stdout, self.stderr
        )
    }

    pub fn assert_exit(&self, code: i32) {
        assert_eq!(self.exit_code, Some(code), "{}", self.describe());
    }

    /// Exit 0, every threshold judged on samples, and exactly `count`
    /// thresholds, all passed (none failed, none skipped).
    pub fn assert_all_passed(&self, count: usize) {
        self.assert_every_threshold_passed();
        self.assert_everything_evaluated();
        assert_eq!(self.thresholds().len(), count, "{}", self.describe());
    }

    /// Exit 0 and at least one threshold, each of them passed.
    pub fn assert_every_threshold_passed(&self) {
        self.assert_exit(0);
        let states = self.threshold_states();
        assert!(!states.is_empty(), "{}: no thresholds", self.file);
        assert!(
            states.values().all(|s| s == "passed"),
            "{}: {states:#?}",
            self.file
        );
    }

    /// Exit 99 and exactly the thresholds `failed` failed.
    pub fn assert_failed_exactly(&self, failed: &[&str]) {
        self.assert_exit(THRESHOLDS_FAILED);
        assert_eq!(self.thresholds_in("failed"), failed, "{}", self.describe());
    }

    /// `http_reqs` per `(scenario, name)` is exactly `expected`.
    pub fn assert_requests(&self, expected: &[(&str, &str, u64)]) {
        assert_eq!(
            self.requests_per_endpoint().into_iter().collect::<Vec<_>>(),
            pairs(expected),
            "{}",
            self.file
        );
    }

    /// `http_reqs` per `name` tag, over every scenario, is exactly the
    /// count given for each name listed.
    pub fn assert_requests_named(&self, expected: &[(&str, u64)]) {
        for (name, count) in expected {
            assert_eq!(self.requests_named(name), *count, "{}: {name}", self.file);
        }
    }

    /// No check failed anywhere in the run.
    pub fn assert_no_check_failed(&self) {
        let checks = self.checks();
        assert!(
            checks.values().all(|(_, fails)| *fails == 0),
            "{}: {checks:?}",
            self.file
        );
    }

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

    /// `http_reqs` of the series named `name`, over every scenario.
    pub fn requests_named(&self, name: &str) -> u64 {
        self.requests_per_endpoint()
            .iter()
            .filter(|((_, n), _)| n == name)
            .map(|(_, count)| count)
            .sum()
    }

    /// Every threshold as `metric: expression` with its state
    /// (`passed`, `failed`, `skipped`).
    pub fn threshold_states(&self) -> BTreeMap<String, String> {
        self.thresholds()
            .iter()
            .map(|t| (threshold_name(t), t["state"].as_str().unwrap().to_string()))
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

    fn thresholds(&self) -> &Vec<Value> {
        self.summary["thresholds"].as_array().expect("thresholds")
    }

    /// The export's entry of the threshold `metric: expression`, as
    /// [`threshold_states`](Self::threshold_states) names it.
    pub fn threshold(&self, name: &str) -> TimeVerdict<'_> {
        let entry = self
            .thresholds()
            .iter()
            .find(|t| threshold_name(t) == name)
            .unwrap_or_else(|| panic!("{}: no threshold {name:?}", self.file));
        TimeVerdict(entry)
    }

    /// The export's default breaking points (every ramping scenario's).
    pub fn breaking_points(&self) -> &Vec<Value> {
        self.summary["breaking_points"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no breaking_points", self.file))
    }

    /// Panics unless every threshold was judged on samples (or on a counter,
    /// which is 0 when it never fired) and every check has passes or fails.
    pub fn assert_everything_evaluated(&self) {
        assert!(
            !self.stdout.contains("(no samples)"),
            "a threshold had no samples:\n{}",
            self.describe()
        );
        for t in self.thresholds() {
            assert!(
                t["state"] == "skipped" || !t["observed"].is_null(),
                "{}: threshold not evaluated: {t}",
                self.file
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

/// One threshold of the export, read for its time-criterion verdict.
pub struct TimeVerdict<'a>(pub &'a Value);

impl TimeVerdict<'_> {
    pub fn state(&self) -> &str {
        self.0["state"].as_str().unwrap()
    }

    /// The judged value: seconds for `recovery`, percent for `change(..)<N%`.
    pub fn observed(&self) -> f64 {
        self.0["observed"]
            .as_f64()
            .unwrap_or_else(|| panic!("no observed value: {:#}", self.0))
    }

    /// The account the console and the report print.
    pub fn text(&self) -> &str {
        self.0["detail"]["text"].as_str().unwrap_or("")
    }

    pub fn detail(&self, key: &str) -> &Value {
        &self.0["detail"][key]
    }
}

/// `metric: expression`, e.g. `http_req_failed: rate<0.01`.
fn threshold_name(t: &Value) -> String {
    format!(
        "{}: {}",
        t["metric"].as_str().unwrap(),
        t["expression"].as_str().unwrap()
    )
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
