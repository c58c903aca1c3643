//! The summary JSON: k6's `--summary-export` shape (`metrics`, `root_group`,
//! `state`), extended with the threshold verdicts and every series with its
//! HDR histogram, so runs on several machines merge exactly. The shape is
//! fixed by `schemas/summary.schema.json`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde_json::{Map, Value, json};

use crate::metrics::threshold::MetricSelector;
use crate::metrics::{
    GeneratorHealth, MetricKind, MetricSummary, RunEnd, SeriesValue, SinkReport, Summary,
    ThresholdVerdict, TimeDetail, ValueType,
};

use super::checks::GroupChecks;
use super::hdr::encode_hdr;
use super::stats::{SUMMARY_PERCENTILES, average, merge_matching, percentile, percentile_label};

/// The whole summary as JSON.
pub fn summary_json(summary: &Summary) -> Value {
    let mut doc = json!({
        "metrics": metrics_json(summary),
        "root_group": group_json(&GroupChecks::from_summary(summary)),
        "state": state_json(summary),
        "thresholds": thresholds_json(summary),
        "series": series_json(summary),
    });
    if let (Some(health), Value::Object(map)) = (&summary.generator, &mut doc) {
        map.insert("generator".into(), generator_json(health));
    }
    if !summary.breaking_points.is_empty() {
        doc["breaking_points"] =
            serde_json::to_value(&summary.breaking_points).unwrap_or(Value::Null);
    }
    doc
}

/// stampede's own CPU (per available core, 0..=1) and memory over the run.
fn generator_json(health: &GeneratorHealth) -> Value {
    json!({
        "cores": health.cores,
        "cpu_peak": num(health.cpu_peak),
        "cpu_mean": num(health.cpu_mean),
        "memory_peak_bytes": health.memory_peak_bytes,
        "saturated_seconds": num(health.saturated.as_millis() as f64 / 1000.0),
        "saturation_episodes": health.saturation_episodes,
    })
}

/// [`summary_json`] plus an `outputs` array (how each output fared) when
/// the run had outputs.
pub fn summary_json_with_outputs(summary: &Summary, outputs: &[SinkReport]) -> Value {
    let mut doc = summary_json(summary);
    if !outputs.is_empty()
        && let Value::Object(map) = &mut doc
    {
        map.insert("outputs".into(), super::outputs::outputs_json(outputs));
    }
    doc
}

/// Writes [`summary_json`] pretty-printed to `path`, replacing the file.
pub fn write_summary_json(summary: &Summary, path: &Path) -> io::Result<()> {
    write_summary_export(summary, &[], path)
}

/// Writes [`summary_json_with_outputs`] pretty-printed to `path`, replacing the file.
pub fn write_summary_export(
    summary: &Summary,
    outputs: &[SinkReport],
    path: &Path,
) -> io::Result<()> {
    write_json_document(&summary_json_with_outputs(summary, outputs), path)
}

/// Writes a summary document pretty-printed to `path`, replacing the file
/// (for callers that add sections, such as `run`, before writing).
pub fn write_json_document(doc: &Value, path: &Path) -> io::Result<()> {
    let mut writer = BufWriter::new(File::create(path)?);
    serde_json::to_writer_pretty(&mut writer, doc)?;
    writer.write_all(b"\n")?;
    writer.flush()
}

/// A JSON number; integral values are written without a fraction so that
/// counts read back as integers (`1200`, not `1200.0`).
fn num(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

fn kind_name(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Counter => "counter",
        MetricKind::Gauge => "gauge",
        MetricKind::Rate => "rate",
        MetricKind::Trend => "trend",
    }
}

fn contains_name(contains: ValueType) -> &'static str {
    match contains {
        ValueType::Default => "default",
        ValueType::Time => "time",
        ValueType::Data => "data",
    }
}

/// Every metric's totals, then k6-style sub-metrics (`name{tag:value}`) for
/// `http_req_duration{expected_response:true}` and for each threshold with a
/// tag filter that matched samples.
fn metrics_json(summary: &Summary) -> Value {
    let seconds = summary.duration.as_secs_f64();
    let mut metrics = Map::new();
    for metric in &summary.metrics {
        let mut entry = metric_entry(metric, &metric.total, seconds);
        attach_thresholds(summary, &mut entry, |s| {
            s.filter.is_empty() && s.metric == metric.name
        });
        metrics.insert(metric.name.clone(), Value::Object(entry));
    }
    for sub in submetrics(summary) {
        let value = match merge_matching(&sub.metric.series, |t| t.matches(&sub.filter)) {
            Some(value) => value,
            // A counter that never fired for these tags counted 0, as its
            // threshold was judged (`http_reqs{error_code:timeout}`).
            None if sub.metric.kind == MetricKind::Counter => SeriesValue::Counter { sum: 0.0 },
            None => continue,
        };
        let mut entry = metric_entry(sub.metric, &value, seconds);
        attach_thresholds(summary, &mut entry, |s| s.source == sub.key);
        metrics.insert(sub.key, Value::Object(entry));
    }
    Value::Object(metrics)
}

/// A metric restricted to the series whose tags match `filter`.
struct SubMetric<'a> {
    metric: &'a MetricSummary,
    /// `metric{tag:value}`, as k6 names sub-metrics in its export.
    key: String,
    filter: Vec<(String, String)>,
}

fn submetrics(summary: &Summary) -> Vec<SubMetric<'_>> {
    let mut subs = Vec::new();
    if let Some(duration) = summary.metric("http_req_duration") {
        subs.push(SubMetric {
            metric: duration,
            key: "http_req_duration{expected_response:true}".into(),
            filter: vec![("expected_response".into(), "true".into())],
        });
    }
    for outcome in &summary.thresholds {
        let selector = &outcome.threshold.selector;
        let known = subs.iter().any(|s| s.key == selector.source);
        if selector.filter.is_empty() || known {
            continue;
        }
        if let Some(metric) = summary.metric(&selector.metric) {
            subs.push(SubMetric {
                metric,
                key: selector.source.clone(),
                filter: selector.filter.clone(),
            });
        }
    }
    subs
}

fn metric_entry(metric: &MetricSummary, value: &SeriesValue, seconds: f64) -> Map<String, Value> {
    let mut entry = Map::new();
    entry.insert("type".into(), json!(kind_name(metric.kind)));
    entry.insert("contains".into(), json!(contains_name(metric.contains)));
    match value {
        SeriesValue::Counter { sum } => {
            let rate = if seconds > 0.0 { sum / seconds } else { 0.0 };
            entry.insert("count".into(), num(*sum));
            entry.insert("rate".into(), num(rate));
        }
        SeriesValue::Gauge { .. } | SeriesValue::Rate { .. } | SeriesValue::Trend(_) => {
            entry.extend(value_fields(value, false));
        }
    }
    entry
}

/// The judged thresholds whose selector passes `applies`, as
/// `{ "p(95)<500": { "ok": true } }`. Skipped ones are only in the
/// top-level list: k6's shape has no word for "not judged".
fn attach_thresholds(
    summary: &Summary,
    entry: &mut Map<String, Value>,
    applies: impl Fn(&MetricSelector) -> bool,
) {
    let mut thresholds = Map::new();
    for outcome in &summary.thresholds {
        if outcome.verdict != ThresholdVerdict::Skipped && applies(&outcome.threshold.selector) {
            let expression = outcome.threshold.expr.source.clone();
            let ok = outcome.verdict == ThresholdVerdict::Passed;
            thresholds.insert(expression, json!({ "ok": ok }));
        }
    }
    if !thresholds.is_empty() {
        entry.insert("thresholds".into(), Value::Object(thresholds));
    }
}

/// The statistics of one value. Series trends also carry exact `sum` and
/// the encoded histogram, which is what a merge needs.
fn value_fields(value: &SeriesValue, with_hdr: bool) -> Map<String, Value> {
    let mut fields = Map::new();
    match value {
        SeriesValue::Counter { sum } => {
            fields.insert("count".into(), num(*sum));
        }
        SeriesValue::Gauge { last, min, max } => {
            fields.insert("value".into(), num(*last));
            fields.insert("min".into(), num(*min));
            fields.insert("max".into(), num(*max));
        }
        SeriesValue::Rate { trues, total } => {
            let rate = if *total == 0 {
                0.0
            } else {
                *trues as f64 / *total as f64
            };
            // `value` repeats `rate` under k6's name, for tools reading k6 exports.
            fields.insert("rate".into(), num(rate));
            fields.insert("value".into(), num(rate));
            fields.insert("passes".into(), json!(trues));
            fields.insert("fails".into(), json!(total.saturating_sub(*trues)));
        }
        SeriesValue::Trend(trend) => {
            fields.insert("avg".into(), num(average(trend)));
            fields.insert("min".into(), num(trend.min));
            fields.insert("med".into(), num(percentile(trend, 50.0)));
            fields.insert("max".into(), num(trend.max));
            for p in SUMMARY_PERCENTILES {
                fields.insert(percentile_label(p), num(percentile(trend, p)));
            }
            fields.insert("count".into(), json!(trend.count));
            if with_hdr {
                fields.insert("sum".into(), num(trend.sum));
                let hdr = encode_hdr(&trend.histogram).map_or(Value::Null, Value::String);
                fields.insert("hdr".into(), hdr);
            }
        }
    }
    fields
}

fn group_json(group: &GroupChecks) -> Value {
    let mut checks = Map::new();
    for check in &group.checks {
        let value = json!({
            "name": check.name,
            "path": format!("{}::{}", group.path, check.name),
            "passes": check.passes,
            "fails": check.fails,
        });
        checks.insert(check.name.clone(), value);
    }
    let mut groups = Map::new();
    for sub in &group.groups {
        groups.insert(sub.name.clone(), group_json(sub));
    }
    json!({
        "name": group.name,
        "path": group.path,
        "checks": checks,
        "groups": groups,
    })
}

fn state_json(summary: &Summary) -> Value {
    let started_ms = summary
        .started_at
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let mut state = Map::new();
    state.insert("startedAtUnixMs".into(), num(started_ms.floor()));
    state.insert(
        "testRunDurationMs".into(),
        num(summary.duration.as_secs_f64() * 1000.0),
    );
    let end = match &summary.end {
        RunEnd::Completed => "completed",
        RunEnd::AbortedByThreshold(_) => "aborted_by_threshold",
        RunEnd::Interrupted => "interrupted",
    };
    state.insert("end".into(), json!(end));
    if let RunEnd::AbortedByThreshold(threshold) = &summary.end {
        state.insert("abortedBy".into(), json!(threshold));
    }
    Value::Object(state)
}

/// Every threshold in declaration order. `ok` is false exactly for the
/// thresholds that fail the run, so a skipped one is `ok` and its `state`
/// says it was not judged.
fn thresholds_json(summary: &Summary) -> Value {
    let list = summary
        .thresholds
        .iter()
        .map(|outcome| {
            let mut entry = json!({
                "metric": outcome.threshold.selector.source,
                "expression": outcome.threshold.expr.source,
                "observed": outcome.observed.map_or(Value::Null, num),
                "ok": outcome.verdict != ThresholdVerdict::Failed,
                "state": outcome.verdict.as_str(),
                "abort_on_fail": outcome.threshold.abort_on_fail,
            });
            if let Some(scenario) = &outcome.threshold.unselected_scenario {
                entry["skipped_because"] = json!(format!("scenario {scenario:?} not selected"));
            }
            if let Some(detail) = &outcome.detail {
                entry["detail"] = time_detail_json(detail);
            }
            entry
        })
        .collect();
    Value::Array(list)
}

/// Where a time criterion's figure comes from; absent fields do not apply.
fn time_detail_json(detail: &TimeDetail) -> Value {
    let mut out = json!({ "text": detail.text });
    if let Some(n) = detail.windows_judged {
        out["windows_judged"] = json!(n);
    }
    if let Some(n) = detail.windows_passed {
        out["windows_passed"] = json!(n);
    }
    if let Some((start, end)) = detail.window {
        out["window_start_ms"] = json!(start);
        out["window_end_ms"] = json!(end);
    }
    if let Some(unit) = &detail.load_unit {
        out["load_unit"] = json!(unit);
    }
    out
}

fn series_json(summary: &Summary) -> Value {
    let mut all = Map::new();
    for metric in &summary.metrics {
        let list = metric
            .series
            .iter()
            .map(|(tags, value)| {
                let mut entry = Map::new();
                entry.insert("tags".into(), json!(tags));
                entry.extend(value_fields(value, true));
                Value::Object(entry)
            })
            .collect();
        all.insert(metric.name.clone(), Value::Array(list));
    }
    Value::Object(all)
}
