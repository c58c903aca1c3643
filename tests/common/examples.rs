//! Runs a documented example against the in-process demo target and
//! expects it to pass its own thresholds without an iteration error.

use std::path::Path;
use std::process::Command;

pub fn assert_example_passes(file: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["run", "--demo", "--quiet"])
        .arg(file)
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\nstdout:\n{stdout}\nstderr:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("ITERATION ERRORS"),
        "{}: {stdout}",
        file.display()
    );
    assert!(stdout.contains("http_reqs"), "{}: {stdout}", file.display());
}
