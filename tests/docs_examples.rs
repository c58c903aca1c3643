//! Every example in docs/examples runs against the demo target and passes its
//! own thresholds: the scenario-format documentation stays runnable.

use std::process::Command;

#[test]
fn every_documented_example_runs_and_passes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "examples found: {files:?}");
    for file in files {
        let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
            .args(["run", "--demo", "--quiet", file.to_str().unwrap()])
            .env_remove("BASE_URL")
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
}
