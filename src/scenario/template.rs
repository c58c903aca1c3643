//! `{{ expr }}` templates, compiled once at validation.
//!
//! Expressions: `NAME` (a VU variable when one by that name is extracted
//! anywhere in the file, else an environment value, inlined at compile time),
//! `feed.column` (the VU's current row of a data feed), `__VU`, `__ITER`,
//! `__SCENARIO`, and the functions `uuid()`, `random_int(a, b)` (inclusive),
//! `unix_time()` (seconds) and `unix_time_ms()`; filters after `|`
//! (`default(...)`, `string`) are described in `template_expr`.
//!
//! In a JSON body a string that is exactly one placeholder is typed: a
//! rendered JSON number, `true`, `false` or `null` is written bare, so
//! `{ id: "{{ __VU }}" }` sends `{"id":3}` (see `push_json_string`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::plan::{FeedId, VarSlot};
use super::template_expr::{Dynamic, Resolved, compile_placeholder};

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
enum Part {
    Literal(String),
    /// A dynamic value; `json_escape` when it sits inside a JSON string.
    Dynamic(Dynamic, bool),
    /// A whole JSON value: bare when the text is a JSON number, boolean or
    /// null, else a quoted, escaped string.
    JsonTyped(Dynamic),
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
            match compile_placeholder(after[..close].trim(), ctx)?.resolved {
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
                Part::JsonTyped(d) => {
                    // Rendered in place: a number, the common case, needs
                    // no second buffer.
                    let start = out.len();
                    render_dynamic(d, scope, out)?;
                    if !is_json_scalar(&out[start..]) {
                        let raw = out.split_off(start);
                        out.push('"');
                        escape_json_into(&raw, out);
                        out.push('"');
                    }
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
                Part::JsonTyped(d) => self.parts.push(Part::JsonTyped(d.clone())),
            }
        }
    }

    /// Appends a YAML string as a JSON value. A string that is exactly one
    /// placeholder (`"{{ __VU }}"`, `"{{ id }}"`) keeps the rendered type:
    /// a JSON number, `true`, `false` or `null` is written bare, anything
    /// else as a string; `| string` keeps it a string. Other strings are
    /// JSON strings with their placeholders escaped.
    pub fn push_json_string(
        &mut self,
        text: &str,
        ctx: &TemplateContext<'_>,
    ) -> Result<(), TemplateError> {
        if let Some(expr) = single_placeholder(text) {
            let placeholder = compile_placeholder(expr.trim(), ctx)?;
            if !placeholder.string {
                match placeholder.resolved {
                    Resolved::Inline(value) if is_json_scalar(&value) => {
                        self.push_literal(&value, false)
                    }
                    Resolved::Inline(value) => {
                        self.push_literal("\"", false);
                        self.push_literal(&value, true);
                        self.push_literal("\"", false);
                    }
                    Resolved::Dynamic(d) => self.parts.push(Part::JsonTyped(d)),
                }
                return Ok(());
            }
        }
        let template = Template::compile(text, ctx)?;
        self.push_literal("\"", false);
        self.push_template(&template, true);
        self.push_literal("\"", false);
        Ok(())
    }

    pub fn finish(self, source: String) -> Template {
        Template {
            source,
            parts: self.parts,
        }
    }
}

fn render_dynamic(
    d: &Dynamic,
    scope: &dyn TemplateScope,
    out: &mut String,
) -> Result<(), RenderError> {
    match d {
        Dynamic::Var(slot, name, default) => {
            out.push_str(scope.var(*slot).or(default.as_deref()).ok_or_else(|| {
                RenderError(format!(
                    "variable {name:?} is not set (the extraction that sets it failed or has not run)"
                ))
            })?)
        }
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

/// The expression of a text that is one placeholder and nothing else.
fn single_placeholder(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner)
}

/// True for text JSON reads as a number (RFC 8259 section 6: no leading
/// zeros, no `+`, no bare `.5`), `true`, `false` or `null`: what a typed
/// placeholder writes without quotes. `007` stays a string, as a zip code should.
pub fn is_json_scalar(text: &str) -> bool {
    if matches!(text, "true" | "false" | "null") {
        return true;
    }
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
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
