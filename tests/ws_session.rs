//! The `websocket` step against the demo target's `/ws`: exact message and
//! session counts, reply latency within ±10 ms of the server's delay, pings,
//! and each failure class with its error code.

mod common;

use common::*;
use stampede::demo::DemoConfig;

/// The per-VU-iterations scenario of these tests: every VU logs in, then
/// runs `flow` with its token.
fn scenario(vus: u64, iterations: u64, flow: &str) -> String {
    logged_in_scenario("ws", vus, iterations, flow)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_are_counted_exactly_and_timed_against_the_server_delay() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = scenario(
        5,
        1,
        r#"
      - websocket:
          name: agent
          url: "{{ BASE_URL }}/ws?delay_ms=50"
          subprotocols: [agent.v1]
          connect_timeout: 5s
          steps:
            - send: { json: { id: "call-{{ __VU }}", tool: calculator, args: { op: add, a: 2, b: 3 } } }
            - expect:
                name: tool_call
                json: result
                equals: 5
                timeout: 2s
                checks:
                  - { name: answers the call, json: id, equals: "call-{{ __VU }}" }
                  - { data_contains: calculator }
                extract:
                  call_id: { json: id }
            - send: { json: { tool: echo, args: { said: "{{ call_id }}" } } }
            - expect: { name: tool_call, json: result.said, equals: "call-{{ __VU }}", timeout: 2s }
            - send: { text: "hello {{ __VU }}" }
            - expect: { name: echo, contains: "hello {{ __VU }}", timeout: 2s }
            - send: { binary_base64: "AQID" }
            - expect: { name: echo, timeout: 2s }
          checks:
            - status: 101
            - messages_received: 4
            - { messages_sent: ">= 4" }
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    assert_eq!(counter(s, "ws_sessions"), 5.0);
    assert_eq!(counter(s, "ws_msgs_sent"), 20.0, "5 VUs x 4 sends");
    assert_eq!(counter(s, "ws_msgs_received"), 20.0, "5 VUs x 4 replies");
    let (n, _, _, _) = trend_where(s, "ws_connecting", &[("name", "agent")]);
    assert_eq!(n, 5);
    let (n, _, min, _) = trend_where(s, "ws_session_duration", &[("name", "agent")]);
    assert_eq!(n, 5);
    assert!(
        min >= 200.0,
        "four replies 50 ms each take 200 ms, got {min}"
    );
    // The mean is within ±10 ms of the server's delay; single samples get
    // more slack, since this machine's scheduler is shared with other tests.
    for (name, count) in [("tool_call", 10), ("echo", 10)] {
        let (n, avg, min, max) = trend_where(s, "ws_reply_time", &[("name", name)]);
        assert_eq!(n, count, "{name}");
        assert!(within(avg, 50.0, 10.0), "{name} reply mean {avg}");
        assert!(
            within(min, 50.0, 30.0) && within(max, 50.0, 30.0),
            "{name} replies {min}..{max}"
        );
    }
    // The upgrade is recorded as a request: 101 over HTTP/1.1, not failed.
    assert_eq!(
        counter_where(
            s,
            "http_reqs",
            &[
                ("name", "agent"),
                ("method", "GET"),
                ("status", "101"),
                ("proto", "HTTP/1.1")
            ]
        ),
        5.0
    );
    assert_eq!(
        rate_where(s, "http_req_failed", &[("name", "agent")]),
        (0, 5)
    );
    for check in [
        "answers the call",
        "data contains calculator",
        "status is 101",
        "messages_received == 4",
        "messages_sent >= 4",
    ] {
        assert_eq!(
            rate_where(s, "checks", &[("check", check)]),
            (5, 5),
            "{check}"
        );
    }
    assert!(counter_where(s, "data_sent", &[("name", "agent")]) > 5.0 * 4.0 * 10.0);
    assert_eq!(demo.stats().per_endpoint["GET /ws"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_pings_at_every_interval_before_its_end() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = scenario(
        2,
        1,
        r#"
      - websocket:
          name: idle
          url: "{{ BASE_URL }}/ws"
          steps:
            - hold: { duration: 1s, ping_interval: 200ms }
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    // Pings go out at 200, 400, 600 and 800 ms (multiples strictly before
    // the 1 s end); each pong is back in well under a millisecond on
    // loopback, long before the next ping or the end: 4 per session.
    let (n, _, _, max) = trend_where(s, "ws_ping", &[("name", "idle")]);
    assert_eq!(n, 8);
    assert!(max < 100.0, "ping round trip {max} ms");
    assert_eq!(counter(s, "ws_msgs_sent"), 0.0, "pings are not messages");
    assert_eq!(counter(s, "ws_msgs_received"), 0.0);
    let (n, _, min, max) = trend_where(s, "ws_session_duration", &[("name", "idle")]);
    assert_eq!(n, 2);
    assert!(min >= 1000.0 && max < 1500.0, "sessions {min}..{max}");
    assert_eq!(
        rate_where(s, "http_req_failed", &[("name", "idle")]),
        (0, 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_close_mid_session_is_ws_closed() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = scenario(
        2,
        2,
        r#"
      - websocket:
          name: flaky
          url: "{{ BASE_URL }}/ws?close_after=2"
          steps:
            - send: { text: one }
            - expect: { contains: one, timeout: 2s }
            - send: { text: two }
            - expect: { contains: two, timeout: 2s }
            - send: { text: three }
            - expect: { contains: three, timeout: 2s }
          checks:
            - messages_received: 2
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    assert_eq!(counter(s, "ws_sessions"), 4.0);
    assert_eq!(
        counter(s, "ws_msgs_received"),
        8.0,
        "2 replies before each close"
    );
    assert_eq!(
        rate_where(
            s,
            "http_req_failed",
            &[("name", "flaky"), ("error_code", "ws_closed")]
        ),
        (4, 4)
    );
    assert_eq!(
        rate_where(s, "checks", &[("check", "messages_received == 2")]),
        (4, 4)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_upgrades_are_ws_handshake() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = scenario(
        1,
        2,
        r#"
      - websocket:
          name: anonymous
          url: "{{ BASE_URL }}/ws"
          headers: { Authorization: "Bearer not-a-token" }
          steps:
            - send: { text: hi }
          checks:
            - status: 401
      - websocket:
          name: wrong protocol
          url: "{{ BASE_URL }}/ws"
          subprotocols: [graphql-ws]
          steps:
            - send: { text: hi }
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    assert_eq!(counter(s, "ws_sessions"), 0.0);
    assert_eq!(counter(s, "ws_msgs_sent"), 0.0);
    assert_eq!(
        rate_where(
            s,
            "http_req_failed",
            &[
                ("name", "anonymous"),
                ("status", "401"),
                ("error_code", "ws_handshake")
            ]
        ),
        (2, 2)
    );
    // The server accepted the upgrade but picked no offered subprotocol.
    assert_eq!(
        rate_where(
            s,
            "http_req_failed",
            &[
                ("name", "wrong protocol"),
                ("status", "101"),
                ("error_code", "ws_handshake")
            ]
        ),
        (2, 2)
    );
    assert_eq!(
        rate_where(s, "checks", &[("check", "status is 401")]),
        (2, 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmatched_expect_is_ws_timeout_and_skipped_messages_count() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = scenario(
        2,
        1,
        r#"
      - websocket:
          name: picky
          url: "{{ BASE_URL }}/ws"
          steps:
            - send: { json: { tool: calculator, args: { op: add, a: 1, b: 1 } } }
            - send: { json: { tool: search } }
            - expect: { name: unknown tool, json: error, contains: unknown tool, timeout: 2s }
            - expect: { name: never, json: result, equals: 3, timeout: 200ms }
            - send: { text: not sent }
"#,
    );
    let result = run_yaml(&yaml, &demo.base_url()).await;
    let s = &result.summary;
    // The first reply (result 2) is skipped by the first expect, the error
    // reply matches it; nothing else arrives for the second.
    assert_eq!(counter(s, "ws_msgs_received"), 4.0);
    assert_eq!(
        counter(s, "ws_msgs_sent"),
        4.0,
        "the step after the timeout is not run"
    );
    let (n, _, _, _) = trend_where(s, "ws_reply_time", &[("name", "unknown tool")]);
    assert_eq!(n, 2);
    let (n, _, _, _) = trend_where(s, "ws_reply_time", &[("name", "never")]);
    assert_eq!(n, 0);
    assert_eq!(
        rate_where(
            s,
            "http_req_failed",
            &[("name", "picky"), ("error_code", "ws_timeout")]
        ),
        (2, 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_ws_connect() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let yaml = format!(
        r#"
vus: 1
iterations: 2
flow:
  - websocket:
      name: nowhere
      url: "ws://127.0.0.1:{port}/ws"
      connect_timeout: 2s
      steps:
        - send: {{ text: hi }}
"#
    );
    let result = run_yaml(&yaml, "http://127.0.0.1:1").await;
    let s = &result.summary;
    assert_eq!(
        rate_where(
            s,
            "http_req_failed",
            &[
                ("name", "nowhere"),
                ("status", "0"),
                ("error_code", "ws_connect")
            ]
        ),
        (2, 2)
    );
    assert_eq!(counter(s, "ws_sessions"), 0.0);
}
