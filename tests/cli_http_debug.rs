//! `--http-debug` and `--http-debug=full` against the in-process demo
//! target: sizes labelled body and wire, bodies printed with secret fields
//! masked, and a 4xx's explanation readable.

use std::process::Command;

/// A login (a password in the JSON body, a token in the answer), then a
/// request the demo refuses with 401.
const LOGIN_THEN_REFUSED: &str = r#"
env: { USER_PASSWORD: hunter2-pw }
scenarios:
  one:
    executor: per-vu-iterations
    vus: 1
    iterations: 1
    flow:
      - request:
          name: login
          method: POST
          url: "{{ BASE_URL }}/auth/login"
          json: { email: "a@example.com", password: "{{ USER_PASSWORD }}" }
      - request:
          name: refused
          method: POST
          url: "{{ BASE_URL }}/api/graphs"
          body: "not json"
"#;

/// Runs the scenario with `flag`; returns stderr.
fn debug_output(flag: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("debug.yaml");
    std::fs::write(&file, LOGIN_THEN_REFUSED).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        // The flag right before the file: `--http-debug` must not take it as its value.
        .args(["run", "--demo", "--quiet", flag])
        .arg(&file)
        .output()
        .expect("binary runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        !stderr.contains("hunter2") && !stdout.contains("hunter2"),
        "secret leaked:\n{stderr}"
    );
    stderr
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn full_prints_bodies_with_secret_fields_masked() {
    let stderr = debug_output("--http-debug=full");
    let lines = lines(&stderr);
    let login = lines
        .iter()
        .position(|l| l.starts_with("> POST ") && l.ends_with("/auth/login"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(
        lines[login + 1..login + 4],
        [
            "> content-type: application/json",
            "> [body: 49 bytes]",
            "> {\"email\":\"a@example.com\",\"password\":\"[REDACTED]\"}",
        ]
    );
    let token = lines
        .iter()
        .find(|l| l.starts_with("< {\"access_token\""))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        token.starts_with(
            "< {\"access_token\":\"[REDACTED]\",\"token_type\":\"[REDACTED]\",\"expires_in\":3600,"
        ),
        "{token}"
    );
    let refused = lines
        .iter()
        .position(|l| l.starts_with("< HTTP/1.1 401 "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let size = lines[refused + 4];
    assert!(
        size.starts_with("< [body: 24 bytes; wire: 142 bytes received, "),
        "{size}"
    );
    assert_eq!(
        lines[refused + 5..refused + 7],
        ["< {\"error\":\"unauthorized\"}", ""]
    );
}

#[test]
fn plain_flag_prints_sizes_but_no_bodies() {
    let stderr = debug_output("--http-debug");
    assert!(
        stderr.contains("\n> [body: 49 bytes]\n< HTTP/1.1 200 "),
        "{stderr}"
    );
    assert!(!stderr.contains("a@example.com"), "{stderr}");
    assert!(!stderr.contains("unauthorized"), "{stderr}");
}
