//! A real InfluxDB 1.6 (`influxd` from Debian's `influxdb` package) on a
//! free loopback port, with its data in a temporary directory; stopped when
//! dropped. Plus a minimal HTTP/1.1 client for asking it things.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const INFLUXD: &str = "/usr/bin/influxd";

pub struct InfluxDb {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl InfluxDb {
    /// Starts influxd and waits (at most 30 s) until `/ping` answers.
    pub fn start() -> InfluxDb {
        assert!(
            std::path::Path::new(INFLUXD).exists(),
            "{INFLUXD} is missing: install the Debian package `influxdb` (./scripts/test.sh does)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let rpc_port = free_port();
        let root = dir.path().display().to_string();
        let config = format!(
            r#"reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
"#
        );
        let config_path = dir.path().join("influxdb.conf");
        std::fs::write(&config_path, config).expect("write config");
        let log = std::fs::File::create(dir.path().join("influxd.log")).expect("log file");
        let child = Command::new(INFLUXD)
            .arg("-config")
            .arg(&config_path)
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("influxd starts");
        let db = InfluxDb { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((204, _)) = http(port, "GET", "/ping", &[]) {
                return db;
            }
            assert!(
                Instant::now() < deadline,
                "influxd did not answer /ping within 30 s; log:\n{}",
                db.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("influxd.log")
    }

    /// Runs an InfluxQL query and returns the JSON answer.
    pub fn query(&self, db: &str, q: &str) -> serde_json::Value {
        let path = format!("/query?db={}&q={}", encode(db), encode(q));
        let (status, body) = http(self.port, "GET", &path, &[]).expect("query answered");
        assert_eq!(status, 200, "query {q}: {body}");
        serde_json::from_str(&body).expect("query answer is JSON")
    }

    /// The single number a `SELECT count(..)`/`sum(..)` query returns (0
    /// when there is no series).
    pub fn scalar(&self, db: &str, q: &str) -> f64 {
        let answer = self.query(db, q);
        let series = &answer["results"][0]["series"];
        if series.is_null() {
            return 0.0;
        }
        series[0]["values"][0][1]
            .as_f64()
            .unwrap_or_else(|| panic!("no number in {answer}"))
    }

    /// Names of the databases.
    pub fn databases(&self) -> Vec<String> {
        let answer = self.query("", "SHOW DATABASES");
        answer["results"][0]["series"][0]["values"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r[0].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for InfluxDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// One HTTP/1.1 request with `Connection: close`; (status, body).
pub fn http(port: u16, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
