//! The open model's contract under a rate the generator cannot reach: the
//! load stops at the duration, the run ends soon after, and every scheduled
//! start is an iteration or a dropped iteration, exactly.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use stampede::engine::{self, RunOptions};
use stampede::scenario;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A keep-alive HTTP/1.1 server on loopback answering every GET with an
/// empty 200; it keeps the time the latest request head arrived.
async fn timing_server() -> (String, Arc<Mutex<Option<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let last = Arc::new(Mutex::new(None));
    let seen = last.clone();
    tokio::spawn(async move {
        // Ends with the test's runtime.
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut pending = Vec::new();
                loop {
                    let n = match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    let mut answers = 0;
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        answers += 1;
                    }
                    if answers > 0 {
                        *seen.lock().unwrap() = Some(Instant::now());
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".repeat(answers);
                        if stream.write_all(&reply).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (base, last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_rate_stops_at_the_duration_and_counts_every_start() {
    let (base, last_request) = timing_server().await;
    let yaml = r#"
scenarios:
  flood:
    executor: constant-arrival-rate
    rate: 200000
    duration: 2s
    preallocated_vus: 50
    max_vus: 500
    flow:
      - request: { url: "{{ BASE_URL }}/" }
"#;
    let plan = scenario::load_str(yaml, Path::new("flood.yaml"), &options(&base))
        .unwrap_or_else(|e| panic!("scenario compiles: {e}"));
    let started = Instant::now();
    let result = engine::run(
        Arc::new(plan),
        RunOptions::default(),
        std::future::pending(),
    )
    .await
    .expect("run completes");
    let wall = started.elapsed();
    let s = &result.summary;
    let done = counter(s, "iterations");
    let dropped = counter(s, "dropped_iterations");
    // 200,000/s for 2 s: 400,000 scheduled starts, each run or dropped.
    assert_eq!(
        done + dropped,
        400_000.0,
        "iterations {done}, dropped {dropped}"
    );
    assert!(dropped > 0.0, "the rate must be out of reach: {done} done");
    assert_eq!(counter(s, "http_reqs"), done);
    // No start after the duration: the last request arrives within 500 ms
    // of it (a start released just before the end still has to be sent
    // by a busy generator), and the run ends within 1 s of it.
    let last = last_request.lock().unwrap().expect("requests arrived");
    let last_at = last.duration_since(started);
    assert!(
        last_at < Duration::from_millis(2500),
        "last request {last_at:?} after the start"
    );
    assert!(wall < Duration::from_secs(3), "the run took {wall:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_whose_vu_setup_fails_is_dropped() {
    let (base, _) = timing_server().await;
    // The setup reads a variable only the flow extracts: it fails on every
    // VU before any request, so no start becomes an iteration.
    let yaml = r#"
scenarios:
  broken:
    executor: constant-arrival-rate
    rate: 20
    duration: 1s
    preallocated_vus: 2
    max_vus: 2
    setup:
      - request: { url: "{{ BASE_URL }}/setup", headers: { X-Token: "{{ token }}" } }
    flow:
      - request: { url: "{{ BASE_URL }}/", extract: { token: { header: x-token } } }
"#;
    let plan = scenario::load_str(yaml, Path::new("broken.yaml"), &options(&base))
        .unwrap_or_else(|e| panic!("scenario compiles: {e}"));
    let result = engine::run(
        Arc::new(plan),
        RunOptions::default(),
        std::future::pending(),
    )
    .await
    .expect("run completes");
    let s = &result.summary;
    assert_eq!(counter(s, "iterations"), 0.0);
    // 20 starts: the two VUs' failed setups, and 18 due while both VUs
    // waited out their one-second back-off.
    assert_eq!(counter(s, "dropped_iterations"), 20.0);
    assert_eq!(counter(s, "http_reqs"), 0.0);
}

/// Runs `yaml` to its end and returns its summary.
async fn run_to_end(yaml: &str, base: &str) -> stampede::metrics::Summary {
    let plan = scenario::load_str(yaml, Path::new("cut.yaml"), &options(base))
        .unwrap_or_else(|e| panic!("scenario compiles: {e}"));
    engine::run(
        Arc::new(plan),
        RunOptions::default(),
        std::future::pending(),
    )
    .await
    .expect("run completes")
    .summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iterations_cut_at_the_hard_stop_are_iterations_and_interrupted() {
    let (base, _) = timing_server().await;
    // 10 starts over one second, each sleeping far past the end: all begin,
    // none finishes, and the hard stop (graceful_stop 0s) cuts them all.
    let yaml = r#"
scenarios:
  slow:
    executor: constant-arrival-rate
    rate: 10
    duration: 1s
    preallocated_vus: 10
    max_vus: 10
    graceful_stop: 0s
    flow:
      - request: { url: "{{ BASE_URL }}/" }
      - sleep: 60s
"#;
    let s = run_to_end(yaml, &base).await;
    let began = counter(&s, "iterations");
    // Every start is an iteration or dropped (a busy machine may hand a
    // start to a VU that is not up before the end), and every iteration
    // that began was cut.
    assert_eq!(began + counter(&s, "dropped_iterations"), 10.0);
    assert!(began >= 1.0, "no iteration began");
    assert_eq!(counter(&s, "interrupted_iterations"), began);
    assert_eq!(counter(&s, "http_reqs"), began);
    // A cut iteration never ended: it has no duration.
    assert!(s.metric("iteration_duration").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_model_counts_its_cut_iterations_too() {
    let (base, _) = timing_server().await;
    let yaml = r#"
scenarios:
  hold:
    executor: constant-vus
    vus: 3
    duration: 500ms
    graceful_stop: 0s
    flow:
      - request: { url: "{{ BASE_URL }}/" }
      - sleep: 60s
"#;
    let s = run_to_end(yaml, &base).await;
    assert_eq!(counter(&s, "iterations"), 3.0);
    assert_eq!(counter(&s, "interrupted_iterations"), 3.0);
    assert_eq!(counter(&s, "http_reqs"), 3.0);
}
