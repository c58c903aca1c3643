//! The threshold parser: arbitrary text parses or is refused in one line;
//! well-formed expressions parse to what they say.

use proptest::prelude::*;
use stampede::metrics::threshold::{Aggregation, Comparison, parse_expression, parse_selector};

use super::config;

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
    #![proptest_config(config("threshold"))]

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
