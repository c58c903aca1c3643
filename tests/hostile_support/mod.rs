//! Shared by the hostile-server suites: servers that misbehave on purpose
//! (each on 127.0.0.1, on threads of the test process, every loop bounded by
//! a deadline), and the binary run as a child whose exit code, run time,
//! summary and peak memory (`ru_maxrss` from `wait4`) are read exactly.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// No server thread outlives this, whatever the client does.
pub const SERVER_LIFETIME: Duration = Duration::from_secs(60);

/// The peak resident memory the whole run (a child process) may reach.
pub const MAX_CHILD_RSS_KB: u64 = 200 * 1024;

/// Serves every connection on its own thread with `handle`, for
/// [`SERVER_LIFETIME`]; returns `http://127.0.0.1:PORT`.
pub fn serve(handle: fn(TcpStream, Instant)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + SERVER_LIFETIME;
        while Instant::now() < until {
            match listener.accept() {
                Ok((tcp, _)) => {
                    tcp.set_nonblocking(false).unwrap();
                    std::thread::spawn(move || handle(tcp, until));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    format!("http://{addr}")
}

/// Reads the request head (up to 64 KiB, 5 s); returns it as text.
pub fn read_head(tcp: &mut TcpStream) -> String {
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match tcp.read(&mut byte) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&byte[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Writes `piece` again and again until the peer goes away or `until`.
pub fn write_forever(tcp: &mut TcpStream, piece: &[u8], until: Instant) {
    tcp.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    while Instant::now() < until {
        if tcp.write_all(piece).is_err() {
            return;
        }
    }
}

/// Holds the connection open, reading nothing more, until the peer closes
/// it or `until`.
pub fn hold(tcp: &mut TcpStream, until: Instant) {
    tcp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut byte = [0u8; 1];
    while Instant::now() < until {
        match tcp.read(&mut byte) {
            Ok(0) => return,
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(err) if err.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
    }
}

/// What a child run left behind.
#[derive(Debug)]
pub struct ChildRun {
    pub code: i32,
    pub elapsed: Duration,
    /// `ru_maxrss` of the child: its peak resident set, in KiB.
    pub peak_rss_kb: u64,
    pub stdout: String,
    pub stderr: String,
    /// The `--summary-export` JSON.
    pub summary: Value,
}

impl ChildRun {
    /// The child's peak resident memory stayed under [`MAX_CHILD_RSS_KB`].
    pub fn assert_memory_bounded(&self) {
        assert!(
            self.peak_rss_kb < MAX_CHILD_RSS_KB,
            "peak RSS {} KiB",
            self.peak_rss_kb
        );
    }
}

/// Runs `stampede run ARGS --quiet --summary-export ...` and waits for it,
/// killing it after `kill_after` (the test then fails on the exit code).
// The child is reaped by `wait4` below, not by std's `wait`, which cannot
// return its resource usage.
#[allow(clippy::zombie_processes)]
pub fn run_child(dir: &Path, args: &[&str], kill_after: Duration) -> ChildRun {
    let export = dir.join("summary.json");
    let out_path = dir.join("stdout.txt");
    let err_path = dir.join("stderr.txt");
    let started = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .arg("run")
        .args(args)
        .arg("--quiet")
        .arg("--summary-export")
        .arg(&export)
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("the binary starts");
    let pid = child.id() as libc::pid_t;
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            let until = Instant::now() + kill_after;
            while Instant::now() < until && !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            if !done.load(Ordering::SeqCst) {
                // SAFETY: plain syscall on our own, not yet reaped, child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        })
    };
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; `child` is never waited on by std.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    done.store(true, Ordering::SeqCst);
    let elapsed = started.elapsed();
    watchdog.join().unwrap();
    assert_eq!(waited, pid, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let summary = std::fs::read_to_string(&export)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    ChildRun {
        code,
        elapsed,
        peak_rss_kb: usage.ru_maxrss as u64,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        summary,
    }
}

/// Sum of `metric`'s `field` over the series whose tags include `tags`.
pub fn series_sum(summary: &Value, metric: &str, field: &str, tags: &[(&str, &str)]) -> f64 {
    let Some(series) = summary["series"][metric].as_array() else {
        return 0.0;
    };
    series
        .iter()
        .filter(|s| tags.iter().all(|(k, v)| s["tags"][*k].as_str() == Some(*v)))
        .map(|s| s[field].as_f64().unwrap_or(0.0))
        .sum()
}

/// `http_reqs` per `error_code` (`""` for none), sorted.
pub fn error_codes(summary: &Value) -> Vec<(String, u64)> {
    let mut counts = std::collections::BTreeMap::new();
    for s in summary["series"]["http_reqs"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let code = s["tags"]["error_code"].as_str().unwrap_or("").to_string();
        *counts.entry(code).or_insert(0u64) += s["count"].as_f64().unwrap_or(0.0) as u64;
    }
    counts.into_iter().collect()
}

/// Writes a scenario file with `BASE_URL` replaced by `base`.
pub fn scenario(dir: &Path, yaml: &str, base: &str) -> String {
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, yaml.replace("BASE_URL", base)).unwrap();
    path.to_str().unwrap().to_string()
}

/// Asserts the run's exit code, printing what it said when it differs.
pub fn assert_code(run: &ChildRun, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}
