//! `{{ expr }}` templates, compiled once at validation.
//!
//! Expressions: `NAME` (a VU variable when one by that name is extracted
//! anywhere in the file, else an environment value, inlined at compile time),
//! `feed.column` (the VU's current row of a data feed), `__VU`, `__ITER`,
//! `__SCENARIO`, and the functions `uuid()`, `random_int(a, b)` (inclusive),
//! `unix_time()` (seconds) and `unix_time_ms()`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::plan::{FeedId, VarSlot};
use super::suggest;

/// What a template reads at render time; implemented by the engine's VU.
pub trait TemplateScope {
    fn var(&self, slot: VarSlot) -> Option<&str>;
    fn data(&self, feed: FeedId, column: usize) -> Option<&str>;
    /// 1-based VU id.
    fn vu_id(&self) -> u64;
    /// 0-based iteration of this VU.
    fn iteration(&self) -> u64;
    fn scenario(&self) -> &str;
}

/// A render failure, with a message fit for a log line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// A template compile failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub hint: Option<String>,
}

/// Names a template may use, resolved at compile time.
pub struct TemplateContext<'a> {
    /// The resolved environment; its values are inlined.
    pub env: &'a BTreeMap<String, String>,
    /// Process environment, read for names the file does not declare.
    pub process_env: Option<&'a std::collections::HashMap<String, String>>,
    /// VU variables, indexed by `VarSlot`.
    pub variables: &'a [String],
    /// Feeds (name, columns), indexed by `FeedId`. Columns are `None` for a
    /// declared feed whose file could not be read: that is reported once,
    /// at its `file:`, and any column of it is accepted here.
    pub feeds: &'a [(String, Option<Vec<String>>)],
}

#[derive(Clone, Debug, PartialEq)]
enum Dynamic {
    Var(VarSlot, String),
    Data(FeedId, usize, String),
    VuId,
    Iteration,
    Scenario,
    Uuid,
    RandomInt(i64, i64),
    UnixTime,
    UnixTimeMs,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Literal(String),
    /// A dynamic value; `json_escape` when it sits inside a JSON string.
    Dynamic(Dynamic, bool),
}

/// A compiled template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl Template {
    /// A template without placeholders.
    pub fn literal(text: impl Into<String>) -> Self {
        let text = text.into();
        Template {
            parts: vec![Part::Literal(text.clone())],
            source: text,
        }
    }

    /// Compiles `text`; `{{` without `}}` and unknown names are errors.
    pub fn compile(text: &str, ctx: &TemplateContext<'_>) -> Result<Template, TemplateError> {
        let mut builder = TemplateBuilder::default();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            builder.push_literal(&rest[..open], false);
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| TemplateError {
                message: format!("unclosed template in {text:?}: '{{{{' without '}}}}'"),
                hint: Some("write placeholders as {{ NAME }}".into()),
            })?;
            match compile_expr(after[..close].trim(), ctx)? {
                Resolved::Inline(value) => builder.push_literal(&value, false),
                Resolved::Dynamic(d) => builder.parts.push(Part::Dynamic(d, false)),
            }
            rest = &after[close + 2..];
        }
        builder.push_literal(rest, false);
        Ok(builder.finish(text.to_string()))
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The rendered text when nothing varies at run time (the fast path).
    pub fn as_static(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Literal(text)] => Some(text),
            _ => None,
        }
    }

    /// The static text before the first dynamic part (all of it when static).
    pub fn leading_literal(&self) -> &str {
        match self.parts.first() {
            Some(Part::Literal(text)) => text,
            _ => "",
        }
    }

    /// True when the template reads VU variables or data rows.
    pub fn is_dynamic(&self) -> bool {
        self.as_static().is_none()
    }

    /// Appends the rendered text to `out`.
    pub fn render(&self, scope: &dyn TemplateScope, out: &mut String) -> Result<(), RenderError> {
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Dynamic(d, false) => render_dynamic(d, scope, out)?,
                Part::Dynamic(d, true) => {
                    let mut raw = String::new();
                    render_dynamic(d, scope, &mut raw)?;
                    escape_json_into(&raw, out);
                }
            }
        }
        Ok(())
    }

    /// Renders into a new string.
    pub fn render_to_string(&self, scope: &dyn TemplateScope) -> Result<String, RenderError> {
        let mut out = String::new();
        self.render(scope, &mut out)?;
        Ok(out)
    }
}

/// Assembles templates piece by piece (used for JSON bodies, where static
/// text is emitted pre-escaped and placeholders inside strings are escaped
/// when rendered).
#[derive(Default)]
pub struct TemplateBuilder {
    parts: Vec<Part>,
}

impl TemplateBuilder {
    pub fn push_literal(&mut self, text: &str, json_escape: bool) {
        if text.is_empty() {
            return;
        }
        let escaped;
        let text = if json_escape {
            let mut s = String::new();
            escape_json_into(text, &mut s);
            escaped = s;
            escaped.as_str()
        } else {
            text
        };
        if let Some(Part::Literal(last)) = self.parts.last_mut() {
            last.push_str(text);
        } else {
            self.parts.push(Part::Literal(text.to_string()));
        }
    }

    /// Appends a compiled template's parts, JSON-escaping them when `json_escape`.
    pub fn push_template(&mut self, template: &Template, json_escape: bool) {
        for part in &template.parts {
            match part {
                Part::Literal(text) => self.push_literal(text, json_escape),
                Part::Dynamic(d, escaped) => self
                    .parts
                    .push(Part::Dynamic(d.clone(), *escaped || json_escape)),
            }
        }
    }

    pub fn finish(self, source: String) -> Template {
        Template {
            source,
            parts: self.parts,
        }
    }
}

enum Resolved {
    Inline(String),
    Dynamic(Dynamic),
}

fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn compile_expr(expr: &str, ctx: &TemplateContext<'_>) -> Result<Resolved, TemplateError> {
    let err = |message: String, hint: Option<String>| Err(TemplateError { message, hint });
    if expr.is_empty() {
        return err("empty placeholder {{ }}".into(), None);
    }
    if let Some(open) = expr.find('(') {
        let name = expr[..open].trim();
        let Some(args) = expr[open + 1..].strip_suffix(')') else {
            return err(
                format!("malformed function call {expr:?}: missing ')'"),
                None,
            );
        };
        let args: Vec<&str> = args
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        let no_args = |d: Dynamic| {
            if args.is_empty() {
                Ok(Resolved::Dynamic(d))
            } else {
                err(format!("{name}() takes no arguments"), None)
            }
        };
        return match name {
            "uuid" => no_args(Dynamic::Uuid),
            "unix_time" => no_args(Dynamic::UnixTime),
            "unix_time_ms" => no_args(Dynamic::UnixTimeMs),
            "random_int" => {
                let nums: Vec<i64> = args.iter().filter_map(|a| a.parse().ok()).collect();
                match nums.as_slice() {
                    [lo, hi] if args.len() == 2 && lo <= hi => {
                        Ok(Resolved::Dynamic(Dynamic::RandomInt(*lo, *hi)))
                    }
                    [lo, hi] if args.len() == 2 => err(
                        format!("random_int({lo}, {hi}): the minimum is larger than the maximum"),
                        None,
                    ),
                    _ => err(
                        format!("random_int takes two integers, got {expr:?}"),
                        Some("e.g. {{ random_int(1, 100) }}".into()),
                    ),
                }
            }
            _ => err(
                format!("unknown function {name:?}"),
                Some("functions: uuid(), random_int(min, max), unix_time(), unix_time_ms()".into()),
            ),
        };
    }
    if let Some((feed, column)) = expr.split_once('.') {
        let (feed, column) = (feed.trim(), column.trim());
        let Some(id) = ctx.feeds.iter().position(|(name, _)| name == feed) else {
            let names = ctx.feeds.iter().map(|(n, _)| n.as_str());
            let hint = if ctx.feeds.is_empty() {
                "declare data feeds under `data:`".to_string()
            } else {
                format!("data feeds: {}", suggest::list(names))
            };
            return err(
                format!("unknown data feed {feed:?} in {{{{ {expr} }}}}"),
                Some(hint),
            );
        };
        let Some(columns) = &ctx.feeds[id].1 else {
            return Ok(Resolved::Dynamic(Dynamic::Data(
                FeedId(id as u32),
                0,
                expr.to_string(),
            )));
        };
        let Some(col) = columns.iter().position(|c| c == column) else {
            return err(
                format!("data feed {feed:?} has no column {column:?}"),
                Some(format!(
                    "columns: {}",
                    suggest::list(columns.iter().map(String::as_str))
                )),
            );
        };
        return Ok(Resolved::Dynamic(Dynamic::Data(
            FeedId(id as u32),
            col,
            expr.to_string(),
        )));
    }
    if !is_identifier(expr) {
        return err(
            format!("invalid placeholder {{{{ {expr} }}}}"),
            Some(
                "use a NAME, feed.column, __VU, __ITER, __SCENARIO or a function like uuid()"
                    .into(),
            ),
        );
    }
    match expr {
        "__VU" => return Ok(Resolved::Dynamic(Dynamic::VuId)),
        "__ITER" => return Ok(Resolved::Dynamic(Dynamic::Iteration)),
        "__SCENARIO" => return Ok(Resolved::Dynamic(Dynamic::Scenario)),
        _ => {}
    }
    if let Some(slot) = ctx.variables.iter().position(|v| v == expr) {
        return Ok(Resolved::Dynamic(Dynamic::Var(
            VarSlot(slot as u32),
            expr.to_string(),
        )));
    }
    if let Some(value) = ctx
        .env
        .get(expr)
        .or_else(|| ctx.process_env.and_then(|p| p.get(expr)))
    {
        return Ok(Resolved::Inline(value.clone()));
    }
    let candidates = ctx
        .variables
        .iter()
        .map(String::as_str)
        .chain(ctx.env.keys().map(String::as_str))
        .chain(["__VU", "__ITER", "__SCENARIO"]);
    let close = suggest::similar(expr, candidates);
    let hint = if close.is_empty() {
        "not an extracted variable or environment value; set it under `env:`, with --env, or extract it".to_string()
    } else {
        format!("did you mean {}?", suggest::list(close))
    };
    err(format!("unknown variable {expr:?}"), Some(hint))
}

fn render_dynamic(
    d: &Dynamic,
    scope: &dyn TemplateScope,
    out: &mut String,
) -> Result<(), RenderError> {
    match d {
        Dynamic::Var(slot, name) => out.push_str(scope.var(*slot).ok_or_else(|| {
            RenderError(format!(
                "variable {name:?} is not set (the extraction that sets it failed or has not run)"
            ))
        })?),
        Dynamic::Data(feed, col, name) => out.push_str(
            scope
                .data(*feed, *col)
                .ok_or_else(|| RenderError(format!("no data row for {{{{ {name} }}}}")))?,
        ),
        Dynamic::VuId => {
            let _ = write!(out, "{}", scope.vu_id());
        }
        Dynamic::Iteration => {
            let _ = write!(out, "{}", scope.iteration());
        }
        Dynamic::Scenario => out.push_str(scope.scenario()),
        Dynamic::Uuid => {
            let _ = write!(out, "{}", uuid::Uuid::new_v4());
        }
        Dynamic::RandomInt(lo, hi) => {
            let _ = write!(out, "{}", rand::random_range(*lo..=*hi));
        }
        Dynamic::UnixTime | Dynamic::UnixTimeMs => {
            let since = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let value = if *d == Dynamic::UnixTime {
                since.as_secs()
            } else {
                since.as_millis() as u64
            };
            let _ = write!(out, "{value}");
        }
    }
    Ok(())
}

/// Escapes text for the inside of a JSON string literal.
pub fn escape_json_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
