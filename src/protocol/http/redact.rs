//! Header listing for `--http-debug` with secrets masked.

use http::HeaderMap;

pub use crate::util::url_secrets::REDACTED;

/// Headers whose values are credentials, by exact (lower-case) name.
pub const SECRET_HEADERS: &[&str] = &[
    "api_key",
    "authentication",
    "authorization",
    "cookie",
    "proxy-authorization",
    "set-cookie",
    "x-access-key",
    "x-api-key",
    "x-auth",
    "x-password",
];

/// A header whose (lower-case) name contains one of these is a credential
/// too: vendors name their own (`x-goog-api-key`, `x-amz-security-token`,
/// `x-vault-token`, `x-session-id`), and masking a harmless header costs
/// less than printing a live key.
pub const SECRET_HEADER_WORDS: &[&str] = &[
    "auth",
    "cookie",
    "credential",
    "key",
    "passwd",
    "password",
    "secret",
    "session",
    "signature",
    "token",
];

/// Headers as (name, value) pairs in order, with the values of credentials
/// (`SECRET_HEADERS`, [`SECRET_HEADER_WORDS`], or marked sensitive)
/// replaced by `[REDACTED]`. Non-UTF-8 values are shown lossily.
pub fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let shown = if is_secret_header(name) || value.is_sensitive() {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.to_string(), shown)
        })
        .collect()
}

/// `name` is lower case (http::HeaderName normalises it).
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.contains(&name) || SECRET_HEADER_WORDS.iter().any(|word| name.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked_and_the_rest_shown() {
        let mut headers = HeaderMap::new();
        for name in [
            "api_key",
            "x-api-key",
            "x-password",
            "x-auth",
            "authentication",
            "x-access-key",
            "cookie",
            "set-cookie",
            "proxy-authorization",
            "x-vault-token",
            "x-client-secret",
            "x-session-id",
        ] {
            headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                "SECRET".parse().unwrap(),
            );
        }
        headers.insert("content-type", "text/plain".parse().unwrap());
        headers.insert("keep-alive", "timeout=5".parse().unwrap());
        let shown = redact_headers(&headers);
        let secrets: Vec<_> = shown.iter().filter(|(_, v)| v == REDACTED).collect();
        assert_eq!(secrets.len(), 12);
        assert_eq!(
            shown
                .iter()
                .filter(|(_, v)| v != REDACTED)
                .collect::<Vec<_>>(),
            [
                &("content-type".to_string(), "text/plain".to_string()),
                &("keep-alive".to_string(), "timeout=5".to_string())
            ]
        );
    }
}
