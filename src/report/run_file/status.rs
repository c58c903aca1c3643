//! Threshold states as the report colours them: each threshold passed,
//! failed or skipped; each endpoint row green, yellow or red against the
//! thresholds that name it.

use crate::metrics::threshold::{Comparison, parse_expression, parse_selector};

use super::{EndpointRow, RunFile, ThresholdEntry};

/// A threshold's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdStatus {
    Passed,
    Failed,
    /// Not judged (its scenario was not selected); does not fail the run.
    Skipped,
}

impl ThresholdStatus {
    pub fn of(entry: &ThresholdEntry) -> Self {
        match entry.state.as_deref() {
            Some("passed") => return ThresholdStatus::Passed,
            Some("failed") => return ThresholdStatus::Failed,
            Some("skipped") => return ThresholdStatus::Skipped,
            _ => {}
        }
        // Files without `state`: judged from the value and the result.
        match (entry.observed, entry.ok) {
            (None, true) => ThresholdStatus::Skipped,
            (_, false) => ThresholdStatus::Failed,
            (Some(_), true) => ThresholdStatus::Passed,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ThresholdStatus::Passed => "passed",
            ThresholdStatus::Failed => "failed",
            ThresholdStatus::Skipped => "skipped",
        }
    }
}

/// An endpoint row's colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RowStatus {
    /// No threshold names this endpoint.
    Unjudged,
    /// Every threshold on it passed with more than `NEAR_LIMIT` to spare.
    Green,
    /// Every threshold passed, at least one within `NEAR_LIMIT` of its limit.
    Yellow,
    /// A threshold on it failed.
    Red,
}

/// How close to its limit a passing value may come and still be green:
/// within 10 % of the limit is a warning.
pub const NEAR_LIMIT: f64 = 0.10;

impl RowStatus {
    pub fn class(self) -> &'static str {
        match self {
            RowStatus::Unjudged => "none",
            RowStatus::Green => "green",
            RowStatus::Yellow => "yellow",
            RowStatus::Red => "red",
        }
    }
}

impl RunFile {
    /// The thresholds whose selector filters on this endpoint's `name`
    /// (and, if given, its `method`).
    pub fn endpoint_thresholds(&self, row: &EndpointRow) -> Vec<&ThresholdEntry> {
        self.thresholds
            .iter()
            .filter(|t| {
                let Ok(selector) = parse_selector(&t.metric) else {
                    return false;
                };
                let tag = |key: &str| {
                    selector
                        .filter
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v)
                };
                tag("name") == Some(&row.name) && tag("method").is_none_or(|m| *m == row.method)
            })
            .collect()
    }

    pub fn endpoint_status(&self, row: &EndpointRow) -> RowStatus {
        self.endpoint_thresholds(row)
            .into_iter()
            .map(threshold_row_status)
            .max()
            .unwrap_or(RowStatus::Unjudged)
    }
}

fn threshold_row_status(entry: &ThresholdEntry) -> RowStatus {
    if ThresholdStatus::of(entry) == ThresholdStatus::Skipped {
        return RowStatus::Unjudged;
    }
    if !entry.ok {
        return RowStatus::Red;
    }
    let Some(observed) = entry.observed else {
        return RowStatus::Unjudged;
    };
    let Ok(expr) = parse_expression(&entry.expression) else {
        return RowStatus::Green;
    };
    let limit = expr.value;
    let margin = limit.abs() * NEAR_LIMIT;
    let near = match expr.comparison {
        Comparison::Lt | Comparison::Le => observed > limit - margin,
        Comparison::Gt | Comparison::Ge => observed < limit + margin,
        Comparison::Eq | Comparison::Ne => false,
    };
    if near {
        RowStatus::Yellow
    } else {
        RowStatus::Green
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(expression: &str, observed: Option<f64>, ok: bool) -> ThresholdEntry {
        ThresholdEntry {
            metric: "http_req_duration{name:credits}".into(),
            expression: expression.into(),
            observed,
            ok,
            state: None,
            skipped_because: None,
            detail: None,
        }
    }

    #[test]
    fn rows_are_green_far_from_the_limit_yellow_near_it_red_past_it() {
        assert_eq!(
            threshold_row_status(&entry("p(95)<200", Some(179.9), true)),
            RowStatus::Green
        );
        assert_eq!(
            threshold_row_status(&entry("p(95)<200", Some(180.1), true)),
            RowStatus::Yellow
        );
        assert_eq!(
            threshold_row_status(&entry("p(95)<200", Some(201.0), false)),
            RowStatus::Red
        );
        assert_eq!(
            threshold_row_status(&entry("rate>0.9", Some(0.95), true)),
            RowStatus::Yellow
        );
        assert_eq!(
            threshold_row_status(&entry("rate>0.9", Some(0.995), true)),
            RowStatus::Green
        );
        assert_eq!(
            threshold_row_status(&entry("p(95)<200", None, true)),
            RowStatus::Unjudged
        );
        assert_eq!(
            ThresholdStatus::of(&entry("p(95)<200", None, true)),
            ThresholdStatus::Skipped
        );
        // stampede fails a threshold that no sample reached.
        assert_eq!(
            ThresholdStatus::of(&entry("p(95)<200", None, false)),
            ThresholdStatus::Failed
        );
    }
}
