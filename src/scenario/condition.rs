//! Conditions (checks, `when`, `until`) and extractors, evaluated against a
//! response. Everything here is compiled at validation: regexes, JSON paths
//! and header names are ready, and templates only need rendering.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt::Write as _;
use std::time::Duration;

use http::{HeaderMap, HeaderName};
use regex::Regex;

use super::jsonpath::JsonPath;
use super::plan::StatusSet;
use super::template::{Template, TemplateScope};

/// The parts of a response that conditions and extractors read. The body is
/// parsed as JSON at most once, on first use.
pub struct ResponseView<'a> {
    /// 0 when no response arrived.
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub duration: Duration,
    /// Why the exchange failed (`timeout`, `refused`, ...); `None` when it did not.
    pub error_code: Option<&'static str>,
    json: OnceCell<Option<serde_json::Value>>,
}

impl<'a> ResponseView<'a> {
    pub fn new(status: u16, headers: &'a HeaderMap, body: &'a [u8], duration: Duration) -> Self {
        ResponseView {
            status,
            headers,
            body,
            duration,
            error_code: None,
            json: OnceCell::new(),
        }
    }

    /// The same view of an exchange that failed with `code` (when `Some`).
    pub fn with_error_code(mut self, code: Option<&'static str>) -> Self {
        self.error_code = code;
        self
    }

    /// The body as JSON; `None` when it is not valid JSON.
    pub fn json(&self) -> Option<&serde_json::Value> {
        self.json
            .get_or_init(|| serde_json::from_slice(self.body).ok())
            .as_ref()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.body)
    }

    /// All values of a header, joined with ", ".
    fn header(&self, name: &HeaderName) -> Option<String> {
        let values: Vec<Cow<'_, str>> = self
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The value of a cookie set by this response (the last `Set-Cookie` for that name).
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .rev()
            .filter_map(|v| {
                let text = String::from_utf8_lossy(v.as_bytes());
                let pair = text.split(';').next()?;
                let (k, val) = pair.split_once('=')?;
                (k.trim() == name).then(|| val.trim().trim_matches('"').to_string())
            })
            .next()
    }
}

/// What a subject-based condition looks at.
#[derive(Debug)]
pub enum Subject {
    Json(JsonPath),
    Header(HeaderName),
    Cookie(String),
    /// A value of the VU (`{{ NAME }}` as a template); missing while unset.
    Var(Template),
}

/// Numeric comparison of a subject with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Lt,
    Lte,
    Gt,
    Gte,
}

/// One test of a subject's value. Every operator except `Exists(false)`
/// fails when the subject is missing.
#[derive(Debug)]
pub enum Operator {
    Exists(bool),
    /// Equal as text, or as numbers when both sides are numbers.
    Equals(Template),
    NotEquals(Template),
    Contains(Template),
    NotContains(Template),
    Matches(Regex),
    Compare(Compare, Template),
    In(Vec<Template>),
}

/// A condition on one response.
#[derive(Debug)]
pub enum Condition {
    /// Status 0 is "no response arrived".
    Status(StatusSet),
    /// The exchange failed with this error code (`timeout`, `sse_timeout`, ...).
    ErrorCode(String),
    /// Holds when the inner condition does not.
    Not(Box<Condition>),
    /// The response took less than this; the text is as written (`500ms`).
    MaxDuration(Duration, String),
    /// The body contains the text (`body_contains`), or does not
    /// (`body_not_contains`).
    BodyContains(BodyText),
    BodyMatches(Regex),
    /// A subject with operators that must all hold.
    Subject {
        subject: Subject,
        operators: Vec<Operator>,
    },
}

/// The text a body must (`present`) or must not contain.
#[derive(Debug)]
pub struct BodyText {
    pub needle: Template,
    pub present: bool,
}

impl Condition {
    /// `body_contains: TEXT`.
    pub fn body_contains(needle: Template) -> Self {
        Condition::BodyContains(BodyText {
            needle,
            present: true,
        })
    }

    /// `body_not_contains: TEXT`.
    pub fn body_not_contains(needle: Template) -> Self {
        Condition::BodyContains(BodyText {
            needle,
            present: false,
        })
    }
}

/// Where an extracted value comes from.
#[derive(Debug)]
pub enum Extractor {
    Json(JsonPath),
    Header(HeaderName),
    /// Capture group 1, else the whole match.
    Regex(Regex),
    Cookie(String),
}

fn render(t: &Template, scope: &dyn TemplateScope) -> Option<String> {
    t.render_to_string(scope).ok()
}

fn same(actual: &str, expected: &str) -> bool {
    actual == expected
        || matches!(
            (actual.trim().parse::<f64>(), expected.trim().parse::<f64>()),
            (Ok(a), Ok(b)) if a == b
        )
}

impl Condition {
    pub fn evaluate(&self, response: &ResponseView<'_>, scope: &dyn TemplateScope) -> bool {
        match self {
            Condition::Status(set) => set.contains(response.status),
            Condition::ErrorCode(code) => response.error_code == Some(code.as_str()),
            Condition::Not(inner) => !inner.evaluate(response, scope),
            Condition::MaxDuration(limit, _) => response.duration < *limit,
            // A needle that cannot be rendered fails either way.
            Condition::BodyContains(body) => render(&body.needle, scope)
                .is_some_and(|needle| response.text().contains(needle.as_str()) == body.present),
            Condition::BodyMatches(re) => re.is_match(&response.text()),
            Condition::Subject { subject, operators } => {
                let (text, number) = match subject {
                    Subject::Json(path) => match response.json().and_then(|doc| path.lookup(doc)) {
                        Some(found) => (Some(found.to_text()), found.as_f64()),
                        None => (None, None),
                    },
                    Subject::Header(name) => (response.header(name), None),
                    Subject::Cookie(name) => (response.cookie(name), None),
                    Subject::Var(template) => (render(template, scope), None),
                };
                let number = number.or_else(|| text.as_deref().and_then(|t| t.trim().parse().ok()));
                operators
                    .iter()
                    .all(|op| apply(op, text.as_deref(), number, scope))
            }
        }
    }

    /// The default check name, e.g. `status is 200`, `json data.status equals completed`.
    pub fn describe(&self) -> String {
        match self {
            Condition::Status(set) => format!("status is {}", describe_statuses(set)),
            Condition::ErrorCode(code) => format!("error_code is {code}"),
            Condition::Not(inner) => format!("not ({})", inner.describe()),
            Condition::MaxDuration(_, text) => format!("duration < {text}"),
            Condition::BodyContains(BodyText {
                needle,
                present: true,
            }) => format!("body contains {}", needle.source()),
            Condition::BodyContains(BodyText { needle, .. }) => {
                format!("body does not contain {}", needle.source())
            }
            Condition::BodyMatches(re) => format!("body matches {}", re.as_str()),
            Condition::Subject { subject, operators } => {
                let mut out = match subject {
                    Subject::Json(path) => format!("json {path}"),
                    Subject::Header(name) => format!("header {name}"),
                    Subject::Cookie(name) => format!("cookie {name}"),
                    Subject::Var(template) => format!("var {}", var_name(template)),
                };
                for (i, op) in operators.iter().enumerate() {
                    out.push_str(if i == 0 { " " } else { " and " });
                    describe_operator(op, &mut out);
                }
                out
            }
        }
    }

    /// True when evaluating reads the body.
    pub fn needs_body(&self) -> bool {
        match self {
            Condition::Not(inner) => inner.needs_body(),
            _ => matches!(
                self,
                Condition::BodyContains(_)
                    | Condition::BodyMatches(_)
                    | Condition::Subject {
                        subject: Subject::Json(_),
                        ..
                    }
            ),
        }
    }

    /// True when evaluating reads response headers (cookies included).
    pub fn needs_headers(&self) -> bool {
        match self {
            Condition::Not(inner) => inner.needs_headers(),
            Condition::Subject { subject, .. } => {
                matches!(subject, Subject::Header(_) | Subject::Cookie(_))
            }
            Condition::Status(_)
            | Condition::ErrorCode(_)
            | Condition::MaxDuration(..)
            | Condition::BodyContains(_)
            | Condition::BodyMatches(_) => false,
        }
    }

    /// True when evaluating looks at a response at all (`var` alone does
    /// not): an `if:` on the response needs a request before it.
    pub fn needs_response(&self) -> bool {
        match self {
            Condition::Not(inner) => inner.needs_response(),
            Condition::Subject {
                subject: Subject::Var(_),
                ..
            } => false,
            _ => true,
        }
    }
}

fn apply(
    op: &Operator,
    text: Option<&str>,
    number: Option<f64>,
    scope: &dyn TemplateScope,
) -> bool {
    if let Operator::Exists(want) = op {
        return text.is_some() == *want;
    }
    let Some(text) = text else { return false };
    match op {
        Operator::Exists(_) => unreachable!("handled above"),
        Operator::Equals(t) => render(t, scope).is_some_and(|e| same(text, &e)),
        Operator::NotEquals(t) => render(t, scope).is_some_and(|e| !same(text, &e)),
        Operator::Contains(t) => render(t, scope).is_some_and(|e| text.contains(e.as_str())),
        Operator::NotContains(t) => render(t, scope).is_some_and(|e| !text.contains(e.as_str())),
        Operator::Matches(re) => re.is_match(text),
        Operator::Compare(cmp, t) => {
            let expected = render(t, scope).and_then(|e| e.trim().parse::<f64>().ok());
            match (number, expected) {
                (Some(a), Some(b)) => match cmp {
                    Compare::Lt => a < b,
                    Compare::Lte => a <= b,
                    Compare::Gt => a > b,
                    Compare::Gte => a >= b,
                },
                _ => false,
            }
        }
        Operator::In(options) => options
            .iter()
            .any(|t| render(t, scope).is_some_and(|e| same(text, &e))),
    }
}

/// `mode` for the template `{{ mode }}` a `var: mode` subject compiles to.
fn var_name(template: &Template) -> &str {
    let source = template.source();
    source
        .strip_prefix("{{")
        .and_then(|s| s.strip_suffix("}}"))
        .map_or(source, str::trim)
}

fn describe_statuses(set: &StatusSet) -> String {
    let parts: Vec<String> = set
        .0
        .iter()
        .map(|(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect();
    parts.join(" or ")
}

fn describe_operator(op: &Operator, out: &mut String) {
    let _ = match op {
        Operator::Exists(true) => write!(out, "exists"),
        Operator::Exists(false) => write!(out, "does not exist"),
        Operator::Equals(t) => write!(out, "equals {}", t.source()),
        Operator::NotEquals(t) => write!(out, "does not equal {}", t.source()),
        Operator::Contains(t) => write!(out, "contains {}", t.source()),
        Operator::NotContains(t) => write!(out, "does not contain {}", t.source()),
        Operator::Matches(re) => write!(out, "matches {}", re.as_str()),
        Operator::Compare(cmp, t) => {
            let sign = match cmp {
                Compare::Lt => "<",
                Compare::Lte => "<=",
                Compare::Gt => ">",
                Compare::Gte => ">=",
            };
            write!(out, "{sign} {}", t.source())
        }
        Operator::In(options) => {
            let list: Vec<&str> = options.iter().map(Template::source).collect();
            write!(out, "in [{}]", list.join(", "))
        }
    };
}

impl Extractor {
    /// The extracted text: JSON strings without quotes, numbers and booleans
    /// as text, objects and arrays as compact JSON; `None` when absent.
    pub fn extract(&self, response: &ResponseView<'_>) -> Option<String> {
        match self {
            Extractor::Json(path) => response
                .json()
                .and_then(|doc| path.lookup(doc))
                .map(|f| f.to_text()),
            Extractor::Header(name) => response.header(name),
            Extractor::Regex(re) => {
                let text = response.text();
                let caps = re.captures(&text)?;
                caps.get(1)
                    .or_else(|| caps.get(0))
                    .map(|m| m.as_str().to_string())
            }
            Extractor::Cookie(name) => response.cookie(name),
        }
    }

    /// e.g. `json queue.depth`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Extractor::Json(path) => format!("json {path}"),
            Extractor::Header(name) => format!("header {name}"),
            Extractor::Regex(re) => format!("regex {}", re.as_str()),
            Extractor::Cookie(name) => format!("cookie {name}"),
        }
    }

    pub fn needs_body(&self) -> bool {
        matches!(self, Extractor::Json(_) | Extractor::Regex(_))
    }
}

#[cfg(test)]
#[path = "condition_tests.rs"]
mod tests;
