//! The template engine: arbitrary template text compiles or is refused in
//! one line, and what compiles renders.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use stampede::scenario::template::{Template, TemplateContext, TemplateScope};
use stampede::scenario::{FeedId, VarSlot};

use super::config;

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
    let feeds = vec![("users".to_string(), Some(vec!["email".to_string()]))];
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
    #![proptest_config(config("template"))]

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
