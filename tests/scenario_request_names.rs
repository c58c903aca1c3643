//! A request's `name` (the `name` tag): environment values rendered once at
//! load, per-request values refused with an error at the field.

use std::path::Path;

use stampede::scenario::{LoadOptions, Step, load_str};

fn options() -> LoadOptions {
    LoadOptions {
        env_overrides: vec![("REGION".into(), "eu".into())],
        ..LoadOptions::default()
    }
}

fn flow(request: &str) -> String {
    format!(
        "env: {{ BASE_URL: \"http://127.0.0.1:8080\" }}\nvus: 1\niterations: 1\nflow:\n  - request: {request}\n"
    )
}

/// The name of the first request of the first scenario.
fn first_name(request: &str) -> String {
    let plan = load_str(&flow(request), Path::new("names.yaml"), &options())
        .unwrap_or_else(|e| panic!("{e}"));
    match &plan.scenarios[0].flow[0] {
        Step::Request(step) => step.name.clone(),
        other => panic!("{other:?}"),
    }
}

fn error(request: &str) -> String {
    match load_str(&flow(request), Path::new("names.yaml"), &options()) {
        Ok(_) => panic!("expected an error for {request}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn environment_values_in_a_name_are_rendered_at_load() {
    assert_eq!(
        first_name(r#"{ name: "get {{ REGION }}", url: "{{ BASE_URL }}/health" }"#),
        "get eu"
    );
    assert_eq!(
        first_name(r#"{ name: "{{ BASE_URL }}/health", url: "{{ BASE_URL }}/health" }"#),
        "http://127.0.0.1:8080/health"
    );
    // Without a name, the URL template as written groups the requests.
    assert_eq!(
        first_name(r#"{ url: "{{ BASE_URL }}/items/{{ __VU }}" }"#),
        "{{ BASE_URL }}/items/{{ __VU }}"
    );
}

#[test]
fn per_request_values_in_a_name_are_refused_at_the_field() {
    assert_eq!(
        error(r#"{ name: "get {{ __VU }}", url: "{{ BASE_URL }}/items/{{ __VU }}" }"#),
        "names.yaml:5:16: flow[0].request.name: \"get {{ __VU }}\" changes from request to request: \
         a name groups requests under one `name` tag, and one per value would make a series per value \
         (hint: keep the name constant (e.g. \"get item\") and the varying part in url; \
         only environment values ({{ ENV_NAME }}) are rendered in a name)"
    );
    assert!(
        error(r#"{ name: "item {{ uuid() }}", url: "{{ BASE_URL }}/items" }"#).contains(
            "flow[0].request.name: \"item {{ uuid() }}\" changes from request to request"
        ),
    );
}

#[test]
fn credentials_in_a_rendered_name_are_redacted() {
    let plan = load_str(
        &flow(r#"{ name: "{{ TARGET }}/health", url: "http://127.0.0.1:8080/health" }"#),
        Path::new("names.yaml"),
        &LoadOptions {
            env_overrides: vec![("TARGET".into(), "http://user:pw@127.0.0.1:8080".into())],
            ..LoadOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let Step::Request(step) = &plan.scenarios[0].flow[0] else {
        panic!("a request");
    };
    assert_eq!(step.name, "http://[REDACTED]@127.0.0.1:8080/health");
}
