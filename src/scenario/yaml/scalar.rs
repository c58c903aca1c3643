//! What a scalar means: YAML 1.2 core-schema resolution of plain scalars
//! (the schema serde_norway applied before, so `yes` stays text and `010`
//! stays the number 10). Quoted and block scalars are always text.

/// A scalar's resolved value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    /// Integers that fit in 64 bits, either sign.
    Int(i128),
    Float(f64),
    Str(&'a str),
}

/// Resolves `text`; `plain` is false for quoted and block scalars, and
/// `tag` is the explicit core tag (`str`, `int`, ...) when one was written.
pub fn resolve<'a>(text: &'a str, plain: bool, tag: Option<&str>) -> Resolved<'a> {
    match tag {
        Some("str") => return Resolved::Str(text),
        Some("null") => return Resolved::Null,
        Some("bool") | Some("int") | Some("float") => return resolve_plain(text),
        _ => {}
    }
    if plain {
        resolve_plain(text)
    } else {
        Resolved::Str(text)
    }
}

fn resolve_plain(text: &str) -> Resolved<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    if let Some(n) = integer(text) {
        return Resolved::Int(n);
    }
    if is_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Resolved::Float(f);
    }
    Resolved::Str(text)
}

/// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`, within i64..=u64.
fn integer(text: &str) -> Option<i128> {
    let parsed = if let Some(oct) = text.strip_prefix("0o") {
        i128::from_str_radix(oct, 8).ok()
    } else if let Some(hex) = text.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()
    } else {
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 30 {
            return None;
        }
        text.parse::<i128>().ok()
    }?;
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&parsed)
        .then_some(parsed)
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        None => !int.is_empty() && digits(int),
        Some(f) => digits(int) && digits(f) && !(int.is_empty() && f.is_empty()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_by_the_core_schema() {
        assert_eq!(resolve("", true, None), Resolved::Null);
        assert_eq!(resolve("~", true, None), Resolved::Null);
        assert_eq!(resolve("True", true, None), Resolved::Bool(true));
        assert_eq!(resolve("yes", true, None), Resolved::Str("yes"));
        assert_eq!(resolve("010", true, None), Resolved::Int(10));
        assert_eq!(resolve("-3", true, None), Resolved::Int(-3));
        assert_eq!(resolve("0x1F", true, None), Resolved::Int(31));
        assert_eq!(resolve("1.5e3", true, None), Resolved::Float(1500.0));
        assert_eq!(resolve(".5", true, None), Resolved::Float(0.5));
        assert_eq!(resolve("1e308", true, None), Resolved::Float(1e308));
        assert_eq!(resolve("10s", true, None), Resolved::Str("10s"));
        assert_eq!(resolve("1.2.3", true, None), Resolved::Str("1.2.3"));
        assert_eq!(
            resolve("99999999999999999999", true, None),
            Resolved::Float(1e20)
        );
    }

    #[test]
    fn quoted_scalars_and_str_tags_stay_text() {
        assert_eq!(resolve("10", false, None), Resolved::Str("10"));
        assert_eq!(resolve("true", true, Some("str")), Resolved::Str("true"));
        assert_eq!(resolve("10", false, Some("int")), Resolved::Int(10));
    }
}
