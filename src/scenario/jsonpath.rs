//! JSON path lookup for checks and extractors: `a.b[0].c`, `a.b.0.c`, an
//! optional leading `$.`, quoted keys `a["x.y"]`, and `.#` for the length of
//! an array or object.

use std::fmt;

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// An object key, or an array index when the key is all digits.
    Key(String),
    /// `[n]`: an array index.
    Index(usize),
    /// `#`: length of an array or object.
    Length,
}

/// A compiled path. `Display` gives the text as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPath {
    source: String,
    parts: Vec<Part>,
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let source = text.trim();
        let mut rest = source;
        if rest == "$" {
            rest = "";
        } else if let Some(r) = rest.strip_prefix("$.") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('$').filter(|r| r.starts_with('[')) {
            rest = r;
        }
        let chars: Vec<char> = rest.chars().collect();
        let mut parts = Vec::new();
        let mut i = 0;
        let mut key = String::new();
        let bad = |why: &str| format!("invalid JSON path {source:?}: {why}");
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    if key.is_empty()
                        && !matches!(parts.last(), Some(Part::Index(_)) | Some(Part::Key(_)))
                    {
                        return Err(bad("empty segment"));
                    }
                    if !key.is_empty() {
                        parts.push(key_part(std::mem::take(&mut key)));
                    }
                    i += 1;
                    if i == chars.len() {
                        return Err(bad("ends with '.'"));
                    }
                    if chars[i] == '.' {
                        return Err(bad("empty segment"));
                    }
                }
                '[' => {
                    if !key.is_empty() {
                        parts.push(key_part(std::mem::take(&mut key)));
                    }
                    let close = chars[i..]
                        .iter()
                        .position(|c| *c == ']')
                        .map(|p| p + i)
                        .ok_or_else(|| bad("missing ']'"))?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    let inner = inner.trim();
                    if let Some(q) = inner
                        .strip_prefix('"')
                        .and_then(|s| s.strip_suffix('"'))
                        .or_else(|| inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                    {
                        parts.push(Part::Key(q.to_string()));
                    } else {
                        let n = inner
                            .parse()
                            .map_err(|_| bad(&format!("[{inner}] is not an array index")))?;
                        parts.push(Part::Index(n));
                    }
                    i = close + 1;
                }
                c => {
                    key.push(c);
                    i += 1;
                }
            }
        }
        if !key.is_empty() {
            parts.push(key_part(key));
        }
        if let Some(pos) = parts.iter().position(|p| *p == Part::Length)
            && pos + 1 != parts.len()
        {
            return Err(bad("'#' (length) must be the last segment"));
        }
        Ok(JsonPath {
            source: source.to_string(),
            parts,
        })
    }

    /// The value at this path. `#` yields a number (owned, hence `Cow`-like return).
    pub fn lookup<'v>(&self, root: &'v Value) -> Option<Found<'v>> {
        let mut node = root;
        for part in &self.parts {
            node = match part {
                Part::Key(k) => match node {
                    Value::Object(map) => map.get(k)?,
                    Value::Array(items) => items.get(k.parse::<usize>().ok()?)?,
                    _ => return None,
                },
                Part::Index(i) => node.as_array()?.get(*i)?,
                Part::Length => {
                    return match node {
                        Value::Array(items) => Some(Found::Length(items.len())),
                        Value::Object(map) => Some(Found::Length(map.len())),
                        _ => None,
                    };
                }
            };
        }
        Some(Found::Value(node))
    }
}

fn key_part(key: String) -> Part {
    if key == "#" {
        Part::Length
    } else {
        Part::Key(key)
    }
}

/// What a path found: a value in the document, or a computed length.
#[derive(Debug, PartialEq)]
pub enum Found<'v> {
    Value(&'v Value),
    Length(usize),
}

impl Found<'_> {
    /// Text form: strings without quotes, numbers and booleans as written,
    /// null as `null`, objects and arrays as compact JSON.
    pub fn to_text(&self) -> String {
        match self {
            Found::Length(n) => n.to_string(),
            Found::Value(Value::String(s)) => s.clone(),
            Found::Value(v) => v.to_string(),
        }
    }

    /// Numeric value, for comparisons: numbers, and strings that parse as numbers.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Found::Length(n) => Some(*n as f64),
            Found::Value(Value::Number(n)) => n.as_f64(),
            Found::Value(Value::String(s)) => s.trim().parse().ok(),
            Found::Value(_) => None,
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(path: &str, doc: &Value) -> Option<String> {
        JsonPath::parse(path)
            .unwrap()
            .lookup(doc)
            .map(|f| f.to_text())
    }

    #[test]
    fn looks_up_nested_values() {
        let doc =
            json!({"a": {"b": [{"c": "x"}, {"c": 2}]}, "items": [1, 2, 3], "n": null, "x.y": true});
        assert_eq!(get("a.b[0].c", &doc).as_deref(), Some("x"));
        assert_eq!(get("a.b.1.c", &doc).as_deref(), Some("2"));
        assert_eq!(get("$.a.b[1].c", &doc).as_deref(), Some("2"));
        assert_eq!(get("items.#", &doc).as_deref(), Some("3"));
        assert_eq!(get("a.#", &doc).as_deref(), Some("1"));
        assert_eq!(get("a.b[0]", &doc).as_deref(), Some(r#"{"c":"x"}"#));
        assert_eq!(get("n", &doc).as_deref(), Some("null"));
        assert_eq!(get(r#"["x.y"]"#, &doc).as_deref(), Some("true"));
        assert_eq!(get("$", &doc).map(|s| s.len()), Some(doc.to_string().len()));
        assert_eq!(get("a.missing", &doc), None);
        assert_eq!(get("items[7]", &doc), None);
        assert_eq!(get("items.x", &doc), None);
        let arr = json!([1, 2]);
        assert_eq!(get("#", &arr).as_deref(), Some("2"));
        assert_eq!(get("[1]", &arr).as_deref(), Some("2"));
    }

    #[test]
    fn rejects_malformed_paths() {
        assert!(
            JsonPath::parse("a..b")
                .unwrap_err()
                .contains("empty segment")
        );
        assert!(
            JsonPath::parse("a[x]")
                .unwrap_err()
                .contains("not an array index")
        );
        assert!(JsonPath::parse("a[0").unwrap_err().contains("missing ']'"));
        assert!(
            JsonPath::parse("a.#.b")
                .unwrap_err()
                .contains("last segment")
        );
        assert!(JsonPath::parse("a.").unwrap_err().contains("ends with"));
    }

    #[test]
    fn numbers_for_comparisons() {
        let doc = json!({"n": 3.5, "s": "7", "t": "x"});
        let num = |p: &str| JsonPath::parse(p).unwrap().lookup(&doc).unwrap().as_f64();
        assert_eq!(num("n"), Some(3.5));
        assert_eq!(num("s"), Some(7.0));
        assert_eq!(num("t"), None);
    }
}
