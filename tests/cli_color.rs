//! Colour of the summary (stdout) and the log lines (stderr): `--no-color`
//! and `NO_COLOR` reach both, pipes get plain text, and `CLICOLOR_FORCE=1`
//! stands in for a terminal (tests have none).

use std::path::PathBuf;
use std::process::Command;

use regex::Regex;

/// One iteration whose first request reads a variable the second sets:
/// the iteration fails, which logs one WARN line.
const WARNS_ONCE: &str = r#"
scenarios:
  one:
    executor: per-vu-iterations
    vus: 1
    iterations: 1
    flow:
      - request: { name: item, url: "{{ BASE_URL }}/api/graphs/{{ graph_id }}" }
      - request:
          name: create
          method: POST
          url: "{{ BASE_URL }}/api/graphs"
          extract: { graph_id: { json: id } }
"#;

const ESC: char = '\x1b';

struct Streams {
    stdout: String,
    stderr: String,
}

impl Streams {
    /// The WARN line with its timestamp replaced by `TS`.
    fn warn_line(&self) -> String {
        let line = self
            .stderr
            .lines()
            .find(|l| l.contains("WARN"))
            .unwrap_or_else(|| panic!("no WARN line in:\n{}", self.stderr));
        let timestamp = Regex::new(r"\d{4}-\d\d-\d\dT[\d:.]+Z").unwrap();
        timestamp.replace(line, "TS").into_owned()
    }
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Streams {
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = dir.path().join("warns.yaml");
    std::fs::write(&file, WARNS_ONCE).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.env_remove("BASE_URL")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("STAMPEDE_LOG", "warn")
        .envs(env.iter().copied())
        .args(args)
        .args(["--demo", "--quiet"])
        .arg(&file);
    let out = cmd.output().expect("binary runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    Streams {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

const PLAIN_WARN: &str = "TS  WARN iteration failed: request \"item\": ";
const COLOURED_WARN: &str =
    "\x1b[2mTS\x1b[0m \x1b[33m WARN\x1b[0m iteration failed: request \"item\": ";

fn assert_plain(streams: &Streams) {
    assert!(
        streams.warn_line().starts_with(PLAIN_WARN),
        "{:?}",
        streams.warn_line()
    );
    assert!(!streams.stderr.contains(ESC), "{:?}", streams.stderr);
    assert!(!streams.stdout.contains(ESC), "{:?}", streams.stdout);
    assert!(
        streams.stdout.starts_with("  █ TOTAL RESULTS\n"),
        "{:?}",
        streams.stdout
    );
}

#[test]
fn pipes_get_plain_text_on_both_streams() {
    assert_plain(&run(&["run"], &[]));
}

#[test]
fn forced_colour_reaches_the_summary_and_the_log_lines() {
    let streams = run(&["run"], &[("CLICOLOR_FORCE", "1")]);
    assert!(
        streams.warn_line().starts_with(COLOURED_WARN),
        "{:?}",
        streams.warn_line()
    );
    assert!(
        streams
            .stdout
            .starts_with("  \x1b[1m█ TOTAL RESULTS\x1b[0m\n"),
        "{:?}",
        streams.stdout
    );
}

#[test]
fn no_color_flag_reaches_the_log_lines_too() {
    assert_plain(&run(&["run", "--no-color"], &[("CLICOLOR_FORCE", "1")]));
    // A global flag: also before the subcommand.
    assert_plain(&run(&["--no-color", "run"], &[("CLICOLOR_FORCE", "1")]));
}

#[test]
fn no_color_environment_variable_beats_forced_colour() {
    assert_plain(&run(
        &["run"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    ));
}
