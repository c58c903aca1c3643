//! The migration guides (docs/migrating-from-k6.md, docs/migrating-from-locust.md)
//! show only runnable YAML: every example in docs/examples/migrating runs
//! against the demo target and passes its thresholds, and every YAML block
//! of the guides is cut from one of those files, so the text cannot drift
//! from what is tested.

mod common;

use std::path::{Path, PathBuf};

use common::examples::assert_example_passes;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("docs/examples/migrating"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The fenced ```yaml blocks of a Markdown text.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_guide_block_is_cut_from_a_runnable_example() {
    let sources: Vec<String> = examples()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for guide in ["docs/migrating-from-k6.md", "docs/migrating-from-locust.md"] {
        let text = std::fs::read_to_string(root().join(guide)).unwrap();
        let blocks = yaml_blocks(&text);
        assert!(blocks.len() >= 5, "{guide}: {} yaml blocks", blocks.len());
        for block in blocks {
            assert!(
                sources.iter().any(|s| s.contains(&block)),
                "{guide}: this block is in no file of docs/examples/migrating:\n{block}"
            );
        }
    }
}

#[test]
fn every_migration_example_runs_and_passes() {
    let files = examples();
    assert!(files.len() >= 9, "examples found: {files:?}");
    for file in files {
        assert_example_passes(&file);
    }
}
