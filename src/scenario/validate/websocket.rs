//! The `websocket` step: URL, headers and subprotocols of the upgrade, then
//! the session's steps (send, expect, hold); checks are in `ws_checks`.
//! Conditions and extractions on replies are those of requests, validated there.

use base64::Engine as _;
use bytes::Bytes;

use super::Validator;
use super::steps::StepCtx;
use crate::scenario::condition::Condition;
use crate::scenario::locate::FieldPath;
use crate::scenario::model::ExtractDef;
use crate::scenario::template::{Template, TemplateBuilder};
use crate::scenario::ws_model::{WebSocketDef, WsExpectDef, WsHoldDef, WsSendDef, WsStepDef};
use crate::scenario::ws_plan::{WebSocketStep, WsAction, WsExpect, WsHold, WsPayload};
use crate::util::url_secrets::redact_url;

/// Headers the handshake writes itself.
const HANDSHAKE_HEADERS: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
];

impl Validator<'_> {
    pub(crate) fn websocket(
        &mut self,
        def: &WebSocketDef,
        path: &FieldPath,
        ctx: &StepCtx,
    ) -> Option<WebSocketStep> {
        let url = self.ws_url(&def.url, &path.key("url"));
        let headers = self.headers(&def.headers, &path.key("headers"));
        let mut ok = true;
        for (name, _) in &def.headers.0 {
            let lower = name.to_ascii_lowercase();
            let hint = if lower == "sec-websocket-protocol" {
                Some("use subprotocols: [...]".to_string())
            } else if HANDSHAKE_HEADERS.contains(&lower.as_str()) {
                None
            } else {
                continue;
            };
            self.problem(
                &path.key("headers").key(name),
                format!("{name} is set by the WebSocket handshake"),
                hint,
            );
            ok = false;
        }
        ok &= self.subprotocols(&def.subprotocols, &path.key("subprotocols"));
        let connect_timeout = match &def.connect_timeout {
            Some(t) => self.positive_duration(t, &path.key("connect_timeout")),
            None => Some(self.default_timeout),
        };
        let name = self.request_name(def.name.as_deref(), &def.url, &path.key("name"));
        ok &= !name.is_empty();
        let mut tags = ctx.tags();
        tags.push(("name".into(), name.clone()));
        let tag_set = super::intern(tags.clone());
        tags.push(("method".into(), "GET".into()));
        let upgrade_tag_set = super::intern(tags);

        let steps_path = path.key("steps");
        if def.steps.is_empty() {
            self.problem(&steps_path, "needs at least one step", None);
            ok = false;
        }
        let mut actions = Vec::new();
        for (i, step) in def.steps.iter().enumerate() {
            match self.ws_action(step, &steps_path.index(i), ctx, &name) {
                Some(action) => actions.push(action),
                None => ok = false,
            }
        }
        let checks = self.ws_checks(&def.checks, &path.key("checks"), ctx);
        // The same merge and the same deduplicated profiles as a request's.
        let tls = match &def.tls {
            Some(tls) => match self.request_tls(tls, &path.key("tls"), ctx.tls.as_deref()) {
                Some(profile) => Some(profile),
                None => {
                    ok = false;
                    None
                }
            },
            None => None,
        };
        let (url, connect_timeout, checks) = (url?, connect_timeout?, checks?);
        ok.then_some(WebSocketStep {
            url,
            headers,
            subprotocols: def.subprotocols.clone(),
            connect_timeout,
            name,
            tag_set,
            upgrade_tag_set,
            actions,
            checks,
            tls,
        })
    }

    fn ws_url(&mut self, text: &str, path: &FieldPath) -> Option<Template> {
        let template = self.template(text, path)?;
        let lower = template.leading_literal().to_ascii_lowercase();
        // http(s):// stands for ws(s)://, so `{{ BASE_URL }}/ws` works.
        let schemes = ["ws://", "wss://", "http://", "https://"];
        let scheme_ok = schemes.iter().any(|s| lower.starts_with(s))
            || (template.is_dynamic() && schemes.iter().any(|s| s.starts_with(&lower)));
        if !scheme_ok {
            self.problem(
                path,
                format!(
                    "URL must start with ws:// or wss://, got {:?}",
                    redact_url(template.leading_literal())
                ),
                Some(
                    "e.g. \"ws://{{ HOST }}/ws\"; http:// and https:// mean ws:// and wss://"
                        .into(),
                ),
            );
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

    /// Subprotocols are HTTP tokens, each offered once.
    fn subprotocols(&mut self, list: &[String], path: &FieldPath) -> bool {
        let mut ok = true;
        for (i, protocol) in list.iter().enumerate() {
            let token = !protocol.is_empty()
                && protocol
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
            if !token {
                self.problem(
                    &path.index(i),
                    format!("invalid subprotocol {protocol:?}"),
                    Some("use a token such as chat.v1: no spaces, commas or slashes".into()),
                );
                ok = false;
            } else if list[..i].contains(protocol) {
                self.problem(
                    &path.index(i),
                    format!("subprotocol {protocol:?} is listed twice"),
                    None,
                );
                ok = false;
            }
        }
        ok
    }

    fn ws_action(
        &mut self,
        def: &WsStepDef,
        path: &FieldPath,
        ctx: &StepCtx,
        session_name: &str,
    ) -> Option<WsAction> {
        let present: Vec<&str> = [
            ("send", def.send.is_some()),
            ("expect", def.expect.is_some()),
            ("hold", def.hold.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        match present.as_slice() {
            [_] => {}
            [] => {
                self.problem(
                    path,
                    "empty step; a session step is one of send, expect or hold",
                    None,
                );
                return None;
            }
            many => {
                self.problem(
                    path,
                    format!(
                        "a session step has exactly one of send, expect or hold, found {}",
                        many.join(" and ")
                    ),
                    Some("start each step with its own '-' list item".into()),
                );
                return None;
            }
        }
        if let Some(send) = &def.send {
            return self.ws_send(send, &path.key("send")).map(WsAction::Send);
        }
        if let Some(expect) = &def.expect {
            return self
                .ws_expect(expect, &path.key("expect"), ctx, session_name)
                .map(WsAction::Expect);
        }
        self.ws_hold(def.hold.as_ref()?, &path.key("hold"))
            .map(WsAction::Hold)
    }

    fn ws_send(&mut self, def: &WsSendDef, path: &FieldPath) -> Option<WsPayload> {
        let given: Vec<&str> = [
            ("text", def.text.is_some()),
            ("json", def.json.is_some()),
            ("binary_base64", def.binary_base64.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        match given.as_slice() {
            [_] => {}
            [] => {
                self.problem(
                    path,
                    "needs a message",
                    Some("use one of text, json or binary_base64".into()),
                );
                return None;
            }
            many => {
                self.problem(
                    path,
                    format!(
                        "use only one of text, json and binary_base64, found {}",
                        many.join(" and ")
                    ),
                    None,
                );
                return None;
            }
        }
        if let Some(text) = &def.text {
            return self.template(text, &path.key("text")).map(WsPayload::Text);
        }
        if let Some(value) = &def.json {
            let mut builder = TemplateBuilder::default();
            let mut source = String::new();
            let ok = self.json_value(value, &path.key("json"), &mut builder, &mut source);
            return ok.then(|| WsPayload::Json(builder.finish(source)));
        }
        let encoded = def.binary_base64.as_ref()?;
        match base64::engine::general_purpose::STANDARD.decode(encoded.trim()) {
            Ok(bytes) => Some(WsPayload::Binary(Bytes::from(bytes))),
            Err(e) => {
                self.problem(
                    &path.key("binary_base64"),
                    format!("invalid base64: {e}"),
                    None,
                );
                None
            }
        }
    }

    fn ws_hold(&mut self, def: &WsHoldDef, path: &FieldPath) -> Option<WsHold> {
        let duration = self.positive_duration(&def.duration, &path.key("duration"));
        let ping_interval = match &def.ping_interval {
            Some(t) => Some(self.positive_duration(t, &path.key("ping_interval"))?),
            None => None,
        };
        Some(WsHold {
            duration: self.paced(duration?),
            ping_interval: ping_interval.map(|d| self.paced(d)),
        })
    }

    fn ws_expect(
        &mut self,
        def: &WsExpectDef,
        path: &FieldPath,
        ctx: &StepCtx,
        session_name: &str,
    ) -> Option<WsExpect> {
        let name = def.name.clone().unwrap_or_else(|| session_name.to_string());
        let mut ok = true;
        if name.trim().is_empty() {
            self.problem(&path.key("name"), "must not be empty", None);
            ok = false;
        }
        let matcher = self.ws_matcher(def, path);
        let timeout = match &def.timeout {
            Some(t) => self.positive_duration(t, &path.key("timeout")),
            None => Some(self.default_timeout),
        };
        let checks = self.ws_reply_checks(&def.checks, &path.key("checks"), ctx);
        let mut extract = Vec::new();
        for (var, e) in &def.extract.0 {
            let at = path.key("extract").key(var);
            if e.json.is_none() && e.regex.is_none() {
                self.problem(
                    &at,
                    "needs a source",
                    Some("use json or regex (applied to the message)".into()),
                );
                ok = false;
                continue;
            }
            let as_request = ExtractDef {
                json: e.json.clone(),
                regex: e.regex.clone(),
                ..ExtractDef::default()
            };
            let source = self.extractor(&as_request, &at);
            // Declared by `collect_variables`, so the slot exists.
            let slot = self.variables.iter().position(|v| v == var);
            match (source, slot) {
                (Some(source), Some(slot)) => {
                    extract.push((crate::scenario::VarSlot(slot as u32), source))
                }
                _ => ok = false,
            }
        }
        let mut tags = ctx.tags();
        tags.push(("name".into(), name.clone()));
        let (matcher, timeout, checks) = (matcher?, timeout?, checks?);
        ok.then_some(WsExpect {
            name,
            tag_set: super::intern(tags),
            matcher,
            timeout,
            checks,
            extract,
        })
    }

    /// What a message must satisfy: `Some(None)` accepts any message.
    fn ws_matcher(&mut self, def: &WsExpectDef, path: &FieldPath) -> Option<Option<Condition>> {
        if let Some(json) = &def.json {
            let mut as_request = condition_with_operators!(def, { json: Some(json.clone()) });
            let no_operator = as_request.exists.is_none()
                && [
                    &as_request.equals,
                    &as_request.not_equals,
                    &as_request.contains,
                    &as_request.not_contains,
                    &as_request.lt,
                    &as_request.lte,
                    &as_request.gt,
                    &as_request.gte,
                ]
                .iter()
                .all(|o| o.is_none())
                && as_request.matches.is_none()
                && as_request.one_of.is_none();
            if no_operator {
                as_request.exists = Some(true);
            }
            return self.condition(&as_request, path, false).map(Some);
        }
        let needs_json: Vec<&str> = [
            ("exists", def.exists.is_some()),
            ("equals", def.equals.is_some()),
            ("not_equals", def.not_equals.is_some()),
            ("not_contains", def.not_contains.is_some()),
            ("lt", def.lt.is_some()),
            ("lte", def.lte.is_some()),
            ("gt", def.gt.is_some()),
            ("gte", def.gte.is_some()),
            ("in", def.one_of.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        if let Some(first) = needs_json.first() {
            self.problem(
                &path.key(first),
                format!("{first} applies to a json value"),
                Some("add json: <path>, or use contains / matches on the whole message".into()),
            );
            return None;
        }
        match (&def.contains, &def.matches) {
            (Some(_), Some(_)) => {
                self.problem(
                    path,
                    "use only one of contains and matches without json",
                    None,
                );
                None
            }
            (Some(text), None) => self
                .template(&text.text, &path.key("contains"))
                .map(|t| Some(Condition::body_contains(t))),
            (None, Some(re)) => self
                .regex(re, &path.key("matches"))
                .map(|re| Some(Condition::BodyMatches(re))),
            (None, None) => Some(None),
        }
    }
}
