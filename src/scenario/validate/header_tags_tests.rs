//! `tags_from_headers`: what compiles and the exact problems.

use std::path::Path;

use crate::scenario::{LoadOptions, Step, load_str};

fn errors(text: &str) -> String {
    match load_str(text, Path::new("bad.yaml"), &LoadOptions::default()) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn header_tags_compile_and_keep_the_headers() {
    let text = "iterations: 1\nflow:\n  - request:\n      url: \"http://127.0.0.1:1/\"\n      tags_from_headers: { pod: X-Served-By, region: x-region }\n";
    let plan = load_str(text, Path::new("s.yaml"), &LoadOptions::default()).unwrap();
    let Step::Request(r) = &plan.scenarios[0].flow[0] else {
        panic!("a request")
    };
    let tags: Vec<(&str, &str)> = r
        .header_tags
        .iter()
        .map(|t| (t.key.as_ref(), t.header.as_str()))
        .collect();
    assert_eq!(tags, [("pod", "x-served-by"), ("region", "x-region")]);
    assert!(r.needs_headers);
}

#[test]
fn reserved_keys_and_bad_header_names_are_reported() {
    assert_eq!(
        errors(
            "iterations: 1\nflow:\n  - request:\n      url: \"http://127.0.0.1:1/\"\n      tags_from_headers:\n        status: X-Status\n        pod: X Served By\n"
        ),
        "bad.yaml:6:9: flow[0].request.tags_from_headers.status: tag \"status\" is set by stampede (hint: reserved tags: scenario, name, method, status, expected_response, error_code, group, check, testid, instance, url, proto)\n\
         bad.yaml:7:9: flow[0].request.tags_from_headers.pod: invalid header name \"X Served By\""
    );
}
