//! Reading a summary export back: the inverse of `report::json` for what a
//! merge needs (every series with its exact value and HDR histogram, the
//! thresholds as declared, how the run went, its timeline) plus the `run`
//! section.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::identity::RunIdentity;
use crate::metrics::threshold::{Threshold, parse_expression, parse_selector};
use crate::metrics::{
    MetricKind, MetricRegistry, MetricSummary, RunEnd, SeriesValue, Summary, TagSet,
    ThresholdOutcome, ThresholdVerdict, TrendValue, ValueType,
};
use crate::report::parse_hdr;
use crate::timeline::Timeline;

/// One instance's summary export, read back.
#[derive(Clone, Debug)]
pub struct InstanceExport {
    pub identity: RunIdentity,
    /// Series, thresholds (as that instance judged them) and run end.
    pub summary: Summary,
    /// What happened in each interval; `None` in an export written
    /// without one (`--no-timeline`, or a version before timelines).
    pub timeline: Option<Timeline>,
}

/// Reads a summary export document. The error names the first field that
/// is missing or malformed, as a JSON path (`series.http_reqs[0].count`).
pub fn read_export(doc: &Value) -> Result<InstanceExport, String> {
    let run = doc.get("run").ok_or(
        "has no `run` section: it was not written by `stampede run --summary-export` \
         of a version that can merge (re-run the instance)",
    )?;
    let identity: RunIdentity =
        serde_json::from_value(run.clone()).map_err(|e| format!("run: {e}"))?;
    let metrics_doc = object(doc, "metrics")?;
    let series_doc = object(doc, "series")?;
    let mut registry = MetricRegistry::with_builtins();
    let mut metrics = Vec::new();
    for (name, list) in series_doc {
        let path = format!("series.{name}");
        let entry = metrics_doc
            .get(name)
            .ok_or_else(|| format!("{path}: no metrics.{name} says what kind it is"))?;
        let kind = kind_of(entry, &format!("metrics.{name}"))?;
        let contains = contains_of(entry, &format!("metrics.{name}"))?;
        let id = match registry.lookup(name) {
            Some(id) => id,
            None => registry
                .register(name, kind, contains)
                .map_err(|e| format!("{path}: {e}"))?,
        };
        let list = list
            .as_array()
            .ok_or_else(|| format!("{path}: expected an array"))?;
        let mut series = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let path = format!("{path}[{i}]");
            series.push((tags_of(item, &path)?, value_of(item, kind, &path)?));
        }
        // A gauge's total is what the instance reported (its series'
        // `last` values do not merge back into it); the others merge exactly.
        let total = if kind == MetricKind::Gauge {
            value_of(entry, kind, &format!("metrics.{name}"))?
        } else {
            let mut total = series
                .first()
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("{path}: no series"))?;
            for (_, value) in &series[1..] {
                total.merge(value);
            }
            total
        };
        metrics.push(MetricSummary {
            id,
            name: name.clone(),
            kind,
            contains,
            total,
            series,
        });
    }
    let thresholds = thresholds_of(doc, &metrics)?;
    let (started_at, duration, end) = state_of(doc)?;
    let timeline = match doc.get("timeline") {
        None | Some(Value::Null) => None,
        Some(value) => {
            Some(serde_json::from_value(value.clone()).map_err(|e| format!("timeline: {e}"))?)
        }
    };
    let breaking_points = match doc.get("breaking_points") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => {
            serde_json::from_value(value.clone()).map_err(|e| format!("breaking_points: {e}"))?
        }
    };
    Ok(InstanceExport {
        identity,
        summary: Summary {
            started_at,
            duration,
            metrics,
            thresholds,
            end,
            generator: None,
            breaking_points,
        },
        timeline,
    })
}

fn object<'a>(doc: &'a Value, key: &str) -> Result<&'a Map<String, Value>, String> {
    doc.get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{key}: missing or not an object"))
}

fn number(item: &Value, key: &str, path: &str) -> Result<f64, String> {
    item.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("{path}.{key}: missing or not a number"))
}

fn whole(item: &Value, key: &str, path: &str) -> Result<u64, String> {
    item.get(key)
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("{path}.{key}: missing or not a whole number"))
}

fn text<'a>(item: &'a Value, key: &str, path: &str) -> Result<&'a str, String> {
    item.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{path}.{key}: missing or not a string"))
}

fn kind_of(entry: &Value, path: &str) -> Result<MetricKind, String> {
    match text(entry, "type", path)? {
        "counter" => Ok(MetricKind::Counter),
        "gauge" => Ok(MetricKind::Gauge),
        "rate" => Ok(MetricKind::Rate),
        "trend" => Ok(MetricKind::Trend),
        other => Err(format!("{path}.type: unknown metric type {other:?}")),
    }
}

fn contains_of(entry: &Value, path: &str) -> Result<ValueType, String> {
    match text(entry, "contains", path)? {
        "default" => Ok(ValueType::Default),
        "time" => Ok(ValueType::Time),
        "data" => Ok(ValueType::Data),
        other => Err(format!("{path}.contains: unknown value type {other:?}")),
    }
}

fn tags_of(item: &Value, path: &str) -> Result<TagSet, String> {
    let tags = item
        .get("tags")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{path}.tags: missing or not an object"))?;
    let mut pairs = Vec::with_capacity(tags.len());
    for (key, value) in tags {
        let value = value
            .as_str()
            .ok_or_else(|| format!("{path}.tags.{key}: not a string"))?;
        pairs.push((key.as_str(), value));
    }
    Ok(TagSet::new(pairs))
}

fn value_of(item: &Value, kind: MetricKind, path: &str) -> Result<SeriesValue, String> {
    Ok(match kind {
        MetricKind::Counter => SeriesValue::Counter {
            sum: number(item, "count", path)?,
        },
        MetricKind::Gauge => SeriesValue::Gauge {
            last: number(item, "value", path)?,
            min: number(item, "min", path)?,
            max: number(item, "max", path)?,
        },
        MetricKind::Rate => {
            let trues = whole(item, "passes", path)?;
            SeriesValue::Rate {
                trues,
                total: trues + whole(item, "fails", path)?,
            }
        }
        MetricKind::Trend => {
            let histogram =
                parse_hdr(text(item, "hdr", path)?).map_err(|e| format!("{path}.hdr: {e}"))?;
            let count = whole(item, "count", path)?;
            if histogram.len() != count {
                return Err(format!(
                    "{path}: count is {count} but the histogram holds {} samples",
                    histogram.len()
                ));
            }
            SeriesValue::Trend(TrendValue {
                histogram: Arc::new(histogram),
                count,
                sum: number(item, "sum", path)?,
                min: number(item, "min", path)?,
                max: number(item, "max", path)?,
            })
        }
    })
}

/// The thresholds as declared. The kind of a metric without samples is
/// the built-in's, or a counter when the instance could judge it anyway
/// (only a counter has a value, 0, without samples).
fn thresholds_of(doc: &Value, metrics: &[MetricSummary]) -> Result<Vec<ThresholdOutcome>, String> {
    let list = doc
        .get("thresholds")
        .and_then(Value::as_array)
        .ok_or("thresholds: missing or not an array")?;
    let builtins = MetricRegistry::with_builtins();
    let mut outcomes = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let path = format!("thresholds[{i}]");
        let selector = parse_selector(text(item, "metric", &path)?)
            .map_err(|e| format!("{path}.metric: {e}"))?;
        let expr = parse_expression(text(item, "expression", &path)?)
            .map_err(|e| format!("{path}.expression: {e}"))?;
        let state = text(item, "state", &path)?;
        let observed = item.get("observed").and_then(Value::as_f64);
        let kind = match metrics.iter().find(|m| m.name == selector.metric) {
            Some(metric) => metric.kind,
            None => match builtins.lookup(&selector.metric) {
                Some(id) => builtins.get(id).kind,
                None if observed.is_some() => MetricKind::Counter,
                None => MetricKind::Trend,
            },
        };
        let verdict = match state {
            "passed" => ThresholdVerdict::Passed,
            "failed" => ThresholdVerdict::Failed,
            "skipped" => ThresholdVerdict::Skipped,
            other => return Err(format!("{path}.state: unknown state {other:?}")),
        };
        let unselected_scenario = (verdict == ThresholdVerdict::Skipped).then(|| {
            selector
                .filter
                .iter()
                .find(|(k, _)| k == "scenario")
                .map_or_else(String::new, |(_, v)| v.clone())
        });
        let abort_on_fail = item
            .get("abort_on_fail")
            .and_then(Value::as_bool)
            .ok_or_else(|| format!("{path}.abort_on_fail: missing or not true/false"))?;
        outcomes.push(ThresholdOutcome {
            threshold: Threshold {
                selector,
                expr,
                abort_on_fail,
                delay_abort_eval: Duration::ZERO,
                kind,
                unselected_scenario,
            },
            observed,
            verdict,
            detail: None,
        });
    }
    Ok(outcomes)
}

fn state_of(doc: &Value) -> Result<(SystemTime, Duration, RunEnd), String> {
    let state = doc.get("state").ok_or("state: missing")?;
    let started_ms = number(state, "startedAtUnixMs", "state")?;
    let duration_ms = number(state, "testRunDurationMs", "state")?;
    if !(started_ms >= 0.0 && duration_ms >= 0.0) {
        return Err("state: startedAtUnixMs and testRunDurationMs must not be negative".into());
    }
    let end = match text(state, "end", "state")? {
        "completed" => RunEnd::Completed,
        "interrupted" => RunEnd::Interrupted,
        "aborted_by_threshold" => {
            RunEnd::AbortedByThreshold(text(state, "abortedBy", "state")?.to_string())
        }
        other => return Err(format!("state.end: unknown end {other:?}")),
    };
    Ok((
        UNIX_EPOCH + Duration::from_secs_f64(started_ms / 1000.0),
        Duration::from_secs_f64(duration_ms / 1000.0),
        end,
    ))
}
