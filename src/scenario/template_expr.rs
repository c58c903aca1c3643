//! One `{{ ... }}` placeholder: its expression, resolved against the names
//! known at compile time, and its filters.
//!
//! Filters follow the expression after `|`:
//! - `default(10)` / `default("text")`: the value when the name is defined
//!   nowhere (not extracted, not in the environment), so a k6 suite's
//!   `__ENV.VUS || 10` reads `{{ VUS | default(10) }}`. For an extracted
//!   variable it is also the value while the variable is unset.
//! - `string`: in a JSON body, keep the value a JSON string even when it
//!   reads as a number, boolean or null (see `TemplateBuilder::push_json_string`).

use super::plan::{FeedId, VarSlot};
use super::suggest;
use super::template::{TemplateContext, TemplateError};

/// A value read at render time.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Dynamic {
    /// An extracted variable: slot, name, and the `default(...)` used while it is unset.
    Var(VarSlot, String, Option<String>),
    Data(FeedId, usize, String),
    VuId,
    Iteration,
    Scenario,
    Uuid,
    RandomInt(i64, i64),
    UnixTime,
    UnixTimeMs,
}

pub(super) enum Resolved {
    Inline(String),
    Dynamic(Dynamic),
}

/// A compiled placeholder.
pub(super) struct Placeholder {
    pub resolved: Resolved,
    /// `| string`: stays a JSON string in a JSON body.
    pub string: bool,
}

/// The filters after the expression.
#[derive(Default)]
struct Filters {
    default: Option<String>,
    string: bool,
}

fn err<T>(message: String, hint: Option<String>) -> Result<T, TemplateError> {
    Err(TemplateError { message, hint })
}

fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Compiles the text between `{{` and `}}` (already trimmed).
pub(super) fn compile_placeholder(
    expr: &str,
    ctx: &TemplateContext<'_>,
) -> Result<Placeholder, TemplateError> {
    let (base, filters) = split_filters(expr)?;
    let resolved = compile_expr(base, filters.default.as_deref(), ctx)?;
    Ok(Placeholder {
        resolved,
        string: filters.string,
    })
}

/// The plain names (`NAME`, not `feed.column` or functions) the placeholders
/// of `text` read, in order; used to render environment values that read
/// each other in dependency order. Malformed placeholders are skipped: the
/// compile that follows reports them.
pub(crate) fn referenced_names(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            break;
        };
        if let Ok((base, _)) = split_filters(after[..close].trim())
            && is_identifier(base)
        {
            names.push(base);
        }
        rest = &after[close + 2..];
    }
    names
}

/// `NAME | default(10) | string` → ("NAME", filters). `|` inside a quoted
/// default is text.
fn split_filters(expr: &str) -> Result<(&str, Filters), TemplateError> {
    let mut pieces = Vec::new();
    let mut quote = None;
    let mut start = 0;
    for (i, c) in expr.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '|') => {
                pieces.push(expr[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(expr[start..].trim());
    let base = pieces[0];
    let mut filters = Filters::default();
    for filter in &pieces[1..] {
        if *filter == "string" {
            filters.string = true;
        } else if let Some(arg) = filter
            .strip_prefix("default")
            .map(str::trim_start)
            .and_then(|f| f.strip_prefix('('))
            .and_then(|f| f.strip_suffix(')'))
        {
            filters.default = Some(default_value(arg.trim(), expr)?);
        } else {
            return err(
                format!("unknown filter {filter:?} in {{{{ {expr} }}}}"),
                Some("filters: default(value), string".into()),
            );
        }
    }
    Ok((base, filters))
}

/// The argument of `default(...)`: a number, `true`/`false`/`null`, or a
/// quoted string (its text without the quotes).
fn default_value(arg: &str, expr: &str) -> Result<String, TemplateError> {
    for q in ['"', '\''] {
        if let Some(text) = arg.strip_prefix(q).and_then(|a| a.strip_suffix(q))
            && arg.len() >= 2
        {
            return Ok(text.to_string());
        }
    }
    let literal =
        matches!(arg, "true" | "false" | "null") || arg.parse::<f64>().is_ok_and(|f| f.is_finite());
    if literal {
        return Ok(arg.to_string());
    }
    err(
        format!("invalid default in {{{{ {expr} }}}}: {arg:?} is not a number or a quoted string"),
        Some("e.g. {{ VUS | default(10) }} or {{ HOST | default(\"localhost\") }}".into()),
    )
}

fn compile_expr(
    expr: &str,
    default: Option<&str>,
    ctx: &TemplateContext<'_>,
) -> Result<Resolved, TemplateError> {
    if expr.is_empty() {
        return err("empty placeholder {{ }}".into(), None);
    }
    if default.is_some() && (!is_identifier(expr) || expr.starts_with("__")) {
        return err(
            format!("default(...) applies to a variable or environment name, not {expr:?}"),
            None,
        );
    }
    if let Some(open) = expr.find('(') {
        return compile_function(expr, open);
    }
    if let Some((feed, column)) = expr.split_once('.') {
        return compile_data(expr, feed.trim(), column.trim(), ctx);
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
            default.map(str::to_string),
        )));
    }
    if let Some(value) = ctx
        .env
        .get(expr)
        .or_else(|| ctx.process_env.and_then(|p| p.get(expr)))
    {
        return Ok(Resolved::Inline(value.clone()));
    }
    if let Some(default) = default {
        return Ok(Resolved::Inline(default.to_string()));
    }
    let candidates = ctx
        .variables
        .iter()
        .map(String::as_str)
        .chain(ctx.env.keys().map(String::as_str))
        .chain(["__VU", "__ITER", "__SCENARIO"]);
    let close = suggest::similar(expr, candidates);
    let hint = if close.is_empty() {
        format!(
            "not an extracted variable or environment value; set it under `env:` or with --env, extract it, or write {{{{ {expr} | default(...) }}}}"
        )
    } else {
        format!("did you mean {}?", suggest::list(close))
    };
    err(format!("unknown variable {expr:?}"), Some(hint))
}

fn compile_function(expr: &str, open: usize) -> Result<Resolved, TemplateError> {
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
    match name {
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
    }
}

fn compile_data(
    expr: &str,
    feed: &str,
    column: &str,
    ctx: &TemplateContext<'_>,
) -> Result<Resolved, TemplateError> {
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
    // A declared feed whose file could not be read: its problem is reported
    // once where it is declared, not again at every column used.
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
    Ok(Resolved::Dynamic(Dynamic::Data(
        FeedId(id as u32),
        col,
        expr.to_string(),
    )))
}
