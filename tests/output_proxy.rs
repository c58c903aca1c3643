//! The streaming outputs reach their backend through a forward proxy, by
//! the same proxy model as the load (`HTTP_PROXY` / `HTTPS_PROXY` /
//! `NO_PROXY`, or an output's own `proxy_env` / `proxy` / `no_proxy`):
//! remote-write through a real tinyproxy that asks for credentials, into a
//! real Prometheus 2.42, with the exact sample count there and the proxy's
//! own log of every push. Credentials are never printed.

mod common;
#[path = "support/nginx.rs"]
mod nginx;
#[path = "support/backends/otlp_receiver.rs"]
mod otlp_receiver;
#[path = "support/backends/prometheus.rs"]
mod prometheus;
#[path = "support/tinyproxy.rs"]
mod tinyproxy;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use prometheus::Prometheus;
use stampede::demo::DemoConfig;
use tinyproxy::Tinyproxy;

/// Five requests, sent directly: `from_env: false` keeps the load off the
/// proxy, so everything the proxy logs is the output's.
const FIVE_DIRECT_REQUESTS: &str = r#"
http:
  proxy: { from_env: false }
scenarios:
  s:
    executor: per-vu-iterations
    vus: 1
    iterations: 5
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;

/// Runs the scenario with a remote-write output to `prom` (plus `options`),
/// with only `env`'s proxy variables set.
fn run(
    dir: &Path,
    base_url: &str,
    prom: &Prometheus,
    testid: &str,
    options: &str,
    env: &[(&str, String)],
) -> Output {
    let out = format!(
        "prometheus-rw={};push_interval=1s{options}",
        prom.write_url()
    );
    run_out(dir, base_url, &out, testid, env)
}

/// Runs the scenario with the output `out`, with only `env`'s proxy
/// variables set.
fn run_out(dir: &Path, base_url: &str, out: &str, testid: &str, env: &[(&str, String)]) -> Output {
    let file = dir.join("five.yaml");
    std::fs::write(&file, FIVE_DIRECT_REQUESTS).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_stampede"));
    command
        .args(["run", "--quiet", "--testid", testid, "--out", out])
        .arg(&file)
        .env("BASE_URL", base_url);
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(var);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The last value of `stampede_http_reqs_total` of run `testid`.
async fn reqs_in_prometheus(prom: &Prometheus, testid: &str) -> String {
    let result = prom
        .query(
            &format!("stampede_http_reqs_total{{testid=\"{testid}\"}}[1h]"),
            None,
        )
        .await;
    assert_eq!(result.len(), 1, "one series for {testid}: {result:?}");
    let values = result[0]["values"].as_array().unwrap();
    values.last().unwrap()[1].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_goes_through_the_proxy_the_environment_or_its_options_name() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Tinyproxy::start(dir.path(), Some("agent s3cret"));
    let prom = Prometheus::start().await;
    let demo = demo(DemoConfig::default()).await;
    let base = demo.base_url();
    let with_credentials = format!("http://agent:s3cret@127.0.0.1:{}", proxy.port);
    let push = format!("POST {} HTTP/1.1", prom.write_url());
    let check_quiet = |out: &Output| {
        let text = printed(out);
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        // base64("agent:s3cret")
        assert!(!text.contains("YWdlbnQ6czNjcmV0"), "{text}");
    };

    // HTTP_PROXY, as the load would read it: every push is forwarded.
    let out = run(
        dir.path(),
        &base,
        &prom,
        "rw-env",
        "",
        &[("HTTP_PROXY", with_credentials.clone())],
    );
    check_quiet(&out);
    let pushes = proxy.requests();
    assert!(!pushes.is_empty());
    assert!(pushes.iter().all(|r| *r == push), "{pushes:?}");
    assert_eq!(reqs_in_prometheus(&prom, "rw-env").await, "5");

    // NO_PROXY naming the receiver's host: straight to Prometheus. Loopback
    // is not bypassed on its own (as for the load): it must be listed.
    let env = [
        ("HTTP_PROXY", with_credentials.clone()),
        ("NO_PROXY", "localhost,127.0.0.1,::1".to_string()),
    ];
    let out = run(dir.path(), &base, &prom, "rw-no-proxy", "", &env);
    check_quiet(&out);
    assert_eq!(
        proxy.requests(),
        pushes,
        "nothing more went through the proxy"
    );
    assert_eq!(reqs_in_prometheus(&prom, "rw-no-proxy").await, "5");

    // The output's own proxy (its URL, credentials included, from the
    // variable `proxy_env` names) wins over a dead HTTP_PROXY.
    let env = [
        ("HTTP_PROXY", "http://127.0.0.1:1".to_string()),
        ("METRICS_PROXY", with_credentials.clone()),
    ];
    let out = run(
        dir.path(),
        &base,
        &prom,
        "rw-option",
        ";proxy_env=METRICS_PROXY",
        &env,
    );
    check_quiet(&out);
    let all = proxy.requests();
    assert!(all.len() > pushes.len(), "{all:?}");
    assert!(all.iter().all(|r| *r == push), "{all:?}");
    assert_eq!(reqs_in_prometheus(&prom, "rw-option").await, "5");

    // Without the credentials tinyproxy refuses (a 407, and the connection
    // is reset under the unread body): the points are reported undelivered,
    // and none arrive. So the runs above did send the credentials.
    let out = run(
        dir.path(),
        &base,
        &prom,
        "rw-refused",
        &format!(";proxy=127.0.0.1:{};flush_timeout=1s", proxy.port),
        &[],
    );
    let text = printed(&out);
    assert!(text.contains("could not be delivered"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    let refused = prom
        .query("stampede_http_reqs_total{testid=\"rw-refused\"}[1h]", None)
        .await;
    assert!(refused.is_empty(), "{refused:?}");
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_over_grpc_goes_through_a_connect_tunnel() {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Tinyproxy::start(dir.path(), Some("agent s3cret"));
    let receiver = otlp_receiver::start_grpc(0).await;
    let demo = demo(DemoConfig::default()).await;
    let base = demo.base_url();
    let env = [(
        "HTTP_PROXY",
        format!("http://agent:s3cret@127.0.0.1:{}", proxy.port),
    )];
    let out = format!("otlp={};push_interval=1s", receiver.grpc_target());
    let path = dir.path().to_path_buf();
    let done = tokio::task::spawn_blocking(move || run_out(&path, &base, &out, "grpc-proxy", &env))
        .await
        .unwrap();
    let text = printed(&done);
    assert_eq!(done.status.code(), Some(0), "{text}");
    assert!(!text.contains("s3cret"), "{text}");

    // h2c cannot be forwarded request by request: one tunnel, kept.
    assert_eq!(
        proxy.requests(),
        vec![format!("CONNECT {} HTTP/1.1", receiver.addr)]
    );
    let metrics = receiver.metrics();
    let last = metrics
        .iter()
        .rev()
        .find(|(_, m)| m.name == "stampede_http_reqs")
        .expect("http_reqs sent");
    let Some(Data::Sum(sum)) = &last.1.data else {
        panic!("http_reqs is a Sum: {:?}", last.1);
    };
    let total: f64 = sum.data_points.iter().map(otlp_receiver::number).sum();
    assert_eq!(total, 5.0);
    demo.shutdown().await;
}
