//! A VU's cookie jar: RFC 6265 matching from the `cookie_store` crate.

use std::sync::{Mutex, MutexGuard};

use cookie_store::{CookieStore, RawCookie};
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};

#[derive(Debug, Default)]
pub(super) struct CookieJar {
    store: Mutex<CookieStore>,
}

impl CookieJar {
    fn lock(&self) -> MutexGuard<'_, CookieStore> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The `cookie` header for `url`: the request's own cookie header (if
    /// any) followed by the jar's matching cookies.
    pub(super) fn request_header(
        &self,
        url: &str,
        own: Option<&HeaderValue>,
    ) -> Option<HeaderValue> {
        let store = self.lock();
        // Most load tests never receive a cookie: skip URL parsing then.
        if store.iter_any().next().is_none() {
            return own.cloned();
        }
        let Ok(parsed) = url::Url::parse(url) else {
            return own.cloned();
        };
        let mut value = own
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_default();
        for (name, cookie_value) in store.get_request_values(&parsed) {
            if !value.is_empty() {
                value.push_str("; ");
            }
            value.push_str(name);
            value.push('=');
            value.push_str(cookie_value);
        }
        if value.is_empty() {
            return None;
        }
        let mut header = HeaderValue::from_str(&value)
            .ok()
            .or_else(|| own.cloned())?;
        header.set_sensitive(true);
        Some(header)
    }

    /// Stores the `set-cookie` headers of a response from `url`.
    pub(super) fn store_response(&self, url: &str, headers: &HeaderMap) {
        let mut set_cookies = headers.get_all(SET_COOKIE).iter().peekable();
        if set_cookies.peek().is_none() {
            return;
        }
        let Ok(parsed) = url::Url::parse(url) else {
            return;
        };
        let cookies = set_cookies
            .filter_map(|v| v.to_str().ok())
            .filter_map(|text| RawCookie::parse(text.to_owned()).ok());
        self.lock().store_response_cookies(cookies, &parsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_returns_matching_cookies() {
        let jar = CookieJar::default();
        assert!(jar.request_header("http://h/", None).is_none());
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, "session=abc; Path=/".parse().unwrap());
        headers.append(SET_COOKIE, "scoped=1; Path=/admin".parse().unwrap());
        jar.store_response("http://h/login", &headers);

        let value = jar.request_header("http://h/", None).unwrap();
        assert_eq!(value.to_str().unwrap(), "session=abc");
        let own = HeaderValue::from_static("mine=1");
        let value = jar.request_header("http://h/admin/x", Some(&own)).unwrap();
        let text = value.to_str().unwrap();
        assert!(text.starts_with("mine=1; "), "{text}");
        assert!(
            text.contains("session=abc") && text.contains("scoped=1"),
            "{text}"
        );
        assert!(jar.request_header("http://other/", None).is_none());
    }
}
