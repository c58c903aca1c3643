#![allow(dead_code)] // each test file uses a different part of these helpers
//! The figures a dashboard must show, read from a run's summary export:
//! totals, and per group of tags (an endpoint = name + method, a status
//! row, ...) counts, rates and percentiles of the merged HDR histograms,
//! merged exactly as the dashboards sum series.

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;
use serde_json::Value;
use stampede::metrics::{deserialize_histogram, micros_to_display};

pub struct SummaryFigures {
    pub json: Value,
}

/// Tag values of one group, in the order of the keys asked for ("" for a
/// tag a series does not have).
pub type Group = Vec<String>;

impl SummaryFigures {
    pub fn load(path: &Path) -> SummaryFigures {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        SummaryFigures {
            json: serde_json::from_str(&text).expect("summary export is JSON"),
        }
    }

    /// A field of a metric's whole-run entry, e.g. `("http_reqs", "count")`.
    pub fn metric(&self, metric: &str, field: &str) -> f64 {
        self.json["metrics"][metric][field]
            .as_f64()
            .unwrap_or_else(|| panic!("summary has no metrics.{metric}.{field}"))
    }

    fn series(&self, metric: &str) -> &[Value] {
        self.json["series"][metric]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_else(|| panic!("summary has no series.{metric}"))
    }

    fn group_of(series: &Value, keys: &[&str]) -> Group {
        keys.iter()
            .map(|k| series["tags"][k].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Sum of `field` over the series of each group.
    pub fn sum_by(&self, metric: &str, field: &str, keys: &[&str]) -> BTreeMap<Group, f64> {
        let mut out = BTreeMap::new();
        for s in self.series(metric) {
            *out.entry(Self::group_of(s, keys)).or_insert(0.0) += s[field].as_f64().unwrap_or(0.0);
        }
        out
    }

    /// A rate's passes / (passes + fails) per group.
    pub fn rate_by(&self, metric: &str, keys: &[&str]) -> BTreeMap<Group, f64> {
        let passes = self.sum_by(metric, "passes", keys);
        let fails = self.sum_by(metric, "fails", keys);
        passes
            .into_iter()
            .map(|(g, p)| {
                let total = p + fails[&g];
                (g, p / total)
            })
            .collect()
    }

    /// A trend's series merged per group (values in micro-units).
    pub fn histogram_by(&self, metric: &str, keys: &[&str]) -> BTreeMap<Group, Histogram<u64>> {
        let mut out: BTreeMap<Group, Histogram<u64>> = BTreeMap::new();
        for s in self.series(metric) {
            let h = deserialize_histogram(s["hdr"].as_str().expect("series has hdr"))
                .expect("hdr decodes");
            match out.entry(Self::group_of(s, keys)) {
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(h);
                }
                std::collections::btree_map::Entry::Occupied(mut e) => {
                    e.get_mut().add(&h).expect("histograms add");
                }
            }
        }
        out
    }

    /// Exact min or max of a trend per group (from the series' own min/max).
    pub fn extreme_by(&self, metric: &str, field: &str, keys: &[&str]) -> BTreeMap<Group, f64> {
        let mut out: BTreeMap<Group, f64> = BTreeMap::new();
        for s in self.series(metric) {
            let v = s[field].as_f64().unwrap_or(0.0);
            let e = out.entry(Self::group_of(s, keys)).or_insert(v);
            *e = if field == "min" { e.min(v) } else { e.max(v) };
        }
        out
    }
}

/// Quantile `q` (0..=1) of a merged histogram in display units (ms for time).
pub fn quantile(h: &Histogram<u64>, q: f64) -> f64 {
    micros_to_display(h.value_at_quantile(q))
}
