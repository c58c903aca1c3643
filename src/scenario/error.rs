//! Scenario errors: one line each, `FILE:LINE:COL: FIELD: MESSAGE (hint: HINT)`,
//! so editors and CI logs can jump to the spot.

use std::fmt;
use std::path::PathBuf;

/// One problem in a scenario file (or in the options that select from it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Where in the file's structure, e.g. `scenarios.main.flow[2].request.url`;
    /// empty when the problem concerns the whole file.
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

impl ScenarioError {
    pub fn new(
        file: impl Into<PathBuf>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ScenarioError {
            file: file.into(),
            line: None,
            column: None,
            field: field.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", one_line(&shorten(&self.field)))?;
        }
        f.write_str(&one_line(&shorten(&self.message)))?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {})", one_line(&shorten(hint)))?;
        }
        Ok(())
    }
}

/// The text with its line breaks written `\n` and `\r`: a value quoted
/// from the file may span lines (a multi-line plain key), and an error must
/// stay one line for editors and CI logs.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\n', '\r']) {
        std::borrow::Cow::Owned(text.replace('\n', "\\n").replace('\r', "\\r"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A quoted value longer than this many characters is shortened in messages.
pub const MAX_SHOWN_VALUE_CHARS: usize = 80;

/// A message longer than this many characters, once its values are
/// shortened, loses its middle.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// The text with each `"quoted"` or `` `quoted` `` value longer than
/// [`MAX_SHOWN_VALUE_CHARS`] cut to its start plus `…` and its length, and
/// the whole cut to [`MAX_MESSAGE_CHARS`]: a 10 MB scalar in a file must not
/// become a 10 MB line on stderr. Short text is returned as is.
pub fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= MAX_SHOWN_VALUE_CHARS {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(4 * MAX_MESSAGE_CHARS));
    let mut rest = text;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[open] as char;
        out.push_str(&rest[..=open]);
        let body = &rest[open + 1..];
        let close = closing_quote(body, quote).unwrap_or(body.len());
        let value = &body[..close];
        let chars = value.chars().count();
        if chars > MAX_SHOWN_VALUE_CHARS {
            let keep: String = value.chars().take(MAX_SHOWN_VALUE_CHARS / 2).collect();
            out.push_str(&keep);
            out.push('…');
            out.push(quote);
            out.push_str(&format!(" ({chars} characters)"));
        } else {
            out.push_str(value);
            if close < body.len() {
                out.push(quote);
            }
        }
        rest = body.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    let total = out.chars().count();
    if total > MAX_MESSAGE_CHARS {
        let head: String = out.chars().take(MAX_MESSAGE_CHARS - 100).collect();
        let tail: String = out.chars().skip(total - 100).collect();
        out = format!(
            "{head}… ({} characters left out) …{tail}",
            total - MAX_MESSAGE_CHARS
        );
    }
    std::borrow::Cow::Owned(out)
}

/// The byte offset of the quote that ends `body`; `"` values are Rust
/// `{:?}` strings, where `\"` and `\\` are escapes.
fn closing_quote(body: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if quote == '"' && !escaped => escaped = true,
            c if c == quote && !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// Every problem found, in file order where known.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl ScenarioErrors {
    pub fn single(error: ScenarioError) -> Self {
        ScenarioErrors(vec![error])
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ScenarioError> {
        self.0.iter()
    }
}

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_quoted_from_the_file_stay_on_one_line() {
        // Found by the scenario-loader property (`{vus\n\n&a `): a
        // multi-line plain key came back in the message as it was.
        let e = ScenarioError::new("a.yaml", "x\ry", "unknown field `vus\n&a`")
            .with_hint("one\ntwo")
            .at(1, 2);
        assert_eq!(
            e.to_string(),
            r"a.yaml:1:2: x\ry: unknown field `vus\n&a` (hint: one\ntwo)"
        );
    }

    #[test]
    fn display_omits_missing_parts() {
        let e = ScenarioError::new("a.yaml", "scenarios.main.vus", "must be at least 1")
            .at(3, 5)
            .with_hint("set vus: 1");
        assert_eq!(
            e.to_string(),
            "a.yaml:3:5: scenarios.main.vus: must be at least 1 (hint: set vus: 1)"
        );
        let e = ScenarioError::new("a.yaml", "", "cannot read scenario file: gone");
        assert_eq!(e.to_string(), "a.yaml: cannot read scenario file: gone");
        let two = ScenarioErrors(vec![e.clone(), e]);
        assert_eq!(two.to_string().lines().count(), 2);
    }

    #[test]
    fn long_values_are_shortened_and_short_ones_kept() {
        let huge = "x".repeat(10_000_000);
        let e = ScenarioError::new(
            "a.yaml",
            "vus",
            format!("invalid type: string {huge:?}, expected u64"),
        )
        .at(1, 6);
        assert_eq!(
            e.to_string(),
            format!(
                "a.yaml:1:6: vus: invalid type: string \"{}…\" (10000000 characters), expected u64",
                "x".repeat(40)
            )
        );
        let e = ScenarioError::new(
            "a.yaml",
            "",
            format!("unknown field `{huge}`, in \"a\\\"b\""),
        );
        assert_eq!(
            e.to_string(),
            format!(
                "a.yaml: unknown field `{}…` (10000000 characters), in \"a\\\"b\"",
                "x".repeat(40)
            )
        );
        let e = ScenarioError::new("a.yaml", "", "y".repeat(5000));
        let shown = e.to_string();
        assert_eq!(
            shown.chars().count(),
            "a.yaml: ".len() + 1000 + " (4000 characters left out) ".len() + 2
        );
        assert!(shown.contains("… (4000 characters left out) …"), "{shown}");
        let short = format!("got {:?}", "x".repeat(80));
        assert_eq!(shorten(&short), short);
    }
}
