#![allow(dead_code)] // each test file uses a different part of these helpers
//! Runs a dashboard query (already interpolated) against the real backend
//! the way Grafana would, and says whether it returned data or what it
//! returned; resolves the options of a template variable (`label_values`,
//! `query_result`, InfluxQL `SHOW ...`, with the variable's regex).
//!
//! One rewrite, for Prometheus 2.42 only: it ignores native histograms in
//! `last_over_time` (later versions, the stack's 3.5 among them, return
//! them), which the dashboards use for whole-run percentiles. So a
//! `last_over_time(<time histogram>[range])` is asked as the same selector
//! `@` each run's last push, latest first and joined with `or`: a run's
//! series are stale after its last push (remote-write sends staleness
//! markers), so each run contributes exactly its last histograms, which is
//! what `last_over_time` returns on Prometheus 3.

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
    /// The last push of every run in the backend (ms), for the rewrite above.
    pub run_ends_ms: Vec<i64>,
}

impl Backends<'_> {
    /// `query` as Prometheus 2.42 can answer it (see the module comment).
    pub fn for_prometheus_242(&self, query: &str) -> String {
        let re = regex::Regex::new(
            r"last_over_time\((stampede_[a-z0-9_]+_seconds(?:\{[^}]*\})?)\[[^\]]+\]\)",
        )
        .unwrap();
        let mut ends = self.run_ends_ms.clone();
        ends.sort_unstable_by(|a, b| b.cmp(a));
        re.replace_all(query, |caps: &regex::Captures| {
            let selector = &caps[1];
            if selector.starts_with("stampede_test_") {
                return caps[0].to_string();
            }
            let parts: Vec<String> = ends
                .iter()
                .map(|t| format!("{selector} @ {}", secs(*t)))
                .collect();
            format!("({})", parts.join(" or "))
        })
        .into_owned()
    }
}

/// The last push of each run (one per test id): the timestamp of the last
/// sample of its start marker, which every push carries (the end marks may
/// come a millisecond later, after the staleness markers).
pub fn run_ends_ms(prometheus: &Prometheus, range_s: i64) -> Vec<i64> {
    let data = prometheus
        .api(
            "/api/v1/query",
            &form(&[(
                "query",
                &format!("stampede_test_start_timestamp_seconds[{range_s}s]"),
            )]),
        )
        .expect("end markers");
    // One end per run, told apart by its test id: two runs started together
    // can push their last samples at the same millisecond, and collapsing
    // equal times made two runs look like one.
    let mut ends: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for series in data["result"].as_array().unwrap_or(&Vec::new()) {
        let testid = series["metric"]["testid"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let Some(t) = series["values"]
            .as_array()
            .and_then(|v| v.last())
            .and_then(|v| v[0].as_f64())
        else {
            continue;
        };
        let t = (t * 1000.0).round() as i64;
        let end = ends.entry(testid).or_insert(t);
        *end = (*end).max(t);
    }
    let mut out: Vec<i64> = ends.into_values().collect();
    out.sort_unstable();
    out
}

/// One series of a query's answer: its labels and its (last) value; a
/// native histogram's value is its count.
#[derive(Clone, Debug)]
pub struct Valued {
    pub labels: std::collections::BTreeMap<String, String>,
    pub value: f64,
}

/// What a query returned: for instant queries each series' value, for
/// range queries each series' last value (for InfluxDB each series' first
/// row, one value per column beside time, labelled `column` = its name).
pub fn query_values(
    b: &Backends,
    backend: Backend,
    query: &str,
    instant: bool,
    t: &TimeContext,
) -> Result<Vec<Valued>, String> {
    match backend {
        Backend::Prometheus => {
            let data = prometheus_data(b, query, instant, t)?;
            let empty = Vec::new();
            Ok(data["result"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .filter_map(|s| {
                    let labels = s["metric"]
                        .as_object()?
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect();
                    let value = if instant {
                        number(&s["value"][1]).or_else(|| number(&s["histogram"][1]["count"]))
                    } else {
                        s["values"]
                            .as_array()
                            .and_then(|v| v.iter().rev().find_map(|p| number(&p[1])))
                    }?;
                    Some(Valued { labels, value })
                })
                .collect())
        }
        Backend::InfluxQl => {
            let result = b.influxdb.query(INFLUX_DB, query)?;
            let empty = Vec::new();
            let mut out = Vec::new();
            for s in result["series"].as_array().unwrap_or(&empty) {
                let columns: Vec<&str> = s["columns"]
                    .as_array()
                    .unwrap_or(&empty)
                    .iter()
                    .map(|c| c.as_str().unwrap_or(""))
                    .collect();
                let mut tags: std::collections::BTreeMap<String, String> = s["tags"]
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(name) = s["name"].as_str() {
                    tags.insert("measurement".into(), name.to_string());
                }
                let Some(row) = s["values"].as_array().and_then(|v| v.first()) else {
                    continue;
                };
                for (i, column) in columns.iter().enumerate().skip(1) {
                    if let Some(value) = number(&row[i]) {
                        let mut labels = tags.clone();
                        labels.insert("column".into(), column.to_string());
                        out.push(Valued { labels, value });
                    }
                }
            }
            Ok(out)
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse::<f64>().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

fn prometheus_data(
    b: &Backends,
    query: &str,
    instant: bool,
    t: &TimeContext,
) -> Result<Value, String> {
    let query = b.for_prometheus_242(query);
    let (start, end) = (secs(t.from_ms), secs(t.to_ms));
    if instant {
        b.prometheus
            .api("/api/v1/query", &form(&[("query", &query), ("time", &end)]))
    } else {
        let step = t.interval_s.to_string();
        b.prometheus.api(
            "/api/v1/query_range",
            &form(&[
                ("query", &query),
                ("start", &start),
                ("end", &end),
                ("step", &step),
            ]),
        )
    }
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
        Backend::Prometheus => Ok(count_prometheus(&prometheus_data(b, query, instant, t)?)),
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

/// The options a `query` variable offers (already interpolated query),
/// filtered by its `regex` as Grafana does: options that do not match are
/// dropped, and with a capture group the option is the captured text.
pub fn variable_options(
    b: &Backends,
    backend: Backend,
    query: &str,
    regex: &str,
    t: &TimeContext,
) -> Result<Vec<String>, String> {
    let raw = raw_options(b, backend, query, t)?;
    let regex = regex.trim();
    if regex.is_empty() {
        return Ok(raw);
    }
    // Grafana's `/pattern/flags` form; the pattern is a JavaScript regex.
    let pattern = regex
        .strip_prefix('/')
        .and_then(|r| r.rsplit_once('/'))
        .map_or(regex, |(p, _flags)| p);
    let re = fancy_regex::Regex::new(pattern).map_err(|e| format!("regex {regex}: {e}"))?;
    let mut out = Vec::new();
    for option in raw {
        if let Some(caps) = re.captures(&option).map_err(|e| e.to_string())? {
            let value = caps.get(1).or(caps.get(0)).map_or("", |m| m.as_str());
            if !out.iter().any(|o| o == value) {
                out.push(value.to_string());
            }
        }
    }
    Ok(out)
}

fn raw_options(
    b: &Backends,
    backend: Backend,
    query: &str,
    t: &TimeContext,
) -> Result<Vec<String>, String> {
    match backend {
        Backend::Prometheus => {
            if let Some(inner) = query
                .trim()
                .strip_prefix("query_result(")
                .and_then(|q| q.strip_suffix(')'))
            {
                return query_result(b, inner, t);
            }
            let re = regex::Regex::new(r"^label_values\((?:(.*),\s*)?(\w+)\)$").unwrap();
            let caps = re
                .captures(query.trim())
                .ok_or_else(|| format!("not a label_values() or query_result() query: {query}"))?;
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
            let column = usize::from(!query.trim_start().starts_with("SHOW MEASUREMENTS"));
            let mut out: Vec<String> = result["series"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .flat_map(|s| s["values"].as_array().unwrap_or(&empty).iter())
                .filter_map(|row| row[column].as_str().map(str::to_string))
                .collect();
            out.sort();
            out.dedup();
            Ok(out)
        }
    }
}

/// Grafana's `query_result()`: an instant query at the end of the range,
/// each result as `name{label="value", ...} value timestamp_ms`.
fn query_result(b: &Backends, query: &str, t: &TimeContext) -> Result<Vec<String>, String> {
    let data = prometheus_data(b, query, true, t)?;
    let empty = Vec::new();
    let results = match data["resultType"].as_str() {
        Some("scalar") => return Ok(vec![format!("scalar {}", data["result"][1])]),
        _ => data["result"].as_array().unwrap_or(&empty),
    };
    Ok(results
        .iter()
        .map(|s| {
            let metric = s["metric"].as_object().cloned().unwrap_or_default();
            let name = metric.get("__name__").and_then(Value::as_str).unwrap_or("");
            let labels: Vec<String> = metric
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| format!("{k}=\"{}\"", v.as_str().unwrap_or("")))
                .collect();
            let value = s["value"][1].as_str().unwrap_or("");
            let ts = s["value"][0].as_f64().map_or(0, |t| (t * 1000.0) as i64);
            format!("{name}{{{}}} {value} {ts}", labels.join(","))
        })
        .collect())
}
