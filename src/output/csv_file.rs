//! `--out csv=FILE`: k6's CSV columns, one row per sample:
//! `metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata`.
//! The timestamp is in Unix seconds by default (`time_format` changes it),
//! the value has six decimals (`1.000000`), tags without a column of their
//! own go to `extra_tags` as `key=value&key2=value2` (`testid` among them),
//! and `metadata` is empty. Gzip-compressed when FILE ends in `.gz`.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;

use crate::metrics::{MetricId, MetricRegistry, SampleBatch, Sink, TagInterner, TagSetId};
use crate::output::sample_file::{Rfc3339Clock, SampleFileSink, SampleFormat};
use crate::output::{OutputConfigError, OutputContext, OutputSpec};

/// The header line's columns, in order.
pub const COLUMNS: &[&str] = &[
    "metric_name",
    "timestamp",
    "metric_value",
    "check",
    "error",
    "error_code",
    "expected_response",
    "group",
    "method",
    "name",
    "proto",
    "scenario",
    "service",
    "status",
    "subproto",
    "tls_version",
    "url",
    "extra_tags",
    "metadata",
];

/// Tags with a column of their own: the columns between `metric_value`
/// and `extra_tags`.
const TAG_COLUMNS: &[&str] = COLUMNS.split_at(3).1.split_at(COLUMNS.len() - 5).0;

/// How the `timestamp` column is written (k6's `timeFormat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// Whole seconds since the epoch (k6's default).
    Unix,
    UnixMilli,
    UnixMicro,
    UnixNano,
    /// `2024-05-01T12:00:00.123456789Z`.
    Rfc3339Nano,
}

impl TimeFormat {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "unix" => TimeFormat::Unix,
            "unix_milli" => TimeFormat::UnixMilli,
            "unix_micro" => TimeFormat::UnixMicro,
            "unix_nano" => TimeFormat::UnixNano,
            "rfc3339_nano" => TimeFormat::Rfc3339Nano,
            _ => return None,
        })
    }
}

/// Builds the CSV file sink for `spec` (`--out csv=FILE`).
pub fn build(spec: &OutputSpec, ctx: &OutputContext) -> Result<Box<dyn Sink>, OutputConfigError> {
    spec.check_options(&["time_format"])?;
    let time_format = match spec.extra.get("time_format") {
        None => TimeFormat::Unix,
        Some(text) => TimeFormat::parse(text).ok_or_else(|| OutputConfigError::BadOption {
            origin: spec.origin.clone(),
            key: "time_format".into(),
            message: format!(
                "expected unix, unix_milli, unix_micro, unix_nano or rfc3339_nano, got {text:?}"
            ),
        })?,
    };
    let format = CsvRows::new(ctx.registry.clone(), &ctx.testid, time_format);
    Ok(Box::new(SampleFileSink::new(spec, format)?))
}

/// The CSV encoder. Keeps each metric's quoted name and, per tag set, the
/// text of every column after the value.
#[derive(Debug)]
pub struct CsvRows {
    registry: Arc<MetricRegistry>,
    testid: String,
    time_format: TimeFormat,
    names: Vec<Option<Box<str>>>,
    /// `,check,error,...,url,extra_tags,metadata` per tag set.
    tails: HashMap<TagSetId, Box<str>>,
    clock: Rfc3339Clock,
}

impl CsvRows {
    pub fn new(registry: Arc<MetricRegistry>, testid: &str, time_format: TimeFormat) -> Self {
        CsvRows {
            registry,
            testid: testid.to_string(),
            time_format,
            names: Vec::new(),
            tails: HashMap::new(),
            clock: Rfc3339Clock::default(),
        }
    }

    fn push_row(
        &mut self,
        out: &mut Vec<u8>,
        metric: MetricId,
        tags: TagSetId,
        value: f64,
        time_ns: u64,
    ) {
        let index = usize::from(metric.0);
        if self.names.len() <= index {
            self.names.resize(index + 1, None);
        }
        let registry = &self.registry;
        let name = self.names[index]
            .get_or_insert_with(|| quote(&registry.get(metric).name).into_boxed_str());
        out.extend_from_slice(name.as_bytes());
        out.push(b',');
        // Writing into a Vec cannot fail.
        let _ = match self.time_format {
            TimeFormat::Unix => write!(out, "{}", time_ns / 1_000_000_000),
            TimeFormat::UnixMilli => write!(out, "{}", time_ns / 1_000_000),
            TimeFormat::UnixMicro => write!(out, "{}", time_ns / 1_000),
            TimeFormat::UnixNano => write!(out, "{time_ns}"),
            TimeFormat::Rfc3339Nano => {
                self.clock.push(out, time_ns);
                Ok(())
            }
        };
        let _ = write!(out, ",{value:.6}");
        let testid = &self.testid;
        let tail = self
            .tails
            .entry(tags)
            .or_insert_with(|| row_tail(tags, testid).into_boxed_str());
        out.extend_from_slice(tail.as_bytes());
        out.push(b'\n');
    }
}

/// The columns from `check` to `metadata` for one tag set, each preceded
/// by a comma.
fn row_tail(tags: TagSetId, testid: &str) -> String {
    let set = TagInterner::global()
        .resolve(tags)
        .with([("testid", testid)]);
    let mut tail = String::new();
    for column in TAG_COLUMNS {
        tail.push(',');
        tail.push_str(&quote(set.get(column).unwrap_or("")));
    }
    let extra: Vec<String> = set
        .iter()
        .filter(|(k, _)| !TAG_COLUMNS.contains(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    tail.push(',');
    tail.push_str(&quote(&extra.join("&")));
    // metadata: none.
    tail.push(',');
    tail
}

/// RFC 4180 quoting: fields holding a comma, quote or line break are
/// enclosed in quotes, with quotes doubled.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

impl SampleFormat for CsvRows {
    fn header(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(COLUMNS.join(",").as_bytes());
        out.push(b'\n');
    }

    fn encode(&mut self, batch: &SampleBatch, out: &mut Vec<u8>) -> u64 {
        let mut points = 0;
        for sample in &batch.samples {
            sample.for_each_point(|metric, tags, value| {
                self.push_row(out, metric, tags, value, sample.time_ns);
                points += 1;
            });
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_columns_are_those_between_the_value_and_extra_tags() {
        assert_eq!(TAG_COLUMNS.first(), Some(&"check"));
        assert_eq!(TAG_COLUMNS.last(), Some(&"url"));
        assert_eq!(TAG_COLUMNS.len(), 14);
    }
}
