//! The scenario loader on arbitrary YAML and on the shipped scenarios
//! mutated (byte flips, truncations, lines duplicated or deleted, deep
//! nesting, huge scalars): it returns a plan or errors, never panics, each
//! error one line naming the file, and no case takes long.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use stampede::scenario::{LoadOptions, load_str};

use super::config;

/// Far above what one case takes (milliseconds), far below the quadratic
/// blow-ups this guards against (seconds per nesting level in the tens of
/// thousands, a 10 MB scalar echoed whole).
const MAX_CASE_TIME: Duration = Duration::from_secs(5);

/// Every shipped scenario and example, with its path (relative data files
/// resolve against it, so mutations reach the feed and body loaders too).
fn corpus() -> &'static [(PathBuf, String)] {
    static CORPUS: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["scenarios", "docs/examples"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "yaml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    files.push((path, text));
                }
            }
        }
        files.sort();
        assert!(files.len() >= 20, "the shipped scenarios were not found");
        files
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    FlipByte {
        at: usize,
        bits: u8,
    },
    Truncate {
        at: usize,
    },
    DuplicateLine {
        line: usize,
    },
    DeleteLine {
        line: usize,
    },
    Insert {
        at: usize,
        text: String,
    },
    /// A flow list or mapping nested `depth` deep, inserted at a line start.
    DeepNesting {
        line: usize,
        depth: usize,
        mapping: bool,
    },
    HugeScalar {
        line: usize,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        4 => (at, 1u8..=255).prop_map(|(at, bits)| Mutation::FlipByte { at, bits }),
        1 => at.prop_map(|at| Mutation::Truncate { at }),
        2 => at.prop_map(|line| Mutation::DuplicateLine { line }),
        2 => at.prop_map(|line| Mutation::DeleteLine { line }),
        3 => (at, yaml_text()).prop_map(|(at, text)| Mutation::Insert { at, text }),
        1 => (at, 1usize..400, any::<bool>())
            .prop_map(|(line, depth, mapping)| Mutation::DeepNesting { line, depth, mapping }),
        1 => (at, 1usize..300_000).prop_map(|(line, len)| Mutation::HugeScalar { line, len }),
    ]
}

/// Byte offset of the start of line `n` (modulo the line count).
fn line_start(bytes: &[u8], n: usize) -> usize {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    starts[n % starts.len()]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match mutation {
        Mutation::FlipByte { at, bits } if len > 0 => bytes[at % len] ^= bits,
        Mutation::FlipByte { .. } => {}
        Mutation::Truncate { at } => bytes.truncate(at % (len + 1)),
        Mutation::DuplicateLine { line } | Mutation::DeleteLine { line } => {
            let start = line_start(bytes, *line);
            let end = bytes[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(len, |i| start + i + 1);
            let text: Vec<u8> = bytes[start..end].to_vec();
            if matches!(mutation, Mutation::DeleteLine { .. }) {
                bytes.drain(start..end);
            } else {
                bytes.splice(start..start, text);
            }
        }
        Mutation::Insert { at, text } => {
            let at = at % (len + 1);
            bytes.splice(at..at, text.bytes());
        }
        Mutation::DeepNesting {
            line,
            depth,
            mapping,
        } => {
            let (open, close) = if *mapping { ("{a: ", "}") } else { ("[", "]") };
            let text = format!("x: {}1{}\n", open.repeat(*depth), close.repeat(*depth));
            let at = line_start(bytes, *line);
            bytes.splice(at..at, text.into_bytes());
        }
        Mutation::HugeScalar { line, len } => {
            let at = line_start(bytes, *line);
            let indent: Vec<u8> = bytes[at..]
                .iter()
                .take_while(|b| **b == b' ')
                .copied()
                .collect();
            let mut text = indent;
            text.extend_from_slice(b"url: ");
            text.extend(std::iter::repeat_n(b'u', *len));
            text.push(b'\n');
            bytes.splice(at..at, text);
        }
    }
}

/// YAML-ish text: the keys and punctuation of the scenario format.
fn yaml_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\n".to_string()),
            Just("  ".to_string()),
            Just("- ".to_string()),
            Just(": ".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("&a ".to_string()),
            Just("*a".to_string()),
            Just("<<: *a".to_string()),
            Just("!!binary ".to_string()),
            Just("\"{{ ".to_string()),
            Just(" }}\"".to_string()),
            prop::sample::select(vec![
                "vus",
                "duration",
                "flow",
                "request",
                "url",
                "scenarios",
                "executor",
                "rate",
                "stages",
                "thresholds",
                "checks",
                "extract",
                "sse",
                "websocket",
                "data",
                "outputs",
                "env",
                "profiles",
                "http",
                "timeout",
                "max_body_size",
                "1e308",
                "-1",
                "0",
                "10s",
                "p(95)<200",
                "constant-arrival-rate",
                "http://127.0.0.1:1/",
            ])
            .prop_map(String::from),
            "\\PC{1,4}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

fn options() -> LoadOptions {
    LoadOptions {
        process_env: HashMap::from([("BASE_URL".into(), "http://127.0.0.1:1".into())]),
        ..LoadOptions::default()
    }
}

fn check_load(text: &str, source: &Path) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let result = load_str(text, source, &options());
    let took = started.elapsed();
    prop_assert!(took < MAX_CASE_TIME, "{:?} for {} bytes", took, text.len());
    if let Err(errors) = result {
        prop_assert!(!errors.is_empty());
        for error in errors.iter() {
            let line = error.to_string();
            prop_assert_eq!(line.lines().count(), 1, "{:?}", line);
            // The scenario file, or a fragment it includes (beside it).
            let dir = source
                .parent()
                .unwrap_or(Path::new(""))
                .display()
                .to_string();
            prop_assert!(
                line.starts_with(&source.display().to_string()) || line.starts_with(&dir),
                "{:?}",
                line
            );
            prop_assert!(line.chars().count() < 2_000, "{} chars", line.len());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config("scenario"))]

    #[test]
    fn mutated_shipped_scenarios_load_or_fail_in_one_line_each(
        file in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let (path, text) = file.get(corpus());
        let mut bytes = text.clone().into_bytes();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check_load(&String::from_utf8_lossy(&bytes), path)?;
    }

    #[test]
    fn arbitrary_yaml_loads_or_fails_in_one_line_each(text in yaml_text()) {
        check_load(&text, Path::new("fuzz.yaml"))?;
    }
}
