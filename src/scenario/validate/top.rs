//! The file-wide sections: data feeds, custom metrics, HTTP settings, thresholds.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use super::Validator;
use crate::metrics::threshold::{Aggregation, parse_expression, parse_selector};
use crate::metrics::{MetricKind, Threshold, ValueType};
use crate::scenario::feed::{DataFeed, FeedMode};
use crate::scenario::locate::FieldPath;
use crate::scenario::model::{ScenarioFile, ThresholdDef};
use crate::scenario::model_types::{OrderedMap, Scalar, TextOr};
use crate::scenario::plan::HttpSettings;
use crate::scenario::suggest;
use crate::scenario::template::Template;

impl Validator<'_> {
    pub(crate) fn load_feeds(&mut self, file: &ScenarioFile) {
        for (name, def) in &file.data.0 {
            let path = FieldPath::root().key("data").key(name);
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
                self.problem(
                    &path,
                    format!("invalid data feed name {name:?}"),
                    Some("use letters, digits and underscores".into()),
                );
                continue;
            }
            let mode = match def.mode.as_deref() {
                None => FeedMode::Sequential,
                Some(text) => match FeedMode::parse(text) {
                    Some(mode) => mode,
                    None => {
                        self.problem(
                            &path.key("mode"),
                            format!("unknown mode {text:?}"),
                            Some("use per-vu, sequential or random".into()),
                        );
                        self.feed_columns.push((name.clone(), None));
                        continue;
                    }
                },
            };
            let resolved = self.base_dir.join(&def.file);
            match DataFeed::load(name, &resolved, mode) {
                Ok(feed) => {
                    self.feed_columns
                        .push((name.clone(), Some(feed.columns.clone())));
                    self.feeds.push(Arc::new(feed));
                }
                Err(message) => {
                    // Still declared: templates that use it are not
                    // reported as naming an unknown feed (the plan is not
                    // built, so `feeds` and `feed_columns` need not align).
                    self.feed_columns.push((name.clone(), None));
                    self.problem(&path.key("file"), message, None);
                }
            }
        }
    }

    pub(crate) fn register_metrics(&mut self, file: &ScenarioFile) {
        for (name, decl) in &file.metrics.0 {
            let path = FieldPath::root().key("metrics").key(name);
            let (kind_text, time) = match decl {
                TextOr::Text(t) => (t.0.as_str(), None),
                TextOr::Map(m) => (m.kind.as_str(), m.time),
            };
            let kind = match kind_text {
                "counter" => MetricKind::Counter,
                "gauge" => MetricKind::Gauge,
                "rate" => MetricKind::Rate,
                "trend" => MetricKind::Trend,
                other => {
                    self.problem(
                        &path,
                        format!("unknown metric type {other:?}"),
                        Some("use counter, gauge, rate or trend".into()),
                    );
                    continue;
                }
            };
            if time.is_some() && kind != MetricKind::Trend {
                self.problem(&path.key("time"), "`time` applies only to trends", None);
                continue;
            }
            let contains = if kind == MetricKind::Trend && time != Some(false) {
                ValueType::Time
            } else {
                ValueType::Default
            };
            if let Err(e) = self.registry.register(name, kind, contains) {
                self.problem(&path, e.to_string(), None);
            }
        }
    }

    pub(crate) fn http_settings(&mut self, file: &ScenarioFile) -> HttpSettings {
        let path = FieldPath::root().key("http");
        let def = &file.http;
        if let Some(t) = &def.timeout
            && let Some(d) = self.positive_duration(t, &path.key("timeout"))
        {
            self.default_timeout = d;
        }
        let default_headers = self.headers(&def.headers, &path.key("headers"));
        self.default_http2 = self.optional_value(def.http2.as_ref(), &path.key("http2"));
        if let Some(size) = &def.max_body_size
            && let Some(n) = self.byte_size(size, &path.key("max_body_size"))
        {
            self.default_max_body_size = n;
        }
        let max_decompression_ratio = match def
            .max_decompression_ratio
            .as_ref()
            .and_then(|n| self.value(n, &path.key("max_decompression_ratio")))
        {
            Some(0) => {
                self.problem(
                    &path.key("max_decompression_ratio"),
                    "must be at least 1",
                    None,
                );
                crate::protocol::http::DEFAULT_MAX_DECOMPRESSION_RATIO
            }
            Some(n) => n,
            None => crate::protocol::http::DEFAULT_MAX_DECOMPRESSION_RATIO,
        };
        // A reported problem fails validation; the default stands in until then.
        let max_redirects =
            self.value_or(def.max_redirects.as_ref(), &path.key("max_redirects"), 10);
        let insecure_skip_tls_verify = self.value_or(
            def.insecure_skip_tls_verify.as_ref(),
            &path.key("insecure_skip_tls_verify"),
            false,
        );
        self.insecure_skip_tls_verify = insecure_skip_tls_verify.unwrap_or(false);
        let cookies = self.value_or(def.cookies.as_ref(), &path.key("cookies"), true);
        let network = self.network_settings(def, &path);
        HttpSettings {
            max_redirects: max_redirects.unwrap_or(10),
            insecure_skip_tls_verify: insecure_skip_tls_verify.unwrap_or(false),
            user_agent: def
                .user_agent
                .clone()
                .unwrap_or_else(|| format!("stampede/{}", env!("CARGO_PKG_VERSION"))),
            default_headers,
            default_timeout: self.default_timeout,
            cookies: cookies.unwrap_or(true),
            max_decompression_ratio,
            network,
        }
    }

    /// Header names checked, values compiled (and checked when static).
    pub(crate) fn headers(
        &mut self,
        headers: &OrderedMap<Scalar>,
        path: &FieldPath,
    ) -> Vec<(HeaderName, Template)> {
        let mut out = Vec::new();
        for (name, value) in &headers.0 {
            let at = path.key(name);
            let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
                self.problem(&at, format!("invalid header name {name:?}"), None);
                continue;
            };
            let Some(template) = self.template(&value.text, &at) else {
                continue;
            };
            if let Some(text) = template.as_static()
                && HeaderValue::from_str(text).is_err()
            {
                self.problem(
                    &at,
                    format!("invalid header value {text:?}"),
                    Some("header values cannot contain line breaks or control characters".into()),
                );
                continue;
            }
            out.push((header, template));
        }
        out
    }

    pub(crate) fn thresholds(&mut self, file: &ScenarioFile) -> Vec<Threshold> {
        let mut out = Vec::new();
        for (key, list) in &file.thresholds.0 {
            let path = FieldPath::root().key("thresholds").key(key);
            let selector = match parse_selector(key) {
                Ok(s) => s,
                Err(e) => {
                    self.problem(&path, e, None);
                    continue;
                }
            };
            let Some(metric) = self.registry.lookup(&selector.metric) else {
                let names: Vec<String> = self
                    .registry
                    .iter()
                    .map(|(_, d)| d.name.to_string())
                    .collect();
                let close = suggest::similar(&selector.metric, names.iter().map(String::as_str));
                let hint = if close.is_empty() {
                    "declare custom metrics under `metrics:`".to_string()
                } else {
                    format!("did you mean {}?", suggest::list(close))
                };
                self.problem(
                    &path,
                    format!("unknown metric {:?}", selector.metric),
                    Some(hint),
                );
                continue;
            };
            let Some(unselected_scenario) = self.unselected_scenario(&selector, file, &path) else {
                continue;
            };
            let kind = self.registry.get(metric).kind;
            if list.is_empty() {
                self.problem(
                    &path,
                    "needs at least one expression",
                    Some("e.g. [\"p(95)<500\"]".into()),
                );
            }
            for (i, entry) in list.iter().enumerate() {
                let at = path.index(i);
                let (written, abort_on_fail, delay) = match entry {
                    ThresholdDef::Text(t) => (t.0.as_str(), false, Duration::ZERO),
                    ThresholdDef::Map(m) => {
                        let delay = match &m.delay_abort_eval {
                            Some(t) => match self.duration(t, &at.key("delay_abort_eval")) {
                                Some(d) => d,
                                None => continue,
                            },
                            None => Duration::ZERO,
                        };
                        let abort = m.abort_on_fail.as_ref();
                        let Some(abort_on_fail) =
                            self.value_or(abort, &at.key("abort_on_fail"), false)
                        else {
                            continue;
                        };
                        (m.threshold.as_str(), abort_on_fail, delay)
                    }
                };
                let Some(text) = self.render_load_time(written, &at) else {
                    continue;
                };
                let expr = match parse_expression(&text) {
                    Ok(e) => e,
                    Err(e) if text != written => {
                        self.problem(&at, format!("{written:?} rendered to {text:?}: {e}"), None);
                        continue;
                    }
                    Err(e) => {
                        self.problem(&at, e, None);
                        continue;
                    }
                };
                if !aggregation_fits(expr.aggregation, kind) {
                    self.problem(
                        &at,
                        format!(
                            "{text:?} does not apply to {} metric {}",
                            kind_name(kind),
                            selector.metric
                        ),
                        Some(format!(
                            "{} metrics take {}",
                            kind_name(kind),
                            allowed_aggregations(kind)
                        )),
                    );
                    continue;
                }
                let Some(unselected_span) =
                    self.time_clause(&selector, &expr, abort_on_fail, file, &at)
                else {
                    continue;
                };
                out.push(Threshold {
                    selector: selector.clone(),
                    expr,
                    abort_on_fail,
                    delay_abort_eval: delay,
                    kind,
                    unselected_scenario: unselected_scenario.clone().or(unselected_span),
                });
            }
        }
        out
    }
}

fn aggregation_fits(aggregation: Aggregation, kind: MetricKind) -> bool {
    use Aggregation as A;
    match kind {
        MetricKind::Trend => matches!(
            aggregation,
            A::Avg | A::Min | A::Max | A::Med | A::Percentile(_)
        ),
        MetricKind::Rate => matches!(aggregation, A::Rate),
        MetricKind::Counter => matches!(aggregation, A::Count | A::Rate),
        MetricKind::Gauge => matches!(aggregation, A::Value),
    }
}

fn kind_name(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Counter => "counter",
        MetricKind::Gauge => "gauge",
        MetricKind::Rate => "rate",
        MetricKind::Trend => "trend",
    }
}

fn allowed_aggregations(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Trend => "avg, min, max, med and p(N)",
        MetricKind::Rate => "rate",
        MetricKind::Counter => "count and rate",
        MetricKind::Gauge => "value",
    }
}
