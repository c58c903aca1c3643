//! Lines of the printed summary that short runs against the in-process demo
//! target got wrong: each test asserts the exact line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stampede() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.env_remove("BASE_URL")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("STAMPEDE_LOG", "warn");
    cmd
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run_file(yaml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.yaml", yaml);
    let out: Output = stampede()
        .args(["run", "--demo", "--quiet", file.to_str().unwrap()])
        .output()
        .expect("binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The summary line whose label is `label`, its column padding squeezed to
/// one space: the value column is as wide as the widest value of the run,
/// and the generator's CPU figure (`peak=7.00%` or `peak=12.00%`) varies.
fn line(stdout: &str, label: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{label}.")))
        .unwrap_or_else(|| panic!("no {label} line in:\n{stdout}"));
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn vus_max_counts_vus_of_a_run_shorter_than_one_flush() {
    // Two VUs, one request each, over before the first one-second sampling
    // tick; the pause keeps both running at once however late the second
    // starts on a busy machine.
    let stdout = run_file(
        r#"
scenarios:
  short:
    executor: per-vu-iterations
    vus: 2
    iterations: 1
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health", checks: [ { status: 200 } ] }
      - sleep: 500ms
"#,
    );
    assert_eq!(
        line(&stdout, "vus"),
        "vus................................: 2 min=2 max=2"
    );
}
