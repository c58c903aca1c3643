//! The per-endpoint view of a run file (one row per `name` and `method`
//! tag, every status merged, as the console's ENDPOINTS table) and its
//! failed requests by status and error code.

use std::collections::BTreeMap;

use super::RunFile;
use crate::metrics::TrendValue;

/// One endpoint over the whole run.
#[derive(Clone, Debug)]
pub struct EndpointRow {
    pub name: String,
    pub method: String,
    pub requests: u64,
    pub failures: u64,
    /// `http_req_duration` of the endpoint, every status merged.
    pub duration: TrendValue,
    /// `data_received` per request; `None` without requests.
    pub bytes_per_request: Option<f64>,
}

impl EndpointRow {
    /// Share of requests that did not fail; `None` without requests.
    pub fn success(&self) -> Option<f64> {
        (self.requests > 0).then(|| 1.0 - self.failures as f64 / self.requests as f64)
    }

    /// Share of requests that failed (0 without requests).
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.failures as f64 / self.requests as f64
        }
    }

    /// `GET credits`: how tables and compare name the row.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.name)
    }
}

/// Failed requests of one endpoint with one status and error code.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorRow {
    pub name: String,
    pub method: String,
    pub status: String,
    pub error_code: String,
    pub count: u64,
}

type Key = (String, String);

impl RunFile {
    /// Every endpoint, sorted by name then method.
    pub fn endpoints(&self) -> Vec<EndpointRow> {
        let mut rows: BTreeMap<Key, EndpointRow> = BTreeMap::new();
        let key = |s: &super::SeriesEntry| (s.tag("name").to_string(), s.tag("method").to_string());
        for series in self.series.get("http_req_duration").into_iter().flatten() {
            let Some(trend) = series.trend() else {
                continue;
            };
            let (name, method) = key(series);
            let row = rows.entry(key(series)).or_insert_with(|| EndpointRow {
                name,
                method,
                requests: 0,
                failures: 0,
                duration: TrendValue::empty(),
                bytes_per_request: None,
            });
            row.requests += trend.count;
            row.duration.merge(&trend);
        }
        // `passes` of `http_req_failed` are the failed requests (k6's naming).
        for series in self.series.get("http_req_failed").into_iter().flatten() {
            if let Some(row) = rows.get_mut(&key(series)) {
                row.failures += series.number("passes") as u64;
            }
        }
        let mut received: BTreeMap<Key, f64> = BTreeMap::new();
        for series in self.series.get("data_received").into_iter().flatten() {
            *received.entry(key(series)).or_default() += series.number("count");
        }
        for (k, row) in &mut rows {
            if row.requests > 0 {
                let bytes = received.get(k).copied().unwrap_or(0.0);
                row.bytes_per_request = Some(bytes / row.requests as f64);
            }
        }
        rows.into_values().collect()
    }

    /// Failed requests by endpoint, status and error code, most first.
    pub fn errors(&self) -> Vec<ErrorRow> {
        let mut counts: BTreeMap<(String, String, String, String), u64> = BTreeMap::new();
        for series in self.series.get("http_req_failed").into_iter().flatten() {
            let failed = series.number("passes") as u64;
            if failed == 0 {
                continue;
            }
            let key = (
                series.tag("name").to_string(),
                series.tag("method").to_string(),
                series.tag("status").to_string(),
                series.tags.get("error_code").cloned().unwrap_or_default(),
            );
            *counts.entry(key).or_default() += failed;
        }
        let mut rows: Vec<ErrorRow> = counts
            .into_iter()
            .map(|((name, method, status, error_code), count)| ErrorRow {
                name,
                method,
                status,
                error_code,
                count,
            })
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.count));
        rows
    }
}
