//! The validated `sse` step.

use std::fmt;
use std::time::Duration;

use super::condition::{Condition, Extractor};
use super::plan::{NamedCheck, RequestStep, StatusSet, VarSlot};

/// Open an event stream and read it until it ends.
#[derive(Debug)]
pub struct SseStep {
    /// Method, URL, headers, body, `timeout` (the whole stream), name, tags
    /// and expected statuses; its checks, extract and record are empty.
    pub request: RequestStep,
    /// Ends the stream when an event's data is exactly this; not counted.
    pub until_data: Option<String>,
    /// Ends the stream when an event of this type arrives; not counted.
    pub until_event: Option<String>,
    pub max_events: Option<u64>,
    /// Listen this long, then close (a normal end).
    pub hold: Option<Duration>,
    pub checks: Vec<SseCheck>,
    pub extract: Vec<SseExtract>,
    /// Bound on one line and on one event's data.
    pub max_event_bytes: usize,
}

impl SseStep {
    /// Whether checks or extractions look at every event (not only the last).
    pub fn reads_any_event(&self) -> bool {
        self.checks
            .iter()
            .any(|c| matches!(c.condition, SseCondition::Data(EventPick::Any, _)))
            || self.extract.iter().any(|e| e.pick == EventPick::Any)
    }
}

/// Which event a data condition or an extraction reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventPick {
    /// The last counted event.
    Last,
    /// Any counted event: a condition holds when one event satisfies it; an
    /// extraction takes the first value found.
    Any,
}

impl EventPick {
    pub fn as_str(self) -> &'static str {
        match self {
            EventPick::Last => "last",
            EventPick::Any => "any",
        }
    }
}

/// A check on a whole stream.
pub type SseCheck = NamedCheck<SseCondition>;

#[derive(Debug)]
pub enum SseCondition {
    Status(StatusSet),
    /// The stream failed with this error code.
    ErrorCode(String),
    /// The number of counted events compared with a number.
    Events(CountOp, u64),
    /// A body condition (`BodyContains` or a JSON subject) on event data.
    Data(EventPick, Condition),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl CountOp {
    pub fn holds(self, actual: u64, expected: u64) -> bool {
        match self {
            CountOp::Eq => actual == expected,
            CountOp::Ne => actual != expected,
            CountOp::Lt => actual < expected,
            CountOp::Lte => actual <= expected,
            CountOp::Gt => actual > expected,
            CountOp::Gte => actual >= expected,
        }
    }

    /// `10`, `== 10`, `>= 10`, `<5`, ... (no operator means equal).
    pub fn parse(text: &str) -> Option<(CountOp, u64)> {
        let text = text.trim();
        let ops = [
            ("==", CountOp::Eq),
            ("!=", CountOp::Ne),
            ("<=", CountOp::Lte),
            (">=", CountOp::Gte),
            ("<", CountOp::Lt),
            (">", CountOp::Gt),
            ("=", CountOp::Eq),
        ];
        let (op, rest) = ops
            .iter()
            .find_map(|(sign, op)| text.strip_prefix(sign).map(|rest| (*op, rest)))
            .unwrap_or((CountOp::Eq, text));
        Some((op, rest.trim().parse().ok()?))
    }
}

impl fmt::Display for CountOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CountOp::Eq => "==",
            CountOp::Ne => "!=",
            CountOp::Lt => "<",
            CountOp::Lte => "<=",
            CountOp::Gt => ">",
            CountOp::Gte => ">=",
        })
    }
}

/// A VU variable taken from an event's data.
#[derive(Debug)]
pub struct SseExtract {
    pub slot: VarSlot,
    pub pick: EventPick,
    /// `Json` or `Regex`, applied to the event data.
    pub source: Extractor,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_expressions() {
        assert_eq!(CountOp::parse("10"), Some((CountOp::Eq, 10)));
        assert_eq!(CountOp::parse(">= 10"), Some((CountOp::Gte, 10)));
        assert_eq!(CountOp::parse("<5"), Some((CountOp::Lt, 5)));
        assert_eq!(CountOp::parse("!= 0"), Some((CountOp::Ne, 0)));
        assert_eq!(CountOp::parse("== 3"), Some((CountOp::Eq, 3)));
        assert_eq!(CountOp::parse(">= ten"), None);
        assert_eq!(CountOp::parse("-1"), None);
        assert!(CountOp::Gte.holds(10, 10));
        assert!(!CountOp::Gt.holds(10, 10));
    }
}
