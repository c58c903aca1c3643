//! The `sse` step against the demo target's event streams: exact event
//! counts, time to first event and gaps within ±10 ms of the server's pacing,
//! mid-stream failures with their error codes, checks, extraction and body
//! templating.

mod common;

use common::*;
use stampede::demo::DemoConfig;
use stampede::metrics::{SeriesValue, Summary};

/// The per-VU-iterations scenario of these tests: every VU logs in, then
/// runs `flow` with its token.
fn scenario(vus: u64, iterations: u64, flow: &str) -> String {
    logged_in_scenario("sse", vus, iterations, flow)
}

/// (count, min, max) of a trend over all series.
fn trend(summary: &Summary, name: &str) -> (u64, f64, f64) {
    match summary.metric(name).map(|m| &m.total) {
        Some(SeriesValue::Trend(t)) => (t.count, t.min, t.max),
        None => (0, 0.0, 0.0),
        other => panic!("{name} is not a trend: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_stream_counts_tokens_and_measures_the_server_pacing() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = scenario(
        3,
        2,
        r#"
      - sse:
          name: chat
          method: POST
          url: "{{ BASE_URL }}/api/chat/stream"
          json: { prompt: "hi from {{ __VU }}", tokens: 10, delay_ms: 50 }
          until: "[DONE]"
          checks:
            - events: 10
            - { events: ">= 10" }
            - { name: last index, json: index, equals: 9 }
            - { json: token, equals: "Hello", on: any }
            - { data_contains: '"index":0', on: any }
            - { data_contains: '"index":0' }
            - status: 200
          extract:
            last_token: { json: token }
            first_index: { json: index, on: any }
      - sse:
          name: chat again
          method: POST
          url: "{{ BASE_URL }}/api/chat/stream"
          json: { tokens: 10, delay_ms: 1 }
          until: "[DONE]"
          checks:
            - { name: same last token, json: token, equals: "{{ last_token }}" }
            - { name: same first index, json: index, equals: "{{ first_index }}", on: any }
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    let chat = [("name", "chat")];
    assert_eq!(
        counter_where(s, "sse_events", &chat),
        60.0,
        "6 streams of 10 tokens"
    );
    assert_eq!(counter(s, "sse_events"), 120.0);
    let (streams, min, max) = trend(s, "sse_events_per_stream");
    assert_eq!((streams, min, max), (12, 10.0, 10.0));
    // The mean is within ±10 ms of the server's pacing; single samples get
    // more slack, since this machine's scheduler is shared with other tests.
    let (n, avg, min, max) = trend_where(s, "sse_time_to_first_event", &chat);
    assert_eq!(n, 6);
    assert!(within(avg, 50.0, 10.0), "ttfe mean {avg}");
    assert!(
        within(min, 50.0, 30.0) && within(max, 50.0, 30.0),
        "ttfe {min}..{max}"
    );
    let (n, avg, min, max) = trend_where(s, "sse_event_gap", &chat);
    assert_eq!(n, 54, "9 gaps per stream");
    assert!(within(avg, 50.0, 10.0), "gap mean {avg}");
    assert!(
        within(min, 50.0, 30.0) && within(max, 50.0, 30.0),
        "gaps {min}..{max}"
    );
    let (n, _, min, _) = trend_where(s, "sse_stream_duration", &chat);
    assert_eq!(n, 6);
    assert!(
        min >= 500.0,
        "ten tokens 50 ms apart take 500 ms, got {min}"
    );
    assert_eq!(
        counter_where(
            s,
            "http_reqs",
            &[("name", "chat"), ("method", "POST"), ("status", "200")]
        ),
        6.0
    );
    assert_eq!(
        rate_where(s, "http_req_failed", &[("name", "chat")]),
        (0, 6)
    );
    for check in [
        "events == 10",
        "events >= 10",
        "last index",
        "any event json token equals Hello",
        "any event data contains \"index\":0",
        "status is 200",
    ] {
        assert_eq!(
            rate_where(s, "checks", &[("check", check)]),
            (6, 6),
            "{check}"
        );
    }
    // The last event is index 9, not index 0.
    assert_eq!(
        rate_where(
            s,
            "checks",
            &[("check", "last event data contains \"index\":0")]
        ),
        (0, 6)
    );
    assert!(counter_where(s, "data_received", &[("name", "chat")]) > 6.0 * 10.0 * 20.0);
    // The extracted values were rendered into the next stream's checks.
    for check in ["same last token", "same first index"] {
        assert_eq!(
            rate_where(s, "checks", &[("check", check)]),
            (6, 6),
            "{check}"
        );
    }
    let stats = demo.stats();
    assert_eq!(stats.per_endpoint["POST /api/chat/stream"], 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_body_templates_decide_each_stream() {
    let demo = demo(DemoConfig::default()).await;
    // VU n asks for n tokens through a templated raw body.
    let yaml = scenario(
        3,
        2,
        r#"
      - sse:
          name: chat
          method: POST
          url: "{{ BASE_URL }}/api/chat/stream"
          headers: { Content-Type: application/json }
          body: '{"tokens": {{ __VU }}, "delay_ms": 1}'
          until: "[DONE]"
          checks:
            - { name: last index below VU, json: index, lt: "{{ __VU }}" }
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    assert_eq!(counter(s, "sse_events"), 2.0 * (1.0 + 2.0 + 3.0));
    let (streams, min, max) = trend(s, "sse_events_per_stream");
    assert_eq!((streams, min, max), (6, 1.0, 3.0));
    assert_eq!(
        rate_where(s, "checks", &[("check", "last index below VU")]),
        (6, 6)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_reads_named_events_ids_and_multiline_data() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = scenario(
        2,
        1,
        r#"
      - sse:
          name: subscribe
          url: "{{ BASE_URL }}/api/messages/subscribe?count=4&interval_ms=20"
          until_event: done
          checks:
            - events: 4
            - { json: seq, equals: 4 }
            - { json: text, equals: "message 1", on: any }
          extract:
            text: { json: text }
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    assert_eq!(counter(s, "sse_events"), 8.0);
    for check in [
        "events == 4",
        "last event json seq equals 4",
        "any event json text equals message 1",
    ] {
        assert_eq!(
            rate_where(s, "checks", &[("check", check)]),
            (2, 2),
            "{check}"
        );
    }
    assert_eq!(
        rate_where(s, "http_req_failed", &[("name", "subscribe")]),
        (0, 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_abort_mid_stream_is_an_sse_reset() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = scenario(
        2,
        2,
        r#"
      - sse:
          name: flaky
          url: "{{ BASE_URL }}/api/messages/subscribe?count=10&interval_ms=5&abort_after=3"
          until_event: done
          checks:
            - events: 3
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    assert_eq!(
        counter(s, "sse_events"),
        12.0,
        "3 events before each of 4 aborts"
    );
    assert_eq!(
        rate_where(
            s,
            "http_req_failed",
            &[("name", "flaky"), ("error_code", "sse_reset")]
        ),
        (4, 4)
    );
    assert_eq!(rate_where(s, "checks", &[("check", "events == 3")]), (4, 4));
    let (streams, min, max) = trend(s, "sse_events_per_stream");
    assert_eq!((streams, min, max), (4, 3.0, 3.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_events_hold_and_timeout_end_streams() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = scenario(
        1,
        2,
        r#"
      - sse:
          name: first five
          url: "{{ BASE_URL }}/api/messages/subscribe?count=100&interval_ms=5"
          max_events: 5
      - sse:
          name: held
          url: "{{ BASE_URL }}/api/messages/subscribe?count=100&interval_ms=50"
          hold: 180ms
      - sse:
          name: too slow
          url: "{{ BASE_URL }}/api/messages/subscribe?count=100&interval_ms=50"
          timeout: 180ms
      - sse:
          name: not a stream
          url: "{{ BASE_URL }}/health"
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    assert_eq!(
        counter_where(s, "sse_events", &[("name", "first five")]),
        10.0
    );
    assert_eq!(
        rate_where(s, "http_req_failed", &[("name", "first five")]),
        (0, 2)
    );
    // 50, 100, 150 ms: three events before the hold ends at 180 ms, no error.
    assert_eq!(counter_where(s, "sse_events", &[("name", "held")]), 6.0);
    assert_eq!(
        rate_where(s, "http_req_failed", &[("name", "held")]),
        (0, 2)
    );
    assert_eq!(counter_where(s, "sse_events", &[("name", "too slow")]), 6.0);
    assert_eq!(
        rate_where(
            s,
            "http_req_failed",
            &[("name", "too slow"), ("error_code", "sse_timeout")]
        ),
        (2, 2)
    );
    assert_eq!(
        rate_where(
            s,
            "http_req_failed",
            &[("name", "not a stream"), ("error_code", "sse_content_type")]
        ),
        (2, 2)
    );
    assert_eq!(
        counter_where(s, "sse_events", &[("name", "not a stream")]),
        0.0
    );
}
