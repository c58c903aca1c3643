//! Threshold expressions in k6 syntax: `p(95)<500`, `rate<0.01`, `count>=100`,
//! `avg<200`, `med<=150`, `max<1000`, `min>0`, `value<10`, and metric
//! selectors with tag filters: `http_req_duration{name:credits,method:GET}`.
//! Parsing lives here; evaluation against a summary lives in `threshold_eval`.

use std::time::Duration;

use super::metric::MetricKind;
use super::threshold_time::{
    Condition, TimeCriterion, Wrapper, criterion, parse_clauses, split_clauses, split_comparison,
    unwrap_core,
};
use crate::util::duration::parse_duration;

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
    /// The bound: in the statistic's units, or for a time criterion in its
    /// own (percent or units of change, seconds of recovery, load).
    pub value: f64,
    /// Judged on the timeline instead of the totals when set.
    pub time: Option<TimeCriterion>,
}

/// A metric with optional tag filter: `http_req_duration{name:credits}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricSelector {
    pub source: String,
    pub metric: String,
    pub filter: Vec<(String, String)>,
}

impl MetricSelector {
    /// The scenario its `scenario:` filter names, if any.
    pub fn scenario(&self) -> Option<&str> {
        self.filter
            .iter()
            .find(|(k, _)| k == "scenario")
            .map(|(_, v)| v.as_str())
    }
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

/// Parses `p(95)<500` and friends, with an optional time clause
/// (`p(95)<500 over 30s`; see [`super::threshold_time`]). The error says
/// what was expected.
pub fn parse_expression(text: &str) -> Result<ThresholdExpr, String> {
    let (core, words) = split_clauses(text);
    let (wrapper, inner, outer) = unwrap_core(&core)?;
    let clauses = parse_clauses(text, &words)?;
    let (aggregation, comparison, value, condition, relative) = match wrapper {
        Wrapper::None => {
            let (aggregation, comparison, value) = parse_core(text, inner)?;
            (aggregation, comparison, value, None, false)
        }
        Wrapper::Change => {
            let aggregation = parse_statistic(text, inner)?;
            let (comparison, rest) = split_comparison(text, outer)?;
            let relative = rest.ends_with('%');
            let value = parse_number(text, rest.trim_end_matches('%'))?;
            (aggregation, comparison, value, None, relative)
        }
        Wrapper::Recovery | Wrapper::BreakingPoint => {
            let (aggregation, inner_cmp, bound) = parse_core(text, inner)?;
            let (comparison, rest) = split_comparison(text, outer)?;
            let value = if wrapper == Wrapper::Recovery {
                parse_duration(rest)
                    .map_err(|e| expr_error(text, &format!("recovery time: {e}")))?
                    .as_secs_f64()
            } else {
                parse_number(text, rest)?
            };
            let condition = Condition {
                comparison: inner_cmp,
                value: bound,
            };
            (aggregation, comparison, value, Some(condition), false)
        }
    };
    let time = criterion(text, wrapper, condition, relative, clauses)?;
    Ok(ThresholdExpr {
        source: text.trim().to_string(),
        aggregation,
        comparison,
        value,
        time,
    })
}

/// `p(95)<500` with whitespace removed: statistic, comparison, number.
fn parse_core(text: &str, s: &str) -> Result<(Aggregation, Comparison, f64), String> {
    let op_at = s
        .find(['<', '>', '=', '!'])
        .ok_or_else(|| expr_error(text, "no comparison operator (<, <=, >, >=, ==, !=)"))?;
    let (left, rest) = s.split_at(op_at);
    let (comparison, op_len) = match (leading_comparison(rest), rest.as_bytes()) {
        (Some(found), _) => found,
        // k6 also takes a single `=`.
        (None, [b'=', ..]) => (Comparison::Eq, 1),
        _ => return Err(expr_error(text, "unknown comparison operator")),
    };
    let value = parse_number(text, &rest[op_len..])?;
    Ok((parse_statistic(text, left)?, comparison, value))
}

/// The operator `s` starts with and its length in bytes.
pub(super) fn leading_comparison(s: &str) -> Option<(Comparison, usize)> {
    Some(match s.as_bytes() {
        [b'<', b'=', ..] => (Comparison::Le, 2),
        [b'>', b'=', ..] => (Comparison::Ge, 2),
        [b'=', b'=', ..] => (Comparison::Eq, 2),
        [b'!', b'=', ..] => (Comparison::Ne, 2),
        [b'<', ..] => (Comparison::Lt, 1),
        [b'>', ..] => (Comparison::Gt, 1),
        _ => return None,
    })
}

fn parse_number(text: &str, right: &str) -> Result<f64, String> {
    right
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| expr_error(text, &format!("{right:?} is not a number")))
}

/// `avg`, `p(99.9)`, ...
fn parse_statistic(text: &str, left: &str) -> Result<Aggregation, String> {
    Ok(match left {
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
    })
}

pub(super) fn expr_error(text: &str, why: &str) -> String {
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
    fn parses_time_clauses() {
        use super::super::threshold_time::{Span, TimeCriterion, Window};
        let e = parse_expression("p(95) < 500 over 30s").unwrap();
        assert_eq!(e.source, "p(95) < 500 over 30s");
        assert_eq!(
            (e.aggregation, e.comparison, e.value),
            (Aggregation::Percentile(95.0), Comparison::Lt, 500.0)
        );
        assert_eq!(
            e.time,
            Some(TimeCriterion::Windows {
                window: Some(Window {
                    width: Duration::from_secs(30),
                    tumbling: false
                }),
                share: 1.0,
                span: None
            })
        );
        let e = parse_expression("rate<0.01 every 1m in 90% during ramp stage 2").unwrap();
        assert_eq!(
            e.time,
            Some(TimeCriterion::Windows {
                window: Some(Window {
                    width: Duration::from_secs(60),
                    tumbling: true
                }),
                share: 0.9,
                span: Some(Span {
                    scenario: Some("ramp".into()),
                    stage: Some(2)
                })
            })
        );
        let e = parse_expression("change(p(99))<10% over 30s during stage 3").unwrap();
        assert_eq!((e.comparison, e.value), (Comparison::Lt, 10.0));
        assert!(matches!(
            e.time,
            Some(TimeCriterion::Change { relative: true, .. })
        ));
        assert!(matches!(
            parse_expression("change(avg)<=20 over 10s").unwrap().time,
            Some(TimeCriterion::Change {
                relative: false,
                ..
            })
        ));
        let e = parse_expression("recovery(rate<0.01)<=5s after stage 2").unwrap();
        assert_eq!(
            (e.aggregation, e.comparison, e.value),
            (Aggregation::Rate, Comparison::Le, 5.0)
        );
        let Some(TimeCriterion::Recovery { condition, .. }) = e.time else {
            panic!("{e:?}")
        };
        assert_eq!(
            (condition.comparison, condition.value),
            (Comparison::Lt, 0.01)
        );
        let e = parse_expression("breaking_point(p(95)<800)>=200 over 5s").unwrap();
        assert_eq!(e.value, 200.0);
        // Whole-run expressions have no time clause.
        assert_eq!(parse_expression("p(95)<500").unwrap().time, None);
    }

    #[test]
    fn rejects_time_clauses_that_do_not_fit() {
        for (text, why) in [
            ("p(95)<500 over", "\"over\" needs a value after it"),
            ("p(95)<500 over fast", "window:"),
            ("p(95)<500 over 0s", "longer than 0s"),
            ("p(95)<500 in 90%", "needs windows"),
            ("p(95)<500 after stage 2", "belongs to recovery"),
            ("change(p(95))<10%", "needs the width"),
            (
                "recovery(rate<0.01)<=5s",
                "needs the stage it recovers from",
            ),
            ("recovery(rate<0.01)<=5s after stage 0", "a number from 1"),
            ("breaking_point(rate<0.01)", "needs a comparison"),
            ("change(p(95)<10% over 5s", "missing its closing"),
            ("p(95)<500 over 5s sometimes", "unexpected \"sometimes\""),
        ] {
            let err = parse_expression(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
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
