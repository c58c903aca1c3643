#![allow(dead_code)] // each test file uses a different part of these helpers
//! Debian's Prometheus 2.42 with the remote-write receiver and native
//! histograms, on a free loopback port with its storage in a tempdir.

use std::process::Command;
use std::time::Duration;

use super::http;
use super::process::{ProcessGuard, free_port, require_binary, spawn, wait_until};

pub struct Prometheus {
    pub port: u16,
    _guard: ProcessGuard,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    pub fn start() -> Prometheus {
        let bin = require_binary("/usr/bin/prometheus", "prometheus");
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global: {}\n").expect("write config");
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .arg("--enable-feature=native-histograms");
        let log = dir.path().join("prometheus.log");
        let mut guard = spawn("prometheus", cmd, &log);
        wait_until(&mut guard, &log, Duration::from_secs(30), || {
            http::get(port, "/-/ready").is_ok_and(|r| r.status == 200)
        });
        Prometheus {
            port,
            _guard: guard,
            _dir: dir,
        }
    }

    /// The remote-write URL stampede pushes to.
    pub fn write_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1/write", self.port)
    }

    /// POSTs `form` to an API path and returns `data` of a successful answer.
    pub fn api(&self, path: &str, form: &str) -> Result<serde_json::Value, String> {
        Self::data(http::post_form(self.port, path, form)?)
    }

    /// GETs an API path with `query` (endpoints that take no POST in 2.42,
    /// such as label values; Grafana uses GET for them too).
    pub fn api_get(&self, path: &str, query: &str) -> Result<serde_json::Value, String> {
        Self::data(http::get(self.port, &format!("{path}?{query}"))?)
    }

    fn data(resp: http::Response) -> Result<serde_json::Value, String> {
        let json: serde_json::Value =
            serde_json::from_str(&resp.body).map_err(|e| format!("{e}: {}", resp.body))?;
        if json["status"] != "success" {
            return Err(format!(
                "HTTP {}: {} {}",
                resp.status, json["errorType"], json["error"]
            ));
        }
        Ok(json["data"].clone())
    }
}
