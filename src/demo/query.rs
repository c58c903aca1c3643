//! Reading single query parameters without building a map per request.

use std::borrow::Cow;

/// The first value of `name` in a raw query string, percent-decoded.
pub fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<Cow<'a, str>> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_decoded_values() {
        let q = Some("limit=5&delay=50%20ms&limit=9");
        assert_eq!(query_param(q, "limit").as_deref(), Some("5"));
        assert_eq!(query_param(q, "delay").as_deref(), Some("50 ms"));
        assert_eq!(query_param(q, "offset"), None);
        assert_eq!(query_param(None, "limit"), None);
    }
}
