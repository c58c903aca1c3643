//! rotel (PyPI `rotel`), a real third-party OTLP receiver, started on free
//! loopback ports with its debug log of every metric received, and killed
//! when the guard drops.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long rotel may take to open its ports.
const START_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Rotel {
    child: Child,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `rotel-agent` binary shipped in the rotel Python package.
pub fn binary() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import rotel,os;print(os.path.join(os.path.dirname(rotel.__file__),'rotel-agent'))",
        ])
        .output();
    let path = match out {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => PathBuf::new(),
    };
    assert!(
        path.is_file(),
        "rotel is not installed: `pip install rotel` (./scripts/test.sh installs it)"
    );
    path
}

fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

impl Rotel {
    /// Starts rotel with an OTLP gRPC and an OTLP/HTTP receiver, exporting
    /// to nowhere and logging every metric in detail.
    pub fn start() -> Rotel {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("rotel.log");
        let (grpc, http) = (free_port(), free_port());
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new(binary())
            .arg("start")
            .args(["--otlp-grpc-endpoint", &grpc.to_string()])
            .args(["--otlp-http-endpoint", &http.to_string()])
            .args(["--exporter", "blackhole"])
            .args(["--debug-log", "metrics"])
            .args(["--debug-log-verbosity", "detailed"])
            .arg("--disable-batching")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("rotel-agent starts");
        let mut rotel = Rotel {
            child,
            grpc,
            http,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let up = [grpc, http]
                .iter()
                .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok());
            if up {
                break;
            }
            if let Ok(Some(status)) = rotel.child.try_wait() {
                panic!("rotel exited at start ({status}):\n{}", rotel.log());
            }
            assert!(
                Instant::now() < deadline,
                "rotel did not open its ports within {START_TIMEOUT:?}:\n{}",
                rotel.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        rotel
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (bounded) until `done(log)` holds; returns the log either way.
    pub async fn wait_for_log(&self, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if done(&log) || Instant::now() >= deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
