//! The clock and the VUs: executors decide when iterations start; a VU runs one.
//!
//! A run is: test-level setup → every selected scenario in parallel (each
//! with its executor) → teardown, while a 1 s ticker flushes the recorders
//! into snapshots for sinks and checks `abort_on_fail` thresholds.

mod context;
mod executors;
mod header_tags;
mod http_debug;
mod in_flight;
mod progress;
mod request;
mod run;
mod scope;
mod sse_step;
mod steps;
mod stop;
mod vu;
mod ws_step;

pub use header_tags::{MAX_VALUES_PER_TAG, OVERFLOW_VALUE};
pub use http_debug::{BODY_PRINT_LIMIT, HttpDebug};
pub use in_flight::INTERRUPTED;
pub use progress::Progress;
pub use run::{EngineError, RunOptions, RunResult, SINK_FINISH_TIMEOUT, run};
pub use sse_step::codes as sse_error_codes;
