//! One request step: render the templates, send, record every hop, then run
//! checks, extractions and custom-metric records on the response.

use std::time::Instant;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, HeaderName};

use super::in_flight::InFlight;
use super::vu::{IterationError, LastResponse, Vu};
use crate::metrics::{HttpSample, MetricKind, builtin};
use crate::protocol::http::{HttpOutcome, HttpRequest, HttpResponse};
use crate::scenario::{
    Condition, Extractor, RecordAction, RequestBody, RequestStep, ResponseView, Template,
};

/// A step whose templates are rendered here: its kind and name go into
/// rendering errors (`request "login": ...`).
pub(super) trait NamedStep {
    fn kind(&self) -> &'static str;
    fn name(&self) -> &str;
}

impl NamedStep for RequestStep {
    fn kind(&self) -> &'static str {
        "request"
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl Vu {
    pub async fn request(&mut self, step: &RequestStep) -> Result<(), IterationError> {
        // Boxed: the exchange future is ~2 KB and lives only while a request
        // is in flight; inline, every VU's task would carry it even asleep
        // (tried: no measurable throughput gain from inlining it).
        Box::pin(self.exchange(step)).await
    }

    /// Renders, sends and records one request. The outcome is measured into
    /// this future (in the caller's box) and read where it lies: returned,
    /// its ~350 bytes were copied through every layer of the client. The
    /// request is rendered here rather than passed in, because an async
    /// fn's arguments stay in its future for its whole life.
    async fn exchange(&mut self, step: &RequestStep) -> Result<(), IterationError> {
        let request = self.render(step)?;
        self.requests_in_iteration += 1;
        self.ctx.http_debug.request(&request);
        let mut outcome = HttpOutcome::default();
        // One clock read times the request and its in-flight guard.
        let started = Instant::now();
        let in_flight = InFlight::started_at(&self.ctx.recorder, step.tag_set, started);
        self.client
            .send_into(request, step.max_body_size, started, &mut outcome)
            .await;
        in_flight.done();
        self.after_response(step, &mut outcome);
        Ok(())
    }

    /// Renders a request step into the bytes to send.
    pub fn render(&self, step: &RequestStep) -> Result<HttpRequest, IterationError> {
        let mut url = self.text(&step.url, step)?;
        if !step.query.is_empty() {
            let mut pairs = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in &step.query {
                pairs.append_pair(&self.text(key, step)?, &self.text(value, step)?);
            }
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&pairs.finish());
        }

        let mut headers = self.headers(&step.headers, step)?;

        let body = match &step.body {
            RequestBody::Empty => Bytes::new(),
            RequestBody::Json(template) => {
                set_default_content_type(&mut headers, "application/json");
                Bytes::from(self.text(template, step)?)
            }
            RequestBody::Raw(template) => Bytes::from(self.text(template, step)?),
            RequestBody::Form(fields) => {
                set_default_content_type(&mut headers, "application/x-www-form-urlencoded");
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (key, value) in fields {
                    form.append_pair(&self.text(key, step)?, &self.text(value, step)?);
                }
                Bytes::from(form.finish())
            }
        };

        Ok(HttpRequest {
            method: step.method.clone(),
            url,
            headers,
            body,
            timeout: step.timeout,
            keep_body: step.needs_body || self.ctx.http_debug.is_on(),
            // Inside a `repeat`, `until` may read this response's headers.
            keep_headers: self.ctx.http_debug.is_on()
                || self.repeat_depth > 0
                || step.needs_headers
                || reads_headers(step),
            proto: step.proto,
            tls: step.tls.clone(),
        })
    }

    /// Renders a template of `step`; errors name the step.
    pub(super) fn text(
        &self,
        template: &Template,
        step: &impl NamedStep,
    ) -> Result<String, IterationError> {
        if let Some(fixed) = template.as_static() {
            return Ok(fixed.to_string());
        }
        let mut out = String::new();
        template
            .render(&self.scope, &mut out)
            .map_err(|e| IterationError(format!("{} {:?}: {}", step.kind(), step.name(), e.0)))?;
        Ok(out)
    }

    /// The step's own headers, then the run's default headers it does not
    /// set. A default header that cannot be rendered yet is left out: the
    /// usual case is `Authorization: Bearer {{ token }}` on the login
    /// request that sets `token`.
    pub(super) fn headers(
        &self,
        own: &[(HeaderName, Template)],
        step: &impl NamedStep,
    ) -> Result<HeaderMap, IterationError> {
        let mut headers = HeaderMap::new();
        for (name, value) in own {
            headers.append(name.clone(), self.header_value(name, value, step)?);
        }
        for (name, value) in &self.ctx.plan.http.default_headers {
            if !headers.contains_key(name)
                && let Ok(value) = self.header_value(name, value, step)
            {
                headers.insert(name.clone(), value);
            }
        }
        Ok(headers)
    }

    /// Renders a header value of `step`.
    pub(super) fn header_value(
        &self,
        name: &HeaderName,
        template: &Template,
        step: &impl NamedStep,
    ) -> Result<HeaderValue, IterationError> {
        let text = self.text(template, step)?;
        // The value may hold a token: name the header, never print the value.
        HeaderValue::try_from(text).map_err(|_| {
            IterationError(format!(
                "{} {:?}: header {name} rendered to a value that is not valid in HTTP",
                step.kind(),
                step.name()
            ))
        })
    }

    /// Records every hop, evaluates checks, extracts variables, feeds custom
    /// metrics and keeps the response for `repeat ... until` (its status,
    /// headers and body are taken out of `outcome`).
    pub fn after_response(&mut self, step: &RequestStep, outcome: &mut HttpOutcome) {
        self.ctx.http_debug.response(&outcome.response);
        let response = &outcome.response;
        let duration = response.timings.duration;
        let error_code = response.error.as_ref().map(|e| e.code.as_str());
        let view = ResponseView::new(response.status, &response.headers, &response.body, duration)
            .with_error_code(error_code);
        // Every hop and every check in one visit of the thread's shard.
        // Conditions only read the response and the VU's variables.
        self.ctx.recorder.batch(|batch| {
            for hop in outcome.redirects.iter().chain([response]) {
                batch.record_http(&self.http_sample(step, hop));
            }
            for check in &step.checks {
                let hit = check.condition.evaluate(&view, &self.scope);
                batch.rate(builtin::CHECKS, check.tag_set, hit);
            }
        });
        for record in &step.record {
            self.feed_metric(record, &view);
        }
        let extracted: Vec<_> = step
            .extract
            .iter()
            .map(|(slot, extractor)| (*slot, extractor.extract(&view)))
            .collect();
        for (slot, value) in extracted {
            self.scope.set_var(slot, value);
        }
        let response = &mut outcome.response;
        self.last = Some(LastResponse {
            status: response.status,
            headers: std::mem::take(&mut response.headers),
            body: std::mem::take(&mut response.body),
            duration,
            error_code,
        });
    }

    /// What the recorder keeps of one hop.
    fn http_sample(&self, step: &RequestStep, hop: &HttpResponse) -> HttpSample {
        let error_code = hop.error.as_ref().map(|e| e.code.as_str());
        let tags = if step.header_tags.is_empty() {
            step.tag_set
        } else {
            self.ctx
                .header_tags
                .tag_set(step.tag_set, &step.header_tags, &hop.headers)
        };
        HttpSample {
            tags,
            status: hop.status,
            expected: error_code.is_none() && step.expected_statuses.contains(hop.status),
            error_code,
            proto: proto_tag(hop),
            timings: hop.timings,
            bytes_sent: hop.bytes_sent,
            bytes_received: hop.bytes_received,
        }
    }

    fn feed_metric(&self, record: &crate::scenario::RecordSpec, view: &ResponseView<'_>) {
        let recorder = &self.ctx.recorder;
        let holds = |when: &Option<crate::scenario::Condition>| {
            when.as_ref().is_none_or(|c| c.evaluate(view, &self.scope))
        };
        match &record.action {
            RecordAction::Add { amount, when } => {
                if holds(when) {
                    recorder.add(record.metric, record.tag_set, *amount);
                }
            }
            RecordAction::Rate { condition } => {
                recorder.rate(
                    record.metric,
                    record.tag_set,
                    condition.evaluate(view, &self.scope),
                );
            }
            RecordAction::Value { source, when } => {
                if !holds(when) {
                    return;
                }
                let value = source
                    .extract(view)
                    .and_then(|text| text.trim().parse::<f64>().ok());
                let Some(value) = value else {
                    let name = &self.ctx.plan.registry.get(record.metric).name;
                    self.ctx.report_error(&format!(
                        "metric {name}: the response held no numeric value to record"
                    ));
                    return;
                };
                match self.ctx.plan.registry.get(record.metric).kind {
                    MetricKind::Gauge => recorder.gauge(record.metric, record.tag_set, value),
                    MetricKind::Trend => recorder.trend(record.metric, record.tag_set, value),
                    MetricKind::Counter => recorder.add(record.metric, record.tag_set, value),
                    MetricKind::Rate => recorder.rate(record.metric, record.tag_set, value != 0.0),
                }
            }
        }
    }
}

/// Whether the step's checks, extractions or records read response headers
/// (cookies included); when none do, the client does not build a header map.
fn reads_headers(step: &RequestStep) -> bool {
    step.checks
        .iter()
        .any(|check| check.condition.needs_headers())
        || step
            .extract
            .iter()
            .any(|(_, extractor)| extractor_reads_headers(extractor))
        || step.record.iter().any(|record| match &record.action {
            RecordAction::Add { when, .. } => when.as_ref().is_some_and(Condition::needs_headers),
            RecordAction::Rate { condition } => condition.needs_headers(),
            RecordAction::Value { source, when } => {
                extractor_reads_headers(source)
                    || when.as_ref().is_some_and(Condition::needs_headers)
            }
        })
}

// An exhaustive match: a new extractor must say whether it reads headers.
fn extractor_reads_headers(extractor: &Extractor) -> bool {
    match extractor {
        Extractor::Json(_) | Extractor::Regex(_) => false,
        Extractor::Header(_) | Extractor::Cookie(_) => true,
    }
}

/// The `proto` tag: the protocol the response came in (`HTTP/1.1`,
/// `HTTP/2.0`, as k6 writes them), absent when no response arrived (the
/// request failed before one: nothing was spoken that the tag could name).
pub(super) fn proto_tag(response: &HttpResponse) -> Option<&'static str> {
    (response.status != 0).then(|| response.proto.as_str())
}

fn set_default_content_type(headers: &mut HeaderMap, value: &'static str) {
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
    }
}
