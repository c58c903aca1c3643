//! The text exposition format 0.0.4 for the metric families, and the
//! choice between it and protobuf from a scraper's `Accept` header.

use std::fmt::Write;

use super::families::Exposition;
use super::proto::{LabelPair, Metric, MetricFamily, MetricType};

/// The text format's media type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Protobuf when the `Accept` header names the delimited `MetricFamily`
/// media type with a weight at least that of any text type it names;
/// text otherwise (curl's `*/*`, browsers, no header at all). A
/// Prometheus with native histograms enabled asks for protobuf first.
pub fn negotiate(accept: Option<&str>) -> Exposition {
    let Some(accept) = accept else {
        return Exposition::Text;
    };
    let mut protobuf = 0.0f64;
    let mut text = 0.0f64;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let mut q = 1.0;
        let mut proto = None;
        let mut encoding = None;
        for param in parts {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "q" => q = value.parse().unwrap_or(0.0),
                "proto" => proto = Some(value.to_string()),
                "encoding" => encoding = Some(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        match media.as_str() {
            "application/vnd.google.protobuf"
                if proto.as_deref() == Some("io.prometheus.client.MetricFamily")
                    && encoding.as_deref() == Some("delimited") =>
            {
                protobuf = protobuf.max(q);
            }
            "text/plain" => text = text.max(q),
            _ => {}
        }
    }
    if protobuf > 0.0 && protobuf >= text {
        Exposition::Protobuf
    } else {
        Exposition::Text
    }
}

/// The families in the text format: a `# TYPE` line per family, then one
/// line per sample. Native histograms (not produced for text scrapes, but
/// any family can be written) show only their `_count` and `_sum`.
pub fn encode_text(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    for family in families {
        let kind = MetricType::try_from(family.r#type).unwrap_or(MetricType::Untyped);
        let type_name = match kind {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Summary => "summary",
            MetricType::Histogram | MetricType::GaugeHistogram => "histogram",
            MetricType::Untyped => "untyped",
        };
        let _ = writeln!(out, "# TYPE {} {type_name}", family.name);
        for metric in &family.metric {
            write_metric(&mut out, &family.name, metric);
        }
    }
    out
}

fn write_metric(out: &mut String, name: &str, metric: &Metric) {
    let labels = &metric.label;
    if let Some(c) = &metric.counter {
        line(out, name, labels, None, c.value);
    }
    if let Some(g) = &metric.gauge {
        line(out, name, labels, None, g.value);
    }
    if let Some(s) = &metric.summary {
        for q in &s.quantile {
            line(
                out,
                name,
                labels,
                Some(("quantile", value(q.quantile))),
                q.value,
            );
        }
        line(out, &format!("{name}_sum"), labels, None, s.sample_sum);
        line(
            out,
            &format!("{name}_count"),
            labels,
            None,
            s.sample_count as f64,
        );
    }
    if let Some(h) = &metric.histogram {
        line(out, &format!("{name}_sum"), labels, None, h.sample_sum);
        line(
            out,
            &format!("{name}_count"),
            labels,
            None,
            h.sample_count as f64,
        );
    }
}

fn line(out: &mut String, name: &str, labels: &[LabelPair], extra: Option<(&str, String)>, v: f64) {
    out.push_str(name);
    let extra = extra.iter().map(|(k, v)| (*k, v.as_str()));
    let mut pairs = labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .chain(extra)
        .peekable();
    if pairs.peek().is_some() {
        out.push('{');
        for (i, (k, v)) in pairs.enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", value(v));
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// A sample value as Go's parser reads it: `+Inf`, `-Inf`, `NaN`, whole
/// numbers without a fraction, exponents for very large or small values.
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v != 0.0 && !(1e-4..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_with_native_histograms_gets_protobuf() {
        // Prometheus 2.42's header with --enable-feature=native-histograms.
        let prometheus = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(prometheus)), Exposition::Protobuf);
        // ... and without the feature.
        let classic = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(classic)), Exposition::Text);
        assert_eq!(negotiate(Some("*/*")), Exposition::Text);
        assert_eq!(negotiate(None), Exposition::Text);
        // Weights decide; another proto or encoding is not ours.
        let text_first = "text/plain;q=0.9,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5";
        assert_eq!(negotiate(Some(text_first)), Exposition::Text);
        let other =
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text";
        assert_eq!(negotiate(Some(other)), Exposition::Text);
        let refused = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0";
        assert_eq!(negotiate(Some(refused)), Exposition::Text);
    }

    #[test]
    fn values_and_label_escapes() {
        assert_eq!(value(12.0), "12");
        assert_eq!(value(0.25), "0.25");
        assert_eq!(value(0.0), "0");
        assert_eq!(value(1.5e-7), "1.5e-7");
        assert_eq!(value(2e20), "2e20");
        assert_eq!(value(f64::INFINITY), "+Inf");
        assert_eq!(value(f64::NAN), "NaN");
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
