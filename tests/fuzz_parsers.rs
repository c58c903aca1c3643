//! Property tests (proptest, bounded) for everything that reads text or
//! bytes from outside or writes them for another program: the threshold
//! parser, the template engine, the scenario loader, the SSE parser, and
//! the InfluxDB line-protocol and remote-write encoders. Arbitrary input
//! must give Ok or Err, never a panic; what is written must read back.
//!
//! One module per target, so `cargo test --test fuzz_parsers sse::` runs
//! one. 256 cases per property by default; `PROPTEST_CASES=100000` runs
//! more (bench/fuzz.sh does). A failing case is shrunk, printed, and its
//! seed appended to `tests/proptest-regressions/<target>.txt`; later runs
//! replay every seed in that file first, so commit it with the fix.

use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

#[path = "fuzz/influx.rs"]
mod influx;
#[path = "fuzz/remote_write.rs"]
mod remote_write;
#[path = "fuzz/scenario.rs"]
mod scenario;
#[path = "fuzz/sse.rs"]
mod sse;
#[path = "fuzz/template.rs"]
mod template;
#[path = "fuzz/threshold.rs"]
mod threshold;

/// The proptest configuration of one target. Cases come from
/// `PROPTEST_CASES` (256 when unset): `ProptestConfig::default()` reads it,
/// and setting `cases` here would silently ignore it.
fn config(target: &'static str) -> ProptestConfig {
    // `Direct` takes a `&'static str`; one small string per target is leaked
    // once per property, which is nothing beside a test run.
    let path: &'static str = Box::leak(format!("tests/proptest-regressions/{target}.txt").into());
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path))),
        ..ProptestConfig::default()
    }
}
