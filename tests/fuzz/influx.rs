//! The InfluxDB line-protocol encoder with arbitrary measurements, tag keys,
//! tag values, test ids and field values: every line it writes is read back
//! by a strict reader of the protocol to the same values.

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

/// Reads one element up to an unescaped delimiter, as InfluxDB's scanners
/// do: a backslash always travels with the character after it, so an
/// escaped delimiter never ends the element. Undoing escapes follows the
/// protocol reference: `\` before a special character or another `\`
/// stands for that character; before anything else it is a literal `\`.
fn element<'a>(text: &'a str, specials: &[char], ends: &[char]) -> (String, &'a str) {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        if ends.contains(&c) {
            return (out, &text[at..]);
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, next)) if next == '\\' || specials.contains(&next) => out.push(next),
            Some((_, next)) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    (out, "")
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
        measurement in ("[a-zA-Z]", tricky_text(6)).prop_map(|(a, b)| a + &b),
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
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
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
