//! `--scale-duration` scales the pauses inside an iteration along with the
//! executors, so a shortened test keeps its shape; timeouts and `repeat`
//! intervals (the time the target gets to finish) stay as written.

use std::path::Path;
use std::time::Duration;

use stampede::scenario::{
    ExecutorPlan, LoadOptions, Scale, SleepSpec, Step, TestPlan, WsAction, WsHold, load_str,
};

const PACED: &str = r#"
http:
  timeout: 20s
scenarios:
  session:
    duration: 10m
    flow:
      - sleep: 4s
      - sleep: { min: 0s, max: 10s }
      - repeat:
          until: { status: 200 }
          interval: 2s
          steps: [ { request: { url: "http://127.0.0.1:1/a", timeout: 30s } } ]
      - repeat:
          until: { status: 200 }
          steps: [ { request: { url: "http://127.0.0.1:1/b" } } ]
      - sse:
          url: "http://127.0.0.1:1/stream"
          hold: 60s
          timeout: 90s
      - websocket:
          url: "ws://127.0.0.1:1/ws"
          connect_timeout: 5s
          steps:
            - expect: { timeout: 8s }
            - hold: { duration: 120s, ping_interval: 20s }
"#;

fn scaled(factor: f64) -> TestPlan {
    let options = LoadOptions {
        scale: Scale {
            duration: factor,
            ..Scale::default()
        },
        ..LoadOptions::default()
    };
    load_str(PACED, Path::new("paced.yaml"), &options).unwrap()
}

/// Every duration of the flow, named, in flow order.
fn durations(plan: &TestPlan) -> Vec<(&'static str, Duration)> {
    let mut out = Vec::new();
    for step in &plan.scenarios[0].flow {
        match step {
            Step::Sleep(SleepSpec::Fixed(d)) => out.push(("sleep", *d)),
            Step::Sleep(SleepSpec::Between(min, max)) => {
                out.push(("sleep min", *min));
                out.push(("sleep max", *max));
            }
            Step::Repeat(repeat) => {
                out.push(("repeat interval", repeat.interval));
                if let Step::Request(request) = &repeat.steps[0] {
                    out.push(("request timeout", request.timeout));
                }
            }
            Step::Sse(sse) => {
                out.push(("sse hold", sse.hold.unwrap()));
                out.push(("sse timeout", sse.request.timeout));
            }
            Step::WebSocket(ws) => {
                out.push(("ws connect_timeout", ws.connect_timeout));
                for action in &ws.actions {
                    match action {
                        WsAction::Expect(expect) => out.push(("ws expect timeout", expect.timeout)),
                        WsAction::Hold(WsHold {
                            duration,
                            ping_interval,
                        }) => {
                            out.push(("ws hold", *duration));
                            out.push(("ws ping_interval", ping_interval.unwrap()));
                        }
                        WsAction::Send(_) => {}
                    }
                }
            }
            other => panic!("unexpected step {other:?}"),
        }
    }
    out
}

#[test]
fn pauses_scale_with_the_executor_and_timeouts_do_not() {
    let ms = Duration::from_millis;
    let plan = scaled(0.1);
    assert_eq!(
        plan.scenarios[0].executor,
        ExecutorPlan::ConstantVus {
            vus: 1,
            duration: ms(60_000)
        }
    );
    assert_eq!(
        durations(&plan),
        [
            ("sleep", ms(400)),
            ("sleep min", ms(0)),
            ("sleep max", ms(1_000)),
            // Polling waits for the target's own work: kept, as timeouts are.
            ("repeat interval", ms(2_000)),
            ("request timeout", ms(30_000)),
            ("repeat interval", ms(1_000)),
            ("request timeout", ms(20_000)),
            ("sse hold", ms(6_000)),
            ("sse timeout", ms(90_000)),
            ("ws connect_timeout", ms(5_000)),
            ("ws expect timeout", ms(8_000)),
            ("ws hold", ms(12_000)),
            ("ws ping_interval", ms(2_000)),
        ]
    );
}

#[test]
fn a_factor_of_one_leaves_every_duration_as_written() {
    let s = Duration::from_secs;
    assert_eq!(
        durations(&scaled(1.0)),
        [
            ("sleep", s(4)),
            ("sleep min", s(0)),
            ("sleep max", s(10)),
            ("repeat interval", s(2)),
            ("request timeout", s(30)),
            ("repeat interval", s(1)),
            ("request timeout", s(20)),
            ("sse hold", s(60)),
            ("sse timeout", s(90)),
            ("ws connect_timeout", s(5)),
            ("ws expect timeout", s(8)),
            ("ws hold", s(120)),
            ("ws ping_interval", s(20)),
        ]
    );
}

#[test]
fn a_hold_scaled_past_its_stream_timeout_is_an_error() {
    let options = LoadOptions {
        scale: Scale {
            duration: 2.0,
            ..Scale::default()
        },
        ..LoadOptions::default()
    };
    let err = load_str(PACED, Path::new("paced.yaml"), &options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "paced.yaml:19:11: scenarios.session.flow[4].sse.hold: --scale-duration 2 makes this hold 120s, not shorter than the stream's timeout (90s) (hint: raise the step's `timeout`)"
    );
}
