//! The `sse` step: the request part is validated as a `request` is; then the
//! end conditions, stream checks and extractions.

use super::Validator;
use super::steps::StepCtx;
use crate::protocol::sse::DEFAULT_MAX_EVENT_BYTES;
use crate::scenario::condition::Condition;
use crate::scenario::locate::FieldPath;
use crate::scenario::model::{ExtractDef, RequestDef, SseCheckDef, SseDef, SseExtractDef};
use crate::scenario::sse_plan::{CountOp, EventPick, SseCheck, SseCondition, SseExtract, SseStep};

const SUBJECTS: &str = "status, error_code, events, data_contains or json";

impl Validator<'_> {
    pub(crate) fn sse(&mut self, def: &SseDef, path: &FieldPath, ctx: &StepCtx) -> Option<SseStep> {
        // The request part is a request: same keys, same rules, same messages.
        let request_def = RequestDef {
            name: def.name.clone(),
            method: def.method.clone(),
            url: def.url.clone(),
            query: def.query.clone(),
            headers: def.headers.clone(),
            json: def.json.clone(),
            body: def.body.clone(),
            timeout: def.timeout.clone(),
            expect_status: def.expect_status.clone(),
            http2: def.http2.clone(),
            // Merged and built as a request's, so the stream's connection
            // is pooled with its profile like a request's.
            tls: def.tls.clone(),
            ..RequestDef::default()
        };
        let request = self.request(&request_def, path, ctx);
        let mut ok = true;
        for (key, value) in [("until", &def.until), ("until_event", &def.until_event)] {
            if value.as_ref().is_some_and(|v| v.is_empty()) {
                self.problem(&path.key(key), "must not be empty", None);
                ok = false;
            }
        }
        let max_events = match &def.max_events {
            Some(n) => match self.value(n, &path.key("max_events")) {
                Some(0) => {
                    self.problem(&path.key("max_events"), "must be at least 1", None);
                    ok = false;
                    None
                }
                Some(n) => Some(n),
                None => {
                    ok = false;
                    None
                }
            },
            None => None,
        };
        let hold = match &def.hold {
            Some(t) => {
                let hold = self.positive_duration(t, &path.key("hold"));
                ok &= hold.is_some();
                hold
            }
            None => None,
        };
        let checks = self.sse_checks(&def.checks, &path.key("checks"), ctx);
        let extract = self.sse_extracts(def, &path.key("extract"));
        let (request, checks, extract) = (request?, checks?, extract?);
        let hold = match hold {
            Some(written) => {
                let scaled = self.paced(written);
                // The timeout is not scaled: a hold scaled up past it would
                // turn every stream into an `sse_timeout` failure.
                if written < request.timeout && scaled >= request.timeout {
                    self.problem(
                        &path.key("hold"),
                        format!(
                            "--scale-duration {} makes this hold {scaled:?}, not shorter than the stream's timeout ({:?})",
                            self.options.scale.duration, request.timeout
                        ),
                        Some("raise the step's `timeout`".into()),
                    );
                    ok = false;
                }
                Some(scaled)
            }
            None => None,
        };
        ok.then_some(SseStep {
            request,
            until_data: def.until.clone(),
            until_event: def.until_event.clone(),
            max_events,
            hold,
            checks,
            extract,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        })
    }

    fn event_pick(&mut self, on: Option<&str>, path: &FieldPath) -> Option<EventPick> {
        match on {
            None | Some("last") => Some(EventPick::Last),
            Some("any") => Some(EventPick::Any),
            Some(other) => {
                self.problem(
                    path,
                    format!("unknown event selector {other:?}"),
                    Some("use last or any".into()),
                );
                None
            }
        }
    }

    fn sse_checks(
        &mut self,
        defs: &[SseCheckDef],
        path: &FieldPath,
        ctx: &StepCtx,
    ) -> Option<Vec<SseCheck>> {
        self.named_checks(defs, path, ctx, |d| d.name.as_deref(), Self::sse_check)
    }

    /// One check and its default name.
    fn sse_check(&mut self, def: &SseCheckDef, path: &FieldPath) -> Option<(SseCondition, String)> {
        let subjects: Vec<&str> = [
            ("status", def.status.is_some()),
            ("error_code", def.error_code.is_some()),
            ("events", def.events.is_some()),
            ("data_contains", def.data_contains.is_some()),
            ("json", def.json.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let subject = self.one_subject(&subjects, path, "a stream check", "a check", SUBJECTS)?;
        let has_operators = def.exists.is_some()
            || def.equals.is_some()
            || def.not_equals.is_some()
            || def.contains.is_some()
            || def.not_contains.is_some()
            || def.matches.is_some()
            || def.lt.is_some()
            || def.lte.is_some()
            || def.gt.is_some()
            || def.gte.is_some()
            || def.one_of.is_some();
        if subject != "json" && has_operators {
            self.problem(
                path,
                format!("{subject} takes no operators"),
                Some("operators apply to json".into()),
            );
            return None;
        }
        if matches!(subject, "status" | "error_code" | "events") && def.on.is_some() {
            self.problem(
                &path.key("on"),
                format!("`on` picks the event for data_contains and json, not for {subject}"),
                None,
            );
            return None;
        }
        match subject {
            "status" => {
                let set = self.check_status_set(def.status.as_ref()?, &path.key("status"))?;
                let described = Condition::Status(set.clone()).describe();
                Some((SseCondition::Status(set), described))
            }
            "error_code" => {
                let code = self.error_code(def.error_code.as_ref()?, &path.key("error_code"))?;
                let described = Condition::ErrorCode(code.clone()).describe();
                Some((SseCondition::ErrorCode(code), described))
            }
            "events" => {
                let text = &def.events.as_ref()?.text;
                let Some((op, n)) = CountOp::parse(text) else {
                    self.problem(
                        &path.key("events"),
                        format!("invalid event count {text:?}"),
                        Some("use a number (10) or a comparison such as \">= 10\"".into()),
                    );
                    return None;
                };
                Some((SseCondition::Events(op, n), format!("events {op} {n}")))
            }
            "data_contains" => {
                let pick = self.event_pick(def.on.as_deref(), &path.key("on"))?;
                let text = def.data_contains.as_ref()?;
                let template = self.template(text, &path.key("data_contains"))?;
                let described = format!("{} event data contains {text}", pick.as_str());
                Some((
                    SseCondition::Data(pick, Condition::body_contains(template)),
                    described,
                ))
            }
            _ => {
                let pick = self.event_pick(def.on.as_deref(), &path.key("on"));
                // The operators are those of request checks: validate them there.
                let as_request = condition_with_operators!(def, { json: def.json.clone() });
                let condition = self.condition(&as_request, path, true)?;
                let pick = pick?;
                let described = format!("{} event {}", pick.as_str(), condition.describe());
                Some((SseCondition::Data(pick, condition), described))
            }
        }
    }

    fn sse_extracts(&mut self, def: &SseDef, path: &FieldPath) -> Option<Vec<SseExtract>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (name, e) in &def.extract.0 {
            let at = path.key(name);
            match self.sse_extract(e, &at) {
                Some((pick, source)) => {
                    // Declared by `collect_variables`, so the slot exists.
                    if let Some(slot) = self.variables.iter().position(|v| v == name) {
                        out.push(SseExtract {
                            slot: crate::scenario::VarSlot(slot as u32),
                            pick,
                            source,
                        });
                    }
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn sse_extract(
        &mut self,
        def: &SseExtractDef,
        path: &FieldPath,
    ) -> Option<(EventPick, crate::scenario::Extractor)> {
        let pick = self.event_pick(def.on.as_deref(), &path.key("on"));
        if def.json.is_none() && def.regex.is_none() {
            self.problem(
                path,
                "needs a source",
                Some("use json or regex (applied to the event's data)".into()),
            );
            return None;
        }
        let as_request = ExtractDef {
            json: def.json.clone(),
            regex: def.regex.clone(),
            ..ExtractDef::default()
        };
        let source = self.extractor(&as_request, path)?;
        Some((pick?, source))
    }
}
