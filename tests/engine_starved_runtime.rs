//! VUs whose iterations fail without ever waiting must not take the
//! runtime from the rest of the run. Past the open-file limit a WebSocket
//! connect fails at `socket()` (EMFILE) and never returns Pending; before
//! the VU loop yielded, 60 such VUs kept both worker threads busy forever:
//! the test never ended, and neither SIGTERM nor Ctrl-C was handled (a
//! full-size run of the AgentCore WebSocket suite hung that way).

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Each VU logs in (a keep-alive connection) and opens a session to the
/// in-process demo: past 100 descriptors, connects fail at once.
const SCENARIO: &str = r#"
scenarios:
  sessions:
    executor: constant-vus
    vus: 60
    duration: 2s
    graceful_stop: 2s
    setup:
      - request:
          name: login
          method: POST
          url: "{{ BASE_URL }}/auth/login"
          json: { email: "vu-{{ __VU }}@example.com", password: pw }
          extract: { token: { json: access_token } }
    flow:
      - websocket:
          name: session
          url: "{{ BASE_URL }}/ws"
          headers: { Authorization: "Bearer {{ token }}" }
          steps:
            - hold: { duration: 1s }
"#;

#[test]
fn vus_failing_without_waiting_let_the_run_end() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("starve.yaml");
    std::fs::write(&file, SCENARIO).unwrap();
    let export = dir.path().join("summary.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_stampede"));
    command
        .args(["run", "--demo", "--quiet", "--no-color"])
        .arg(&file)
        .arg("--summary-export")
        .arg(&export)
        .env_remove("BASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe and only touches the child.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 100,
                rlim_max: 100,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("binary runs");
    let started = Instant::now();
    // 2 s of test and 2 s of graceful stop; the demo's accept loop backs
    // off for a second per EMFILE, so sessions connect late: 60 s is far
    // beyond what a run that ends takes, and a hung one never ends.
    let limit = Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the run did not end within {limit:?}: its runtime was starved");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(export.exists(), "no summary: {stdout}{stderr}");
    // Some sessions fail, so the run fails, with its summary written.
    assert!(status.code().is_some(), "killed by a signal: {status:?}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    let metrics = &doc["metrics"];
    let iterations = metrics["iterations"]["count"].as_u64().unwrap();
    let sessions = metrics["ws_sessions"]["count"].as_u64().unwrap_or(0);
    // Most iterations were connects refused for want of a descriptor, each
    // counted; a few sessions got descriptors and were held.
    assert!(iterations > 100, "{stdout}");
    assert!(sessions < iterations, "{stdout}");
    // The generator's own limit, named as such, and warned about first.
    assert!(stdout.contains("file_limit"), "{stdout}");
    assert!(
        stderr.contains("up to 60 VUs may each hold a connection (with --demo, both ends of it), but this process may open only 100 files"),
        "{stderr}"
    );
}
