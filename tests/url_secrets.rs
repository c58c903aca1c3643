//! Secrets in URLs: user info and secret query parameters reach the target
//! (user info as the `Authorization: Basic` it stands for) and nothing else:
//! not the `name` tag, the summary, the outputs, nor `--http-debug`. URLs
//! with credentials on the command line are refused without repeating them.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PASSWORD: &str = "Sup3rS3cretPw";
const TOKEN: &str = "T0kenS3cret";

fn stampede() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.env_remove("BASE_URL")
        .env_remove("K6_PROMETHEUS_RW_SERVER_URL")
        .env("STAMPEDE_LOG", "warn");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A loopback server that answers `requests` requests with 200, one per
/// connection, and keeps each request head it read.
fn recording_server(requests: usize) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let kept = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            kept.lock().unwrap().push(text(&head));
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (port, heads)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn url_credentials_reach_the_target_and_nothing_else() {
    let (port, heads) = recording_server(2);
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("secrets.yaml");
    std::fs::write(
        &scenario,
        format!(
            r#"
scenarios:
  one:
    executor: per-vu-iterations
    vus: 1
    iterations: 2
    flow:
      - request:
          url: "http://alice:{PASSWORD}@127.0.0.1:{port}/items?token={TOKEN}&page=2"
          checks: [ {{ status: 200 }} ]
"#
        ),
    )
    .unwrap();
    let (json, csv, summary) = (
        dir.path().join("out.json"),
        dir.path().join("out.csv"),
        dir.path().join("summary.json"),
    );
    let out = stampede()
        .args(["run", "--quiet", "--http-debug", "--summary-export"])
        .arg(&summary)
        .arg("--out")
        .arg(format!("json={}", json.display()))
        .arg("--out")
        .arg(format!("csv={}", csv.display()))
        .arg(&scenario)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    // The target got the credentials: the password as Basic auth, the
    // token in the query it was written in.
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 2, "{heads:?}");
    for head in &heads {
        let lines: Vec<&str> = head.lines().collect();
        assert_eq!(
            lines[0],
            format!("GET /items?token={TOKEN}&page=2 HTTP/1.1")
        );
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                .map(|l| l.split_once(':').unwrap().1.trim())
                .collect::<Vec<_>>(),
            ["Basic YWxpY2U6U3VwM3JTM2NyZXRQdw=="],
            "{head}"
        );
        assert!(!head.contains(&format!("alice:{PASSWORD}@")), "{head}");
    }

    // Nothing shown or written holds either secret.
    let files = [read(&json), read(&csv), read(&summary)];
    for (what, content) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("json output", &files[0]),
        ("csv output", &files[1]),
        ("summary export", &files[2]),
    ] {
        assert!(
            !content.contains(PASSWORD) && !content.contains(TOKEN),
            "a secret leaked into {what}:\n{content}"
        );
    }
    // The name tag is the URL without user info or query, everywhere.
    let name = format!("http://127.0.0.1:{port}/items");
    assert!(stdout.contains(&name), "{stdout}");
    assert!(
        files[0].contains(&format!("\"name\":\"{name}\"")),
        "{}",
        files[0]
    );
    assert!(files[1].contains(&format!(",{name},")), "{}", files[1]);
    assert!(
        files[2].contains(&format!("\"name\": \"{name}\"")),
        "{}",
        files[2]
    );
    // --http-debug shows where the secrets were.
    let shown = format!("> GET http://[REDACTED]@127.0.0.1:{port}/items?token=[REDACTED]&page=2");
    assert_eq!(
        stderr.lines().filter(|l| *l == shown).count(),
        2,
        "{stderr}"
    );
}

fn refused(args: &[&str]) -> Output {
    stampede().args(args).output().unwrap()
}

#[test]
fn command_line_urls_with_credentials_are_refused_without_the_secret() {
    let out = refused(&[
        "run",
        "--url",
        &format!("http://alice:{PASSWORD}@127.0.0.1:9/"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: --url: the URL holds credentials (user info before '@'), which the command line \
         must not carry; take them from the environment, e.g. \
         --url 'http://{{ API_USER }}:{{ API_PASSWORD }}@host/'\n"
    );
    assert_eq!(text(&out.stdout), "");

    // A token given as the user name is a credential too.
    let out = refused(&["run", "--url", &format!("http://{TOKEN}@127.0.0.1:9/")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out.stderr).contains(TOKEN));

    let out = refused(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--out",
        &format!("prometheus-rw=http://alice:{PASSWORD}@127.0.0.1:9/api/v1/write"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: --out #1: the URL holds credentials (user info before '@'), which are not \
         accepted here; give the user name with `username` and the password from the \
         environment (password_env, or STAMPEDE_PROMETHEUS_RW_PASSWORD)\n"
    );
}

#[test]
fn scenario_output_urls_with_credentials_are_refused_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("out.yaml");
    std::fs::write(
        &scenario,
        format!(
            "outputs:\n  - type: influxdb\n    url: http://alice:{PASSWORD}@127.0.0.1:9/\n\
             scenarios:\n  one:\n    executor: per-vu-iterations\n    flow:\n      - request: {{ url: \"http://127.0.0.1:9/\" }}\n"
        ),
    )
    .unwrap();
    let out = refused(&["validate", scenario.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(104), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!(
            "error: {}:3:5: outputs[0].url: the URL holds credentials (user info before '@'), \
             which are not accepted here; give the user name with `username` and the password \
             from the environment (password_env, or STAMPEDE_INFLUXDB_PASSWORD)",
            scenario.display()
        )
    );
}

#[test]
fn invalid_urls_are_reported_without_their_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("bad.yaml");
    std::fs::write(
        &scenario,
        format!(
            "scenarios:\n  one:\n    executor: per-vu-iterations\n    flow:\n      - request: {{ url: \"http://alice:{PASSWORD}@127.0.0.1:99999/?token={TOKEN}\" }}\n"
        ),
    )
    .unwrap();
    let out = refused(&["validate", scenario.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(104));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!(
            "error: {}:5:20: scenarios.one.flow[0].request.url: invalid URL \
             \"http://[REDACTED]@127.0.0.1:99999/?token=[REDACTED]\": invalid port number",
            scenario.display()
        )
    );
    assert!(
        !stderr.contains(PASSWORD) && !stderr.contains(TOKEN),
        "{stderr}"
    );
}
