#![allow(dead_code)] // each test file uses a different part of these helpers
//! Debian's InfluxDB 1.6 (`/write`, InfluxQL `/query`) on a free loopback
//! port, every directory in a tempdir, every other listener off.

use std::process::Command;
use std::time::Duration;

use super::http;
use super::process::{ProcessGuard, free_port, require_binary, spawn, wait_until};

pub struct InfluxDb {
    pub port: u16,
    _guard: ProcessGuard,
    _dir: tempfile::TempDir,
}

impl InfluxDb {
    pub fn start() -> InfluxDb {
        let bin = require_binary("/usr/bin/influxd", "influxdb");
        let dir = tempfile::tempdir().expect("tempdir");
        let (port, rpc_port) = (free_port(), free_port());
        let d = dir.path().display();
        let config = format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc_port}\"\n\
             [meta]\n  dir = \"{d}/meta\"\n\
             [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{port}\"\n  log-enabled = false\n\
             [monitor]\n  store-enabled = false\n\
             [continuous_queries]\n  enabled = false\n\
             [subscriber]\n  enabled = false\n"
        );
        let path = dir.path().join("influxdb.conf");
        std::fs::write(&path, config).expect("write config");
        let mut cmd = Command::new(bin);
        cmd.arg("run").arg("-config").arg(&path);
        let log = dir.path().join("influxd.log");
        let mut guard = spawn("influxd", cmd, &log);
        wait_until(&mut guard, &log, Duration::from_secs(30), || {
            http::get(port, "/ping").is_ok_and(|r| r.status == 204)
        });
        InfluxDb {
            port,
            _guard: guard,
            _dir: dir,
        }
    }

    /// Runs InfluxQL against `db`; returns the first statement's result
    /// (`{"series": [...]}`, or an error message).
    pub fn query(&self, db: &str, q: &str) -> Result<serde_json::Value, String> {
        let form = http::form(&[("db", db), ("q", q), ("epoch", "ms")]);
        let resp = http::post_form(self.port, "/query", &form)?;
        let json: serde_json::Value =
            serde_json::from_str(&resp.body).map_err(|e| format!("{e}: {}", resp.body))?;
        if let Some(err) = json["error"].as_str() {
            return Err(err.to_string());
        }
        let result = json["results"][0].clone();
        match result["error"].as_str() {
            Some(err) => Err(err.to_string()),
            None => Ok(result),
        }
    }
}
