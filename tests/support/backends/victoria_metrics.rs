//! A real VictoriaMetrics (Debian's `victoria-metrics`) on a free loopback
//! port with its data in a temporary directory; stopped when dropped.
//! Uses the HTTP helpers of `influxdb.rs` (include both).
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::influxdb::{encode, free_port, http};

pub const VICTORIA_METRICS: &str = "/usr/bin/victoria-metrics";

pub struct VictoriaMetrics {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl VictoriaMetrics {
    /// Starts it and waits (at most 30 s) until `/health` answers.
    pub fn start() -> VictoriaMetrics {
        assert!(
            std::path::Path::new(VICTORIA_METRICS).exists(),
            "{VICTORIA_METRICS} is missing: install the Debian package `victoria-metrics` (./scripts/test.sh does)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("vm.log")).expect("log file");
        let child = Command::new(VICTORIA_METRICS)
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .arg(format!(
                "-storageDataPath={}",
                dir.path().join("data").display()
            ))
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("victoria-metrics starts");
        let vm = VictoriaMetrics { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = http(port, "GET", "/health", &[]) {
                return vm;
            }
            assert!(
                Instant::now() < deadline,
                "victoria-metrics did not answer /health within 30 s; log:\n{}",
                vm.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("vm.log")).unwrap_or_default()
    }

    /// Raw samples of the series matching `selector` (`/api/v1/export`,
    /// after forcing buffered data to storage): one JSON object per series.
    pub fn export(&self, selector: &str) -> Vec<serde_json::Value> {
        let _ = http(self.port, "GET", "/internal/force_flush", &[]);
        let path = format!("/api/v1/export?match[]={}", encode(selector));
        let (status, body) = http(self.port, "GET", &path, &[]).expect("export answered");
        assert_eq!(status, 200, "export {selector}: {body}");
        body.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("export line is JSON"))
            .collect()
    }

    /// Sum of the sample counts over the series matching `selector`.
    pub fn sample_count(&self, selector: &str) -> usize {
        self.export(selector)
            .iter()
            .map(|s| s["values"].as_array().map_or(0, Vec::len))
            .sum()
    }
}

impl Drop for VictoriaMetrics {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
