//! The request URL, parsed into what the exchange needs: once per URL and
//! VU, not once per request (a VU requests the same few URLs over and over).

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use http::uri::PathAndQuery;
use http::{HeaderValue, Uri};

use super::error::http_error;
use super::pool::Origin;
use super::types::{ErrorCode, HttpError};

#[derive(Debug)]
pub(super) struct Target {
    /// The URL as the request gave it (the cache's key).
    url: Box<str>,
    /// Absolute, with a path (at least `/`).
    pub uri: Uri,
    /// Origin form: `/path?query`.
    pub path: Uri,
    pub https: bool,
    pub port: u16,
    /// Without IPv6 brackets: what sockets and TLS want.
    host: Box<str>,
    /// `host[:port]` as written, without user info.
    host_header: Box<str>,
    /// `Authorization: Basic ...` from `user:password@` in the URL, if any.
    pub basic_auth: Option<HeaderValue>,
    /// `host_header()` may go into a header as is.
    pub host_is_valid_header: bool,
}

/// How many parsed URLs a VU keeps. Scenarios with URLs that change on every
/// request (`/items/{{ id }}`) miss and pay one parse, as without a cache.
const CACHED_TARGETS: usize = 4;

/// A VU's most recently used URLs, parsed.
#[derive(Debug, Default)]
pub(super) struct TargetCache {
    /// Most recently parsed last.
    entries: Mutex<Vec<Arc<Target>>>,
}

impl TargetCache {
    pub(super) fn get(&self, url: &str) -> Result<Arc<Target>, HttpError> {
        if let Some(hit) = self.lock().iter().find(|t| *t.url == *url) {
            return Ok(hit.clone());
        }
        let target = Arc::new(Target::parse(url)?);
        let mut entries = self.lock();
        if entries.len() >= CACHED_TARGETS {
            entries.remove(0);
        }
        entries.push(target.clone());
        Ok(target)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Target>>> {
        // A panic elsewhere cannot leave the vector inconsistent.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Target {
    pub(super) fn parse(url: &str) -> Result<Target, HttpError> {
        // http::Uri is strict (no spaces or non-ASCII); the url crate
        // percent-encodes those, as browsers and k6 do, so it is the fallback.
        let uri = match Uri::from_str(url) {
            Ok(uri) => uri,
            Err(_) => url::Url::parse(url)
                .ok()
                .and_then(|parsed| Uri::from_str(parsed.as_str()).ok())
                .ok_or_else(|| invalid("URL could not be parsed"))?,
        };
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            Some(_) => return Err(invalid("unsupported URL scheme (expected http or https)")),
            None => return Err(invalid("URL must be absolute (http:// or https://)")),
        };
        let Some(host) = uri.host() else {
            return Err(invalid("URL has no host"));
        };
        if host.is_empty() {
            return Err(invalid("URL has no host"));
        }
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let path_and_query = match uri.path_and_query() {
            Some(pq) if !pq.as_str().is_empty() => pq.clone(),
            _ => PathAndQuery::from_static("/"),
        };
        let uri = if uri
            .path_and_query()
            .is_some_and(|pq| !pq.as_str().is_empty())
        {
            uri
        } else {
            let mut parts = uri.into_parts();
            parts.path_and_query = Some(path_and_query.clone());
            Uri::from_parts(parts).map_err(|_| invalid("URL could not be parsed"))?
        };
        let mut target = Target {
            url: url.into(),
            uri,
            path: Uri::from(path_and_query),
            https,
            port,
            host: Box::default(),
            host_header: Box::default(),
            basic_auth: None,
            host_is_valid_header: false,
        };
        let host = target.uri.host().unwrap_or_default();
        // IPv6 literals come bracketed; sockets and TLS want them bare.
        target.host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .into();
        let authority = target.uri.authority().map_or("", |a| a.as_str());
        target.host_header = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host)
            .into();
        target.basic_auth = target.userinfo_auth();
        target.host_is_valid_header = HeaderValue::from_str(&target.host_header).is_ok();
        Ok(target)
    }

    pub(super) fn origin(&self) -> Origin<'_> {
        Origin {
            https: self.https,
            host: &self.host,
            port: self.port,
            tls: None,
        }
    }

    /// `host[:port]` as written, for the `Host` header.
    pub(super) fn host_header(&self) -> &str {
        &self.host_header
    }

    fn userinfo_auth(&self) -> Option<HeaderValue> {
        let authority = self.uri.authority()?.as_str();
        let (userinfo, _) = authority.rsplit_once('@')?;
        basic_auth_from_userinfo(userinfo)
    }
}

/// `Authorization: Basic ...` for the `user:password` of a URL, as written
/// (percent-encoded); marked sensitive so it is never printed.
pub(crate) fn basic_auth_from_userinfo(userinfo: &str) -> Option<HeaderValue> {
    let credentials = percent_decode(userinfo);
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

fn invalid(message: &str) -> HttpError {
    http_error(ErrorCode::InvalidUrl, message)
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_origin_path_and_host() {
        let t = Target::parse("http://example.com:8080/a/b?x=1").unwrap();
        assert!(!t.https);
        assert_eq!(t.port, 8080);
        assert_eq!(t.path.to_string(), "/a/b?x=1");
        assert_eq!(t.host_header(), "example.com:8080");
        assert_eq!(t.origin().host, "example.com");

        let t = Target::parse("https://[::1]").unwrap();
        assert!(t.https);
        assert_eq!(t.port, 443);
        assert_eq!(t.origin().host, "::1");
        assert_eq!(t.path.to_string(), "/");
        assert_eq!(t.uri.to_string(), "https://[::1]/");
    }

    #[test]
    fn lenient_about_spaces_strict_about_scheme() {
        let t = Target::parse("http://h/a b").unwrap();
        assert_eq!(t.path.to_string(), "/a%20b");
        for bad in ["ftp://h/", "/relative", "http://", "not a url"] {
            let err = Target::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidUrl, "{bad}");
        }
    }

    #[test]
    fn user_info_becomes_basic_auth_and_leaves_host() {
        let t = Target::parse("http://al%40ce:s3cret@h:81/").unwrap();
        assert_eq!(t.host_header(), "h:81");
        let auth = t.basic_auth.unwrap();
        // base64("al@ce:s3cret")
        assert_eq!(auth.to_str().unwrap(), "Basic YWxAY2U6czNjcmV0");
        assert!(Target::parse("http://h/").unwrap().basic_auth.is_none());
    }

    #[test]
    fn cache_parses_each_url_once_and_keeps_the_latest_four() {
        let cache = TargetCache::default();
        let first = cache.get("http://h/a").unwrap();
        assert!(Arc::ptr_eq(&first, &cache.get("http://h/a").unwrap()));
        for path in ["b", "c", "d", "e"] {
            cache.get(&format!("http://h/{path}")).unwrap();
        }
        // "a" was the oldest of five: parsed again, a new entry.
        let again = cache.get("http://h/a").unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(again.path.to_string(), "/a");
        assert_eq!(cache.lock().len(), CACHED_TARGETS);
        let err = cache.get("ftp://h/").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidUrl);
    }
}
