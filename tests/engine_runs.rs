//! Whole runs against the in-process demo target, asserting exact counts.

mod common;

use std::time::{Duration, Instant};

use common::*;
use stampede::demo::DemoConfig;
use stampede::metrics::RunEnd;

const LOGIN: &str = r#"
      - request:
          name: login
          method: POST
          url: "{{ BASE_URL }}/auth/login"
          json: { email: "user-{{ __VU }}@example.com", password: "pw" }
          extract:
            token: { json: access_token }
      - request:
          name: pick a graph
          url: "{{ BASE_URL }}/api/graphs"
          query: { limit: 1, offset: "{{ __VU }}" }
          extract:
            graph_id: { json: graphs.0.id }
"#;

fn with_login(body: &str) -> String {
    body.replace("    setup: LOGIN\n", &format!("    setup:{LOGIN}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_vu_iterations_run_exactly_and_log_in_once_per_vu() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = with_login(
        r#"
http:
  headers: { Authorization: "Bearer {{ token }}" }
scenarios:
  exact:
    executor: per-vu-iterations
    vus: 5
    iterations: 10
    setup: LOGIN
    flow:
      - request:
          name: credits
          url: "{{ BASE_URL }}/api/credits"
          checks:
            - status: 200
            - { name: has credits, json: credits, exists: true }
      - request:
          name: graphs
          url: "{{ BASE_URL }}/api/graphs?limit=5"
          checks:
            - { name: five graphs, json: graphs.#, equals: 5 }
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let summary = &result.summary;
    assert_eq!(counter(summary, "iterations"), 50.0);
    assert_eq!(
        counter(summary, "http_reqs"),
        110.0,
        "5 x (login + pick) + 50 x 2 requests"
    );
    assert_eq!(
        counter_where(summary, "http_reqs", &[("name", "login")]),
        5.0
    );
    assert_eq!(
        counter_where(
            summary,
            "http_reqs",
            &[("name", "credits"), ("status", "200")]
        ),
        50.0
    );
    assert_eq!(
        rate_where(summary, "checks", &[("check", "status is 200")]),
        (50, 50)
    );
    assert_eq!(
        rate_where(summary, "checks", &[("check", "has credits")]),
        (50, 50)
    );
    assert_eq!(
        rate_where(summary, "checks", &[("check", "five graphs")]),
        (50, 50)
    );
    assert_eq!(rate_where(summary, "http_req_failed", &[]), (0, 110));
    let stats = demo.stats();
    assert_eq!(stats.logins, 5);
    assert_eq!(stats.unauthorized, 0);
    assert_eq!(gauge_max(summary, "vus_max"), 5.0);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_iterations_split_one_budget() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
scenarios:
  shared:
    executor: shared-iterations
    vus: 3
    iterations: 37
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
"#;
    let result = run_yaml(yaml, &demo.base_url()).await;
    assert_eq!(counter(&result.summary, "iterations"), 37.0);
    assert_eq!(
        counter_where(
            &result.summary,
            "http_reqs",
            &[("name", "{{ BASE_URL }}/health")]
        ),
        37.0
    );
    assert_eq!(demo.stats().total, 37);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extracted_values_feed_later_requests() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = with_login(
        r#"
http:
  headers: { Authorization: "Bearer {{ token }}" }
scenarios:
  create:
    executor: per-vu-iterations
    vus: 2
    iterations: 4
    setup: LOGIN
    flow:
      - request:
          name: create graph
          method: POST
          url: "{{ BASE_URL }}/api/graphs"
          json: { name: "g-{{ __VU }}-{{ __ITER }}" }
          checks: [ { status: 201 } ]
          extract: { graph_id: { json: id } }
      - request:
          name: execute
          method: POST
          url: "{{ BASE_URL }}/api/graphs/{{ graph_id }}/execute"
          checks:
            - { name: same graph, json: graph_id, equals: "{{ graph_id }}" }
            - { json: status, equals: queued }
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    assert_eq!(
        rate_where(&result.summary, "checks", &[("check", "same graph")]),
        (8, 8)
    );
    assert_eq!(rate_where(&result.summary, "checks", &[]), (24, 24));
    // The name tag keeps the template, never the raw id.
    assert_eq!(
        counter_where(
            &result.summary,
            "http_reqs",
            &[("name", "execute"), ("method", "POST")]
        ),
        8.0
    );
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_choice_follows_the_weights() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
scenarios:
  mix:
    executor: shared-iterations
    vus: 4
    iterations: 2000
    flow:
      - choose:
          - weight: 70
            steps: [ { request: { name: heavy, url: "{{ BASE_URL }}/health" } } ]
          - weight: 20
            steps: [ { request: { name: medium, url: "{{ BASE_URL }}/health" } } ]
          - weight: 10
            steps: [ { request: { name: light, url: "{{ BASE_URL }}/health" } } ]
"#;
    let result = run_yaml(yaml, &demo.base_url()).await;
    let s = &result.summary;
    let (heavy, medium, light) = (
        counter_where(s, "http_reqs", &[("name", "heavy")]),
        counter_where(s, "http_reqs", &[("name", "medium")]),
        counter_where(s, "http_reqs", &[("name", "light")]),
    );
    assert_eq!(heavy + medium + light, 2000.0);
    // Binomial with n=2000: five standard deviations either side.
    let within =
        |count: f64, p: f64| (count - 2000.0 * p).abs() <= 5.0 * (2000.0 * p * (1.0 - p)).sqrt();
    assert!(within(heavy, 0.7), "heavy {heavy}");
    assert!(within(medium, 0.2), "medium {medium}");
    assert!(within(light, 0.1), "light {light}");
    demo.shutdown().await;
}

const POLL: &str = r#"
http:
  headers: { Authorization: "Bearer {{ token }}" }
scenarios:
  poll:
    executor: per-vu-iterations
    vus: 2
    iterations: 2
    setup: LOGIN
    flow:
      - request:
          name: execute
          method: POST
          url: "{{ BASE_URL }}/api/graphs/{{ graph_id }}/execute"
          query: { duration: EXEC_TIME }
          extract: { execution_id: { json: id } }
      - repeat:
          until: { json: status, equals: completed }
          interval: 50ms
          max_attempts: ATTEMPTS
          steps:
            - request: { name: status, url: "{{ BASE_URL }}/api/executions/{{ execution_id }}" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeat_polls_until_the_execution_completes() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = with_login(
        &POLL
            .replace("EXEC_TIME", "300ms")
            .replace("ATTEMPTS", "100"),
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    let (passed, total) = rate_where(s, "checks", &[]);
    assert_eq!((passed, total), (4, 4), "every poll loop saw completed");
    let polls = counter_where(s, "http_reqs", &[("name", "status")]);
    // 300 ms of execution polled every ~50 ms: several polls per loop, far fewer than the cap.
    assert!((4.0 * 3.0..=4.0 * 20.0).contains(&polls), "polls {polls}");
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_repeat_fails_the_iteration_clearly() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = with_login(&POLL.replace("EXEC_TIME", "10s").replace("ATTEMPTS", "3"));
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    assert_eq!(rate_where(s, "checks", &[]), (0, 4));
    assert_eq!(
        counter_where(s, "http_reqs", &[("name", "status")]),
        12.0,
        "exactly 3 attempts per loop"
    );
    assert_eq!(result.errors.len(), 1, "{:?}", result.errors);
    assert!(
        result.errors[0]
            .0
            .contains("not satisfied after 3 attempts"),
        "{:?}",
        result.errors
    );
    assert_eq!(result.errors[0].1, 4);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_on_fail_stops_the_run_early() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
thresholds:
  http_req_failed:
    - { threshold: "rate<0.1", abort_on_fail: true, delay_abort_eval: 1s }
scenarios:
  failing:
    executor: constant-vus
    vus: 2
    duration: 30s
    flow:
      - request: { url: "{{ BASE_URL }}/health?fail=1.0" }
      - sleep: 10ms
"#;
    let started = Instant::now();
    let result = run_yaml(yaml, &demo.base_url()).await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        result.summary.end,
        RunEnd::AbortedByThreshold("http_req_failed: rate<0.1".into())
    );
    assert!(!result.summary.thresholds_passed());
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_target_is_measured_not_fatal() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = r#"
thresholds:
  http_req_failed: ["rate<0.5"]
scenarios:
  down:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    flow:
      - request: { name: down, url: "{{ BASE_URL }}/health", checks: [ { status: 200 } ] }
"#;
    let result = run_yaml(yaml, &format!("http://127.0.0.1:{port}")).await;
    let s = &result.summary;
    assert_eq!(
        counter_where(
            s,
            "http_reqs",
            &[("error_code", "refused"), ("status", "0")]
        ),
        6.0
    );
    assert_eq!(rate_where(s, "http_req_failed", &[]), (6, 6));
    assert_eq!(rate_where(s, "checks", &[]), (0, 6));
    assert!(!s.thresholds_passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramping_vus_follow_the_stages() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
scenarios:
  ramp:
    executor: ramping-vus
    start_vus: 0
    stages:
      - { duration: 1s, target: 4 }
      - { duration: 1s, target: 4 }
      - { duration: 1s, target: 0 }
    graceful_ramp_down: 0s
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
      - sleep: 20ms
"#;
    let started = Instant::now();
    let result = run_yaml(yaml, &demo.base_url()).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(2900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    let s = &result.summary;
    assert_eq!(gauge_max(s, "vus_max"), 4.0);
    let iterations = counter(s, "iterations");
    // About 8 VU-seconds of 20 ms iterations; generous bounds for a loaded machine.
    assert!(
        (100.0..=450.0).contains(&iterations),
        "iterations {iterations}"
    );
    demo.shutdown().await;
}
