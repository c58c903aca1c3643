//! Whole runs of the issue-14 constructs against loopback servers, with
//! exact counts: `if:` taking and skipping steps, timeouts as their own
//! outcome (checks, thresholds, `if:`), and tags from response headers.

mod common;

use std::time::Duration;

use common::*;
use stampede::demo::DemoConfig;
use stampede::metrics::{Summary, ThresholdVerdict};
use stampede::report::summary_json;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// A server that accepts connections and never answers; an `sse_head`
/// server answers with an event-stream head and then sends nothing. Its
/// sockets stay open until the test's runtime ends.
async fn silent_server(sse_head: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held: Vec<TcpStream> = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            if sse_head {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
            }
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

/// (passes, fails) of the check named `name`.
fn check(summary: &Summary, name: &str) -> (u64, u64) {
    let (passes, total) = rate_where(summary, "checks", &[("check", name)]);
    (passes, total - passes)
}

/// Every threshold as `selector: expression`, with its verdict.
fn verdicts(summary: &Summary) -> Vec<(String, bool)> {
    summary
        .thresholds
        .iter()
        .map(|o| {
            let key = format!(
                "{}: {}",
                o.threshold.selector.source, o.threshold.expr.source
            );
            (key, o.verdict == ThresholdVerdict::Passed)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_takes_and_skips_steps_by_variable_and_last_response() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
env: { MODE: fast }
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 5
    max_duration: 30s
    flow:
      # Iterations 0 and 1 of each VU: the primary fails (500).
      - if: { var: __ITER, lt: 2 }
        request: { name: primary failing, url: "{{ BASE_URL }}/health?fail=1" }
      - if: { var: __ITER, gte: 2 }
        request: { name: primary, url: "{{ BASE_URL }}/health" }
      - if: { not: { status: 200 } }
        request:
          name: fallback
          url: "{{ BASE_URL }}/health"
          checks: [ { name: fallback answered, status: 200 } ]
      - if: { var: MODE, equals: fast }
        request: { name: fast, url: "{{ BASE_URL }}/health" }
      - if: { var: MODE, equals: slow }
        group:
          name: slow path
          steps: [ { request: { name: slow, url: "{{ BASE_URL }}/health" } } ]
"#;
    let result = run_yaml(yaml, &demo.base_url()).await;
    let summary = &result.summary;
    assert_eq!(result.errors, Vec::<(String, u64)>::new());
    assert_eq!(counter(summary, "iterations"), 10.0);
    let per_name = |name: &str| counter_where(summary, "http_reqs", &[("name", name)]);
    assert_eq!(per_name("primary failing"), 4.0);
    assert_eq!(per_name("primary"), 6.0);
    assert_eq!(per_name("fallback"), 4.0, "only after a failed primary");
    assert_eq!(per_name("fast"), 10.0);
    assert_eq!(per_name("slow"), 0.0);
    assert_eq!(counter(summary, "http_reqs"), 24.0);
    assert_eq!(check(summary, "fallback answered"), (4, 0));
    // A skipped group records nothing, not even its duration.
    let groups: Vec<String> = summary
        .metric("group_duration")
        .map(|m| m.series.iter().map(|(tags, _)| tags.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(groups, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_an_outcome_for_checks_thresholds_and_if() {
    let demo = demo(DemoConfig::default()).await;
    let silent = silent_server(false).await;
    let yaml = format!(
        r#"
thresholds:
  "http_reqs{{error_code:timeout}}": ["count==6"]
  "http_req_failed{{error_code:timeout}}": ["rate==1"]
  "http_reqs{{name:fallback}}": ["count==6"]
  "checks{{check:no response}}": ["rate==1"]
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    max_duration: 30s
    flow:
      - request:
          name: stuck
          url: "{silent}/never"
          timeout: 200ms
          checks:
            - {{ name: no response, status: 0 }}
            - {{ name: timed out, error_code: timeout }}
            - {{ name: answered, status: 200 }}
      - if: {{ error_code: timeout }}
        request:
          name: fallback
          url: "{{{{ BASE_URL }}}}/health"
          checks: [ {{ name: fallback not timed out, not: {{ error_code: timeout }} }} ]
"#
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let summary = &result.summary;
    assert_eq!(
        counter_where(summary, "http_reqs", &[("error_code", "timeout")]),
        6.0
    );
    assert_eq!(
        counter_where(
            summary,
            "http_reqs",
            &[
                ("name", "stuck"),
                ("error_code", "timeout"),
                ("status", "0")
            ]
        ),
        6.0
    );
    assert_eq!(
        rate_where(summary, "http_req_failed", &[("error_code", "timeout")]),
        (6, 6)
    );
    assert_eq!(check(summary, "no response"), (6, 0));
    assert_eq!(check(summary, "timed out"), (6, 0));
    assert_eq!(check(summary, "answered"), (0, 6));
    assert_eq!(check(summary, "fallback not timed out"), (6, 0));
    assert_eq!(
        verdicts(summary),
        [
            ("http_reqs{error_code:timeout}: count==6".to_string(), true),
            (
                "http_req_failed{error_code:timeout}: rate==1".to_string(),
                true
            ),
            ("http_reqs{name:fallback}: count==6".to_string(), true),
            ("checks{check:no response}: rate==1".to_string(), true),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_goes_quiet_is_an_sse_timeout_one_without_a_head_a_timeout() {
    let quiet = silent_server(true).await;
    let headless = silent_server(false).await;
    let yaml = format!(
        r#"
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 2
    max_duration: 30s
    flow:
      - sse:
          name: quiet
          url: "{quiet}/events"
          timeout: 200ms
          checks:
            - {{ name: stream timed out, error_code: sse_timeout }}
            - {{ name: head arrived, status: 200 }}
      - sse:
          name: headless
          url: "{headless}/events"
          timeout: 200ms
          checks:
            - {{ name: head timed out, error_code: timeout }}
            - {{ name: no head, status: 0 }}
"#
    );
    let result = tokio::time::timeout(Duration::from_secs(20), run_yaml(&yaml, "http://unused"))
        .await
        .expect("bounded run");
    let summary = &result.summary;
    assert_eq!(
        counter_where(
            summary,
            "http_reqs",
            &[("name", "quiet"), ("error_code", "sse_timeout")]
        ),
        4.0
    );
    assert_eq!(check(summary, "stream timed out"), (4, 0));
    assert_eq!(check(summary, "head arrived"), (4, 0));
    assert_eq!(
        counter_where(
            summary,
            "http_reqs",
            &[
                ("name", "headless"),
                ("error_code", "timeout"),
                ("status", "0")
            ]
        ),
        4.0
    );
    assert_eq!(check(summary, "head timed out"), (4, 0));
    assert_eq!(check(summary, "no head"), (4, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_comes_too_late_is_a_ws_timeout() {
    let demo = demo(DemoConfig::default()).await;
    let flow = r#"      - websocket:
          name: slow agent
          url: "{{ BASE_URL }}/ws?delay_ms=2000"
          headers: { Authorization: "Bearer {{ token }}" }
          steps:
            - send: { text: hello }
            - expect: { name: echo, timeout: 200ms }
          checks:
            - { name: reply timed out, error_code: ws_timeout }
            - { name: upgraded, status: 101 }
"#;
    let yaml = logged_in_scenario("ws-timeout", 2, 2, flow);
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let summary = &result.summary;
    assert_eq!(
        counter_where(
            summary,
            "http_reqs",
            &[("name", "slow agent"), ("error_code", "ws_timeout")]
        ),
        4.0
    );
    assert_eq!(check(summary, "reply timed out"), (4, 0));
    assert_eq!(check(summary, "upgraded"), (4, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_header_values_tag_the_request_metrics() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
thresholds:
  "http_reqs{pod:pod-b}": ["count==4"]
  "http_req_duration{pod:pod-b}": ["max<5000"]
scenarios:
  s:
    executor: shared-iterations
    vus: 3
    iterations: 12
    max_duration: 30s
    flow:
      - request:
          name: health
          url: "{{ BASE_URL }}/health"
          tags_from_headers: { pod: X-Served-By }
"#;
    let result = run_yaml(yaml, &demo.base_url()).await;
    let summary = &result.summary;
    // The demo answers /health from pod-a, pod-b and pod-c in turn.
    for pod in ["pod-a", "pod-b", "pod-c"] {
        assert_eq!(
            counter_where(summary, "http_reqs", &[("name", "health"), ("pod", pod)]),
            4.0,
            "{pod}"
        );
    }
    assert_eq!(counter(summary, "http_reqs"), 12.0);
    assert_eq!(
        verdicts(summary),
        [
            ("http_reqs{pod:pod-b}: count==4".to_string(), true),
            ("http_req_duration{pod:pod-b}: max<5000".to_string(), true),
        ]
    );

    // The JSON summary export carries one series per pod.
    let doc = summary_json(summary);
    let mut per_pod: Vec<(String, u64)> = doc["series"]["http_req_duration"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["tags"]["pod"].as_str().unwrap().to_string(),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect();
    per_pod.sort();
    assert_eq!(
        per_pod,
        [
            ("pod-a".to_string(), 4),
            ("pod-b".to_string(), 4),
            ("pod-c".to_string(), 4)
        ]
    );
}
