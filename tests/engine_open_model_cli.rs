//! The open-model command line: progress lines in CI logs, bad executor
//! settings and bad `--segment` values, `--rate` in ad-hoc mode.

use std::process::{Command, Output};

fn stampede(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("stampede runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn progress_prints_plain_lines_per_scenario_when_not_a_terminal() {
    let out = stampede(&[
        "run",
        "--demo",
        "tests/fixtures/openmodel/two-shapes.yaml",
        "--progress-interval",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains('\x1b'),
        "no terminal escapes in a log: {stderr:?}"
    );
    let line = regex::Regex::new(
        r"^(closed|open) \[(waiting|running|done)\] \d+\.\ds/(2\.5|2\.0)s, \d+/2 VUs, \d+ iterations, \d+ req/s, 0\.0% errors, p95 (\d+\.\dms|-)$",
    )
    .unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| line.is_match(l)).collect();
    // On a busy machine (other tests run at the same time) the generator
    // may rightly warn that its cores were saturated; nothing else may
    // appear beside the progress lines.
    let others = stderr
        .lines()
        .filter(|l| !line.is_match(l) && !l.contains("WARN load generator saturated: "))
        .count();
    assert_eq!(others, 0, "every stderr line is a progress line: {stderr}");
    for name in ["closed", "open"] {
        let mine: Vec<&&str> = lines
            .iter()
            .filter(|l| l.starts_with(&format!("{name} ")))
            .collect();
        assert!(
            mine.len() >= 3,
            "two interval lines and a final one for {name}: {stderr}"
        );
        assert!(mine.last().unwrap().contains("[done]"), "{stderr}");
    }
    let open_final = lines.iter().rfind(|l| l.starts_with("open ")).unwrap();
    assert!(
        open_final.contains(" 40 iterations,"),
        "20/s for 2 s: {open_final}"
    );
}

#[test]
fn quiet_hides_progress() {
    let out = stampede(&[
        "run",
        "--demo",
        "--quiet",
        "--url",
        "{{ BASE_URL }}/health",
        "--rate",
        "50",
        "--duration",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("iterations.........................: 50 "),
        "--rate 50 for 1 s starts 50: {stdout}"
    );
}

#[test]
fn bad_executor_settings_are_reported_one_per_line() {
    let out = stampede(&["run", "tests/fixtures/openmodel/bad-executors.yaml"]);
    assert_eq!(out.status.code(), Some(104));
    let expected = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/openmodel/bad-executors.expected"),
    )
    .unwrap();
    assert_eq!(text(&out.stderr), expected);
    assert_eq!(text(&out.stderr).lines().count(), 6);
}

#[test]
fn bad_segments_and_factors_are_bad_arguments() {
    for (args, message) in [
        (
            vec!["--segment", "5/4"],
            "invalid value '5/4' for '--segment <i/n>': segment 5/4 does not exist: use i/n with 1 <= i <= n, e.g. 2/4",
        ),
        (
            vec!["--segment", "0/4"],
            "invalid value '0/4' for '--segment <i/n>': segment 0/4 does not exist: use i/n with 1 <= i <= n, e.g. 2/4",
        ),
        (
            vec!["--segment", "2"],
            "invalid value '2' for '--segment <i/n>': expected i/n, e.g. 2/4, got \"2\"",
        ),
        (
            vec!["--scale-vus", "0"],
            "invalid value '0' for '--scale-vus <F>': expected a number greater than 0, got \"0\"",
        ),
    ] {
        let mut all = vec!["run", "scenarios/quickstart.yaml"];
        all.extend(args);
        let out = stampede(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        let stderr = text(&out.stderr);
        assert_eq!(
            stderr.lines().next(),
            Some(format!("error: {message}").as_str()),
            "{all:?}"
        );
    }
    let out = stampede(&["run", "--url", "http://127.0.0.1:1/", "--rate", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--duration"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn absurd_values_are_refused_before_anything_starts() {
    // Flags past a limit on their own: clap refuses them (exit 2).
    for (args, message) in [
        (
            vec!["--vus", "4294967296"],
            "invalid value '4294967296' for '--vus <N>': 4294967296 is not in 1..=1000000",
        ),
        (
            vec!["--rate", "1e10", "--duration", "5s"],
            "invalid value '1e10' for '--rate <R>': at most 1000000 iterations per second",
        ),
        (
            vec!["--scale-vus", "1e308"],
            "invalid value '1e308' for '--scale-vus <F>': at most 1000",
        ),
        (
            vec!["--scale-duration", "1e308"],
            "invalid value '1e308' for '--scale-duration <F>': at most 1000",
        ),
        (
            vec!["--duration", "169h"],
            "invalid value '169h' for '--duration <DURATION>': at most 168h",
        ),
    ] {
        let mut all = vec!["run", "scenarios/quickstart.yaml"];
        all.extend(args);
        let out = stampede(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        assert_eq!(
            text(&out.stderr).lines().next(),
            Some(format!("error: {message}").as_str()),
            "{all:?}"
        );
    }
    // Within limits alone, past them together: refused once the file is read.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yaml");
    std::fs::write(
        &file,
        "vus: 2000\nduration: 1h\nflow:\n  - request: { url: \"http://127.0.0.1:1/\" }\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    for (args, message) in [
        (
            vec!["--scale-vus", "1000"],
            "--scale-vus: scenario \"default\" would run more than 1000000 VUs, the limit per scenario (hint: split the test across instances with --segment i/n)",
        ),
        (
            vec!["--scale-duration", "200"],
            "--scale-duration: scenario \"default\" would last past 168h, the limit",
        ),
    ] {
        let mut all = vec!["run", file];
        all.extend(args);
        let out = stampede(&all);
        assert_eq!(out.status.code(), Some(104), "{all:?}");
        assert_eq!(
            text(&out.stderr).lines().next(),
            Some(format!("error: {file}: {message}").as_str()),
            "{all:?}"
        );
    }
    std::fs::write(
        dir.path().join("big.yaml"),
        "scenarios:\n  open:\n    executor: constant-arrival-rate\n    rate: 5000000\n    duration: 1s\n    preallocated_vus: 4294967296\n    flow:\n      - request: { url: \"http://127.0.0.1:1/\" }\n",
    )
    .unwrap();
    let out = stampede(&["validate", file]);
    assert_eq!(out.status.code(), Some(104));
    let lines: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(String::from)
        .collect();
    assert_eq!(
        lines,
        [
            format!(
                "error: {file}:4:5: scenarios.open.rate: scenario \"open\" would schedule more than 1000000 iterations per second, the limit per scenario (hint: split the test across instances with --segment i/n)"
            ),
            format!(
                "error: {file}:6:5: scenarios.open.preallocated_vus: scenario \"open\" would run more than 1000000 VUs, the limit per scenario (hint: split the test across instances with --segment i/n)"
            ),
        ]
    );
}

#[test]
fn demo_rejects_a_stall_longer_than_its_period() {
    let out = stampede(&["demo", "--listen", "127.0.0.1:0", "--stall", "5s/5s"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).lines().next(),
        Some(
            "error: invalid value '5s/5s' for '--stall <PAUSE/PERIOD>': a stall must pause for longer than 0s and less than its period, got 5s every 5s"
        )
    );
}

#[test]
fn shipped_open_model_scenarios_pass_at_a_fifth_of_their_length() {
    for name in ["agent-api", "stress", "spike"] {
        let file = format!("scenarios/{name}.yaml");
        let out = stampede(&["run", "--demo", "--quiet", &file, "--scale-duration", "0.2"]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}:\n{stdout}\n{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains("✓ all thresholds passed"),
            "{name}: {stdout}"
        );
        assert!(!stdout.contains("ITERATION ERRORS"), "{name}: {stdout}");
        assert!(
            stdout.contains("dropped_iterations.................: 0 "),
            "{name}: {stdout}"
        );
    }
}
