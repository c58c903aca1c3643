//! A real Prometheus (2.42, Debian's `prometheus` package) for the output
//! tests: started on a free loopback port with the remote-write receiver and
//! native histograms enabled, stopped by PID when dropped.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method};
use stampede::protocol::http::{ClientConfig, ClientShared, HttpClient, HttpRequest, ProtoChoice};

pub const BINARY: &str = "/usr/bin/prometheus";

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind :0");
    listener.local_addr().expect("local addr").port()
}

pub struct Prometheus {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Starts Prometheus on a free port and waits until it is ready.
    pub async fn start() -> Prometheus {
        Self::start_on(free_port()).await
    }

    /// Starts Prometheus on `port` and waits (at most 30 s) until it is ready.
    pub async fn start_on(port: u16) -> Prometheus {
        Self::start_with_config(port, "global: {}\n").await
    }

    /// Starts Prometheus on `port` with `config` as its prometheus.yml
    /// (e.g. a scrape job) and waits (at most 30 s) until it is ready.
    pub async fn start_with_config(port: u16, config_text: &str) -> Prometheus {
        assert!(
            std::path::Path::new(BINARY).exists(),
            "{BINARY} is missing: install the Debian package `prometheus` (./scripts/test.sh installs it)"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, config_text).expect("write config");
        let child = Command::new(BINARY)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .arg("--enable-feature=native-histograms")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, _) = get(&format!("{}/-/ready", prometheus.base_url())).await;
            if status == 200 {
                return prometheus;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus on port {port} not ready within 30s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn write_url(&self) -> String {
        write_url(self.port)
    }

    /// `/api/v1/query` for `query` at `time` (Unix seconds; now when None):
    /// the `data.result` array.
    pub async fn query(&self, query: &str, time: Option<f64>) -> Vec<serde_json::Value> {
        let mut url = url::Url::parse(&format!("{}/api/v1/query", self.base_url())).unwrap();
        url.query_pairs_mut().append_pair("query", query);
        if let Some(t) = time {
            url.query_pairs_mut()
                .append_pair("time", &format!("{t:.3}"));
        }
        let (status, body) = get(url.as_str()).await;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "query {query}: not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        assert_eq!(status, 200, "query {query}: {json}");
        json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

pub fn write_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/api/v1/write")
}

/// GET `url`: (status, body); status 0 when nothing answered.
pub async fn get(url: &str) -> (u16, Bytes) {
    let client = HttpClient::new(ClientShared::new(ClientConfig::default()).expect("client"));
    let response = client
        .send(HttpRequest {
            method: Method::GET,
            url: url.to_string(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            timeout: Duration::from_secs(5),
            keep_body: true,
            keep_headers: false,
            proto: ProtoChoice::Auto,
            tls: None,
        })
        .await
        .response;
    (response.status, response.body)
}
