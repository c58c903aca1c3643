//! The shipped streaming scenarios run against the demo target within their
//! time budget and pass their thresholds.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `scenarios/FILE` with `--demo`; returns its console summary after
/// asserting exit code 0 within 30 s, every threshold passed, no errors.
fn run_shipped(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["run", "--demo", "--quiet", path.to_str().unwrap()])
        .env_remove("BASE_URL")
        .output()
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{file}: stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took <= Duration::from_secs(30), "{file} took {took:?}");
    assert!(stdout.contains("✓ all thresholds passed"), "{stdout}");
    assert!(!stdout.contains("ERRORS"), "{stdout}");
    stdout
}

#[test]
fn chat_streaming_scenario_passes_its_ttft_threshold() {
    let stdout = run_shipped("chat-streaming.yaml");
    assert!(stdout.contains("sse_time_to_first_event"), "{stdout}");
    assert!(stdout.contains("✓ 'p(95)<800'"), "{stdout}");
}

#[test]
fn agent_session_scenario_passes_its_reply_time_thresholds() {
    let stdout = run_shipped("agent-session.yaml");
    assert!(stdout.contains("ws_reply_time"), "{stdout}");
    assert!(stdout.contains("✓ 'p(95)<300'"), "{stdout}");
}
