//! Threshold expressions in k6 syntax: `p(95)<500`, `rate<0.01`, `count>=100`,
//! `avg<200`, `med<=150`, `max<1000`, `min>0`, `value<10`, and metric
//! selectors with tag filters: `http_req_duration{name:credits,method:GET}`.
//! Parsing lives here; evaluation against a summary lives in `threshold_eval`.

use std::time::Duration;

use super::metric::MetricKind;

/// Which statistic of a metric a threshold tests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aggregation {
    Avg,
    Min,
    Max,
    Med,
    Count,
    Rate,
    /// Gauge value (k6's `value`).
    Value,
    /// Percentile 0..=100, e.g. `p(99.9)`.
    Percentile(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Comparison {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Comparison::Lt => left < right,
            Comparison::Le => left <= right,
            Comparison::Gt => left > right,
            Comparison::Ge => left >= right,
            Comparison::Eq => left == right,
            Comparison::Ne => left != right,
        }
    }
}

/// One parsed expression such as `p(95)<500`.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdExpr {
    /// The text as the user wrote it, for messages and the summary.
    pub source: String,
    pub aggregation: Aggregation,
    pub comparison: Comparison,
    pub value: f64,
}

/// A metric with optional tag filter: `http_req_duration{name:credits}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricSelector {
    pub source: String,
    pub metric: String,
    pub filter: Vec<(String, String)>,
}

/// One threshold as the engine uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub selector: MetricSelector,
    pub expr: ThresholdExpr,
    /// Stop the whole test as soon as this threshold fails.
    pub abort_on_fail: bool,
    /// With `abort_on_fail`: do not evaluate before this much test time has passed.
    pub delay_abort_eval: Duration,
    /// The kind of the selected metric, resolved at validation. It decides
    /// what the metric is worth when no sample matched: a counter that never
    /// fired counted 0, while a trend, rate or gauge without samples has no
    /// value to compare.
    pub kind: MetricKind,
    /// The scenario the selector names (`{scenario:NAME}`) when `--scenario`
    /// left it out of this run: nothing recorded can match, so the
    /// threshold is listed as skipped, never judged, and never fails the run.
    pub unselected_scenario: Option<String>,
}

/// Parses `p(95)<500` and friends. The error says what was expected.
pub fn parse_expression(text: &str) -> Result<ThresholdExpr, String> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let op_at = s
        .find(['<', '>', '=', '!'])
        .ok_or_else(|| expr_error(text, "no comparison operator (<, <=, >, >=, ==, !=)"))?;
    let (left, rest) = s.split_at(op_at);
    let (comparison, op_len) = match rest.as_bytes() {
        [b'<', b'=', ..] => (Comparison::Le, 2),
        [b'>', b'=', ..] => (Comparison::Ge, 2),
        [b'=', b'=', ..] => (Comparison::Eq, 2),
        [b'!', b'=', ..] => (Comparison::Ne, 2),
        [b'<', ..] => (Comparison::Lt, 1),
        [b'>', ..] => (Comparison::Gt, 1),
        [b'=', ..] => (Comparison::Eq, 1),
        _ => return Err(expr_error(text, "unknown comparison operator")),
    };
    let right = &rest[op_len..];
    let value: f64 = right
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| expr_error(text, &format!("{right:?} is not a number")))?;
    let aggregation = match left {
        "avg" => Aggregation::Avg,
        "min" => Aggregation::Min,
        "max" => Aggregation::Max,
        "med" => Aggregation::Med,
        "count" => Aggregation::Count,
        "rate" => Aggregation::Rate,
        "value" => Aggregation::Value,
        _ => {
            let p = left
                .strip_prefix("p(")
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| {
                    expr_error(
                        text,
                        &format!("unknown statistic {left:?}; use avg, min, max, med, count, rate, value or p(N)"),
                    )
                })?;
            let p: f64 = p
                .parse()
                .ok()
                .filter(|p| (0.0..=100.0).contains(p))
                .ok_or_else(|| expr_error(text, "percentile must be a number from 0 to 100"))?;
            Aggregation::Percentile(p)
        }
    };
    Ok(ThresholdExpr {
        source: text.trim().to_string(),
        aggregation,
        comparison,
        value,
    })
}

fn expr_error(text: &str, why: &str) -> String {
    format!("invalid threshold {text:?}: {why}; expected e.g. \"p(95)<500\" or \"rate<0.01\"")
}

/// Parses `metric` or `metric{tag:value,tag2:value2}`.
pub fn parse_selector(text: &str) -> Result<MetricSelector, String> {
    let s = text.trim();
    let (metric, filter) = match s.find('{') {
        None => (s, Vec::new()),
        Some(open) => {
            let inner = s[open + 1..].strip_suffix('}').ok_or_else(|| {
                format!("invalid metric selector {text:?}: missing closing '}}'; expected e.g. http_req_duration{{name:credits}}")
            })?;
            let mut filter = Vec::new();
            for pair in inner.split(',').filter(|p| !p.trim().is_empty()) {
                let (k, v) = pair.split_once(':').ok_or_else(|| {
                    format!("invalid metric selector {text:?}: tag filter {pair:?} needs the form key:value")
                })?;
                filter.push((k.trim().to_string(), v.trim().to_string()));
            }
            (&s[..open], filter)
        }
    };
    let valid = metric
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && metric
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "invalid metric name {metric:?} in threshold key {text:?}"
        ));
    }
    Ok(MetricSelector {
        source: s.to_string(),
        metric: metric.to_string(),
        filter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k6_expressions() {
        let e = parse_expression("p(95)<500").unwrap();
        assert_eq!(e.aggregation, Aggregation::Percentile(95.0));
        assert_eq!(e.comparison, Comparison::Lt);
        assert_eq!(e.value, 500.0);
        let e = parse_expression(" rate >= 0.99 ").unwrap();
        assert_eq!(
            (e.aggregation, e.comparison, e.value),
            (Aggregation::Rate, Comparison::Ge, 0.99)
        );
        assert_eq!(
            parse_expression("p(99.9)<=2000").unwrap().aggregation,
            Aggregation::Percentile(99.9)
        );
        assert_eq!(
            parse_expression("count==10").unwrap().comparison,
            Comparison::Eq
        );
        assert_eq!(
            parse_expression("med!=1").unwrap().comparison,
            Comparison::Ne
        );
    }

    #[test]
    fn rejects_bad_expressions_with_a_hint() {
        let err = parse_expression("p95<500").unwrap_err();
        assert!(err.contains("unknown statistic \"p95\""), "{err}");
        assert!(
            parse_expression("p(95)<fast")
                .unwrap_err()
                .contains("\"fast\" is not a number")
        );
        assert!(
            parse_expression("avg 500")
                .unwrap_err()
                .contains("no comparison operator")
        );
        assert!(
            parse_expression("p(101)<5")
                .unwrap_err()
                .contains("0 to 100")
        );
    }

    #[test]
    fn parses_selectors_with_filters() {
        let s = parse_selector("http_req_duration{name:credits, method:GET}").unwrap();
        assert_eq!(s.metric, "http_req_duration");
        assert_eq!(
            s.filter,
            vec![
                ("name".into(), "credits".into()),
                ("method".into(), "GET".into())
            ]
        );
        assert!(parse_selector("http_req_duration{name}").is_err());
        assert!(parse_selector("http req").is_err());
    }
}
