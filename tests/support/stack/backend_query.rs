#![allow(dead_code)] // each test file uses a different part of these helpers
//! Runs a dashboard query (already interpolated) against the real backend
//! the way Grafana would, and says whether it returned data; resolves the
//! options of a template variable.

use serde_json::Value;

use super::dashboards::Backend;
use super::grafana::TimeContext;
use super::http::form;
use super::influxdb::InfluxDb;
use super::prometheus::Prometheus;

/// The InfluxQL database the runs write to (`--out influxdb=http://.../stampede`).
pub const INFLUX_DB: &str = "stampede";

pub struct Backends<'a> {
    pub prometheus: &'a Prometheus,
    pub influxdb: &'a InfluxDb,
}

/// How much data a query returned: finite values or histograms, counted.
pub fn run_query(
    b: &Backends,
    backend: Backend,
    query: &str,
    instant: bool,
    t: &TimeContext,
) -> Result<usize, String> {
    match backend {
        Backend::Prometheus => {
            let (start, end) = (secs(t.from_ms), secs(t.to_ms));
            let data = if instant {
                b.prometheus
                    .api("/api/v1/query", &form(&[("query", query), ("time", &end)]))?
            } else {
                let step = t.interval_s.to_string();
                b.prometheus.api(
                    "/api/v1/query_range",
                    &form(&[
                        ("query", query),
                        ("start", &start),
                        ("end", &end),
                        ("step", &step),
                    ]),
                )?
            };
            Ok(count_prometheus(&data))
        }
        Backend::InfluxQl => Ok(count_influx(&b.influxdb.query(INFLUX_DB, query)?)),
    }
}

fn secs(ms: i64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn finite(v: &Value) -> bool {
    match v {
        Value::String(s) => s.parse::<f64>().is_ok_and(f64::is_finite),
        Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        _ => false,
    }
}

/// Points with a finite value, plus native-histogram points.
fn count_prometheus(data: &Value) -> usize {
    let empty = Vec::new();
    let result = data["result"].as_array().unwrap_or(&empty);
    match data["resultType"].as_str() {
        Some("matrix") => result
            .iter()
            .map(|s| {
                let values = s["values"].as_array().unwrap_or(&empty);
                let hist = s["histograms"].as_array().map_or(0, Vec::len);
                values.iter().filter(|p| finite(&p[1])).count() + hist
            })
            .sum(),
        Some("vector") => result
            .iter()
            .filter(|s| finite(&s["value"][1]) || s["histogram"].is_array())
            .count(),
        Some("scalar") => usize::from(finite(&result_scalar(data))),
        _ => 0,
    }
}

fn result_scalar(data: &Value) -> Value {
    data["result"][1].clone()
}

/// Rows with at least one non-null value beside the time column.
fn count_influx(result: &Value) -> usize {
    let empty = Vec::new();
    result["series"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap_or(&empty).iter())
        .filter(|row| {
            row.as_array()
                .is_some_and(|cells| cells.iter().skip(1).any(|c| !c.is_null()))
        })
        .count()
}

/// The options a `query` variable offers (already interpolated query).
pub fn variable_options(
    b: &Backends,
    backend: Backend,
    query: &str,
    t: &TimeContext,
) -> Result<Vec<String>, String> {
    match backend {
        Backend::Prometheus => {
            let re = regex::Regex::new(r"^label_values\((?:(.*),\s*)?(\w+)\)$").unwrap();
            let caps = re
                .captures(query.trim())
                .ok_or_else(|| format!("not a label_values() query: {query}"))?;
            let label = &caps[2];
            let (start, end) = (secs(t.from_ms), secs(t.to_ms));
            let mut params = vec![("start", start.as_str()), ("end", end.as_str())];
            if let Some(m) = caps.get(1) {
                params.push(("match[]", m.as_str()));
            }
            let data = b
                .prometheus
                .api_get(&format!("/api/v1/label/{label}/values"), &form(&params))?;
            Ok(data
                .as_array()
                .unwrap_or(&Vec::new())
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect())
        }
        Backend::InfluxQl => {
            let result = b.influxdb.query(INFLUX_DB, query)?;
            let empty = Vec::new();
            let mut out: Vec<String> = result["series"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .flat_map(|s| s["values"].as_array().unwrap_or(&empty).iter())
                .filter_map(|row| row[1].as_str().map(str::to_string))
                .collect();
            out.sort();
            out.dedup();
            Ok(out)
        }
    }
}
