//! The InfluxDB line-protocol encoder with arbitrary measurements, tag keys,
//! tag values, test ids and field values: every line it writes is read back
//! by a reader that follows InfluxDB's own to the same values.

use proptest::prelude::*;
use stampede::metrics::{SeriesValue, TagSet};
use stampede::output::influxdb::encode_series;

use super::config;

/// A line split into its parts, escapes undone.
#[derive(Debug, PartialEq)]
struct Line {
    measurement: String,
    tags: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    timestamp: u64,
}

/// Reads one element up to a delimiter, as InfluxDB's reader does
/// (`models/points.go`): a delimiter right after a backslash is escaped and
/// does not end the element; then `\,`, `\ ` (and `\=` outside a
/// measurement) are replaced by the character; every other backslash is
/// itself.
fn element<'a>(text: &'a str, ends: &[char], escapes: &[char]) -> (String, &'a str) {
    let mut prev = None;
    let mut end = text.len();
    for (at, c) in text.char_indices() {
        if ends.contains(&c) && prev != Some('\\') {
            end = at;
            break;
        }
        prev = Some(c);
    }
    let mut raw = text[..end].to_string();
    for &c in escapes {
        raw = raw.replace(&format!("\\{c}"), &c.to_string());
    }
    (raw, &text[end..])
}

fn read_line(text: &str) -> Result<Line, String> {
    let body = text.strip_suffix('\n').ok_or("no final line feed")?;
    if body.contains(['\n', '\r']) {
        return Err("a raw line break inside the line".into());
    }
    let key = [',', '=', ' '];
    let (measurement, mut rest) = element(body, &[',', ' '], &[',', ' ']);
    let mut tags = Vec::new();
    while let Some(after) = rest.strip_prefix(',') {
        let (k, after) = element(after, &key, &key);
        let after = after
            .strip_prefix('=')
            .ok_or(format!("tag {k:?} has no '='"))?;
        let (v, after) = element(after, &key, &key);
        if after.starts_with('=') {
            // InfluxDB refuses a bare `=` in a tag value.
            return Err(format!("a bare '=' in the value of tag {k:?}"));
        }
        if k.is_empty() || v.is_empty() {
            return Err(format!("empty tag key or value: {k:?}={v:?}"));
        }
        tags.push((k, v));
        rest = after;
    }
    let mut rest = rest.strip_prefix(' ').ok_or("no space before the fields")?;
    let mut fields = Vec::new();
    loop {
        let (k, after) = element(rest, &key, &key);
        let after = after
            .strip_prefix('=')
            .ok_or(format!("field {k:?} has no '='"))?;
        let end = after.find([',', ' ']).ok_or("no timestamp")?;
        fields.push((k, after[..end].to_string()));
        rest = &after[end + 1..];
        if after.as_bytes()[end] == b' ' {
            break;
        }
    }
    let timestamp = rest
        .parse()
        .map_err(|e| format!("timestamp {rest:?}: {e}"))?;
    Ok(Line {
        measurement,
        tags,
        fields,
        timestamp,
    })
}

/// Line protocol has no escape for a line break: it is written as the two
/// characters `\n` (and `\r`), which is what reads back.
fn as_written(text: &str) -> String {
    text.replace('\n', "\\n").replace('\r', "\\r")
}

/// Text heavy in the characters line protocol treats specially.
fn tricky_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(",".to_string()),
            Just("=".to_string()),
            Just(" ".to_string()),
            Just("\\".to_string()),
            Just("\"".to_string()),
            Just("\n".to_string()),
            Just("\r".to_string()),
            "[a-z0-9_]{1,4}",
            "\\PC{1,2}",
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

fn finite_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("line protocol has no NaN or infinity", |v| v.is_finite()),
        -1.0e6f64..1.0e6,
        Just(0.0),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
    ]
}

proptest! {
    #![proptest_config(config("influx"))]

    #[test]
    fn encoded_lines_read_back_to_the_same_values(
        // Metric names are `[a-zA-Z][a-zA-Z0-9_]*` (the registry refuses
        // others); spaces, commas and `=` stand for what escaping must handle.
        measurement in "[a-zA-Z][a-zA-Z0-9_, =]{0,12}",
        tags in proptest::collection::vec((tricky_text(4), tricky_text(6)), 0..5),
        testid in tricky_text(4),
        value in finite_value(),
        time_ns in any::<u64>(),
    ) {
        let tags = TagSet::new(tags);
        let mut out = String::new();
        let written = encode_series(
            &mut out, &measurement, &tags, &testid, &SeriesValue::Counter { sum: value }, time_ns,
        );
        prop_assert!(written);
        let line = read_line(&out).map_err(|e| TestCaseError::fail(format!("{e}: {out:?}")))?;
        let expected_tags: Vec<(String, String)> = tags
            .with([("testid", testid.as_str())])
            .iter()
            // Line protocol has no empty tag, nor one ending in a backslash.
            .filter(|(k, v)| [k, v].iter().all(|t| !t.is_empty() && !t.ends_with('\\')))
            .map(|(k, v)| (as_written(k), as_written(v)))
            .collect();
        prop_assert_eq!(&line.measurement, &as_written(&measurement), "{:?}", out);
        prop_assert_eq!(&line.tags, &expected_tags, "{:?}", out);
        prop_assert_eq!(line.fields.len(), 1);
        prop_assert_eq!(line.fields[0].0.as_str(), "value");
        let read: f64 = line.fields[0].1.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(read.to_bits(), value.to_bits(), "{:?}", out);
        prop_assert_eq!(line.timestamp, time_ns);
    }
}
