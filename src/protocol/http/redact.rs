//! Header listing for `--http-debug` with secrets masked.

use http::HeaderMap;

pub const REDACTED: &str = "[REDACTED]";

/// Headers as (name, value) pairs in order, with the values of credentials
/// replaced by `[REDACTED]`: authorization, proxy-authorization, cookie,
/// set-cookie, and any header whose name contains "token", "secret",
/// "api-key" or "apikey". Non-UTF-8 values are shown lossily.
pub fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let shown = if is_secret(name) || value.is_sensitive() {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.to_string(), shown)
        })
        .collect()
}

/// `name` is lower case (http::HeaderName normalises it).
fn is_secret(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || ["token", "secret", "api-key", "apikey"]
        .iter()
        .any(|word| name.contains(word))
}
