//! The time clauses of a threshold: criteria judged on the run's timeline
//! rather than on its totals.
//!
//! ```text
//! p(95)<500 over 30s                  every sliding 30 s window passes
//! p(95)<500 every 30s in 90%          9 in 10 tumbling 30 s windows pass
//! p(95)<300 during stage 2            the statistic over stage 2 only
//! change(p(95))<10% over 30s          last 30 s window vs the first one
//! recovery(rate<0.01)<=5s after stage 2
//! breaking_point(rate<0.05)>=40       load at which the criterion first failed
//! ```
//!
//! Parsing only; the timeline module judges them.

use std::time::Duration;

use super::threshold::{Comparison, expr_error, leading_comparison};
use crate::util::duration::parse_duration;

/// What a threshold with a time clause tests.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeCriterion {
    /// The statistic in every window (or a share of them), or over a span
    /// as one window when `window` is `None`.
    Windows {
        window: Option<Window>,
        /// Share of judged windows that must pass, 0 < share <= 1.
        share: f64,
        span: Option<Span>,
    },
    /// The statistic's change from the first to the last `window` of the
    /// span: in percent of the first when `relative`, else in its units.
    Change {
        window: Duration,
        relative: bool,
        span: Option<Span>,
    },
    /// Seconds from the end of `after` until the condition holds in every
    /// later window up to the end of the next stage.
    Recovery {
        condition: Condition,
        window: Option<Duration>,
        after: Span,
    },
    /// The planned load at the first window where the condition failed.
    BreakingPoint {
        condition: Condition,
        window: Option<Duration>,
        span: Option<Span>,
    },
}

/// A window's width and whether windows slide (by one timeline bucket) or
/// tumble (side by side).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub width: Duration,
    pub tumbling: bool,
}

/// The statistic's own bound inside `recovery(...)` and `breaking_point(...)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Condition {
    pub comparison: Comparison,
    pub value: f64,
}

/// A part of the run: a scenario, one of its stages (1-based, as the
/// report numbers them), or a stage of the only scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub scenario: Option<String>,
    pub stage: Option<usize>,
}

impl Span {
    /// `stage 2`, `ramp`, `ramp stage 2`.
    pub fn describe(&self) -> String {
        match (&self.scenario, self.stage) {
            (Some(s), Some(n)) => format!("{s} stage {n}"),
            (Some(s), None) => s.clone(),
            (None, Some(n)) => format!("stage {n}"),
            (None, None) => "the run".into(),
        }
    }
}

impl TimeCriterion {
    /// The criterion with `scenario` (the selector's `scenario:` filter)
    /// filled in where it names no scenario itself: a threshold on
    /// `http_req_failed{scenario:ramp}` judges ramp's stages and load.
    pub fn with_default_scenario(mut self, scenario: Option<&str>) -> Self {
        let Some(scenario) = scenario else {
            return self;
        };
        let breaking = matches!(self, TimeCriterion::BreakingPoint { .. });
        let span = match &mut self {
            TimeCriterion::Windows { span, .. }
            | TimeCriterion::Change { span, .. }
            | TimeCriterion::BreakingPoint { span, .. } => span,
            TimeCriterion::Recovery { after, .. } => {
                after.scenario.get_or_insert_with(|| scenario.to_string());
                return self;
            }
        };
        match span {
            Some(span) => {
                span.scenario.get_or_insert_with(|| scenario.to_string());
            }
            None if breaking => {
                *span = Some(Span {
                    scenario: Some(scenario.to_string()),
                    stage: None,
                });
            }
            None => {}
        }
        self
    }

    /// The span it names, for validation against the plan's scenarios.
    pub fn span(&self) -> Option<&Span> {
        match self {
            TimeCriterion::Windows { span, .. }
            | TimeCriterion::Change { span, .. }
            | TimeCriterion::BreakingPoint { span, .. } => span.as_ref(),
            TimeCriterion::Recovery { after, .. } => Some(after),
        }
    }
}

/// The function a threshold's core is wrapped in, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrapper {
    None,
    Change,
    Recovery,
    BreakingPoint,
}

/// Splits `text` into its core (`p(95)<500`, `change(p(95))<10%`) and the
/// clause words after it (`over 30s during stage 2`).
pub fn split_clauses(text: &str) -> (String, Vec<&str>) {
    let words: Vec<&str> = text.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| KEYWORDS.contains(w))
        .unwrap_or(words.len());
    (words[..at].concat(), words[at..].to_vec())
}

const KEYWORDS: [&str; 5] = ["over", "every", "in", "during", "after"];

/// `change(p(95))<10%` → (Change, `p(95)`, `<10%`). Cores without a
/// wrapper come back whole with [`Wrapper::None`].
pub fn unwrap_core(core: &str) -> Result<(Wrapper, &str, &str), String> {
    for (name, wrapper) in [
        ("change(", Wrapper::Change),
        ("recovery(", Wrapper::Recovery),
        ("breaking_point(", Wrapper::BreakingPoint),
    ] {
        let Some(rest) = core.strip_prefix(name) else {
            continue;
        };
        let close = matching_paren(rest)
            .ok_or_else(|| expr_error(core, &format!("{name}...) is missing its closing ')'")))?;
        return Ok((wrapper, &rest[..close], &rest[close + 1..]));
    }
    Ok((Wrapper::None, core, ""))
}

/// Index of the ')' closing an already opened '(' in `s`.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `<10%`, `<=5s`, `>=40`: the comparison and the text after it.
pub fn split_comparison<'a>(text: &str, outer: &'a str) -> Result<(Comparison, &'a str), String> {
    let (comparison, len) = leading_comparison(outer).ok_or_else(|| {
        expr_error(
            text,
            "the function needs a comparison after it, e.g. change(p(95))<10%",
        )
    })?;
    Ok((comparison, &outer[len..]))
}

/// The clauses after the core, checked against what the wrapper takes.
pub struct Clauses {
    pub window: Option<Window>,
    pub share: Option<f64>,
    pub during: Option<Span>,
    pub after: Option<Span>,
}

pub fn parse_clauses(text: &str, words: &[&str]) -> Result<Clauses, String> {
    let mut out = Clauses {
        window: None,
        share: None,
        during: None,
        after: None,
    };
    let mut i = 0;
    while i < words.len() {
        let keyword = words[i];
        let arg = |k: usize| {
            words
                .get(i + k)
                .copied()
                .ok_or_else(|| expr_error(text, &format!("{keyword:?} needs a value after it")))
        };
        match keyword {
            "over" | "every" => {
                if out.window.is_some() {
                    return Err(expr_error(text, "one window only (over or every)"));
                }
                let width = parse_duration(arg(1)?)
                    .map_err(|e| expr_error(text, &format!("window: {e}")))?;
                if width.is_zero() {
                    return Err(expr_error(text, "a window must be longer than 0s"));
                }
                out.window = Some(Window {
                    width,
                    tumbling: keyword == "every",
                });
                i += 2;
            }
            "in" => {
                let share = arg(1)?
                    .strip_suffix('%')
                    .and_then(|p| p.parse::<f64>().ok())
                    .filter(|p| *p > 0.0 && *p <= 100.0)
                    .ok_or_else(|| {
                        expr_error(text, "\"in\" takes a share of windows, e.g. in 90%")
                    })?;
                out.share = Some(share / 100.0);
                i += 2;
            }
            "during" | "after" => {
                let (span, used) = parse_span(text, &words[i + 1..])?;
                let slot = if keyword == "during" {
                    &mut out.during
                } else {
                    &mut out.after
                };
                if slot.replace(span).is_some() {
                    return Err(expr_error(text, &format!("{keyword:?} given twice")));
                }
                i += 1 + used;
            }
            other => {
                return Err(expr_error(
                    text,
                    &format!("unexpected {other:?}; clauses are over, every, in, during and after"),
                ));
            }
        }
    }
    Ok(out)
}

/// `stage 2`, `ramp`, `ramp stage 2`, and how many words it took.
fn parse_span(text: &str, words: &[&str]) -> Result<(Span, usize), String> {
    let stage_number = |w: Option<&&str>| {
        w.and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| expr_error(text, "\"stage\" takes a number from 1, e.g. stage 2"))
    };
    match words {
        ["stage", rest @ ..] => Ok((
            Span {
                scenario: None,
                stage: Some(stage_number(rest.first())?),
            },
            2,
        )),
        [scenario, "stage", rest @ ..] if !KEYWORDS.contains(scenario) => Ok((
            Span {
                scenario: Some(scenario.to_string()),
                stage: Some(stage_number(rest.first())?),
            },
            3,
        )),
        [scenario, ..] if !KEYWORDS.contains(scenario) => Ok((
            Span {
                scenario: Some(scenario.to_string()),
                stage: None,
            },
            1,
        )),
        _ => Err(expr_error(
            text,
            "name a part of the run: stage N, a scenario, or SCENARIO stage N",
        )),
    }
}

/// Builds the criterion from the wrapper and its clauses, refusing the
/// clauses a wrapper does not take.
pub fn criterion(
    text: &str,
    wrapper: Wrapper,
    condition: Option<Condition>,
    relative: bool,
    c: Clauses,
) -> Result<Option<TimeCriterion>, String> {
    let refuse = |what: &str, why: &str| Err(expr_error(text, &format!("{what} {why}")));
    let plain_window = c.window.map(|w| w.width);
    match wrapper {
        Wrapper::None => {
            if c.after.is_some() {
                return refuse("\"after\"", "belongs to recovery(...)");
            }
            if c.share.is_some() && c.window.is_none() {
                return refuse("\"in N%\"", "needs windows: add over 30s or every 30s");
            }
            if c.window.is_none() && c.during.is_none() {
                return Ok(None);
            }
            Ok(Some(TimeCriterion::Windows {
                window: c.window,
                share: c.share.unwrap_or(1.0),
                span: c.during,
            }))
        }
        Wrapper::Change => {
            if c.after.is_some() || c.share.is_some() {
                return refuse("change(...)", "takes over and during only");
            }
            let Some(window) = c.window.filter(|w| !w.tumbling) else {
                return refuse(
                    "change(...)",
                    "needs the width of the windows it compares, e.g. over 30s",
                );
            };
            Ok(Some(TimeCriterion::Change {
                window: window.width,
                relative,
                span: c.during,
            }))
        }
        Wrapper::Recovery => {
            if c.during.is_some() || c.share.is_some() || c.window.is_some_and(|w| w.tumbling) {
                return refuse("recovery(...)", "takes after and over only");
            }
            let Some(after) = c.after else {
                return refuse(
                    "recovery(...)",
                    "needs the stage it recovers from, e.g. after stage 2",
                );
            };
            Ok(Some(TimeCriterion::Recovery {
                condition: condition.expect("recovery has a condition"),
                window: plain_window,
                after,
            }))
        }
        Wrapper::BreakingPoint => {
            if c.after.is_some() || c.share.is_some() || c.window.is_some_and(|w| w.tumbling) {
                return refuse("breaking_point(...)", "takes over and during only");
            }
            Ok(Some(TimeCriterion::BreakingPoint {
                condition: condition.expect("breaking_point has a condition"),
                window: plain_window,
                span: c.during,
            }))
        }
    }
}
