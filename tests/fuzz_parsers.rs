//! Property tests (proptest, bounded) for two parsers of user text: the
//! threshold parser and the template engine. Arbitrary input must give Ok
//! or Err, never a panic; well-formed input must parse to what it says.
//! 256 cases per property by default; `PROPTEST_CASES=100000 cargo test
//! --test fuzz_parsers` runs longer. Failures are not persisted to files:
//! proptest prints the minimal failing input, which goes into a unit test.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use stampede::metrics::threshold::{Aggregation, Comparison, parse_expression, parse_selector};
use stampede::scenario::template::{Template, TemplateContext, TemplateScope};
use stampede::scenario::{FeedId, VarSlot};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text made of the characters the parsers give meaning to, plus any.
fn parser_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("{{".to_string()),
            Just("}}".to_string()),
            Just("p(".to_string()),
            Just(")".to_string()),
            Just("<=".to_string()),
            Just("<".to_string()),
            Just(">".to_string()),
            Just("!=".to_string()),
            Just("==".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just(":".to_string()),
            Just(",".to_string()),
            "[a-z_]{1,6}",
            "[0-9.eE+-]{1,6}",
            "\\PC{1,3}",
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_threshold_text_parses_or_is_refused(text in parser_text()) {
        if let Ok(expr) = parse_expression(&text) {
            prop_assert!(expr.value.is_finite());
            if let Aggregation::Percentile(p) = expr.aggregation {
                prop_assert!((0.0..=100.0).contains(&p));
            }
        } else if let Err(message) = parse_expression(&text) {
            prop_assert!(message.starts_with("invalid threshold "), "{}", message);
            prop_assert_eq!(message.lines().count(), 1);
        }
        let _ = parse_selector(&text);
    }

    #[test]
    fn well_formed_thresholds_parse_to_what_they_say(
        stat in prop_oneof![
            Just((None, "avg")), Just((None, "min")), Just((None, "max")),
            Just((None, "med")), Just((None, "count")), Just((None, "rate")),
            (0u32..=1000).prop_map(|tenths| (Some(f64::from(tenths) / 10.0), "p")),
        ],
        op in prop_oneof![
            Just(("<", Comparison::Lt)), Just(("<=", Comparison::Le)),
            Just((">", Comparison::Gt)), Just((">=", Comparison::Ge)),
            Just(("==", Comparison::Eq)), Just(("!=", Comparison::Ne)),
        ],
        value in -1.0e9f64..1.0e9,
        spaced in any::<bool>(),
    ) {
        let left = match stat {
            (Some(p), _) => format!("p({p})"),
            (None, name) => name.to_string(),
        };
        let gap = if spaced { " " } else { "" };
        let text = format!("{left}{gap}{}{gap}{value}", op.0);
        let expr = parse_expression(&text).unwrap();
        prop_assert_eq!(expr.comparison, op.1);
        prop_assert_eq!(expr.value, value);
        prop_assert_eq!(expr.source, text.clone());
        match (stat.0, expr.aggregation) {
            (Some(p), Aggregation::Percentile(got)) => prop_assert_eq!(got, p),
            (None, got) => prop_assert_eq!(format!("{got:?}").to_lowercase(), left),
            (_, other) => prop_assert!(false, "{} parsed as {:?}", text, other),
        }
    }
}

struct Scope;

impl TemplateScope for Scope {
    fn var(&self, slot: VarSlot) -> Option<&str> {
        (slot.0 == 0).then_some("tok")
    }
    fn data(&self, _feed: FeedId, column: usize) -> Option<&str> {
        (column == 0).then_some("a@b")
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

fn compile(text: &str) -> Result<Template, String> {
    let env: BTreeMap<String, String> = [("BASE".to_string(), "http://h".to_string())].into();
    let process_env = HashMap::new();
    let variables = vec!["token".to_string()];
    let feeds = vec![("users".to_string(), vec!["email".to_string()])];
    let ctx = TemplateContext {
        env: &env,
        process_env: Some(&process_env),
        variables: &variables,
        feeds: &feeds,
    };
    Template::compile(text, &ctx).map_err(|e| e.message)
}

/// Template text: literal pieces and placeholders, well-formed or not.
fn template_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            "\\PC{0,4}",
            Just("{{ BASE }}".to_string()),
            Just("{{ token }}".to_string()),
            Just("{{ users.email }}".to_string()),
            Just("{{ __VU }}".to_string()),
            Just("{{ random_int(1, 3) }}".to_string()),
            Just("{{ uuid() }}".to_string()),
            Just("{{".to_string()),
            Just("}}".to_string()),
            "\\{\\{ ?[a-z_.()0-9, ]{0,12} ?\\}\\}",
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_template_compiles_or_is_refused_and_renders(text in template_text()) {
        match compile(&text) {
            Ok(template) => {
                prop_assert_eq!(template.source(), text.as_str());
                let rendered = template.render_to_string(&Scope);
                prop_assert!(rendered.is_ok(), "{:?}: {:?}", text, rendered);
            }
            Err(message) => prop_assert_eq!(message.lines().count(), 1, "{}", message),
        }
    }

    #[test]
    fn text_without_placeholders_is_its_own_rendering(text in "[^{]{0,40}") {
        let template = compile(&text).unwrap();
        prop_assert_eq!(template.as_static(), Some(text.as_str()));
        prop_assert_eq!(template.render_to_string(&Scope).unwrap(), text);
    }
}
