//! Renderers of the end-of-test summary: console text and summary JSON.
//! Both read only [`crate::metrics::Summary`].

mod checks;
mod command_line;
mod compare;
mod console;
mod export;
mod format;
mod hdr;
pub(crate) mod html;
mod json;
pub mod merge;
mod outputs;
mod run_file;
mod stats;
mod whole_numbers;

pub use checks::{CheckResult, GroupChecks};
pub use command_line::redacted_command_line;
pub use compare::{
    CompareFormat, Comparison, Row, Tolerances, Verdict, compare, mann_whitney_p,
    render_comparison, two_proportion_p,
};
pub use console::{ConsoleOptions, render_console, render_console_with_outputs};
pub use export::{RunExport, RunMeta, write_export, write_export_json};
pub use format::{format_bytes, format_number, format_percent, format_value};
pub use hdr::{encode_hdr, parse_hdr};
pub use html::{render_html, write_html_report};
pub use json::{
    summary_json, summary_json_with_outputs, write_json_document, write_summary_export,
    write_summary_json,
};
pub use run_file::{
    EndpointRow, ErrorRow, MetricEntry, RowStatus, RunFile, RunFileError, RunState, SeriesEntry,
    ThresholdEntry, ThresholdStatus,
};
pub use stats::{average, merge_trends, merge_values, percentile};
