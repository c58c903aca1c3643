//! A summary export read back from disk: what `stampede report` renders and
//! `stampede compare` diffs. Only the parts those readers use are typed;
//! files written by older versions (no `meta`, no `timeline`) still read.

mod endpoints;
mod status;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::metrics::TrendValue;
use crate::timeline::{Timeline, TrendInterval};

use super::export::RunMeta;

pub use endpoints::{EndpointRow, ErrorRow};
pub use status::{RowStatus, ThresholdStatus};

#[derive(Debug, thiserror::Error)]
pub enum RunFileError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a stampede summary export: {message}")]
    Format { path: String, message: String },
}

/// The summary export of one run.
#[derive(Clone, Debug, Deserialize)]
pub struct RunFile {
    /// k6-style totals per metric (and sub-metric), by name.
    pub metrics: BTreeMap<String, MetricEntry>,
    #[serde(default)]
    pub thresholds: Vec<ThresholdEntry>,
    /// Every series of every metric, with tags and (trends) HDR histograms.
    #[serde(default)]
    pub series: BTreeMap<String, Vec<SeriesEntry>>,
    pub root_group: Value,
    pub state: RunState,
    #[serde(default)]
    pub generator: Option<Value>,
    #[serde(default)]
    pub meta: Option<RunMeta>,
    #[serde(default)]
    pub timeline: Option<Timeline>,
    #[serde(default)]
    pub breaking_points: Vec<crate::timeline::BreakingPoint>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MetricEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub contains: String,
    /// `count`, `rate`, `avg`, `p(95)`, `value`, ... as the type has them.
    #[serde(flatten)]
    pub values: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ThresholdEntry {
    pub metric: String,
    pub expression: String,
    /// `None`: no sample matched.
    pub observed: Option<f64>,
    pub ok: bool,
    /// `passed`, `failed` or `skipped`; absent in files from before
    /// thresholds could be skipped.
    #[serde(default)]
    pub state: Option<String>,
    /// Why a skipped threshold was not judged.
    #[serde(default)]
    pub skipped_because: Option<String>,
    /// A time criterion's account of its figure.
    #[serde(default)]
    pub detail: Option<ThresholdDetail>,
}

/// The part of a time criterion's detail the report shows.
#[derive(Clone, Debug, Deserialize)]
pub struct ThresholdDetail {
    pub text: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SeriesEntry {
    pub tags: BTreeMap<String, String>,
    #[serde(flatten)]
    pub values: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    pub started_at_unix_ms: f64,
    pub test_run_duration_ms: f64,
    pub end: String,
    #[serde(default)]
    pub aborted_by: Option<String>,
}

impl RunFile {
    pub fn read(path: &Path) -> Result<RunFile, RunFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| RunFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|e| RunFileError::Format {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        RunFile::from_json(value).map_err(|message| RunFileError::Format {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn from_json(value: Value) -> Result<RunFile, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    pub fn duration_seconds(&self) -> f64 {
        self.state.test_run_duration_ms / 1000.0
    }

    /// Every threshold judged to have passed (skipped ones pass, as in k6),
    /// and the run was not aborted or interrupted.
    pub fn passed(&self) -> bool {
        self.state.end == "completed" && self.thresholds.iter().all(|t| t.ok)
    }

    /// A number from a metric's totals, e.g. `("http_reqs", "count")`.
    pub fn metric_value(&self, metric: &str, field: &str) -> Option<f64> {
        self.metrics.get(metric)?.values.get(field)?.as_f64()
    }
}

impl SeriesEntry {
    pub fn tag(&self, key: &str) -> &str {
        self.tags.get(key).map_or("-", String::as_str)
    }

    pub fn number(&self, field: &str) -> f64 {
        self.values
            .get(field)
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    }

    /// A trend series as a mergeable value; `None` for other kinds or an
    /// unreadable histogram.
    pub fn trend(&self) -> Option<TrendValue> {
        let hdr = self.values.get("hdr")?.as_str()?;
        let interval = TrendInterval {
            count: self.number("count") as u64,
            sum: self.number("sum"),
            min: self.number("min"),
            max: self.number("max"),
            hdr: hdr.to_string(),
        };
        Some(interval.to_value())
    }
}
