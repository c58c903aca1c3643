//! `stampede merge`: instances' summary exports into one test's summary.
//! The export's `run` section ([`RunIdentity`]) says which test and which
//! segment each file is; [`read_export`] reads a file back, and
//! [`merge_instances`] checks that the files make one whole test and adds
//! them up exactly.

mod combine;
#[cfg(test)]
mod combine_tests;
mod identity;
mod read;

pub use combine::{MergeRefusal, MergedRun, MergedTimeline, merge_instances};
pub use identity::{RunIdentity, parse_segment, plan_digest};
pub use read::{InstanceExport, read_export};

use serde_json::Value;

use super::json::summary_json;

/// The merged summary export: the summary JSON of the merged values, with
/// the merged `run` section (it lists the instances it was made from) and
/// the combined timeline when there is one.
pub fn merged_json(merged: &MergedRun) -> Value {
    let mut doc = summary_json(&merged.summary);
    doc["run"] = serde_json::to_value(&merged.identity).unwrap_or(Value::Null);
    if let Some(timeline) = merged.timeline() {
        doc["timeline"] = serde_json::to_value(timeline).unwrap_or(Value::Null);
    }
    doc
}
