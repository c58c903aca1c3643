//! Process exit codes, documented in the README. k6's codes are kept where k6
//! has one (99, 104, 105, 107, 108) so CI scripts written for k6 keep working.

/// Every threshold passed (or none were defined).
pub const PASS: i32 = 0;
/// Command-line arguments could not be understood.
pub const BAD_ARGUMENTS: i32 = 2;
/// At least one threshold was crossed.
pub const THRESHOLDS_FAILED: i32 = 99;
/// Internal or environment failure (cannot bind a port, cannot write a file).
pub const RUNTIME_ERROR: i32 = 103;
/// The scenario file (or a file it references) is missing or invalid.
pub const INVALID_SCENARIO: i32 = 104;
/// The run was interrupted by SIGINT/SIGTERM.
pub const INTERRUPTED: i32 = 105;
/// The test-level setup failed, so no load was started.
pub const SETUP_FAILED: i32 = 107;
/// A threshold with `abort_on_fail` stopped the run early.
pub const ABORTED_BY_THRESHOLD: i32 = 108;
/// An output marked `required` failed its health check, so the test did not start.
pub const OUTPUT_UNAVAILABLE: i32 = 111;
/// Requests were made and not one succeeded (a target that never answered
/// must not look like a pass). Ranked after 105 and 108, before 99.
pub const NO_REQUEST_SUCCEEDED: i32 = 112;
/// `stampede merge`: a summary file is missing, not JSON, or not a summary
/// export that names its run.
pub const INVALID_SUMMARY: i32 = 113;
/// `stampede merge`: the summaries are not one whole test (different tests,
/// overlapping or missing segments).
pub const SUMMARIES_NOT_ONE_TEST: i32 = 114;
