//! The shipped agent-session scenario runs against the demo target within
//! its time budget and passes its thresholds.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn agent_session_scenario_passes_its_thresholds() {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/agent-session.yaml");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["run", "--demo", "--quiet", file.to_str().unwrap()])
        .env_remove("BASE_URL")
        .output()
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took <= Duration::from_secs(30), "took {took:?}");
    assert!(stdout.contains("ws_reply_time"), "{stdout}");
    assert!(stdout.contains("✓ 'p(95)<300'"), "{stdout}");
    assert!(stdout.contains("✓ all thresholds passed"), "{stdout}");
    assert!(!stdout.contains("ERRORS"), "{stdout}");
}
