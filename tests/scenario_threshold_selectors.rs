//! Threshold selectors checked at validation (tag keys, scenario names) and
//! what `--scenario` does to the plan: thresholds on the scenarios it left
//! out are skipped, and the earliest selected scenario starts at once.

use std::path::Path;
use std::time::Duration;

use stampede::metrics::MetricKind;
use stampede::scenario::{LoadOptions, TestPlan, load_str};

const TWO_SCENARIOS: &str = r#"
scenarios:
  browse:
    duration: 1s
    start_time: 30s
    tags: { tenant: acme }
    flow: [ { sleep: 1s } ]
  stress:
    duration: 1s
    start_time: 45s
    flow: [ { sleep: 1s } ]
  soak:
    duration: 1s
    start_time: 60s
    flow: [ { sleep: 1s } ]
"#;

fn errors(text: &str, options: &LoadOptions) -> String {
    match load_str(text, Path::new("bad.yaml"), options) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn plan(text: &str, options: &LoadOptions) -> TestPlan {
    load_str(text, Path::new("ok.yaml"), options).unwrap()
}

fn with_thresholds(thresholds: &str) -> String {
    format!("thresholds:\n{thresholds}{TWO_SCENARIOS}")
}

fn selecting(names: &[&str]) -> LoadOptions {
    LoadOptions {
        scenarios: names.iter().map(|n| n.to_string()).collect(),
        ..LoadOptions::default()
    }
}

#[test]
fn a_misspelt_scenario_is_reported_at_the_threshold_key() {
    let text = with_thresholds(
        "  http_req_duration{scenario:stres}: [\"p(95)<500\"]\n  http_reqs{scenario:nightly}: [\"count>0\"]\n",
    );
    assert_eq!(
        errors(&text, &LoadOptions::default()),
        "bad.yaml:2:3: thresholds.http_req_duration{scenario:stres}: unknown scenario \"stres\" (hint: did you mean stress?)\n\
         bad.yaml:3:3: thresholds.http_reqs{scenario:nightly}: unknown scenario \"nightly\" (hint: scenarios in this file: browse, stress, soak)"
    );
}

#[test]
fn a_misspelt_tag_key_is_reported_with_the_keys_that_exist() {
    let text = with_thresholds(
        "  http_req_duration{scenaro:stress}: [\"p(95)<500\"]\n  checks{tennant:acme}: [\"rate>0.9\"]\n  http_reqs{zzzzzzzz:x}: [\"count>0\"]\n",
    );
    assert_eq!(
        errors(&text, &LoadOptions::default()),
        "bad.yaml:2:3: thresholds.http_req_duration{scenaro:stress}: unknown tag key \"scenaro\" (hint: did you mean scenario?)\n\
         bad.yaml:3:3: thresholds.checks{tennant:acme}: unknown tag key \"tennant\" (hint: did you mean tenant?)\n\
         bad.yaml:4:3: thresholds.http_reqs{zzzzzzzz:x}: unknown tag key \"zzzzzzzz\" (hint: tag keys in this run: check, error_code, expected_response, group, instance, method, name, proto, scenario, status, tenant, testid, url; add one with a scenario's `tags:` or --tag)"
    );
}

#[test]
fn tag_keys_the_file_or_the_command_line_sets_are_accepted() {
    // `tenant` comes from a scenario's `tags:`, `team` from `--tag`;
    // values of tags other than `scenario` are not checked.
    let text = with_thresholds(
        "  http_req_duration{tenant:globex,name:login,status:200}: [\"p(95)<500\"]\n  http_reqs{team:payments}: [\"count>0\"]\n",
    );
    let options = LoadOptions {
        tags: vec![("team".into(), "payments".into())],
        ..LoadOptions::default()
    };
    assert_eq!(plan(&text, &options).thresholds.len(), 2);
    assert_eq!(
        errors(&text, &LoadOptions::default()),
        "bad.yaml:3:3: thresholds.http_reqs{team:payments}: unknown tag key \"team\" (hint: tag keys in this run: check, error_code, expected_response, group, instance, method, name, proto, scenario, status, tenant, testid, url; add one with a scenario's `tags:` or --tag)"
    );
    // The shorthand form has one scenario, `default`.
    let shorthand = "duration: 1s\nthresholds:\n  http_reqs{scenario:default}: [\"count>0\"]\nflow: [ { sleep: 1s } ]\n";
    assert_eq!(
        plan(shorthand, &LoadOptions::default()).thresholds[0].unselected_scenario,
        None
    );
}

#[test]
fn thresholds_know_their_metric_kind() {
    let text = with_thresholds(
        "  http_reqs{error_code:timeout}: [\"count==0\"]\n  http_req_duration: [\"p(95)<500\"]\n",
    );
    let kinds: Vec<MetricKind> = plan(&text, &LoadOptions::default())
        .thresholds
        .iter()
        .map(|t| t.kind)
        .collect();
    assert_eq!(kinds, [MetricKind::Counter, MetricKind::Trend]);
}

#[test]
fn thresholds_on_scenarios_not_selected_are_skipped() {
    let text = with_thresholds(
        "  http_req_duration{scenario:stress}: [\"p(95)<500\"]\n  http_reqs{scenario:browse}: [\"count>0\"]\n  http_req_failed: [\"rate<0.01\"]\n  checks{scenario:soak,tenant:acme}: [\"rate>0.9\"]\n",
    );
    let skipped = |options: &LoadOptions| -> Vec<(String, Option<String>)> {
        plan(&text, options)
            .thresholds
            .iter()
            .map(|t| (t.selector.source.clone(), t.unselected_scenario.clone()))
            .collect()
    };
    assert_eq!(
        skipped(&selecting(&["browse"])),
        [
            (
                "http_req_duration{scenario:stress}".to_string(),
                Some("stress".to_string())
            ),
            ("http_reqs{scenario:browse}".to_string(), None),
            ("http_req_failed".to_string(), None),
            (
                "checks{scenario:soak,tenant:acme}".to_string(),
                Some("soak".to_string())
            ),
        ]
    );
    // Without --scenario every scenario runs and every threshold is judged.
    assert!(
        skipped(&LoadOptions::default())
            .iter()
            .all(|(_, s)| s.is_none())
    );
}

#[test]
fn the_earliest_selected_scenario_starts_at_once() {
    let starts = |options: &LoadOptions| -> Vec<(String, Duration)> {
        plan(TWO_SCENARIOS, options)
            .scenarios
            .iter()
            .map(|s| (s.name.clone(), s.start_time))
            .collect()
    };
    let s = Duration::from_secs;
    assert_eq!(starts(&selecting(&["stress"])), [("stress".into(), s(0))]);
    // The others keep their offsets from the earliest selected one.
    assert_eq!(
        starts(&selecting(&["soak", "stress"])),
        [("stress".into(), s(0)), ("soak".into(), s(15))]
    );
    // Without --scenario the file's start times stand.
    assert_eq!(
        starts(&LoadOptions::default()),
        [
            ("browse".into(), s(30)),
            ("stress".into(), s(45)),
            ("soak".into(), s(60))
        ]
    );
}

#[test]
fn tag_keys_from_response_headers_may_be_selected_and_typos_of_them_are_not() {
    // `pod` is set only by a nested request's `tags_from_headers`.
    let text = r#"
thresholds:
  http_req_duration{pod:pod-a}: ["p(95)<500"]
  http_reqs{pdo:pod-a}: ["count>0"]
scenarios:
  browse:
    duration: 1s
    flow:
      - group:
          name: health
          steps:
            - request: { url: "http://127.0.0.1:1/health", tags_from_headers: { pod: X-Served-By } }
"#;
    assert_eq!(
        errors(text, &LoadOptions::default()),
        "bad.yaml:4:3: thresholds.http_reqs{pdo:pod-a}: unknown tag key \"pdo\" (hint: did you mean pod?)"
    );
}
