#![allow(dead_code)] // each test file uses a different part of these helpers
//! Starting a real backend binary on a free loopback port and stopping it by
//! PID when the test ends.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the process it holds (by PID, through `Child`) when dropped.
pub struct ProcessGuard {
    pub child: Child,
    pub name: &'static str,
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (bind :0, read it, release it).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// The binary's path, or a failure that names the package to install.
pub fn require_binary(path: &str, package: &str) -> String {
    assert!(
        std::path::Path::new(path).exists(),
        "{path} is missing: install the Debian package `{package}` (./scripts/test.sh installs it)"
    );
    path.to_string()
}

pub fn spawn(name: &'static str, mut cmd: Command, log: &std::path::Path) -> ProcessGuard {
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    ProcessGuard { child, name }
}

/// Polls `ready` every 100 ms for at most `limit`; fails with the log's tail.
pub fn wait_until(
    guard: &mut ProcessGuard,
    log: &std::path::Path,
    limit: Duration,
    ready: impl Fn() -> bool,
) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ready() {
            return;
        }
        if let Ok(Some(status)) = guard.child.try_wait() {
            panic!("{} exited early ({status}):\n{}", guard.name, tail(log));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} not ready after {limit:?}:\n{}", guard.name, tail(log));
}

fn tail(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
