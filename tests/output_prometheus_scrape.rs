//! The `--metrics-listen` endpoint in-process: live `/metrics` in the text
//! format during a real run, and the linger after it (the final values
//! stay until a scrape reads them, or until the limit).

mod common;
#[path = "support/backends/prometheus.rs"]
mod prometheus;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use prometheus::{free_port, get};
use stampede::demo::DemoConfig;
use stampede::engine::{self, RunOptions};
use stampede::output::scrape::{ScrapeEndpoint, ScrapeOptions};
use stampede::output::{OutputContext, scrape};
use stampede::scenario;

/// The value of the first line starting with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_shows_live_counters_during_the_run() {
    let demo = demo(DemoConfig::default()).await;
    // 1 VU × 12 iterations of 250 ms: about 3 s, snapshots every second.
    let yaml = r#"
scenarios:
  live:
    executor: per-vu-iterations
    vus: 1
    iterations: 12
    flow:
      - request: { name: slow, url: "{{ BASE_URL }}/health?delay=250ms" }
"#;
    let plan = scenario::load_str(yaml, Path::new("test.yaml"), &options(&demo.base_url()))
        .expect("scenario compiles");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let ctx = OutputContext {
        testid: "scrape-1".into(),
        registry: Arc::new(plan.registry.clone()),
    };
    let options = ScrapeOptions {
        addr,
        linger: Duration::ZERO,
    };
    let ScrapeEndpoint { local_addr, sink } = scrape::serve(options, &ctx, |_| {})
        .await
        .expect("endpoint binds");
    assert_eq!(local_addr, addr);
    assert_eq!(sink.name(), format!("metrics-listen ({addr})"));
    let url = format!("http://{addr}/metrics");
    let run = tokio::spawn(engine::run(
        Arc::new(plan),
        RunOptions {
            sinks: vec![sink],
            ..RunOptions::default()
        },
        std::future::pending(),
    ));

    // Poll (bounded) until the counter shows up mid-run.
    let counter_line = "stampede_http_reqs_total{";
    let mut seen = None;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (status, body) = get(&url).await;
        assert_eq!(status, 200);
        let text = String::from_utf8(body.to_vec()).unwrap();
        if text.contains(counter_line) {
            seen = Some(text);
            break;
        }
    }
    let text = seen.expect("request counter within 4 s");
    assert!(!run.is_finished(), "seen during the run");
    assert!(
        text.contains("# TYPE stampede_http_reqs_total counter"),
        "{text}"
    );
    let reqs = sample(
        &text,
        "stampede_http_reqs_total{expected_response=\"true\",method=\"GET\",name=\"slow\"",
    )
    .unwrap_or_else(|| panic!("labelled counter in {text}"));
    assert!((1.0..12.0).contains(&reqs), "a live, partial count: {reqs}");
    assert!(text.contains("testid=\"scrape-1\""), "{text}");
    assert!(
        text.contains("# TYPE stampede_http_req_duration_summary_seconds summary"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE stampede_test_start_timestamp_seconds gauge"),
        "{text}"
    );
    assert!(
        !text.contains("stampede_test_end_timestamp_seconds"),
        "no end marker before the end: {text}"
    );
    assert!(text.contains("# TYPE stampede_vus gauge"), "{text}");
    assert!(
        text.contains("# TYPE stampede_http_req_failed_ratio gauge"),
        "{text}"
    );
    let p50 = sample(&text, "stampede_http_req_duration_summary_seconds{").unwrap();
    assert!((0.24..1.0).contains(&p50), "quantiles in seconds: {p50}");

    let result = run.await.unwrap().expect("run completes");
    assert_eq!(counter(&result.summary, "http_reqs"), 12.0);
    assert!(result.sink_reports[0].errors.is_empty());
    // Without a linger the endpoint closed with the run.
    assert_eq!(get(&url).await.0, 0);
    demo.shutdown().await;
}

/// 1 VU × 4 requests of 100 ms.
const FOUR_REQUESTS: &str = r#"
scenarios:
  short:
    executor: per-vu-iterations
    vus: 1
    iterations: 4
    flow:
      - request: { name: short, url: "{{ BASE_URL }}/health?delay=100ms" }
"#;

/// Starts a run of `FOUR_REQUESTS` with the endpoint on a free port.
async fn start_run(
    base_url: &str,
    linger: Duration,
    notice: scrape::Notice,
) -> (
    SocketAddr,
    tokio::task::JoinHandle<Result<engine::RunResult, engine::EngineError>>,
) {
    let plan = scenario::load_str(FOUR_REQUESTS, Path::new("test.yaml"), &options(base_url))
        .expect("scenario compiles");
    let ctx = OutputContext {
        testid: "linger".into(),
        registry: Arc::new(plan.registry.clone()),
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let endpoint = scrape::serve(ScrapeOptions { addr, linger }, &ctx, notice)
        .await
        .expect("endpoint binds");
    assert_ne!(endpoint.local_addr.port(), 0, "the bound port, not 0");
    let run = tokio::spawn(engine::run(
        Arc::new(plan),
        RunOptions {
            sinks: vec![endpoint.sink],
            sink_finish_timeout: Duration::from_secs(30),
            ..RunOptions::default()
        },
        std::future::pending(),
    ));
    (endpoint.local_addr, run)
}

static SCRAPED_NOTICES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_values_stay_until_a_scrape_reads_them() {
    let demo = demo(DemoConfig::default()).await;
    let linger = Duration::from_secs(20);
    let (addr, run) = start_run(&demo.base_url(), linger, |line| {
        SCRAPED_NOTICES.lock().unwrap().push(line.to_string())
    })
    .await;
    let url = format!("http://{addr}/metrics");
    // Scrape every 200 ms (at most 100 times) until the end marker shows.
    let mut last = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (status, body) = get(&url).await;
        assert_eq!(status, 200, "the endpoint answers until the final scrape");
        let text = String::from_utf8(body.to_vec()).unwrap();
        if text.contains("stampede_test_end_timestamp_seconds") {
            last = Some(text);
            break;
        }
    }
    let text = last.expect("the end marker within 20 s");
    // That scrape read the final values: the run ends without waiting out
    // the linger.
    let result = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .expect("the run ends right after the final scrape")
        .unwrap()
        .expect("run completes");
    assert_eq!(counter(&result.summary, "http_reqs"), 4.0);
    assert!(result.sink_reports[0].errors.is_empty());
    let reqs = sample(&text, "stampede_http_reqs_total{").expect("request counter");
    assert_eq!(reqs, 4.0, "the final count: {text}");
    let end = sample(&text, "stampede_test_end_timestamp_seconds{").unwrap();
    let expected_end = stampede::output::markers::unix_seconds(
        stampede::output::markers::end_time(&result.summary),
    );
    assert_eq!(end, expected_end);
    assert_eq!(get(&url).await.0, 0, "closed after the final scrape");
    let notices = SCRAPED_NOTICES.lock().unwrap().clone();
    assert_eq!(
        notices,
        [format!(
            "  metrics endpoint: serving the final values at {url} until the next scrape (at most 20s, --metrics-linger)"
        )]
    );
    demo.shutdown().await;
}

static UNSCRAPED_NOTICES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unscraped_endpoint_stops_at_the_linger_limit() {
    let demo = demo(DemoConfig::default()).await;
    let (addr, run) = start_run(&demo.base_url(), Duration::from_secs(1), |line| {
        UNSCRAPED_NOTICES.lock().unwrap().push(line.to_string())
    })
    .await;
    let result = run.await.unwrap().expect("run completes");
    assert_eq!(counter(&result.summary, "http_reqs"), 4.0);
    assert!(result.sink_reports[0].errors.is_empty());
    let url = format!("http://{addr}/metrics");
    assert_eq!(get(&url).await.0, 0, "closed after the linger");
    let notices = UNSCRAPED_NOTICES.lock().unwrap().clone();
    assert_eq!(
        notices,
        [
            format!(
                "  metrics endpoint: serving the final values at {url} until the next scrape (at most 1s, --metrics-linger)"
            ),
            "warning: metrics endpoint: no scrape read the final values within 1s; stopping (--metrics-linger)".to_string(),
        ]
    );
    demo.shutdown().await;
}

fn stampede_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_stampede"))
        .env_remove("BASE_URL")
        .env("STAMPEDE_LOG", "warn")
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn port_zero_prints_the_port_actually_bound() {
    let out = stampede_cli(&[
        "run",
        "--demo",
        "--quiet",
        "--url",
        "{{ BASE_URL }}/health",
        "--iterations",
        "2",
        "--metrics-listen",
        "127.0.0.1:0",
        "--metrics-linger",
        "0s",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let prefix = "metrics endpoint (http://127.0.0.1:";
    let at = stderr
        .find(prefix)
        .unwrap_or_else(|| panic!("endpoint in the run header: {stderr}"));
    let port: u16 = stderr[at + prefix.len()..]
        .split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a port number: {stderr}"));
    assert_ne!(port, 0, "{stderr}");
    assert!(
        !stderr.contains("serving the final values"),
        "no linger with 0s: {stderr}"
    );
}

#[test]
fn linger_flag_errors_name_the_flag() {
    let out = stampede_cli(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--metrics-listen",
        "127.0.0.1:0",
        "--metrics-linger",
        "11m",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("invalid value '11m' for '--metrics-linger <DURATION>': at most 10m"),
        "{stderr}"
    );
    let out = stampede_cli(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--metrics-linger",
        "5s",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--metrics-listen <ADDR>"), "{stderr}");
}
