#![allow(dead_code)] // each test file uses a different part of these helpers
//! Real runs of tests/fixtures/stack/dashboard_run.yaml against the
//! built-in demo target, streaming into the given outputs: the data the
//! dashboard tests query.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use super::dashboards::repo_root;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Starts the fixture run `testid` with `--out` for each of `outputs`,
/// writing its summary to `export` when given.
pub fn start(testid: &str, outputs: &[String], export: Option<&Path>) -> Child {
    let fixture = repo_root().join("tests/fixtures/stack/dashboard_run.yaml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .args(["run", "--demo", "--quiet"])
        .arg(&fixture)
        .args(["--testid", testid]);
    if let Some(path) = export {
        cmd.arg("--summary-export").arg(path);
    }
    for out in outputs {
        cmd.args(["--out", out]);
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start stampede")
}

/// Waits for the run and requires exit code 0 (its output in the message).
pub fn finish(testid: &str, child: Child) {
    let out = child.wait_with_output().expect("stampede runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "run {testid}:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
