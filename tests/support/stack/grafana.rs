#![allow(dead_code)] // each test file uses a different part of these helpers
//! Grafana's template interpolation, as its Prometheus and InfluxDB
//! datasources do it: the time macros (`$__rate_interval`, `$__interval`,
//! `$__range`, `$timeFilter`, ...) and dashboard variables, with the regex
//! escaping and `(a|b)` form Grafana uses for multi-value and "All" choices.

use std::collections::BTreeMap;

use super::dashboards::Backend;

/// The dashboard's time range and the intervals Grafana derives from it.
#[derive(Clone, Copy, Debug)]
pub struct TimeContext {
    pub from_ms: i64,
    pub to_ms: i64,
    /// `$__interval`: range / data points, at least the datasource's minimum.
    pub interval_s: u64,
    /// `$__rate_interval`: max($__interval + scrape, 4 × scrape).
    pub rate_interval_s: u64,
}

/// Panels are ~800 px wide: Grafana asks for about one point per pixel.
const MAX_DATA_POINTS: i64 = 800;

impl TimeContext {
    /// `min_interval_s`/`scrape_interval_s`: the datasource's `timeInterval`.
    pub fn new(from_ms: i64, to_ms: i64, min_interval_s: u64) -> TimeContext {
        let raw = ((to_ms - from_ms) / MAX_DATA_POINTS).max(1);
        let interval_s = (raw as u64).div_ceil(1000).max(min_interval_s).max(1);
        let rate_interval_s = (interval_s + min_interval_s).max(4 * min_interval_s);
        TimeContext {
            from_ms,
            to_ms,
            interval_s,
            rate_interval_s,
        }
    }

    pub fn range_s(&self) -> i64 {
        (self.to_ms - self.from_ms + 999) / 1000
    }

    fn builtin(&self, name: &str, backend: Backend) -> Option<String> {
        Some(match name {
            "__rate_interval" => format!("{}s", self.rate_interval_s),
            "__interval" => format!("{}s", self.interval_s),
            "__interval_ms" => (self.interval_s * 1000).to_string(),
            "__range" => format!("{}s", self.range_s()),
            "__range_s" => self.range_s().to_string(),
            "__range_ms" => (self.to_ms - self.from_ms).to_string(),
            "__from" => self.from_ms.to_string(),
            "__to" => self.to_ms.to_string(),
            "timeFilter" | "__timeFilter" if backend == Backend::InfluxQl => {
                format!("time >= {}ms and time <= {}ms", self.from_ms, self.to_ms)
            }
            _ => return None,
        })
    }
}

/// What is chosen in one dashboard variable.
#[derive(Clone, Debug)]
pub enum Choice {
    /// A single-value variable (no multi, no All).
    Single(String),
    /// "All" of a multi/includeAll variable: its `allValue` verbatim.
    All(String),
    /// Explicit values of a multi variable.
    Values(Vec<String>),
}

/// Names that are not dashboard variables.
pub fn is_builtin(name: &str) -> bool {
    let t = TimeContext::new(0, 1000, 1);
    t.builtin(name, Backend::InfluxQl).is_some() || name == "datasource"
}

/// Every variable name `text` refers to (`$name`, `${name}`, `${name:fmt}`, `[[name]]`).
pub fn references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    scan(text, |name| {
        out.push(name.to_string());
        Some(String::new())
    });
    out
}

/// Substitutes macros and variables; an unknown name is an error.
pub fn interpolate(
    text: &str,
    backend: Backend,
    time: &TimeContext,
    vars: &BTreeMap<String, Choice>,
) -> Result<String, String> {
    let mut unknown = Vec::new();
    let out = scan(text, |name| {
        if let Some(v) = time.builtin(name, backend) {
            return Some(v);
        }
        match vars.get(name) {
            Some(choice) => Some(format_choice(choice, backend)),
            None => {
                unknown.push(name.to_string());
                None
            }
        }
    });
    if unknown.is_empty() {
        Ok(out)
    } else {
        Err(format!("undefined variable(s) {unknown:?} in {text:?}"))
    }
}

fn format_choice(choice: &Choice, backend: Backend) -> String {
    match choice {
        Choice::Single(v) => match backend {
            // prometheusRegularEscape: the value sits in a "..." string.
            Backend::Prometheus => v.replace('\\', "\\\\").replace('\'', "\\'"),
            Backend::InfluxQl => v.clone(),
        },
        Choice::All(all) => all.clone(),
        Choice::Values(values) => {
            let escaped: Vec<String> = values.iter().map(|v| regex_escape(v, backend)).collect();
            if escaped.len() == 1 {
                escaped.into_iter().next().unwrap()
            } else {
                format!("({})", escaped.join("|"))
            }
        }
    }
}

/// Grafana's escaping of one value of a multi-value variable.
pub fn regex_escape(value: &str, backend: Backend) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match backend {
            // prometheusSpecialRegexEscape: `\\` + char inside a "..." PromQL
            // string is `\` + char in the regex.
            Backend::Prometheus => match c {
                '\\' => out.push_str("\\\\\\\\"),
                '$' | '^' | '*' | '{' | '}' | '[' | ']' | '\'' | '+' | '?' | '.' | '(' | ')'
                | '|' => {
                    out.push_str("\\\\");
                    out.push(c);
                }
                _ => out.push(c),
            },
            // InfluxQL regexes sit between slashes.
            Backend::InfluxQl => {
                if "\\^$*+?.()|[]{}/".contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out
}

/// Walks `text`, replacing each variable reference with `replace(name)`
/// (None keeps the reference as written).
fn scan(text: &str, mut replace: impl FnMut(&str) -> Option<String>) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        let rest = &text[i..];
        let (name, len) = if rest.starts_with("${") {
            match rest.find('}') {
                Some(end) => {
                    let inner = &rest[2..end];
                    (
                        Some(inner.split(':').next().unwrap_or("").to_string()),
                        end + 1,
                    )
                }
                None => (None, 1),
            }
        } else if rest.starts_with("[[") {
            match rest.find("]]") {
                Some(end) if rest[2..end].bytes().all(ident) && end > 2 => {
                    (Some(rest[2..end].to_string()), end + 2)
                }
                _ => (None, 1),
            }
        } else if bytes[i] == b'$' {
            let n = rest[1..].bytes().take_while(|b| ident(*b)).count();
            if n > 0 && !rest.as_bytes()[1].is_ascii_digit() {
                (Some(rest[1..1 + n].to_string()), 1 + n)
            } else {
                (None, 1)
            }
        } else {
            (None, rest.chars().next().map_or(1, char::len_utf8))
        };
        match name.and_then(|n| replace(&n).map(|v| (n, v))) {
            Some((_, value)) => out.push_str(&value),
            None => out.push_str(&text[i..i + len]),
        }
        i += len;
    }
    out
}
