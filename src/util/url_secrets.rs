//! Secrets that URLs carry: user info (`http://user:password@host/`) and
//! well-known credential query parameters (`?token=...`). A URL travels into
//! the `name` tag, every output, `--http-debug` and error messages; these
//! functions take the secrets out on the way. They work on URL templates as
//! well as on rendered URLs (`{{ USER }}:{{ PASS }}@{{ HOST }}`), because
//! they only look at the scheme's `://`, the authority's `@` and the query's
//! `?`, `&` and `=`.

use std::borrow::Cow;

/// What replaces a secret in text shown to the user.
pub const REDACTED: &str = "[REDACTED]";

/// Query parameters whose values are credentials, compared without regard
/// to case: OAuth and bearer tokens, API keys, passwords, and request
/// signatures (AWS and Google signed URLs, Azure SAS `sig`).
pub const SECRET_QUERY_PARAMS: &[&str] = &[
    "access_token",
    "api-key",
    "api_key",
    "apikey",
    "auth",
    "auth_token",
    "client_secret",
    "id_token",
    "key",
    "passwd",
    "password",
    "pwd",
    "refresh_token",
    "secret",
    "sig",
    "signature",
    "token",
    "x-amz-credential",
    "x-amz-security-token",
    "x-amz-signature",
    "x-goog-credential",
    "x-goog-signature",
];

/// `name` (a query parameter name, percent-decoding not applied) is one of
/// [`SECRET_QUERY_PARAMS`].
pub fn is_secret_query_param(name: &str) -> bool {
    SECRET_QUERY_PARAMS
        .iter()
        .any(|secret| secret.eq_ignore_ascii_case(name))
}

/// The byte range of the user info and its `@` (`user:pass@`), if the URL
/// has an authority with user info.
fn userinfo_range(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // The last '@' ends the user info: a password may contain a raw '@'.
    let at = rest[..end].rfind('@')?;
    Some(start..start + at + 1)
}

/// The URL without its user info: `http://u:p@h/x` becomes `http://h/x`.
/// For names and labels, where the credential has no place at all.
pub fn without_userinfo(url: &str) -> Cow<'_, str> {
    match userinfo_range(url) {
        Some(range) => {
            let mut out = String::with_capacity(url.len() - range.len());
            out.push_str(&url[..range.start]);
            out.push_str(&url[range.end..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(url),
    }
}

/// `url` has user info (`user@` or `user:password@`).
pub fn has_userinfo(url: &str) -> bool {
    userinfo_range(url).is_some()
}

/// `url` carries a credential written out: user info whose secret part
/// (the password, or the whole user info when it has none, as with
/// `https://TOKEN@host`) is literal text rather than a `{{ placeholder }}`
/// filled from the environment.
pub fn has_literal_credentials(url: &str) -> bool {
    let Some(range) = userinfo_range(url) else {
        return false;
    };
    let userinfo = &url[range.start..range.end - 1];
    let secret = userinfo.split_once(':').map_or(userinfo, |(_, pass)| pass);
    !secret.is_empty() && !secret.contains("{{")
}

/// The URL as it may be shown: user info replaced by `[REDACTED]@` and the
/// values of [`SECRET_QUERY_PARAMS`] by `[REDACTED]`; everything else as is.
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let userinfo = userinfo_range(url);
    let query = url.find('?').map(|q| {
        let end = url[q..].find('#').map_or(url.len(), |f| q + f);
        q + 1..end
    });
    let query_has_secret = query.as_ref().is_some_and(|q| {
        url[q.clone()].split('&').any(|pair| {
            pair.split_once('=')
                .is_some_and(|(k, _)| is_secret_query_param(k))
        })
    });
    if userinfo.is_none() && !query_has_secret {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    let mut from = 0;
    if let Some(range) = userinfo {
        out.push_str(&url[..range.start]);
        out.push_str(REDACTED);
        out.push('@');
        from = range.end;
    }
    match query {
        Some(q) if query_has_secret => {
            out.push_str(&url[from..q.start]);
            for (i, pair) in url[q.clone()].split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((k, _)) if is_secret_query_param(k) => {
                        out.push_str(k);
                        out.push('=');
                        out.push_str(REDACTED);
                    }
                    _ => out.push_str(pair),
                }
            }
            out.push_str(&url[q.end..]);
        }
        _ => out.push_str(&url[from..]),
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_removed_from_names() {
        assert_eq!(
            without_userinfo("http://al:s3cr@t@h:81/x?y"),
            "http://h:81/x?y"
        );
        assert_eq!(
            without_userinfo("https://{{ U }}:{{ P }}@{{ HOST }}/a"),
            "https://{{ HOST }}/a"
        );
        assert_eq!(without_userinfo("http://h/a@b"), "http://h/a@b");
        assert_eq!(
            without_userinfo("{{ BASE_URL }}/me@x"),
            "{{ BASE_URL }}/me@x"
        );
        assert!(matches!(without_userinfo("http://h/"), Cow::Borrowed(_)));
        assert!(has_userinfo("http://token@h/"));
        assert!(has_literal_credentials("http://token@h/"));
        assert!(has_literal_credentials("http://u:p@h/"));
        assert!(!has_literal_credentials("http://u:{{ PASS }}@h/"));
        assert!(!has_literal_credentials("http://{{ TOKEN }}@h/"));
        assert!(!has_literal_credentials("http://u:@h/"));
        assert!(!has_literal_credentials("http://h/?token=x"));
        assert!(!has_userinfo("http://h/?a=b@c"));
    }

    #[test]
    fn shown_urls_hide_user_info_and_secret_parameters() {
        assert_eq!(
            redact_url("http://u:SECRET@h/p?Token=SECRET&page=2&api_key=SECRET#frag"),
            "http://[REDACTED]@h/p?Token=[REDACTED]&page=2&api_key=[REDACTED]#frag"
        );
        assert_eq!(
            redact_url("http://h/p?sig=SECRET"),
            "http://h/p?sig=[REDACTED]"
        );
        assert_eq!(redact_url("http://u:SECRET@h"), "http://[REDACTED]@h");
        // Parameters that only contain a secret word are kept: `monkey`, `tokens`.
        assert_eq!(
            redact_url("http://h/?monkey=1&tokens=2&key"),
            "http://h/?monkey=1&tokens=2&key"
        );
        assert!(matches!(redact_url("http://h/?q=1"), Cow::Borrowed(_)));
    }
}
