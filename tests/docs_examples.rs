//! Every example in docs/examples runs against the demo target and passes its
//! own thresholds: the scenario-format documentation stays runnable.

mod common;

use common::examples::assert_example_passes;

#[test]
fn every_documented_example_runs_and_passes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "examples found: {files:?}");
    for file in files {
        assert_example_passes(&file);
    }
}
