use std::collections::BTreeMap;

use http::{HeaderMap, HeaderValue};

use super::*;
use crate::scenario::plan::{FeedId, VarSlot};
use crate::scenario::template::TemplateContext;

struct Scope;

impl TemplateScope for Scope {
    fn var(&self, slot: VarSlot) -> Option<&str> {
        (slot.0 == 0).then_some("completed")
    }
    fn data(&self, _: FeedId, _: usize) -> Option<&str> {
        None
    }
    fn vu_id(&self) -> u64 {
        1
    }
    fn iteration(&self) -> u64 {
        0
    }
    fn scenario(&self) -> &str {
        "s"
    }
}

fn t(text: &str) -> Template {
    let env = BTreeMap::new();
    let vars = vec!["expected".to_string()];
    Template::compile(
        text,
        &TemplateContext {
            env: &env,
            process_env: None,
            variables: &vars,
            feeds: &[],
        },
    )
    .unwrap()
}

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.append("set-cookie", HeaderValue::from_static("theme=dark; Path=/"));
    h.append(
        "set-cookie",
        HeaderValue::from_static("session_id=abc123; HttpOnly"),
    );
    h.insert("x-count", HeaderValue::from_static("12"));
    h
}

const BODY: &[u8] = br#"{"access_token":"tok","credits":5,"data":{"status":"completed"},"items":[1,2],"ok":true,"html":"<input name=\"csrf\" value=\"zz9\">"}"#;

fn json(path: &str, operators: Vec<Operator>) -> Condition {
    Condition::Subject {
        subject: Subject::Json(JsonPath::parse(path).unwrap()),
        operators,
    }
}

#[test]
fn evaluates_each_kind() {
    let h = headers();
    let r = ResponseView::new(200, &h, BODY, Duration::from_millis(120));
    let s = Scope;
    assert!(Condition::Status(StatusSet(vec![(200, 201)])).evaluate(&r, &s));
    assert!(!Condition::Status(StatusSet(vec![(404, 404)])).evaluate(&r, &s));
    assert!(Condition::MaxDuration(Duration::from_millis(500), "500ms".into()).evaluate(&r, &s));
    assert!(!Condition::MaxDuration(Duration::from_millis(100), "100ms".into()).evaluate(&r, &s));
    assert!(Condition::body_contains(t("access_token")).evaluate(&r, &s));
    assert!(!Condition::body_not_contains(t("access_token")).evaluate(&r, &s));
    assert!(Condition::body_not_contains(t("error")).evaluate(&r, &s));
    assert!(!Condition::body_contains(t("error")).evaluate(&r, &s));
    assert!(Condition::BodyMatches(Regex::new("cre[a-z]+").unwrap()).evaluate(&r, &s));
    assert!(json("access_token", vec![Operator::Exists(true)]).evaluate(&r, &s));
    assert!(json("missing", vec![Operator::Exists(false)]).evaluate(&r, &s));
    assert!(!json("missing", vec![Operator::NotEquals(t("x"))]).evaluate(&r, &s));
    assert!(json("data.status", vec![Operator::Equals(t("{{ expected }}"))]).evaluate(&r, &s));
    assert!(json("credits", vec![Operator::Equals(t("5.0"))]).evaluate(&r, &s));
    assert!(
        json(
            "credits",
            vec![
                Operator::Compare(Compare::Gt, t("0")),
                Operator::Compare(Compare::Lte, t("5"))
            ]
        )
        .evaluate(&r, &s)
    );
    assert!(!json("credits", vec![Operator::Compare(Compare::Lt, t("5"))]).evaluate(&r, &s));
    assert!(json("items.#", vec![Operator::Compare(Compare::Gte, t("2"))]).evaluate(&r, &s));
    assert!(json("ok", vec![Operator::Equals(t("true"))]).evaluate(&r, &s));
    assert!(
        json(
            "data.status",
            vec![Operator::In(vec![t("pending"), t("completed")])]
        )
        .evaluate(&r, &s)
    );
    assert!(
        json(
            "data.status",
            vec![
                Operator::Matches(Regex::new("^comp").unwrap()),
                Operator::NotContains(t("fail"))
            ]
        )
        .evaluate(&r, &s)
    );
    let header = |name: &'static str, ops| Condition::Subject {
        subject: Subject::Header(HeaderName::from_static(name)),
        operators: ops,
    };
    assert!(header("content-type", vec![Operator::Contains(t("json"))]).evaluate(&r, &s));
    assert!(header("x-count", vec![Operator::Compare(Compare::Gt, t("11"))]).evaluate(&r, &s));
    assert!(!header("etag", vec![Operator::Exists(true)]).evaluate(&r, &s));
    let cookie = Condition::Subject {
        subject: Subject::Cookie("session_id".into()),
        operators: vec![Operator::Equals(t("abc123"))],
    };
    assert!(cookie.evaluate(&r, &s));
}

#[test]
fn non_json_body_fails_json_conditions() {
    let h = HeaderMap::new();
    let r = ResponseView::new(200, &h, b"<html>", Duration::ZERO);
    assert!(r.json().is_none());
    assert!(!json("a", vec![Operator::Exists(true)]).evaluate(&r, &Scope));
}

#[test]
fn describes_conditions() {
    assert_eq!(
        Condition::Status(StatusSet(vec![(200, 200)])).describe(),
        "status is 200"
    );
    assert_eq!(
        Condition::Status(StatusSet(vec![(200, 200), (300, 399)])).describe(),
        "status is 200 or 300-399"
    );
    assert_eq!(
        json("data.status", vec![Operator::Equals(t("completed"))]).describe(),
        "json data.status equals completed"
    );
    assert_eq!(
        json("credits", vec![Operator::Compare(Compare::Gt, t("0"))]).describe(),
        "json credits > 0"
    );
    assert_eq!(
        json(
            "a",
            vec![Operator::Exists(true), Operator::NotEquals(t("x"))]
        )
        .describe(),
        "json a exists and does not equal x"
    );
    assert_eq!(
        Condition::MaxDuration(Duration::from_millis(500), "500ms".into()).describe(),
        "duration < 500ms"
    );
    assert_eq!(
        Condition::body_contains(t("ok")).describe(),
        "body contains ok"
    );
    assert_eq!(
        Condition::body_not_contains(t("error")).describe(),
        "body does not contain error"
    );
    assert!(Condition::body_not_contains(t("error")).needs_body());
    assert!(json("a", vec![]).needs_body());
    assert!(!Condition::Status(StatusSet::k6_default()).needs_body());
}

#[test]
fn extracts_values() {
    let h = headers();
    let r = ResponseView::new(200, &h, BODY, Duration::ZERO);
    assert_eq!(
        Extractor::Json(JsonPath::parse("access_token").unwrap())
            .extract(&r)
            .as_deref(),
        Some("tok")
    );
    assert_eq!(
        Extractor::Json(JsonPath::parse("credits").unwrap())
            .extract(&r)
            .as_deref(),
        Some("5")
    );
    assert_eq!(
        Extractor::Json(JsonPath::parse("data").unwrap())
            .extract(&r)
            .as_deref(),
        Some(r#"{"status":"completed"}"#)
    );
    assert_eq!(
        Extractor::Json(JsonPath::parse("nope").unwrap()).extract(&r),
        None
    );
    assert_eq!(
        Extractor::Header(HeaderName::from_static("x-count"))
            .extract(&r)
            .as_deref(),
        Some("12")
    );
    let csrf = Extractor::Regex(Regex::new(r#"name=\\"csrf\\" value=\\"([^\\]+)"#).unwrap());
    assert_eq!(csrf.extract(&r).as_deref(), Some("zz9"));
    assert_eq!(
        Extractor::Regex(Regex::new("cred[a-z]+").unwrap())
            .extract(&r)
            .as_deref(),
        Some("credits")
    );
    assert_eq!(
        Extractor::Cookie("session_id".into())
            .extract(&r)
            .as_deref(),
        Some("abc123")
    );
    assert_eq!(
        Extractor::Cookie("theme".into()).extract(&r).as_deref(),
        Some("dark")
    );
    assert!(!Extractor::Cookie("x".into()).needs_body());
}

#[test]
fn timeouts_variables_and_negation() {
    let h = HeaderMap::new();
    let timed_out =
        ResponseView::new(0, &h, b"", Duration::from_millis(200)).with_error_code(Some("timeout"));
    let answered = ResponseView::new(200, &h, BODY, Duration::ZERO);
    let s = Scope;
    let no_response = Condition::Status(StatusSet(vec![(0, 0)]));
    let timeout = Condition::ErrorCode("timeout".into());
    assert!(no_response.evaluate(&timed_out, &s));
    assert!(!no_response.evaluate(&answered, &s));
    assert!(timeout.evaluate(&timed_out, &s));
    assert!(!timeout.evaluate(&answered, &s));
    let not_ok = Condition::Not(Box::new(Condition::Status(StatusSet(vec![(200, 200)]))));
    assert!(not_ok.evaluate(&timed_out, &s));
    assert!(!not_ok.evaluate(&answered, &s));
    assert_eq!(not_ok.describe(), "not (status is 200)");
    assert_eq!(timeout.describe(), "error_code is timeout");
    assert_eq!(no_response.describe(), "status is 0");

    // `{{ expected }}` is VU variable 0, which this scope holds as "completed".
    let var = |operators| Condition::Subject {
        subject: Subject::Var(t("{{ expected }}")),
        operators,
    };
    assert!(var(vec![Operator::Equals(t("completed"))]).evaluate(&timed_out, &s));
    assert!(var(vec![Operator::Exists(true)]).evaluate(&answered, &s));
    assert!(!var(vec![Operator::NotEquals(t("completed"))]).evaluate(&answered, &s));
    let var_equals = var(vec![Operator::Equals(t("completed"))]);
    assert_eq!(var_equals.describe(), "var expected equals completed");
    assert!(!var_equals.needs_response());
    assert!(!Condition::Not(Box::new(var_equals)).needs_response());
    assert!(timeout.needs_response());
    assert!(!timeout.needs_headers() && !timeout.needs_body());
}
