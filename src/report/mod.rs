//! Renderers of the end-of-test summary: console text and summary JSON.
//! Both read only [`crate::metrics::Summary`].

mod checks;
mod console;
mod format;
mod hdr;
mod json;
pub mod merge;
mod outputs;
mod stats;
mod whole_numbers;

pub use checks::{CheckResult, GroupChecks};
pub use console::{ConsoleOptions, render_console, render_console_with_outputs};
pub use format::{format_bytes, format_number, format_percent, format_value};
pub use hdr::{encode_hdr, parse_hdr};
pub use json::{
    summary_json, summary_json_with_outputs, write_json_document, write_summary_export,
    write_summary_json,
};
pub use stats::{average, merge_trends, merge_values, percentile};
