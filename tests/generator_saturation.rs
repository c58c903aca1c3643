//! A run made to saturate its generator: the binary pinned to one core with
//! `taskset -c 0`, the in-process demo target on the same core, and 64 VUs
//! requesting without pause for 6 s (a debug build keeps that core busy).
//! The saturation warning reaches stderr once per episode, and the summary
//! (console and JSON) says for how long the generator was saturated.

use std::process::Command;

use serde_json::Value;

const BUSY_RUN: &str = r#"
scenarios:
  busy:
    executor: constant-vus
    vus: 64
    duration: 6s
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;

const WARNING: &str = "load generator saturated: for 3 s the 1 core stampede may use was ";

#[test]
fn a_generator_pinned_to_one_busy_core_warns_and_reports_the_saturated_time() {
    let taskset = "/usr/bin/taskset";
    assert!(
        std::path::Path::new(taskset).exists(),
        "{taskset} is missing: install the Debian package util-linux"
    );
    let dir = tempfile::tempdir().unwrap();
    let scenario_file = dir.path().join("busy.yaml");
    std::fs::write(&scenario_file, BUSY_RUN).unwrap();
    let summary_file = dir.path().join("summary.json");
    let out = Command::new(taskset)
        .args(["-c", "0", env!("CARGO_BIN_EXE_stampede")])
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .args(["run", "--demo", "--quiet", "--no-color"])
        .arg("--summary-export")
        .arg(&summary_file)
        .arg(&scenario_file)
        .output()
        .expect("taskset runs the stampede binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&summary_file).unwrap())
        .expect("summary JSON");
    let health = &summary["generator"];
    assert_eq!(health["cores"], 1, "taskset -c 0 leaves one core: {health}");
    let episodes = health["saturation_episodes"].as_u64().unwrap();
    let saturated = health["saturated_seconds"].as_f64().unwrap();
    assert!(episodes >= 1, "never saturated: {health}\n{stdout}");
    // An episode is confirmed after 3 busy one-second samples; the run has
    // at most 7 samples (6 s and the last flush).
    assert!((3.0..=7.5).contains(&saturated), "{health}");
    assert!(health["cpu_peak"].as_f64().unwrap() > 0.0, "{health}");

    // One warning per episode, each on one line with the figures.
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains(WARNING)).collect();
    assert_eq!(warnings.len() as u64, episodes, "{stderr}");
    for line in &warnings {
        assert!(
            line.ends_with(
                "; the latencies it measures now include its own queueing, not only the target's \
                 (give it more or less busy cores, or less load)"
            ),
            "{line}"
        );
    }

    let episodes_text = if episodes == 1 {
        "1 episode".to_string()
    } else {
        format!("{episodes} episodes")
    };
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("generator_saturated"))
        .unwrap_or_else(|| panic!("no generator_saturated line in\n{stdout}"));
    assert!(
        line.contains(&format!(": {}s ", saturated.round())),
        "{line} ({saturated} s)"
    );
    assert!(
        line.ends_with(&format!(
            "{episodes_text}: its cores above 90% busy for 3s or more, latencies include stampede's own queueing"
        )),
        "{line}"
    );
}
