//! The summary export of a run, complete: the summary JSON plus what only
//! the run knows (its timeline and where it came from). `stampede report`
//! and `stampede compare` read this file back; it is the run's one source
//! of truth after the fact.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::metrics::{SinkReport, Summary};
use crate::timeline::Timeline;

use super::json::summary_json_with_outputs;

/// Where a run came from, as the report's header shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMeta {
    /// stampede's version.
    pub version: String,
    /// The run's `testid` (what outputs label every series with).
    pub testid: String,
    /// The scenario file as given; `None` for an ad-hoc `--url` run.
    pub scenario_file: Option<String>,
    /// The command line, secrets redacted.
    pub command_line: String,
}

/// Everything the export file holds.
#[derive(Clone, Copy, Debug)]
pub struct RunExport<'a> {
    pub summary: &'a Summary,
    pub outputs: &'a [SinkReport],
    pub timeline: Option<&'a Timeline>,
    pub meta: Option<&'a RunMeta>,
}

impl RunExport<'_> {
    /// The summary JSON with `meta` and `timeline` added when known.
    pub fn to_json(&self) -> Value {
        let mut doc = summary_json_with_outputs(self.summary, self.outputs);
        if let Value::Object(map) = &mut doc {
            if let Some(meta) = self.meta {
                map.insert(
                    "meta".into(),
                    serde_json::to_value(meta).unwrap_or(Value::Null),
                );
            }
            if let Some(timeline) = self.timeline {
                let value = serde_json::to_value(timeline).unwrap_or(Value::Null);
                map.insert("timeline".into(), value);
            }
        }
        doc
    }
}

/// Writes `doc` pretty-printed to `path`, replacing the file. The timeline
/// is the bulk of a long run's file, so it is written compactly, one bucket
/// per line, rather than one value per line (a third of the size).
pub fn write_export_json(doc: &Value, path: &Path) -> io::Result<()> {
    let mut writer = BufWriter::new(File::create(path)?);
    write_export(doc, &mut writer)?;
    writer.flush()
}

/// [`write_export_json`] into any writer.
pub fn write_export(doc: &Value, out: &mut impl Write) -> io::Result<()> {
    let mut head = doc.clone();
    let timeline = head.as_object_mut().and_then(|m| m.remove("timeline"));
    let pretty = serde_json::to_string_pretty(&head)?;
    let Some(timeline) = timeline else {
        return writeln!(out, "{pretty}");
    };
    // `pretty` ends with the object's closing brace; the timeline goes
    // before it as the last member.
    let body = pretty
        .trim_end()
        .strip_suffix('}')
        .unwrap_or(&pretty)
        .trim_end();
    let separator = if body.ends_with('{') { "" } else { "," };
    write!(out, "{body}{separator}\n  \"timeline\": {{")?;
    let mut first = true;
    if let Value::Object(members) = &timeline {
        for (key, value) in members {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            write!(out, "\n    {}: ", Value::String(key.clone()))?;
            match value {
                Value::Array(items) if key == "buckets" => {
                    out.write_all(b"[")?;
                    for (i, item) in items.iter().enumerate() {
                        let comma = if i == 0 { "" } else { "," };
                        write!(out, "{comma}\n      {}", serde_json::to_string(item)?)?;
                    }
                    out.write_all(b"\n    ]")?;
                }
                other => out.write_all(serde_json::to_string(other)?.as_bytes())?,
            }
        }
    }
    out.write_all(b"\n  }\n}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_timeline_is_written_one_bucket_per_line_and_reads_back() {
        let doc = json!({
            "state": {"end": "completed"},
            "timeline": {"bucket_ms": 1000, "stages": [], "buckets": [{"start_ms": 0}, {"start_ms": 1000}]},
        });
        let mut out = Vec::new();
        write_export(&doc, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\n  \"state\": {\n    \"end\": \"completed\"\n  },\n  \"timeline\": {\n    \"bucket_ms\": 1000,\n    \"stages\": [],\n    \"buckets\": [\n      {\"start_ms\":0},\n      {\"start_ms\":1000}\n    ]\n  }\n}\n"
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
    }
}
