//! Checks, conditions, extractors and `record` entries.

use std::time::Duration;

use http::HeaderName;
use regex::Regex;

use super::Validator;
use super::steps::StepCtx;
use crate::metrics::{MetricKind, TagSetId};
use crate::scenario::condition::{Compare, Condition, Extractor, Operator, Subject};
use crate::scenario::jsonpath::JsonPath;
use crate::scenario::locate::FieldPath;
use crate::scenario::model::{ConditionDef, ExtractDef, RecordDef};
use crate::scenario::model_types::{OrderedMap, Scalar, StatusSpec};
use crate::scenario::plan::{CheckSpec, NamedCheck, RecordAction, RecordSpec, StatusSet, VarSlot};
use crate::scenario::template::Template;

/// (key, value, constructor) of an operator that takes a templated value.
type TemplatedOperator<'a> = (&'a str, &'a Option<Scalar>, fn(Template) -> Operator);

const SUBJECTS: &str = "status, error_code, json, header, cookie, var, body_contains, \
     body_not_contains, body_matches, max_duration or not";
const OPERATORS: &str =
    "exists, equals, not_equals, contains, not_contains, matches, lt, lte, gt, gte or in";

pub(crate) fn record_needs_body(record: &RecordSpec) -> bool {
    match &record.action {
        RecordAction::Add { when, .. } => when.as_ref().is_some_and(Condition::needs_body),
        RecordAction::Rate { condition } => condition.needs_body(),
        RecordAction::Value { source, when } => {
            source.needs_body() || when.as_ref().is_some_and(Condition::needs_body)
        }
    }
}

impl Validator<'_> {
    /// The checks of a stream step: each definition's condition and default
    /// name from `one`, named by the definition's `name` if it has one, and
    /// tagged with `check`. None if any definition is wrong (each reported).
    pub(super) fn named_checks<D, C>(
        &mut self,
        defs: &[D],
        path: &FieldPath,
        ctx: &StepCtx,
        name_of: impl Fn(&D) -> Option<&str>,
        mut one: impl FnMut(&mut Self, &D, &FieldPath) -> Option<(C, String)>,
    ) -> Option<Vec<NamedCheck<C>>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (i, def) in defs.iter().enumerate() {
            match one(self, def, &path.index(i)) {
                Some((condition, described)) => {
                    let name = name_of(def).map_or(described, str::to_string);
                    let mut tags = ctx.tags();
                    tags.push(("check".into(), name.clone()));
                    out.push(NamedCheck {
                        name,
                        tag_set: super::intern(tags),
                        condition,
                    });
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(crate) fn checks(
        &mut self,
        defs: &[ConditionDef],
        path: &FieldPath,
        ctx: &StepCtx,
    ) -> Vec<CheckSpec> {
        let mut out = Vec::new();
        for (i, def) in defs.iter().enumerate() {
            let Some(condition) = self.condition(def, &path.index(i), true) else {
                continue;
            };
            let name = def.name.clone().unwrap_or_else(|| condition.describe());
            let mut tags = ctx.tags();
            tags.push(("check".into(), name.clone()));
            out.push(CheckSpec {
                name,
                tag_set: super::intern(tags),
                condition,
            });
        }
        out
    }

    pub(super) fn regex(&mut self, text: &str, path: &FieldPath) -> Option<Regex> {
        match Regex::new(text) {
            Ok(re) => Some(re),
            Err(e) => {
                // The regex crate's message spans several lines; keep the last (the reason).
                let reason = e
                    .to_string()
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim()
                    .to_string();
                self.problem(
                    path,
                    format!(
                        "invalid regex {text:?}: {}",
                        reason.trim_start_matches("error: ")
                    ),
                    None,
                );
                None
            }
        }
    }

    pub(super) fn header_name(&mut self, text: &str, path: &FieldPath) -> Option<HeaderName> {
        match HeaderName::from_bytes(text.as_bytes()) {
            Ok(h) => Some(h),
            Err(_) => {
                self.problem(path, format!("invalid header name {text:?}"), None);
                None
            }
        }
    }

    fn json_path(&mut self, text: &str, path: &FieldPath) -> Option<JsonPath> {
        match JsonPath::parse(text) {
            Ok(p) => Some(p),
            Err(e) => {
                self.problem(
                    path,
                    e,
                    Some("e.g. data.items[0].id, items.# for a length".into()),
                );
                None
            }
        }
    }

    fn scalar_template(&mut self, value: &Scalar, path: &FieldPath) -> Option<Template> {
        self.template(&value.text, path)
    }

    /// A condition; `named` says whether a `name` key is meaningful here.
    pub(crate) fn condition(
        &mut self,
        def: &ConditionDef,
        path: &FieldPath,
        named: bool,
    ) -> Option<Condition> {
        if def.name.is_some() && !named {
            self.problem(
                &path.key("name"),
                "`name` is only used by checks and repeat.until",
                None,
            );
        }
        let subjects: Vec<&str> = [
            ("status", def.status.is_some()),
            ("error_code", def.error_code.is_some()),
            ("json", def.json.is_some()),
            ("header", def.header.is_some()),
            ("cookie", def.cookie.is_some()),
            ("var", def.var.is_some()),
            ("body_contains", def.body_contains.is_some()),
            ("body_not_contains", def.body_not_contains.is_some()),
            ("body_matches", def.body_matches.is_some()),
            ("max_duration", def.max_duration.is_some()),
            ("not", def.not.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let ops = self.operators(def, path);
        let subject = self.one_subject(&subjects, path, "a condition", "a condition", SUBJECTS)?;
        let value_subject = matches!(subject, "json" | "header" | "cookie" | "var");
        let ops = ops?;
        if !value_subject && !ops.is_empty() {
            self.problem(
                path,
                format!("{subject} takes no operators"),
                Some("operators apply to json, header, cookie and var".to_string()),
            );
            return None;
        }
        if value_subject && ops.is_empty() {
            self.problem(
                path,
                format!("{subject} needs an operator"),
                Some(format!("use {OPERATORS}")),
            );
            return None;
        }
        let at = path.key(subject);
        match subject {
            "status" => self
                .check_status_set(def.status.as_ref()?, &at)
                .map(Condition::Status),
            "error_code" => self
                .error_code(def.error_code.as_ref()?, &at)
                .map(Condition::ErrorCode),
            "not" => {
                // The inner condition is named by the outer one, if at all.
                let inner = self.condition(def.not.as_ref()?, &at, false)?;
                Some(Condition::Not(Box::new(inner)))
            }
            "var" => {
                let t = self.variable(def.var.as_ref()?, &at)?;
                Some(Condition::Subject {
                    subject: Subject::Var(t),
                    operators: ops,
                })
            }
            "max_duration" => {
                let text = def.max_duration.as_ref()?;
                self.positive_duration(text, &at)
                    .map(|d: Duration| Condition::MaxDuration(d, text.0.clone()))
            }
            "body_contains" => self
                .template(def.body_contains.as_ref()?, &at)
                .map(Condition::body_contains),
            "body_not_contains" => self
                .template(def.body_not_contains.as_ref()?, &at)
                .map(Condition::body_not_contains),
            "body_matches" => self
                .regex(def.body_matches.as_ref()?, &at)
                .map(Condition::BodyMatches),
            "json" => {
                let p = self.json_path(def.json.as_ref()?, &at)?;
                Some(Condition::Subject {
                    subject: Subject::Json(p),
                    operators: ops,
                })
            }
            "header" => {
                let h = self.header_name(def.header.as_ref()?, &at)?;
                Some(Condition::Subject {
                    subject: Subject::Header(h),
                    operators: ops,
                })
            }
            _ => Some(Condition::Subject {
                subject: Subject::Cookie(def.cookie.clone()?),
                operators: ops,
            }),
        }
    }

    /// Statuses a check or condition accepts: those of `status_set`, plus
    /// `0` for "no response arrived" (k6 suites check `status === 0`).
    pub(super) fn check_status_set(
        &mut self,
        spec: &StatusSpec,
        path: &FieldPath,
    ) -> Option<StatusSet> {
        let (zero, rest): (Vec<&String>, Vec<&String>) =
            spec.0.iter().partition(|item| item.trim() == "0");
        let mut set = if rest.is_empty() && !zero.is_empty() {
            StatusSet(Vec::new())
        } else {
            self.status_set(&StatusSpec(rest.into_iter().cloned().collect()), path)?
        };
        if !zero.is_empty() {
            set.0.insert(0, (0, 0));
        }
        Some(set)
    }

    /// An `error_code` subject: one of the codes a request, stream or
    /// session can fail with.
    pub(super) fn error_code(&mut self, code: &str, path: &FieldPath) -> Option<String> {
        let known = known_error_codes();
        if known.contains(&code) {
            return Some(code.to_string());
        }
        let close = crate::scenario::suggest::similar(code, known.iter().copied());
        let hint = if close.is_empty() {
            format!("error codes: {}", known.join(", "))
        } else {
            format!("did you mean {}?", crate::scenario::suggest::list(close))
        };
        self.problem(path, format!("unknown error code {code:?}"), Some(hint));
        None
    }

    /// A `var` subject: a name a template can use, compiled as `{{ NAME }}`
    /// so it resolves (and is reported) exactly as a placeholder would.
    fn variable(&mut self, name: &str, path: &FieldPath) -> Option<Template> {
        let name = name.trim();
        if name.is_empty() || name.contains("{{") || name.contains("}}") {
            self.problem(
                path,
                format!("invalid variable {name:?}"),
                Some("write the bare name, e.g. var: mode".into()),
            );
            return None;
        }
        self.template(&format!("{{{{ {name} }}}}"), path)
    }

    /// The operators of a condition, in a fixed order.
    fn operators(&mut self, def: &ConditionDef, path: &FieldPath) -> Option<Vec<Operator>> {
        let mut ops = Vec::new();
        let mut ok = true;
        if let Some(b) = def.exists {
            ops.push(Operator::Exists(b));
        }
        let templated: [TemplatedOperator<'_>; 8] = [
            ("equals", &def.equals, Operator::Equals),
            ("not_equals", &def.not_equals, Operator::NotEquals),
            ("contains", &def.contains, Operator::Contains),
            ("not_contains", &def.not_contains, Operator::NotContains),
            ("lt", &def.lt, |t| Operator::Compare(Compare::Lt, t)),
            ("lte", &def.lte, |t| Operator::Compare(Compare::Lte, t)),
            ("gt", &def.gt, |t| Operator::Compare(Compare::Gt, t)),
            ("gte", &def.gte, |t| Operator::Compare(Compare::Gte, t)),
        ];
        for (key, value, make) in templated {
            let Some(value) = value else { continue };
            let at = path.key(key);
            let Some(t) = self.scalar_template(value, &at) else {
                ok = false;
                continue;
            };
            let numeric = key.starts_with('l') || key.starts_with('g');
            if numeric
                && t.as_static()
                    .is_some_and(|s| s.trim().parse::<f64>().is_err())
            {
                self.problem(
                    &at,
                    format!("{key} needs a number, got {:?}", value.text),
                    None,
                );
                ok = false;
                continue;
            }
            ops.push(make(t));
        }
        if let Some(re) = &def.matches {
            match self.regex(re, &path.key("matches")) {
                Some(re) => ops.push(Operator::Matches(re)),
                None => ok = false,
            }
        }
        if let Some(options) = &def.one_of {
            let at = path.key("in");
            if options.is_empty() {
                self.problem(&at, "needs at least one value", None);
                ok = false;
            }
            let mut list = Vec::new();
            for (i, v) in options.iter().enumerate() {
                match self.scalar_template(v, &at.index(i)) {
                    Some(t) => list.push(t),
                    None => ok = false,
                }
            }
            ops.push(Operator::In(list));
        }
        ok.then_some(ops)
    }

    pub(crate) fn extractor(&mut self, def: &ExtractDef, path: &FieldPath) -> Option<Extractor> {
        let given: Vec<&str> = [
            ("json", def.json.is_some()),
            ("header", def.header.is_some()),
            ("regex", def.regex.is_some()),
            ("cookie", def.cookie.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        match given.as_slice() {
            ["json"] => self
                .json_path(def.json.as_ref()?, &path.key("json"))
                .map(Extractor::Json),
            ["header"] => self
                .header_name(def.header.as_ref()?, &path.key("header"))
                .map(Extractor::Header),
            ["regex"] => self
                .regex(def.regex.as_ref()?, &path.key("regex"))
                .map(Extractor::Regex),
            ["cookie"] => Some(Extractor::Cookie(def.cookie.clone()?)),
            [] => {
                self.problem(
                    path,
                    "needs a source",
                    Some("use one of json, header, regex or cookie".into()),
                );
                None
            }
            many => {
                self.problem(
                    path,
                    format!("needs exactly one source, found {}", many.join(" and ")),
                    None,
                );
                None
            }
        }
    }

    pub(crate) fn extractors(
        &mut self,
        defs: &OrderedMap<ExtractDef>,
        path: &FieldPath,
    ) -> Vec<(VarSlot, Extractor)> {
        let mut out = Vec::new();
        for (name, def) in &defs.0 {
            let extractor = self.extractor(def, &path.key(name));
            let slot = self.variables.iter().position(|v| v == name);
            if let (Some(e), Some(slot)) = (extractor, slot) {
                out.push((VarSlot(slot as u32), e));
            }
        }
        out
    }

    pub(crate) fn records(
        &mut self,
        defs: &[RecordDef],
        path: &FieldPath,
        tag_set: TagSetId,
    ) -> Vec<RecordSpec> {
        let mut out = Vec::new();
        for (i, def) in defs.iter().enumerate() {
            let at = path.index(i);
            if let Some(action) = self.record_action(def, &at) {
                let metric = self
                    .registry
                    .lookup(&def.metric)
                    .expect("checked in record_action");
                out.push(RecordSpec {
                    metric,
                    tag_set,
                    action,
                });
            }
        }
        out
    }

    fn record_action(&mut self, def: &RecordDef, path: &FieldPath) -> Option<RecordAction> {
        let Some(id) = self
            .registry
            .lookup(&def.metric)
            .filter(|id| id.0 as usize >= crate::metrics::builtin::ALL.len())
        else {
            let declared: Vec<String> = self
                .registry
                .iter()
                .skip(crate::metrics::builtin::ALL.len())
                .map(|(_, d)| d.name.to_string())
                .collect();
            let hint = if declared.is_empty() {
                "declare it under `metrics:`, e.g. `metrics: { my_metric: counter }`".to_string()
            } else {
                format!("declared metrics: {}", declared.join(", "))
            };
            self.problem(
                &path.key("metric"),
                format!("metric {:?} is not declared under `metrics:`", def.metric),
                Some(hint),
            );
            return None;
        };
        let kind = self.registry.get(id).kind;
        let when = match &def.when {
            Some(c) => Some(self.condition(c, &path.key("when"), false)?),
            None => None,
        };
        let misfit = |key: &str, use_instead: &str| {
            (
                format!(
                    "`{key}` does not apply to {} metric {}",
                    kind_word(kind),
                    def.metric
                ),
                Some(use_instead.to_string()),
            )
        };
        let problem = match kind {
            MetricKind::Counter if def.value.is_some() => Some(misfit(
                "value",
                "counters take `add` (default 1) and an optional `when`",
            )),
            MetricKind::Counter => {
                let amount = self.value_or(def.add.as_ref(), &path.key("add"), 1.0)?;
                if !(amount.is_finite() && amount >= 0.0) {
                    self.problem(
                        &path.key("add"),
                        "must be a number >= 0 (counters only grow)",
                        None,
                    );
                    return None;
                }
                return Some(RecordAction::Add { amount, when });
            }
            MetricKind::Rate if def.add.is_some() => Some(misfit(
                "add",
                "rates take `when`: each response records true or false",
            )),
            MetricKind::Rate if def.value.is_some() => Some(misfit(
                "value",
                "rates take `when`: each response records true or false",
            )),
            MetricKind::Rate => match when {
                Some(condition) => return Some(RecordAction::Rate { condition }),
                None => Some((
                    format!("rate metric {} needs `when`", def.metric),
                    Some("e.g. when: { header: X-Cache, equals: HIT }".into()),
                )),
            },
            _ if def.add.is_some() => Some(misfit(
                "add",
                "gauges and trends take `value`, e.g. value: { json: queue.depth }",
            )),
            _ => match &def.value {
                Some(v) => {
                    let source = self.extractor(v, &path.key("value"))?;
                    return Some(RecordAction::Value { source, when });
                }
                None => Some((
                    format!("{} metric {} needs `value`", kind_word(kind), def.metric),
                    Some("e.g. value: { json: queue.depth }".into()),
                )),
            },
        };
        if let Some((message, hint)) = problem {
            self.problem(path, message, hint);
        }
        None
    }
}

/// Every `error_code` a step can record: HTTP exchanges, SSE streams and
/// WebSocket sessions.
fn known_error_codes() -> Vec<&'static str> {
    let sse = crate::engine::sse_error_codes::ALL;
    crate::protocol::http::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(sse.iter().copied())
        .chain(
            crate::protocol::websocket::WsErrorCode::ALL
                .iter()
                .map(|c| c.as_str()),
        )
        .collect()
}

fn kind_word(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Counter => "counter",
        MetricKind::Gauge => "gauge",
        MetricKind::Rate => "rate",
        MetricKind::Trend => "trend",
    }
}

impl Validator<'_> {
    /// The one subject a check names (`status`, `json`, `events`, ...), or a
    /// problem: `missing` needs a subject, `kind` has exactly one, found ...
    pub(super) fn one_subject<'s>(
        &mut self,
        subjects: &[&'s str],
        path: &FieldPath,
        missing: &str,
        kind: &str,
        known: &str,
    ) -> Option<&'s str> {
        match subjects {
            [one] => Some(*one),
            [] => {
                self.problem(
                    path,
                    format!("{missing} needs a subject"),
                    Some(format!("use one of {known}")),
                );
                None
            }
            many => {
                self.problem(
                    path,
                    format!(
                        "{kind} has exactly one subject, found {}",
                        many.join(" and ")
                    ),
                    Some("write one list item per check".into()),
                );
                None
            }
        }
    }
}
