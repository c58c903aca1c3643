//! Series names and labels: stampede's layout (shared with OTLP through
//! Prometheus' OTLP translation) and k6's `experimental-prometheus-rw` one.
//!
//! | kind | `naming=stampede` | `naming=k6` |
//! |---|---|---|
//! | counter | `stampede_<m>_total` (`_bytes_total` for data) | `k6_<m>_total` |
//! | gauge | `stampede_<m>` (`_bytes` for data) | `k6_<m>` |
//! | rate | `stampede_<m>_total`, `stampede_<m>_samples_total`, `stampede_<m>_ratio` | `k6_<m>_rate` |
//! | trend histogram | `stampede_<m>_seconds` (time), `_bytes` (data), `stampede_<m>` | `k6_<m>_seconds`, `k6_<m>_bytes`, `k6_<m>` |
//! | trend statistic | `stampede_<m>_<stat>_seconds` (time, not count), `stampede_<m>_<stat>` | `k6_<m>_<stat>` |
//!
//! Time values are in seconds in both layouts (k6 converts too).

use crate::metrics::{MetricDef, TagSet, ValueType};

use super::options::{Naming, TrendStat};
use super::proto::Label;

pub const NAME_LABEL: &str = "__name__";
pub const JOB: &str = "stampede";

/// Which value of a rate a series carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatePart {
    /// Samples that were true (non-zero), cumulative.
    Trues,
    /// All samples, cumulative.
    Samples,
    /// `trues / samples` since the start.
    Ratio,
}

/// The names of one metric's series under a naming scheme.
#[derive(Clone, Debug)]
pub struct MetricNames {
    naming: Naming,
    prefix: String,
    contains: ValueType,
}

impl MetricNames {
    pub fn new(naming: Naming, def: &MetricDef) -> Self {
        let ns = match naming {
            Naming::Stampede => "stampede",
            Naming::K6 => "k6",
        };
        MetricNames {
            naming,
            prefix: format!("{ns}_{}", def.name),
            contains: def.contains,
        }
    }

    fn unit(&self) -> Option<&'static str> {
        match self.contains {
            ValueType::Time => Some("seconds"),
            ValueType::Data => Some("bytes"),
            ValueType::Default => None,
        }
    }

    fn with_unit(&self, base: String) -> String {
        match self.unit() {
            Some(unit) => format!("{base}_{unit}"),
            None => base,
        }
    }

    pub fn counter(&self) -> String {
        match self.naming {
            Naming::Stampede => format!("{}_total", self.with_unit(self.prefix.clone())),
            Naming::K6 => format!("{}_total", self.prefix),
        }
    }

    pub fn gauge(&self) -> String {
        match (self.naming, self.contains) {
            // Prometheus 3 names an OTLP gauge of unit `By` `<name>_bytes`;
            // the same name here keeps one dashboard for both ingest paths.
            (Naming::Stampede, ValueType::Data) => self.with_unit(self.prefix.clone()),
            _ => self.prefix.clone(),
        }
    }

    /// The rate's series, in the order they are sent.
    pub fn rate(&self) -> Vec<(String, RatePart)> {
        match self.naming {
            Naming::Stampede => vec![
                (format!("{}_total", self.prefix), RatePart::Trues),
                (format!("{}_samples_total", self.prefix), RatePart::Samples),
                (format!("{}_ratio", self.prefix), RatePart::Ratio),
            ],
            Naming::K6 => vec![(format!("{}_rate", self.prefix), RatePart::Ratio)],
        }
    }

    pub fn histogram(&self) -> String {
        self.with_unit(self.prefix.clone())
    }

    /// A trend exposed as a summary (the scrape endpoint's text format):
    /// `stampede_<m>_summary_seconds`, never the histogram's own name, so
    /// no scraper sees one family name with two types.
    pub fn summary(&self) -> String {
        self.with_unit(format!("{}_summary", self.prefix))
    }

    pub fn trend_stat(&self, stat: &TrendStat) -> String {
        let base = format!("{}_{}", self.prefix, stat.suffix());
        match (self.naming, stat) {
            (Naming::K6, _) | (_, TrendStat::Count) => base,
            (Naming::Stampede, _) => self.with_unit(base),
        }
    }
}

/// The labels every series of `tags` carries besides `__name__`: the tags
/// (names made Prometheus-safe), `testid` and `job`, sorted by name.
pub fn base_labels(tags: &TagSet, testid: &str) -> Vec<Label> {
    let mut labels: Vec<Label> = tags
        .iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .map(|(k, v)| Label {
            name: label_name(k),
            value: v.to_string(),
        })
        .collect();
    for (name, value) in [("testid", testid), ("job", JOB)] {
        if !labels.iter().any(|l| l.name == name) {
            labels.push(Label {
                name: name.to_string(),
                value: value.to_string(),
            });
        }
    }
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    labels.dedup_by(|a, b| a.name == b.name);
    labels
}

/// `base` plus `__name__=name`, still sorted (remote-write requires sorted
/// label names).
pub fn with_name(base: &[Label], name: &str) -> Vec<Label> {
    let mut labels = Vec::with_capacity(base.len() + 1);
    let at = base.partition_point(|l| l.name.as_str() < NAME_LABEL);
    labels.extend_from_slice(&base[..at]);
    labels.push(Label {
        name: NAME_LABEL.to_string(),
        value: name.to_string(),
    });
    labels.extend_from_slice(&base[at..]);
    labels
}

/// A tag key as a label name: `[a-zA-Z_][a-zA-Z0-9_]*`, other characters
/// replaced by `_`; names starting with `__` are reserved by Prometheus and
/// get an `x` in front.
pub fn label_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if name.starts_with("__") {
        name.insert(0, 'x');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{MetricKind, MetricRegistry, builtin};

    #[test]
    fn stampede_and_k6_names() {
        let r = MetricRegistry::with_builtins();
        let s = |id| MetricNames::new(Naming::Stampede, r.get(id));
        let k = |id| MetricNames::new(Naming::K6, r.get(id));
        let p99 = TrendStat::Percentile {
            p: 99.0,
            suffix: "p99".into(),
        };
        assert_eq!(s(builtin::HTTP_REQS).counter(), "stampede_http_reqs_total");
        assert_eq!(
            s(builtin::DATA_SENT).counter(),
            "stampede_data_sent_bytes_total"
        );
        assert_eq!(k(builtin::DATA_SENT).counter(), "k6_data_sent_total");
        assert_eq!(s(builtin::VUS).gauge(), "stampede_vus");
        assert_eq!(k(builtin::VUS).gauge(), "k6_vus");
        assert_eq!(s(builtin::GENERATOR_CPU).gauge(), "stampede_generator_cpu");
        assert_eq!(
            s(builtin::GENERATOR_MEMORY).gauge(),
            "stampede_generator_memory_bytes"
        );
        assert_eq!(k(builtin::GENERATOR_MEMORY).gauge(), "k6_generator_memory");
        let rate: Vec<String> = s(builtin::HTTP_REQ_FAILED)
            .rate()
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(
            rate,
            [
                "stampede_http_req_failed_total",
                "stampede_http_req_failed_samples_total",
                "stampede_http_req_failed_ratio"
            ]
        );
        assert_eq!(k(builtin::CHECKS).rate()[0].0, "k6_checks_rate");
        let d = builtin::HTTP_REQ_DURATION;
        assert_eq!(s(d).histogram(), "stampede_http_req_duration_seconds");
        assert_eq!(k(d).histogram(), "k6_http_req_duration_seconds");
        assert_eq!(s(d).summary(), "stampede_http_req_duration_summary_seconds");
        assert_eq!(
            s(d).trend_stat(&p99),
            "stampede_http_req_duration_p99_seconds"
        );
        assert_eq!(
            s(d).trend_stat(&TrendStat::Count),
            "stampede_http_req_duration_count"
        );
        assert_eq!(k(d).trend_stat(&p99), "k6_http_req_duration_p99");
        let mut r = r.clone();
        let plain = r
            .register("cart_size", MetricKind::Trend, ValueType::Default)
            .unwrap();
        let n = MetricNames::new(Naming::Stampede, r.get(plain));
        assert_eq!(n.histogram(), "stampede_cart_size");
        assert_eq!(n.trend_stat(&TrendStat::Avg), "stampede_cart_size_avg");
    }

    #[test]
    fn labels_are_sorted_safe_and_named() {
        let tags = TagSet::new([
            ("status", "200"),
            ("my-tag", "x"),
            ("Zone", "eu"),
            ("__x", "y"),
        ]);
        let base = base_labels(&tags, "t1");
        let names: Vec<&str> = base.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Zone", "job", "my_tag", "status", "testid", "x__x"]);
        let named = with_name(&base, "stampede_http_reqs_total");
        let names: Vec<&str> = named.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Zone", "__name__", "job", "my_tag", "status", "testid", "x__x"
            ]
        );
    }
}
