//! Debian's tinyproxy, a real forward proxy (absolute-form HTTP and
//! CONNECT), started by the test on a free loopback port in the
//! foreground with its configuration and log in a temporary directory,
//! stopped by its PID when dropped. A missing tinyproxy fails the test:
//! `./scripts/test.sh` installs it.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Tinyproxy {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Tinyproxy {
    /// With `basic_auth` ("user password"), requests without those
    /// credentials are answered 407. No `ConnectPort` line: CONNECT to
    /// any port is allowed (the test servers use free high ports).
    pub fn start(dir: &Path, basic_auth: Option<&str>) -> Tinyproxy {
        let port = super::nginx::free_port();
        let log = dir.join("tinyproxy.log");
        let auth = basic_auth
            .map(|a| format!("BasicAuth {a}\n"))
            .unwrap_or_default();
        let conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{}\"\nLogLevel Connect\n\
             PidFile \"{}\"\nMaxClients 50\nAllow 127.0.0.1\n{auth}",
            log.display(),
            dir.join("tinyproxy.pid").display()
        );
        let conf_path = dir.join("tinyproxy.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let binary = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("tinyproxy is installed (./scripts/test.sh installs Debian's tinyproxy)");
        let child = Command::new(binary)
            .arg("-d")
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy starts");
        let proxy = Tinyproxy { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tinyproxy did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The request lines the proxy logged (`GET http://host:port/path
    /// HTTP/1.1`, `CONNECT host:port HTTP/1.1`), in order.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                line.split_once("): ")
                    .filter(|_| line.contains("Request (file descriptor"))
            })
            .map(|(_, request)| request.to_string())
            .collect()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
