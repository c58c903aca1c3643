//! Checks of a `websocket` step: on a matched reply (the subjects and
//! operators of request checks, on the message) and on the whole session
//! (upgrade status, message counts).

use super::Validator;
use super::steps::StepCtx;
use crate::scenario::condition::Condition;
use crate::scenario::locate::FieldPath;
use crate::scenario::plan::CheckSpec;
use crate::scenario::sse_plan::CountOp;
use crate::scenario::ws_model::{WsCheckDef, WsReplyCheckDef};
use crate::scenario::ws_plan::{WsCheck, WsCondition};

impl Validator<'_> {
    pub(super) fn ws_reply_checks(
        &mut self,
        defs: &[WsReplyCheckDef],
        path: &FieldPath,
        ctx: &StepCtx,
    ) -> Option<Vec<CheckSpec>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (i, def) in defs.iter().enumerate() {
            let at = path.index(i);
            let subjects: Vec<&str> = [
                ("json", def.json.is_some()),
                ("data_contains", def.data_contains.is_some()),
                ("data_matches", def.data_matches.is_some()),
            ]
            .into_iter()
            .filter_map(|(k, set)| set.then_some(k))
            .collect();
            let Some(_) = self.one_subject(
                &subjects,
                &at,
                "a reply check",
                "a check",
                "json, data_contains or data_matches",
            ) else {
                ok = false;
                continue;
            };
            // The subjects and operators are those of request checks.
            let as_request = condition_with_operators!(def, {
                json: def.json.clone(),
                body_contains: def.data_contains.clone(),
                body_matches: def.data_matches.clone(),
            });
            let Some(condition) = self.condition(&as_request, &at, true) else {
                ok = false;
                continue;
            };
            let name = def.name.clone().unwrap_or_else(|| {
                condition
                    .describe()
                    .replace("body contains", "data contains")
                    .replace("body matches", "data matches")
            });
            let mut tags = ctx.tags();
            tags.push(("check".into(), name.clone()));
            out.push(CheckSpec {
                name,
                tag_set: super::intern(tags),
                condition,
            });
        }
        ok.then_some(out)
    }

    pub(super) fn ws_checks(
        &mut self,
        defs: &[WsCheckDef],
        path: &FieldPath,
        ctx: &StepCtx,
    ) -> Option<Vec<WsCheck>> {
        self.named_checks(defs, path, ctx, |d| d.name.as_deref(), Self::ws_check)
    }

    /// One session check and its default name.
    fn ws_check(&mut self, def: &WsCheckDef, path: &FieldPath) -> Option<(WsCondition, String)> {
        let subjects: Vec<&str> = [
            ("status", def.status.is_some()),
            ("error_code", def.error_code.is_some()),
            ("messages_received", def.messages_received.is_some()),
            ("messages_sent", def.messages_sent.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let subject = self.one_subject(
            &subjects,
            path,
            "a session check",
            "a check",
            "status, error_code, messages_received or messages_sent",
        )?;
        if subject == "status" {
            let set = self.check_status_set(def.status.as_ref()?, &path.key("status"))?;
            let described = Condition::Status(set.clone()).describe();
            return Some((WsCondition::Status(set), described));
        }
        if subject == "error_code" {
            let code = self.error_code(def.error_code.as_ref()?, &path.key("error_code"))?;
            let described = Condition::ErrorCode(code.clone()).describe();
            return Some((WsCondition::ErrorCode(code), described));
        }
        let value = if subject == "messages_sent" {
            &def.messages_sent
        } else {
            &def.messages_received
        };
        let text = &value.as_ref()?.text;
        let Some((op, n)) = CountOp::parse(text) else {
            self.problem(
                &path.key(subject),
                format!("invalid message count {text:?}"),
                Some("use a number (4) or a comparison such as \">= 4\"".into()),
            );
            return None;
        };
        let condition = if subject == "messages_sent" {
            WsCondition::MessagesSent(op, n)
        } else {
            WsCondition::MessagesReceived(op, n)
        };
        Some((condition, format!("{subject} {op} {n}")))
    }
}
