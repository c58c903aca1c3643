//! Debian's nginx, started by the test on a free loopback port with a
//! configuration written into a temporary directory (`-p`/`-c`: pid, logs
//! and temp files stay there), in the foreground, stopped by its PID when
//! dropped. A missing nginx fails the test: `./scripts/test.sh` installs it.
#![allow(dead_code)]

use std::net::{IpAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Nginx {
    child: Child,
    pub dir: PathBuf,
}

/// A free port on 127.0.0.1 (released before nginx binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nginx {
    /// Runs nginx with `servers` (one or more `server { ... }` blocks) as
    /// the `http` block's content, and waits until each of `ports` accepts.
    pub fn start(dir: &Path, servers: &str, ports: &[u16]) -> Nginx {
        let addrs: Vec<(IpAddr, u16)> = ports
            .iter()
            .map(|p| (IpAddr::from([127, 0, 0, 1]), *p))
            .collect();
        Nginx::start_on(dir, servers, &addrs)
    }

    /// As [`Nginx::start`], waiting for listeners on any addresses
    /// (`[::1]` for the IPv6 tests).
    pub fn start_on(dir: &Path, servers: &str, listeners: &[(IpAddr, u16)]) -> Nginx {
        let dir = dir.to_path_buf();
        let d = dir.display();
        // One process (no master, no workers): it runs as the test user,
        // reads the keys in this 0700 directory, and ends with its PID.
        let conf = format!(
            "daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
{servers}
}}
"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("nginx is installed (./scripts/test.sh installs Debian's nginx)");
        let child = Command::new(binary)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx { child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        for (ip, port) in listeners {
            while TcpStream::connect((*ip, *port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "nginx did not listen on {port}: {}",
                    std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        nginx
    }

    /// The lines of log `name` that start with `prefix`, once there are at
    /// least `count` of them (nginx logs a request after answering it), or
    /// after 5 seconds, whatever there is then.
    pub fn log_lines(&self, name: &str, prefix: &str, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let lines: Vec<String> = self
                .access_log_named(name)
                .into_iter()
                .filter(|line| line.starts_with(prefix))
                .collect();
            if lines.len() >= count || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The lines of the log file `name` in the nginx directory.
    pub fn access_log_named(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // The only nginx process (`master_process off`).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
