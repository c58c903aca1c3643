//! scenarios/suites/agent-platform run as shipped, by the built binary,
//! against an in-process demo target: the smoke profile scaled down to
//! seconds passes every threshold it judges, and where the shape makes a
//! count exact (`--iterations`) the summary export holds that count.

mod suites_support;

use stampede::demo::DemoConfig;

use suites_support::{SuiteRun, run_suite};

fn small_demo() -> DemoConfig {
    DemoConfig {
        blocks_size_bytes: 50_000,
        ..DemoConfig::default()
    }
}

/// Runs `file` of the suite against a fresh demo target with `args`.
async fn run(file: &str, args: &[&str]) -> SuiteRun {
    run_suite(small_demo(), &format!("agent-platform/{file}"), args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_script_passes_its_thresholds_in_the_smoke_profile() {
    for (file, scale) in [
        ("basic-connectivity.yaml", "0.2"),
        ("core-api.yaml", "0.2"),
        ("graph-execution.yaml", "0.2"),
        ("comprehensive-platform.yaml", "0.2"),
        // Four one-minute windows, one endpoint each: 4.8 s in all.
        ("single-endpoint.yaml", "0.02"),
    ] {
        let run = run(file, &["--profile", "smoke", "--scale-duration", scale]).await;
        run.assert_every_threshold_passed();
        assert!(
            !run.stdout.contains("ITERATION ERRORS"),
            "{}",
            run.describe()
        );
        assert!(run.metric_count("http_reqs") > 0, "{file}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_iterations_give_exact_request_counts() {
    // Core API: 2 VUs share 4 iterations of 3 endpoints x REQUESTS_PER_VU.
    let core = run(
        "core-api.yaml",
        &[
            "--profile",
            "smoke",
            "--env",
            "REQUESTS_PER_VU=3",
            "--vus",
            "2",
            "--iterations",
            "4",
        ],
    )
    .await;
    core.assert_every_threshold_passed();
    assert_eq!(core.metric_count("iterations"), 4);
    core.assert_requests_named(&[("credits", 12), ("graphs", 12), ("executions", 12)]);

    // Basic connectivity: per iteration one health check and
    // REQUESTS_PER_VU credit reads; one login per VU.
    let basic = run(
        "basic-connectivity.yaml",
        &[
            "--profile",
            "smoke",
            "--env",
            "REQUESTS_PER_VU=5",
            "--vus",
            "1",
            "--iterations",
            "3",
            "--scale-duration",
            "0.1",
        ],
    )
    .await;
    basic.assert_every_threshold_passed();
    basic.assert_requests_named(&[("login", 1), ("health", 3), ("credits", 15)]);

    // Graph execution: 1 VU, 3 iterations of REQUESTS_PER_VU + 1 creations,
    // one execution each, polled until completed.
    let graphs = run(
        "graph-execution.yaml",
        &[
            "--profile",
            "smoke",
            "--env",
            "REQUESTS_PER_VU=4",
            "--env",
            "EXECUTION_TIME=300ms",
            "--vus",
            "1",
            "--iterations",
            "3",
            "--scale-duration",
            "0.1",
        ],
    )
    .await;
    graphs.assert_every_threshold_passed();
    graphs.assert_requests_named(&[
        ("login", 1),
        ("create graph", 15),
        ("execute graph", 3),
        ("execution result", 3),
    ]);
    assert_eq!(graphs.metric_count("graph_creations"), 15);
    assert_eq!(graphs.metric_count("graph_executions"), 3);
    assert!(graphs.requests_named("execution status") >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_endpoint_alone_skips_the_other_endpoints_baselines() {
    // The reference's ENDPOINT=credits: the other three endpoints' three
    // thresholds each are skipped, not failed; the rest are judged.
    let run = run(
        "single-endpoint.yaml",
        &[
            "--scenario",
            "credits",
            "--profile",
            "smoke",
            "--scale-duration",
            "0.05",
        ],
    )
    .await;
    run.assert_exit(0);
    let states = run.threshold_states();
    let skipped: Vec<_> = run.thresholds_in("skipped");
    assert_eq!(skipped.len(), 9, "{states:?}");
    assert!(
        skipped.iter().all(|t| !t.contains("scenario:credits")),
        "{states:?}"
    );
    assert!(
        states.values().all(|s| s == "passed" || s == "skipped"),
        "{states:?}"
    );
    assert_eq!(run.requests_named("blocks"), 0);
}
