#![allow(dead_code)] // each test file uses a different part of these helpers
//! Prometheus 3's default OTLP name translation
//! (`otlp.translation_strategy: UnderscoreEscapingWithSuffixes`, from
//! `prometheus/otlptranslator`), for the cases stampede produces.

use stampede::output::otlp::layout::Shape;

/// The Prometheus name of an OTLP metric:
/// 1. characters outside `[a-zA-Z0-9_:]` become `_`, runs of `_` collapse;
/// 2. the unit is translated (`s` → `seconds`, `By` → `bytes`, `1` →
///    nothing but see 4; `{...}` annotations and empty → nothing) and
///    appended as `_<unit>` unless the name already ends with it;
/// 3. a monotonic cumulative Sum gets `_total` (after the unit);
/// 4. a Gauge of unit `1` gets `_ratio`.
///
/// Histograms keep the base name (native histograms) or get
/// `_bucket`/`_sum`/`_count` (classic) after it.
pub fn prometheus3_name(name: &str, unit: &str, shape: Shape) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == ':' {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let unit_suffix = match unit {
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        "" | "1" => "",
        u if u.starts_with('{') => "",
        other => other,
    };
    if !unit_suffix.is_empty() && !out.ends_with(&format!("_{unit_suffix}")) {
        out.push('_');
        out.push_str(unit_suffix);
    }
    match shape {
        Shape::MonotonicSum if !out.ends_with("_total") => out.push_str("_total"),
        Shape::Gauge if unit == "1" && !out.ends_with("_ratio") => out.push_str("_ratio"),
        _ => {}
    }
    out
}
