//! One HTTP request: method, URL, query, headers, body, expectations.

use http::Method;

use super::steps::StepCtx;
use super::{RESERVED_TAGS, Validator};
use crate::protocol::http::ProtoChoice;
use crate::scenario::locate::FieldPath;
use crate::scenario::model::RequestDef;
use crate::scenario::model_types::{OrderedMap, Scalar, StatusSpec};
use crate::scenario::plan::{HeaderTag, RequestBody, RequestStep, StatusSet};
use crate::scenario::template::{Template, TemplateBuilder};
use crate::util::url_secrets::{redact_url, without_userinfo};

impl Validator<'_> {
    pub(crate) fn request(
        &mut self,
        def: &RequestDef,
        path: &FieldPath,
        ctx: &StepCtx,
    ) -> Option<RequestStep> {
        let method_text = def.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
        let method = match Method::from_bytes(method_text.as_bytes()) {
            Ok(m) => Some(m),
            Err(_) => {
                self.problem(
                    &path.key("method"),
                    format!("invalid HTTP method {method_text:?}"),
                    Some("e.g. GET, POST, PUT, PATCH, DELETE".into()),
                );
                None
            }
        };
        let url = self.url(&def.url, &path.key("url"));
        let query = self.pairs(&def.query, &path.key("query"));
        let headers = self.headers(&def.headers, &path.key("headers"));
        let body = self.body(def, path);
        let timeout = match &def.timeout {
            Some(t) => self.positive_duration(t, &path.key("timeout")),
            None => Some(self.default_timeout),
        };
        let max_body_size = match &def.max_body_size {
            Some(size) => self.byte_size(size, &path.key("max_body_size")),
            None => Some(ctx.max_body_size.unwrap_or(self.default_max_body_size)),
        };
        let http2 = self.optional_value(def.http2.as_ref(), &path.key("http2"));
        let tls = def
            .tls
            .as_ref()
            .map(|tls| self.request_tls(tls, &path.key("tls"), ctx.tls.as_deref()));
        let expected_statuses = match &def.expect_status {
            Some(spec) => self.status_set(spec, &path.key("expect_status")),
            None => Some(StatusSet::k6_default()),
        };
        let name = self.request_name(def.name.as_deref(), &def.url, &path.key("name"));

        let mut tags = ctx.tags();
        tags.push(("name".into(), name.clone()));
        let record_tag_set = super::intern(tags.clone());
        tags.push(("method".into(), method_text.clone()));
        let tag_set = super::intern(tags);

        let checks = self.checks(&def.checks, &path.key("checks"), ctx);
        let extract = self.extractors(&def.extract, &path.key("extract"));
        let record = self.records(&def.record, &path.key("record"), record_tag_set);
        let header_tags = self.header_tags(&def.tags_from_headers, &path.key("tags_from_headers"));
        let needs_body = ctx.body_repeat
            || ctx.if_reads.body
            || checks.iter().any(|c| c.condition.needs_body())
            || extract.iter().any(|(_, e)| e.needs_body())
            || record.iter().any(super::checks::record_needs_body);
        Some(RequestStep {
            method: method?,
            url: url?,
            query: query?,
            headers,
            body: body?,
            timeout: timeout?,
            max_body_size: max_body_size?,
            tls: match tls {
                Some(profile) => Some(profile?),
                None => None,
            },
            name,
            tag_set,
            expected_statuses: expected_statuses?,
            checks,
            extract,
            record,
            needs_body,
            needs_headers: ctx.if_reads.headers || !header_tags.is_empty(),
            header_tags,
            proto: match http2.or(ctx.http2).or(self.default_http2) {
                Some(true) => ProtoChoice::Http2,
                Some(false) => ProtoChoice::Http1,
                None => ProtoChoice::Auto,
            },
        })
    }

    /// `tags_from_headers`: tag keys that are not stampede's own, each
    /// read from a valid header name.
    fn header_tags(&mut self, map: &OrderedMap<String>, path: &FieldPath) -> Vec<HeaderTag> {
        let mut out = Vec::new();
        for (key, header) in &map.0 {
            let at = path.key(key);
            if key.trim().is_empty() {
                self.problem(&at, "tag key must not be empty", None);
                continue;
            }
            if RESERVED_TAGS.contains(&key.as_str()) {
                self.problem(
                    &at,
                    format!("tag {key:?} is set by stampede"),
                    Some(format!("reserved tags: {}", RESERVED_TAGS.join(", "))),
                );
                continue;
            }
            if let Some(header) = self.header_name(header, &at) {
                out.push(HeaderTag {
                    key: key.as_str().into(),
                    header,
                });
            }
        }
        out
    }

    fn url(&mut self, text: &str, path: &FieldPath) -> Option<Template> {
        let template = self.template(text, path)?;
        let lead = template.leading_literal();
        let lower = lead.to_ascii_lowercase();
        let scheme_ok = lower.starts_with("http://")
            || lower.starts_with("https://")
            || (template.is_dynamic()
                && ("https://".starts_with(&lower) || "http://".starts_with(&lower)));
        if !scheme_ok {
            let got = redact_url(lead);
            // A templated URL's user already wrote the placeholder: show
            // what it became, never the same advice back.
            let (message, hint) = if text.contains("{{") {
                (
                    format!(
                        "URL must start with http:// or https://, but {:?} starts with {got:?} once rendered",
                        redact_url(text)
                    ),
                    "the environment value it starts with must be a full URL, e.g. BASE_URL=http://localhost:8080",
                )
            } else {
                (
                    format!("URL must start with http:// or https://, got {got:?}"),
                    "e.g. \"{{ BASE_URL }}/items\" with BASE_URL set under env:",
                )
            };
            self.problem(path, message, Some(hint.into()));
            return None;
        }
        if let Some(full) = template.as_static()
            && let Err(e) = url::Url::parse(full)
        {
            let shown = redact_url(full);
            self.problem(path, format!("invalid URL {shown:?}: {e}"), None);
            return None;
        }
        Some(template)
    }

    /// Query or form pairs: keys and values templated.
    fn pairs(
        &mut self,
        map: &OrderedMap<Scalar>,
        path: &FieldPath,
    ) -> Option<Vec<(Template, Template)>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (key, value) in &map.0 {
            let at = path.key(key);
            let k = self.template(key, &at);
            let v = self.template(&value.text, &at);
            match (k, v) {
                (Some(k), Some(v)) => out.push((k, v)),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn body(&mut self, def: &RequestDef, path: &FieldPath) -> Option<RequestBody> {
        let given: Vec<&str> = [
            ("json", def.json.is_some()),
            ("body", def.body.is_some()),
            ("form", def.form.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        if given.len() > 1 {
            self.problem(
                path,
                format!(
                    "use only one of json, body and form, found {}",
                    given.join(" and ")
                ),
                None,
            );
            return None;
        }
        if let Some(value) = &def.json {
            let at = path.key("json");
            let mut builder = TemplateBuilder::default();
            let mut source = String::new();
            let ok = self.json_value(value, &at, &mut builder, &mut source);
            return ok.then(|| RequestBody::Json(builder.finish(source)));
        }
        if let Some(text) = &def.body {
            return self.template(text, &path.key("body")).map(RequestBody::Raw);
        }
        if let Some(form) = &def.form {
            return self.pairs(form, &path.key("form")).map(RequestBody::Form);
        }
        Some(RequestBody::Empty)
    }

    /// Writes `value` as JSON into `builder`; strings are templates rendered
    /// with JSON escaping, and a string that is exactly one placeholder keeps
    /// the rendered type (`TemplateBuilder::push_json_string`). `source`
    /// gets the JSON with placeholders as written.
    pub(super) fn json_value(
        &mut self,
        value: &serde_norway::Value,
        path: &FieldPath,
        builder: &mut TemplateBuilder,
        source: &mut String,
    ) -> bool {
        use serde_norway::Value as Y;
        match value {
            Y::Null => push_both(builder, source, "null"),
            Y::Bool(b) => push_both(builder, source, if *b { "true" } else { "false" }),
            Y::Number(n) => {
                let text = n.to_string();
                if text.parse::<f64>().map_or(true, |f| !f.is_finite()) {
                    self.problem(path, format!("{text} cannot be written as JSON"), None);
                    return false;
                }
                push_both(builder, source, &text)
            }
            Y::String(s) => {
                if let Err(e) = builder.push_json_string(s, &self.template_context()) {
                    self.problem(path, e.message, e.hint);
                    return false;
                }
                source.push_str(&serde_json::Value::String(s.clone()).to_string());
                true
            }
            Y::Sequence(items) => {
                push_both(builder, source, "[");
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        push_both(builder, source, ",");
                    }
                    ok &= self.json_value(item, &path.index(i), builder, source);
                }
                push_both(builder, source, "]");
                ok
            }
            Y::Mapping(map) => {
                push_both(builder, source, "{");
                let mut ok = true;
                for (i, (k, v)) in map.iter().enumerate() {
                    let key = match k {
                        Y::String(s) => s.clone(),
                        Y::Number(n) => n.to_string(),
                        Y::Bool(b) => b.to_string(),
                        _ => {
                            self.problem(path, "JSON object keys must be strings", None);
                            return false;
                        }
                    };
                    if i > 0 {
                        push_both(builder, source, ",");
                    }
                    let quoted = serde_json::Value::String(key.clone()).to_string();
                    push_both(builder, source, &quoted);
                    push_both(builder, source, ":");
                    ok &= self.json_value(v, &path.key(&key), builder, source);
                }
                push_both(builder, source, "}");
                ok
            }
            Y::Tagged(_) => {
                self.problem(path, "YAML tags (!name) cannot be written as JSON", None);
                false
            }
        }
    }

    pub(crate) fn status_set(&mut self, spec: &StatusSpec, path: &FieldPath) -> Option<StatusSet> {
        if spec.0.is_empty() {
            self.problem(path, "needs at least one status", None);
            return None;
        }
        let mut ranges = Vec::new();
        for item in &spec.0 {
            match parse_status_range(item) {
                Some(r) => ranges.push(r),
                None => {
                    self.problem(
                        path,
                        format!("invalid status {item:?}"),
                        Some("use a code (200), a range (\"200-299\") or a class (\"2xx\")".into()),
                    );
                    return None;
                }
            }
        }
        Some(StatusSet(ranges))
    }
}

fn push_both(builder: &mut TemplateBuilder, source: &mut String, text: &str) -> bool {
    builder.push_literal(text, false);
    source.push_str(text);
    true
}

/// `200`, `200-299` or `2xx`, within 100..=599.
pub(crate) fn parse_status_range(text: &str) -> Option<(u16, u16)> {
    let text = text.trim();
    let (lo, hi) = if let Some(class) = text.strip_suffix("xx").or_else(|| text.strip_suffix("XX"))
    {
        let c: u16 = class.parse().ok()?;
        (c * 100, c * 100 + 99)
    } else if let Some((a, b)) = text.split_once('-') {
        (a.trim().parse().ok()?, b.trim().parse().ok()?)
    } else {
        let code = text.parse().ok()?;
        (code, code)
    };
    ((100..=599).contains(&lo) && (100..=599).contains(&hi) && lo <= hi).then_some((lo, hi))
}

/// The default `name` tag: the URL as written, without its query string, so
/// that per-request values do not explode the number of series, and without
/// user info, so that a password in the URL never becomes a label (the
/// query, where secret parameters live, is gone already).
pub(crate) fn default_name(url: &str) -> String {
    let url = &*without_userinfo(url);
    let mut depth = 0usize;
    let bytes = url.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{{") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"}}") && depth > 0 {
            depth -= 1;
            i += 2;
        } else if bytes[i] == b'?' && depth == 0 {
            return url[..i].to_string();
        } else {
            i += 1;
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_the_query_outside_placeholders() {
        assert_eq!(
            default_name("{{ BASE_URL }}/items?limit=10"),
            "{{ BASE_URL }}/items"
        );
        assert_eq!(default_name("http://x/{{ id }}"), "http://x/{{ id }}");
        assert_eq!(
            default_name("http://u:SECRET@x/a?token=SECRET"),
            "http://x/a"
        );
    }

    #[test]
    fn status_ranges() {
        assert_eq!(parse_status_range("200"), Some((200, 200)));
        assert_eq!(parse_status_range("300-399"), Some((300, 399)));
        assert_eq!(parse_status_range("4xx"), Some((400, 499)));
        assert_eq!(parse_status_range("99"), None);
        assert_eq!(parse_status_range("300-200"), None);
        assert_eq!(parse_status_range("abc"), None);
    }
}

#[cfg(test)]
#[path = "header_tags_tests.rs"]
mod header_tags_tests;
