//! Bodies as `--http-debug=full` prints them: secret fields masked, cut at
//! [`BODY_PRINT_LIMIT`], binary bodies not shown.
//!
//! A field is secret when its name is one of the secret query parameters
//! (`password`, `access_token`, `client_secret`, ...) or contains one of the
//! words that make a header secret (`token`, `key`, `secret`, `auth`, ...):
//! the same lists that redact URLs and headers, so one rule covers every
//! place a credential travels.

use std::borrow::Cow;

use crate::protocol::http::{REDACTED, is_secret_header};
use crate::util::url_secrets::is_secret_query_param;

/// Most bytes of a body printed; a 400's explanation fits, a page of HTML
/// does not flood the terminal.
pub const BODY_PRINT_LIMIT: usize = 2048;

/// How a body is shown: its (redacted) text up to the limit, and how many
/// bytes of that text were left out.
#[derive(Debug, PartialEq, Eq)]
pub enum ShownBody {
    Text { text: String, more: usize },
    Binary,
}

/// `body` as printed, given its `content-type` (if any).
pub fn shown_body(body: &[u8], content_type: Option<&str>) -> ShownBody {
    let Some(text) = utf8_prefix(body) else {
        return ShownBody::Binary;
    };
    let content_type = content_type.unwrap_or("").to_ascii_lowercase();
    let redacted = if content_type.contains("x-www-form-urlencoded") {
        redact_form(text)
    } else if content_type.contains("json") || text.trim_start().starts_with(['{', '[']) {
        redact_json(text)
    } else {
        Cow::Borrowed(text)
    };
    // Text past a cut that fell inside a character counts as left out too.
    let cut_inside_char = body.len() - text.len();
    let end = floor_char_boundary(&redacted, BODY_PRINT_LIMIT);
    ShownBody::Text {
        text: redacted[..end].to_string(),
        more: redacted.len() - end + cut_inside_char,
    }
}

/// The body as text when it is UTF-8, allowing only a character cut short
/// at the very end (a body stopped at `max_body_size`).
fn utf8_prefix(body: &[u8]) -> Option<&str> {
    match std::str::from_utf8(body) {
        Ok(text) => Some(text),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&body[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0)
}

/// A JSON member or form field whose value is a credential.
fn is_secret_field(name: &str) -> bool {
    is_secret_query_param(name) || is_secret_header(&name.to_ascii_lowercase())
}

/// `a=1&password=x` → `a=1&password=[REDACTED]`.
fn redact_form(text: &str) -> Cow<'_, str> {
    let secret = |pair: &str| {
        pair.split_once('=')
            .is_some_and(|(name, _)| is_secret_field(name))
    };
    if !text.split('&').any(secret) {
        return Cow::Borrowed(text);
    }
    let pairs: Vec<String> = text
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if secret(pair) => format!("{name}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect();
    Cow::Owned(pairs.join("&"))
}

/// The JSON text with the values of secret members replaced by
/// `"[REDACTED]"`, everything else byte for byte (no re-serialising: the
/// body reads as sent). Strings, objects and arrays are masked; numbers,
/// booleans and null are kept: they are counts and flags (`max_tokens`,
/// `token_count`), not credentials. Invalid or cut-off JSON is scanned as
/// far as it goes, and a secret value that runs to the end is masked.
fn redact_json(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let name_end = string_end(bytes, i);
        let colon = skip_space(bytes, name_end);
        if bytes.get(colon) != Some(&b':') {
            i = name_end;
            continue;
        }
        let value = skip_space(bytes, colon + 1);
        // A colon follows, so the string was closed by a quote.
        let name = &text[i + 1..name_end - 1];
        if is_secret_field(name) && matches!(bytes.get(value), Some(b'"' | b'{' | b'[')) {
            let value_end = value_end(bytes, value);
            out.push_str(&text[copied..value]);
            out.push('"');
            out.push_str(REDACTED);
            out.push('"');
            copied = value_end;
            i = value_end;
        } else {
            i = value;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Index just past the string starting at `start` (a `"`), or the end.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Index just past the string, object or array starting at `start`.
fn value_end(bytes: &[u8], start: usize) -> usize {
    if bytes[start] == b'"' {
        return string_end(bytes, start);
    }
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str, content_type: Option<&str>) -> String {
        match shown_body(body.as_bytes(), content_type) {
            ShownBody::Text { text, more: 0 } => text,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_secrets_are_masked_and_the_rest_kept_as_sent() {
        let body = r#"{"email": "a@example.com", "password" : "hunter2", "nested": {"apiKey":"k-1","n":1},
 "credentials": {"user": "bob", "pin": "1"}, "max_tokens": 256, "tokens": ["t1", "t2"], "note": "token"}"#;
        assert_eq!(
            text(body, Some("application/json")),
            r#"{"email": "a@example.com", "password" : "[REDACTED]", "nested": {"apiKey":"[REDACTED]","n":1},
 "credentials": "[REDACTED]", "max_tokens": 256, "tokens": "[REDACTED]", "note": "token"}"#
        );
        // Escaped quotes inside a secret, and JSON without a content-type.
        assert_eq!(
            text(r#"[{"access_token":"a\"b}","ok":true}]"#, None),
            r#"[{"access_token":"[REDACTED]","ok":true}]"#
        );
        // Cut off inside a secret: masked to the end.
        assert_eq!(
            text(r#"{"client_secret": "abc"#, Some("application/json")),
            r#"{"client_secret": "[REDACTED]""#
        );
    }

    #[test]
    fn form_secrets_are_masked() {
        assert_eq!(
            text(
                "user=bob&password=hunter2&token=t&page=2",
                Some("application/x-www-form-urlencoded")
            ),
            "user=bob&password=[REDACTED]&token=[REDACTED]&page=2"
        );
        assert_eq!(
            text("password=plain text", Some("text/plain")),
            "password=plain text"
        );
    }

    #[test]
    fn long_bodies_are_cut_at_the_limit_and_binary_ones_not_shown() {
        let long = "é".repeat(BODY_PRINT_LIMIT);
        let ShownBody::Text { text, more } = shown_body(long.as_bytes(), Some("text/plain")) else {
            panic!("text");
        };
        assert_eq!((text.len(), more), (BODY_PRINT_LIMIT, BODY_PRINT_LIMIT));
        // A body stopped inside a character is text; the partial character is left out.
        let cut = &"aé".as_bytes()[..2];
        assert_eq!(
            shown_body(cut, None),
            ShownBody::Text {
                text: "a".into(),
                more: 1
            }
        );
        assert_eq!(
            shown_body(&[0xff, 0xfe, 0x00, 0x41], None),
            ShownBody::Binary
        );
    }
}
