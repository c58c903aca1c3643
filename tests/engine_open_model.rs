//! Open-model executors, segments, scaling and the instance tag, in-process
//! against the demo target on loopback.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use stampede::demo::{DemoConfig, Stall};
use stampede::engine::{self, RunOptions, RunResult};
use stampede::metrics::{SeriesValue, Sink, SinkFuture, Snapshot, Summary, builtin};
use stampede::scenario::{self, ExecutorPlan, LoadOptions, Scale, Share};

async fn run_with(yaml: &str, options: LoadOptions, sinks: Vec<Box<dyn Sink>>) -> RunResult {
    let plan = scenario::load_str(yaml, Path::new("open.yaml"), &options)
        .unwrap_or_else(|e| panic!("scenario compiles: {e}"));
    let run_options = RunOptions {
        sinks,
        flush_interval: Duration::from_millis(100),
        ..RunOptions::default()
    };
    engine::run(Arc::new(plan), run_options, std::future::pending())
        .await
        .expect("run completes")
}

fn trend_max(summary: &Summary, name: &str) -> f64 {
    match summary.metric(name).map(|m| &m.total) {
        Some(SeriesValue::Trend(t)) => t.max,
        other => panic!("{name} is not a trend: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_arrival_rate_starts_exactly_on_schedule() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
scenarios:
  open:
    executor: constant-arrival-rate
    rate: 500
    duration: 5s
    preallocated_vus: 50
    max_vus: 200
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
"#;
    let started = Instant::now();
    let result = run_with(yaml, options(&demo.base_url()), Vec::new()).await;
    let wall = started.elapsed();
    let s = &result.summary;
    // 500/s for 5 s is 2500 starts, the first at 0 s, the last at 4.998 s.
    assert_eq!(counter(s, "iterations"), 2500.0);
    assert_eq!(counter(s, "dropped_iterations"), 0.0);
    assert_eq!(counter(s, "http_reqs"), 2500.0);
    assert!(
        wall >= Duration::from_millis(4990) && wall < Duration::from_millis(5500),
        "the schedule spans 5 s, took {wall:?}"
    );
    let achieved = 2500.0 / wall.as_secs_f64();
    assert!(
        (achieved - 500.0).abs() / 500.0 < 0.02,
        "achieved {achieved}/s"
    );
    let lag = s.metric("iteration_scheduling_lag").expect("lag recorded");
    assert_eq!(lag.series.len(), 1);
    assert_eq!(lag.series[0].0.get("scenario"), Some("open"));
    match &lag.total {
        SeriesValue::Trend(t) => assert_eq!(t.count, 2500),
        other => panic!("lag is a trend: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_with_no_free_vu_are_dropped_and_counted() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
scenarios:
  slow:
    executor: constant-arrival-rate
    rate: 50
    duration: 4s
    preallocated_vus: 1
    max_vus: 2
    flow:
      - request: { url: "{{ BASE_URL }}/health?delay=200ms" }
"#;
    let result = run_with(yaml, options(&demo.base_url()), Vec::new()).await;
    let s = &result.summary;
    let done = counter(s, "iterations");
    let dropped = counter(s, "dropped_iterations");
    // 200 starts; two VUs at ~200 ms each finish at most 2 x 4 s / 200 ms = 40.
    assert_eq!(done + dropped, 200.0, "every start is run or dropped");
    assert!(
        (150.0..=170.0).contains(&dropped),
        "~40 dropped per second, got {dropped}"
    );
    assert_eq!(
        counter_where(s, "dropped_iterations", &[("scenario", "slow")]),
        dropped
    );
    assert_eq!(gauge_max(s, "vus_max"), 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ramping_rate_follows_its_stages() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
scenarios:
  ramp:
    executor: ramping-arrival-rate
    start_rate: 0
    time_unit: 100ms
    stages:
      - { duration: 2s, target: 10 }
      - { duration: 1s, target: 10 }
      - { duration: 0s, target: 0 }
      - { duration: 1s, target: 0 }
    preallocated_vus: 2
    max_vus: 20
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
"#;
    let started = Instant::now();
    let result = run_with(yaml, options(&demo.base_url()), Vec::new()).await;
    // 0 -> 100/s over 2 s is 100 starts, then 100 more at 100/s; the idle
    // last second still belongs to the scenario.
    assert_eq!(counter(&result.summary, "iterations"), 200.0);
    assert_eq!(counter(&result.summary, "dropped_iterations"), 0.0);
    assert!(started.elapsed() >= Duration::from_secs(4));
}

const SEGMENTED: &str = r#"
scenarios:
  per_vu:
    executor: per-vu-iterations
    vus: 7
    iterations: 3
    flow:
      - request: { name: per-vu, url: "{{ BASE_URL }}/health" }
  shared:
    executor: shared-iterations
    vus: 5
    iterations: 23
    flow:
      - request: { name: shared, url: "{{ BASE_URL }}/health" }
      - request: { name: shared2, url: "{{ BASE_URL }}/health" }
  arrival:
    executor: constant-arrival-rate
    rate: 37
    duration: 2s
    preallocated_vus: 6
    max_vus: 10
    flow:
      - request: { name: arrival, url: "{{ BASE_URL }}/health" }
"#;

fn per_scenario(s: &Summary) -> [(f64, f64); 3] {
    ["per_vu", "shared", "arrival"].map(|name| {
        (
            counter_where(s, "iterations", &[("scenario", name)]),
            counter_where(s, "http_reqs", &[("scenario", name)]),
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_segments_add_up_to_the_whole_run() {
    let demo = demo(DemoConfig::default()).await;
    let whole = run_with(SEGMENTED, options(&demo.base_url()), Vec::new()).await;
    let whole = per_scenario(&whole.summary);
    assert_eq!(whole, [(21.0, 21.0), (23.0, 46.0), (74.0, 74.0)]);
    let mut sum = [(0.0, 0.0); 3];
    let mut parts = Vec::new();
    for index in 0..4 {
        let o = LoadOptions {
            segment: Some(Share { index, count: 4 }),
            ..options(&demo.base_url())
        };
        let part = per_scenario(&run_with(SEGMENTED, o, Vec::new()).await.summary);
        for (total, p) in sum.iter_mut().zip(part) {
            total.0 += p.0;
            total.1 += p.1;
        }
        parts.push(part);
    }
    assert_eq!(sum[0], whole[0], "per-vu-iterations: VUs split 2+2+2+1");
    assert_eq!(
        sum[1], whole[1],
        "shared-iterations: iterations split 6+6+6+5"
    );
    assert!((sum[2].0 - whole[2].0).abs() <= 1.0, "arrival: {sum:?}");
    assert_eq!(
        parts.iter().map(|p| p[0].0).collect::<Vec<_>>(),
        [6.0, 6.0, 6.0, 3.0]
    );
    assert_eq!(
        parts.iter().map(|p| p[1].0).collect::<Vec<_>>(),
        [6.0, 6.0, 6.0, 5.0]
    );
}

#[test]
fn segments_keep_vu_ids_of_the_whole_run() {
    let text = "scenarios:\n  a: { executor: constant-vus, vus: 3, duration: 1s, flow: [ { sleep: 1s } ] }\n  b: { executor: constant-arrival-rate, rate: 5, duration: 1s, preallocated_vus: 2, max_vus: 4, flow: [ { sleep: 1s } ] }\n";
    let plan = |segment| {
        scenario::load_str(
            text,
            Path::new("ids.yaml"),
            &LoadOptions {
                segment,
                ..LoadOptions::default()
            },
        )
        .unwrap()
    };
    let whole = plan(None);
    assert_eq!(whole.scenarios[0].vu_id_base, 0);
    assert_eq!(whole.scenarios[1].vu_id_base, 3, "after a's 3 VU slots");
    let part = plan(Some(Share { index: 1, count: 2 }));
    assert_eq!(part.scenarios[1].vu_id_base, 3);
    assert_eq!(part.scenarios[1].share, Share { index: 1, count: 2 });
    // Segment 2/2 runs slots 1 and 3 of b: the whole run's VUs 5 and 7.
    assert_eq!(part.scenarios[1].share.global(0), 1);
    assert_eq!(part.scenarios[1].share.global(1), 3);
    assert_eq!(part.scenarios[1].share.of(4), 2);
}

#[test]
fn scaling_multiplies_vus_rates_and_durations() {
    let text = r#"
scenarios:
  ramp:
    executor: ramping-vus
    start_vus: 0
    stages: [ { duration: 10s, target: 50 }, { duration: 20s, target: 3 } ]
    start_time: 10s
    graceful_stop: 5s
    flow: [ { sleep: 1s } ]
  open:
    executor: ramping-arrival-rate
    start_rate: 10
    stages: [ { duration: 10s, target: 100 } ]
    preallocated_vus: 20
    max_vus: 200
    flow: [ { sleep: 1s } ]
"#;
    let options = LoadOptions {
        scale: Scale {
            vus: 0.1,
            rate: 0.5,
            duration: 0.1,
        },
        ..LoadOptions::default()
    };
    let plan = scenario::load_str(text, Path::new("scale.yaml"), &options).unwrap();
    let ms = Duration::from_millis;
    match &plan.scenarios[0].executor {
        ExecutorPlan::RampingVus {
            start_vus, stages, ..
        } => {
            assert_eq!(*start_vus, 0, "0 stays 0");
            assert_eq!(
                stages
                    .iter()
                    .map(|s| (s.duration, s.target))
                    .collect::<Vec<_>>(),
                [(ms(1000), 5), (ms(2000), 1)],
                "3 VUs scale to at least 1"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(plan.scenarios[0].start_time, ms(1000));
    assert_eq!(
        plan.scenarios[0].graceful_stop,
        ms(5000),
        "graceful periods are kept"
    );
    match &plan.scenarios[1].executor {
        ExecutorPlan::RampingArrivalRate {
            start_rate,
            stages,
            preallocated_vus,
            max_vus,
            ..
        } => {
            assert_eq!(*start_rate, 5.0);
            assert_eq!((stages[0].duration, stages[0].target), (ms(1000), 50.0));
            assert_eq!((*preallocated_vus, *max_vus), (2, 20));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rate_option_makes_a_constant_arrival_rate() {
    let request = scenario::AdhocRequest {
        url: "http://127.0.0.1:1/health".into(),
        ..Default::default()
    };
    let plan = scenario::adhoc_plan(
        &request,
        &LoadOptions {
            rate: Some(250.0),
            duration: Some(Duration::from_secs(10)),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        plan.scenarios[0].executor,
        ExecutorPlan::ConstantArrivalRate {
            rate: 250.0,
            time_unit: Duration::from_secs(1),
            duration: Duration::from_secs(10),
            preallocated_vus: 25,
            max_vus: 250,
        }
    );
    let missing = scenario::adhoc_plan(
        &request,
        &LoadOptions {
            rate: Some(250.0),
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "<command line>: --rate: needs --duration (hint: e.g. --rate 100 --duration 30s)"
    );
}

/// Records when each scenario's first request shows up in a snapshot.
struct FirstSeen(Arc<Mutex<Vec<(String, Duration)>>>);

impl Sink for FirstSeen {
    fn name(&self) -> &str {
        "first-seen"
    }
    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        let seen = self.0.clone();
        Box::pin(async move {
            let mut seen = seen.lock().unwrap();
            for p in snapshot
                .series
                .iter()
                .filter(|p| p.metric == builtin::HTTP_REQS)
            {
                let name = p.tags.get("scenario").unwrap_or("").to_string();
                if !seen.iter().any(|(n, _)| *n == name) {
                    seen.push((name, snapshot.elapsed));
                }
            }
            Ok(())
        })
    }
    fn finish(&mut self, _: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_scenarios_honour_start_time_and_carry_the_instance_tag() {
    let demo = demo(DemoConfig::default()).await;
    let yaml = r#"
scenarios:
  early:
    executor: constant-vus
    vus: 2
    duration: 2s
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
      - sleep: 100ms
  late:
    executor: constant-arrival-rate
    rate: 10
    duration: 1s
    start_time: 1s
    preallocated_vus: 1
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
"#;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let o = LoadOptions {
        instance: Some("box-2/3".into()),
        ..options(&demo.base_url())
    };
    let result = run_with(yaml, o, vec![Box::new(FirstSeen(seen.clone()))]).await;
    let seen = seen.lock().unwrap().clone();
    let at = |name: &str| {
        seen.iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| *t)
            .unwrap()
    };
    assert!(at("early") <= Duration::from_millis(300), "{seen:?}");
    assert!(
        at("late") >= Duration::from_millis(1000) && at("late") <= Duration::from_millis(1300),
        "{seen:?}"
    );
    assert_eq!(
        counter_where(&result.summary, "iterations", &[("scenario", "late")]),
        10.0
    );
    for metric in &result.summary.metrics {
        for (tags, _) in &metric.series {
            assert_eq!(
                tags.get("instance"),
                Some("box-2/3"),
                "{} {tags}",
                metric.name
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_shows_in_lag_and_drops() {
    let demo = demo(DemoConfig {
        stall: Some(Stall {
            pause: Duration::from_millis(800),
            every: Duration::from_millis(1600),
        }),
        ..DemoConfig::default()
    })
    .await;
    let yaml = r#"
scenarios:
  open:
    executor: constant-arrival-rate
    rate: 50
    duration: 3s
    preallocated_vus: 2
    max_vus: 5
    flow:
      - request: { url: "{{ BASE_URL }}/health" }
"#;
    let result = run_with(yaml, options(&demo.base_url()), Vec::new()).await;
    let s = &result.summary;
    assert!(
        counter(s, "dropped_iterations") >= 20.0,
        "5 VUs stuck for 0.8 s drop most starts"
    );
    assert_eq!(
        counter(s, "iterations") + counter(s, "dropped_iterations"),
        150.0
    );
    assert!(trend_max(s, "http_req_duration") >= 400.0);
}
