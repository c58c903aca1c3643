//! Every scenario file the help texts, the README and docs/ name exists,
//! and every `run`/`validate` example in `--help` validates as written
//! (its profile and scenario names included): a user copies these first.

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn stampede() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.current_dir(root()).env_remove("BASE_URL");
    cmd
}

/// The `--help` text of the binary and of each subcommand.
fn help_texts() -> Vec<(String, String)> {
    [&[][..], &["run"], &["validate"], &["demo"]]
        .into_iter()
        .map(|command| {
            let out = stampede().args(command).arg("--help").output().unwrap();
            assert_eq!(out.status.code(), Some(0));
            let name = format!("stampede {} --help", command.join(" "));
            (name, String::from_utf8(out.stdout).unwrap())
        })
        .collect()
}

/// README.md and every Markdown file under docs/, with their paths.
fn documents() -> Vec<(PathBuf, String)> {
    let mut files = vec![root().join("README.md")];
    let mut dirs = vec![root().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f, text)
        })
        .collect()
}

/// Paths such as `scenarios/quickstart.yaml` or
/// `docs/examples/env-and-profiles.yaml` in `text`.
fn scenario_paths(text: &str) -> Vec<String> {
    let pattern = Regex::new(r"(?:[\w.-]+/)*(?:scenarios|examples)/[\w./-]+\.ya?ml").unwrap();
    pattern
        .find_iter(text)
        .map(|m| m.as_str().to_string())
        .collect()
}

#[test]
fn every_scenario_path_in_help_readme_and_docs_exists() {
    let mut missing = Vec::new();
    let mut seen = 0;
    for (name, text) in help_texts() {
        for path in scenario_paths(&text) {
            seen += 1;
            if !root().join(&path).is_file() {
                missing.push(format!("{name}: {path}"));
            }
        }
    }
    for (file, text) in documents() {
        let dir = file.parent().unwrap();
        for path in scenario_paths(&text) {
            seen += 1;
            // Relative to the repository (as the commands run) or to the document (a link).
            if !root().join(&path).is_file() && !dir.join(&path).is_file() {
                missing.push(format!("{}: {path}", file.display()));
            }
        }
    }
    assert!(seen > 20, "only {seen} paths found: is the pattern right?");
    assert_eq!(missing, Vec::<String>::new());
}

/// `FILE` and the plan-choosing options of one example line: what
/// `stampede validate` needs to check it.
fn validate_args(example: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = example.split_whitespace().collect();
    if words.first() != Some(&"stampede") || !matches!(words.get(1), Some(&"run" | &"validate")) {
        return None;
    }
    let file = words.iter().find(|w| w.ends_with(".yaml"))?;
    let mut args = vec!["validate".to_string(), file.to_string()];
    for pair in words.windows(2) {
        if matches!(pair[0], "--profile" | "--scenario" | "--env") {
            args.extend([pair[0].to_string(), pair[1].to_string()]);
        }
    }
    Some(args)
}

/// The commands under `Examples:`, continuation lines (after a trailing
/// `\`) joined. Panics on a line that is neither a command nor a
/// continuation: clap wrapped an example that was too long.
fn examples(name: &str, help: &str) -> Vec<String> {
    let Some((_, section)) = help.split_once("Examples:\n") else {
        return Vec::new();
    };
    let mut commands: Vec<String> = Vec::new();
    let mut continues = false;
    for line in section.lines().take_while(|l| !l.is_empty()) {
        let (text, more) = match line.trim().strip_suffix('\\') {
            Some(text) => (text.trim_end(), true),
            None => (line.trim(), false),
        };
        match commands.last_mut() {
            Some(last) if continues => {
                last.push(' ');
                last.push_str(text);
            }
            _ => {
                assert!(
                    line.starts_with("  stampede"),
                    "{name}: {line:?} is not a command: was an example wrapped?"
                );
                commands.push(text.to_string());
            }
        }
        continues = more;
    }
    commands
}

#[test]
fn every_help_example_with_a_scenario_file_validates() {
    let mut checked = Vec::new();
    for (name, text) in help_texts() {
        let commands = examples(&name, &text);
        assert!(!commands.is_empty(), "{name} has no examples");
        for example in commands.iter().filter_map(|c| validate_args(c)) {
            let out = stampede().args(&example).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name}: stampede {}\n{}",
                example.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            checked.push(example.join(" "));
        }
    }
    for option in ["--profile", "--scenario"] {
        assert!(
            checked.iter().any(|c| c.contains(option)),
            "no example with {option}: {checked:#?}"
        );
    }
}
