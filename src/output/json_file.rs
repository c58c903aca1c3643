//! `--out json=FILE`: k6's JSON-lines shape, one object per line. A metric
//! is declared the first time it appears:
//! `{"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default","thresholds":[],"submetrics":null},"metric":"http_reqs"}`
//! then each sample is a point:
//! `{"type":"Point","data":{"time":"2024-05-01T12:00:00.123456789Z","value":1,"tags":{"method":"GET",...}},"metric":"http_reqs"}`.
//! Gzip-compressed when FILE ends in `.gz`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::metrics::{
    MetricDef, MetricId, MetricKind, MetricRegistry, SampleBatch, Sink, TagInterner, TagSetId,
    ValueType,
};
use crate::output::sample_file::{Rfc3339Clock, SampleFileSink, SampleFormat};
use crate::output::{OutputConfigError, OutputContext, OutputSpec};

/// Builds the JSON-lines file sink for `spec` (`--out json=FILE`).
pub fn build(spec: &OutputSpec, ctx: &OutputContext) -> Result<Box<dyn Sink>, OutputConfigError> {
    spec.check_options(&[])?;
    let format = JsonLines::new(ctx.registry.clone(), &ctx.testid);
    Ok(Box::new(SampleFileSink::new(spec, format)?))
}

/// The JSON-lines encoder. Keeps which metrics it has declared, and the
/// serialized tags object of each tag set.
#[derive(Debug)]
pub struct JsonLines {
    registry: Arc<MetricRegistry>,
    testid: String,
    /// `,"metric":"<name>"}` per metric, with `None` until it is declared.
    declared: Vec<Option<Box<str>>>,
    /// `{"k":"v",...}` per tag set, `testid` included.
    tags: HashMap<TagSetId, Box<str>>,
    number: String,
    clock: Rfc3339Clock,
}

impl JsonLines {
    pub fn new(registry: Arc<MetricRegistry>, testid: &str) -> Self {
        JsonLines {
            registry,
            testid: testid.to_string(),
            declared: Vec::new(),
            tags: HashMap::new(),
            number: String::new(),
            clock: Rfc3339Clock::default(),
        }
    }

    fn push_point(
        &mut self,
        out: &mut Vec<u8>,
        metric: MetricId,
        tags: TagSetId,
        value: f64,
        time_ns: u64,
    ) {
        let index = usize::from(metric.0);
        if self.declared.len() <= index {
            self.declared.resize(index + 1, None);
        }
        if self.declared[index].is_none() {
            let def = self.registry.get(metric);
            declaration(out, def);
            let tail = format!(",\"metric\":{}}}\n", json_string(&def.name));
            self.declared[index] = Some(tail.into_boxed_str());
        }
        out.extend_from_slice(br#"{"type":"Point","data":{"time":""#);
        self.clock.push(out, time_ns);
        out.extend_from_slice(br#"","value":"#);
        self.number.clear();
        // Shortest round-trip text without exponent; a valid JSON number.
        let _ = write!(self.number, "{value}");
        out.extend_from_slice(self.number.as_bytes());
        out.extend_from_slice(br#","tags":"#);
        let testid = &self.testid;
        let tag_text = self.tags.entry(tags).or_insert_with(|| {
            let set = TagInterner::global()
                .resolve(tags)
                .with([("testid", testid.as_str())]);
            serde_json::to_string(&set)
                .unwrap_or_else(|_| "{}".to_string())
                .into_boxed_str()
        });
        out.extend_from_slice(tag_text.as_bytes());
        out.push(b'}');
        out.extend_from_slice(
            self.declared[index]
                .as_deref()
                .unwrap_or_default()
                .as_bytes(),
        );
    }
}

/// `{"type":"Metric","data":{...},"metric":"<name>"}` and a line break.
fn declaration(out: &mut Vec<u8>, def: &MetricDef) {
    let kind = match def.kind {
        MetricKind::Counter => "counter",
        MetricKind::Gauge => "gauge",
        MetricKind::Rate => "rate",
        MetricKind::Trend => "trend",
    };
    let contains = match def.contains {
        ValueType::Default => "default",
        ValueType::Time => "time",
        ValueType::Data => "data",
    };
    let name = json_string(&def.name);
    let line = format!(
        r#"{{"type":"Metric","data":{{"name":{name},"type":"{kind}","contains":"{contains}","thresholds":[],"submetrics":null}},"metric":{name}}}"#
    );
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

impl SampleFormat for JsonLines {
    fn encode(&mut self, batch: &SampleBatch, out: &mut Vec<u8>) -> u64 {
        let mut points = 0;
        for sample in &batch.samples {
            sample.for_each_point(|metric, tags, value| {
                // JSON has no NaN or infinity.
                if value.is_finite() {
                    self.push_point(out, metric, tags, value, sample.time_ns);
                    points += 1;
                }
            });
        }
        points
    }
}
