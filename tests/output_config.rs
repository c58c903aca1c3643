//! Configuring outputs: `--out`, `--tag`, `--testid` on the command line
//! and the scenario file's `outputs:` section. Golden one-line errors with
//! their exit codes, secrets read from the environment and never printed.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use stampede::output::{OutputKind, Secret};
use stampede::scenario::{self, LoadOptions};

fn stampede(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampede"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STAMPEDE_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("binary runs")
}

/// `run --url ... EXTRA` must fail with exactly `expected` on stderr and `code`.
fn assert_cli_error(extra: &[&str], env: &[(&str, &str)], expected: &[&str], code: i32) {
    let mut args = vec![
        "run",
        "--quiet",
        "--url",
        "http://127.0.0.1:9/",
        "--iterations",
        "1",
    ];
    args.extend_from_slice(extra);
    let out = stampede(&args, env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().collect::<Vec<_>>(), expected, "{extra:?}");
    assert_eq!(out.status.code(), Some(code), "{extra:?}");
    assert!(out.stdout.is_empty(), "no run for {extra:?}");
}

#[test]
fn bad_out_flags_are_one_line_errors_with_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--out", "prometheus=http://127.0.0.1:9090/api/v1/write"],
            "error: --out #1: unknown output kind \"prometheus\"; expected one of prometheus-rw, otlp, influxdb, json, csv",
        ),
        (
            &["--out", "csv"],
            "error: --out #1: expected csv=FILE, got \"csv\"",
        ),
        (
            &[
                "--out",
                "json=a.json",
                "--out",
                "prometheus-rw=http://h/api/v1/write;push_interval=fast",
            ],
            "error: --out #2: option push_interval: invalid duration \"fast\"; expected a number with a unit (h, m, s, ms, us), e.g. 30s, 5m, 500ms, 1h30m",
        ),
        (
            &["--out", "prometheus-rw=http://h/api/v1/write;timeout=0s"],
            "error: --out #1: option timeout: must be longer than 0s",
        ),
        (
            &["--out", "influxdb=http://h:8086/db;batch_size=many"],
            "error: --out #1: option batch_size: expected a whole number above 0, got \"many\"",
        ),
        (
            &["--out", "otlp=http://h:4318;required=yes"],
            "error: --out #1: option required: expected true or false, got \"yes\"",
        ),
        (
            &[
                "--out",
                "prometheus-rw=http://h/api/v1/write;password=hunter2",
            ],
            "error: --out #1: option password: secrets are not accepted here; use password_env=VAR, or STAMPEDE_<KIND>_PASSWORD",
        ),
        (
            &[
                "--out",
                "prometheus-rw=http://h/api/v1/write;header=Authorization: Bearer abc",
            ],
            "error: --out #1: option header: the Authorization header holds a secret; give it from the environment (header_env=Authorization:VAR, headers_env in a file) or use bearer_token_env / basic auth",
        ),
        (
            &["--out", "json=a.json;gzip"],
            "error: --out #1: option gzip: expected key=value",
        ),
        (
            &["--tag", "scenario=x"],
            "error: --tag scenario=x: tag \"scenario\" is set by stampede (reserved: scenario, name, method, status, expected_response, error_code, group, check, testid, instance, url, proto)",
        ),
        (
            &["--tag", "my-team=x"],
            "error: --tag my-team=x: tag names are letters, digits and '_', not starting with a digit",
        ),
        (
            &["--testid", "nightly run"],
            "error: --testid: \"nightly run\" may contain only letters, digits, '-', '_', '.' and ':'",
        ),
    ];
    for (extra, expected) in cases {
        assert_cli_error(extra, &[], &[expected], 2);
    }
}

#[test]
fn missing_secret_env_var_names_the_variable_and_the_output() {
    assert_cli_error(
        &[
            "--out",
            "prometheus-rw=http://h/api/v1/write;username=123456;password_env=GRAFANA_CLOUD_TOKEN",
        ],
        &[],
        &[
            "error: --out #1: environment variable GRAFANA_CLOUD_TOKEN is not set (basic-auth password of output prometheus-rw (http://h/api/v1/write))",
        ],
        2,
    );
    assert_cli_error(
        &[
            "--out",
            "prometheus-rw=http://h/api/v1/write;bearer_token_env=PROM_TOKEN",
        ],
        &[],
        &[
            "error: --out #1: environment variable PROM_TOKEN is not set (bearer token of output prometheus-rw (http://h/api/v1/write))",
        ],
        2,
    );
}

#[test]
fn secrets_from_the_environment_are_never_printed() {
    let secret = "glc_eyJvIjoiMTIzNDU2Nzg5MCJ9";
    // The output cannot be built in this branch (the sink's module is a
    // placeholder), which exercises the error path with a resolved secret.
    let out = stampede(
        &[
            "run",
            "--quiet",
            "--http-debug",
            "--url",
            "http://127.0.0.1:9/",
            "--iterations",
            "1",
            "--out",
            "prometheus-rw=https://prom.example.com/api/v1/push?x=1;username=123",
        ],
        &[
            ("STAMPEDE_PROMETHEUS_RW_PASSWORD", secret),
            ("STAMPEDE_PROMETHEUS_RW_BEARER_TOKEN", ""),
        ],
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(secret), "{all}");
}

fn options(env: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        process_env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        ..LoadOptions::default()
    }
}

const FLOW: &str = "vus: 1
iterations: 1
flow:
  - request: { url: \"http://127.0.0.1:9/\" }
";

fn load(outputs: &str, env: &[(&str, &str)]) -> Result<scenario::TestPlan, Vec<String>> {
    let text = format!("{FLOW}{outputs}");
    scenario::load_str(&text, Path::new("out.yaml"), &options(env))
        .map_err(|e| e.iter().map(ToString::to_string).collect())
}

#[test]
fn outputs_section_parses_common_and_kind_options() {
    let plan = load(
        "outputs:
  - type: prometheus-rw
    url: https://prom.example.com/api/v1/push
    push_interval: 2s
    trend_stats: [p(95), p(99), avg]
    histograms: native
    headers: { X-Scope-OrgID: tenant-1 }
    headers_env: { X-Api-Key: API_KEY }
    basic_auth: { username: 123456, password_env: GRAFANA_TOKEN }
    timeout: 3s
    batch_size: 500
    buffer_points: 100000
    flush_timeout: 10s
    required: true
    insecure_skip_tls_verify: false
  - type: json
    path: out.json.gz
  - type: otlp
",
        &[("GRAFANA_TOKEN", "glc_x"), ("API_KEY", "k-1")],
    )
    .unwrap();
    assert_eq!(plan.outputs.len(), 3);
    let prom = &plan.outputs[0];
    assert_eq!(prom.kind, OutputKind::PrometheusRw);
    assert_eq!(prom.target, "https://prom.example.com/api/v1/push");
    assert_eq!(prom.origin, "out.yaml:6:5");
    let c = &prom.common;
    assert_eq!(c.push_interval, Duration::from_secs(2));
    assert_eq!(c.timeout, Duration::from_secs(3));
    assert_eq!(c.flush_timeout, Duration::from_secs(10));
    assert_eq!(
        (c.batch_size, c.buffer_points, c.required),
        (500, 100_000, true)
    );
    assert_eq!(
        c.headers,
        vec![
            ("X-Scope-OrgID".to_string(), Secret::new("tenant-1")),
            ("X-Api-Key".to_string(), Secret::new("k-1")),
        ]
    );
    let auth = c.basic_auth.as_ref().unwrap();
    assert_eq!(
        (auth.username.as_str(), auth.password.expose()),
        ("123456", "glc_x")
    );
    assert_eq!(prom.extra["trend_stats"], "p(95),p(99),avg");
    assert_eq!(prom.extra["histograms"], "native");
    assert_eq!(prom.extra.len(), 2);
    assert_eq!(
        (plan.outputs[1].kind, plan.outputs[1].target.as_str()),
        (OutputKind::Json, "out.json.gz")
    );
    assert_eq!(plan.outputs[1].origin, "out.yaml:20:5");
    assert_eq!(
        (plan.outputs[2].kind, plan.outputs[2].target.as_str()),
        (OutputKind::Otlp, "")
    );
}

#[test]
fn an_outputs_no_proxy_may_be_a_yaml_list_of_hosts() {
    let env = [("HTTPS_PROXY", "http://127.0.0.1:3129")];
    let listed = load(
        "outputs:
  - type: prometheus-rw
    url: https://prom.internal/api/v1/write
    no_proxy: [ prom.internal, .metrics.test, 127.0.0.1 ]
  - type: prometheus-rw
    url: https://prom.internal/api/v1/write
    no_proxy: \"prom.internal, .metrics.test, 127.0.0.1\"
",
        &env,
    )
    .unwrap();
    let [list, text] = [&listed.outputs[0], &listed.outputs[1]].map(|o| &o.common.proxy);
    assert_eq!(list, text);
    for direct in ["prom.internal", "a.metrics.test", "127.0.0.1"] {
        assert!(list.for_host(true, direct).is_none(), "{direct}");
    }
    assert_eq!(list.for_host(true, "prom.example.com").unwrap().port, 3129);

    let errors = load(
        "outputs:
  - type: prometheus-rw
    url: https://prom.internal/api/v1/write
    no_proxy: [ prom.internal, { host: x } ]
    timeout: [ 1s, 2s ]
",
        &env,
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "out.yaml:8:5: outputs[0].no_proxy: expected a list of values",
            "out.yaml:9:5: outputs[0].timeout: expected a single value, not a list",
        ]
    );
}

#[test]
fn outputs_section_errors_carry_file_line_and_column() {
    let errors = load(
        "outputs:
  - type: prometheus
    url: http://h
  - type: prometheus-rw
    url: http://h/api/v1/write
    push_interval: soon
    basic_auth: { username: u, password: hunter2 }
  - type: csv
    url: out.csv
  - type: influxdb
    url: http://h:8086/db
    headers: { Authorization: Token abc }
  - url: http://h
  - type: otlp
    headers: X-A=b
",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "out.yaml:6:5: outputs[0].type: unknown output type \"prometheus\" (hint: one of prometheus-rw, otlp, influxdb, json, csv)",
            "out.yaml:10:5: outputs[1].push_interval: invalid duration \"soon\"; expected a number with a unit (h, m, s, ms, us), e.g. 30s, 5m, 500ms, 1h30m",
            "out.yaml:11:32: outputs[1].basic_auth.password: secrets are not accepted in the file; name an environment variable with password_env",
            "out.yaml:13:5: outputs[2].url: csv takes `path`, not `url`",
            "out.yaml:16:16: outputs[3].headers.Authorization: the Authorization header holds a secret; give it from the environment (header_env=Authorization:VAR, headers_env in a file) or use bearer_token_env / basic auth",
            "out.yaml:17:5: outputs[4]: missing `type` (hint: one of prometheus-rw, otlp, influxdb, json, csv)",
            "out.yaml:19:5: outputs[5].headers: expected a map of `Name: value`",
        ]
    );
    assert!(!errors.join("\n").contains("hunter2"));
}

#[test]
fn missing_env_var_in_the_file_points_at_the_option() {
    let errors = load(
        "outputs:
  - type: prometheus-rw
    url: http://h/api/v1/write
    bearer_token_env: PROM_TOKEN
",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "out.yaml:8:5: outputs[0].bearer_token_env: environment variable PROM_TOKEN is not set (bearer token of output prometheus-rw (http://h/api/v1/write))"
        ]
    );
}

#[test]
fn file_output_errors_exit_104_and_kind_errors_carry_the_entry_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outputs.yaml");
    std::fs::write(
        &path,
        format!("{FLOW}outputs:\n  - type: prometheus-rw\n    url: http://h/api/v1/write\n    bearer_token_env: PROM_TOKEN\n"),
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let out = stampede(&["run", "--quiet", file], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [format!(
            "error: {file}:8:5: outputs[0].bearer_token_env: environment variable PROM_TOKEN is not set (bearer token of output prometheus-rw (http://h/api/v1/write))"
        )]
    );
    assert_eq!(out.status.code(), Some(104));

    // With the variable set the entry is valid; what its kind's constructor
    // says (here: an option value it does not know) is prefixed with
    // file:line:col.
    std::fs::write(
        &path,
        format!("{FLOW}outputs:\n  - type: prometheus-rw\n    url: http://h/api/v1/write\n    bearer_token_env: PROM_TOKEN\n    histograms: sideways\n"),
    )
    .unwrap();
    let out = stampede(&["run", "--quiet", file], &[("PROM_TOKEN", "t0k3n")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or_default().to_string();
    assert!(
        first.starts_with(&format!("error: {file}:6:5: ")),
        "{stderr}"
    );
    assert!(!stderr.contains("t0k3n"));
    assert_eq!(out.status.code(), Some(104));
}

#[test]
fn run_tags_are_checked_by_the_scenario_loader_too() {
    let mut opts = options(&[]);
    opts.tags = vec![("testid".into(), "x".into())];
    let errors = scenario::load_str(FLOW, Path::new("t.yaml"), &opts).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "t.yaml: --tag: tag \"testid\" is set by stampede (hint: reserved tags: scenario, name, method, status, expected_response, error_code, group, check, testid, instance, url, proto)"
    );
}

/// The `outputs:` example of docs/outputs/common.md is a valid section.
#[test]
fn documented_outputs_section_parses() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/outputs/common.md"
    ))
    .unwrap();
    let start = doc.find("```yaml\noutputs:").expect("yaml example") + "```yaml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let plan = load(&doc[start..end], &[("GRAFANA_CLOUD_TOKEN", "t")]).unwrap();
    assert_eq!(plan.outputs.len(), 3);
    assert_eq!(plan.outputs[0].extra["trend_stats"], "p(95),p(99),avg");
    assert!(plan.outputs[0].common.required);
}

#[test]
fn proxy_options_in_the_file_point_at_the_option_and_never_echo_a_password() {
    let errors = load(
        "outputs:
  - type: prometheus-rw
    url: http://h/api/v1/write
    proxy: http://agent:s3cret@proxy.test:3128
  - type: prometheus-rw
    url: http://h2/api/v1/write
    proxy_env: METRICS_PROXY
",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "out.yaml:8:5: outputs[0].proxy: proxy credentials are not accepted here; give the whole URL from the environment (proxy_env=VAR, or HTTPS_PROXY / HTTP_PROXY)",
            "out.yaml:11:5: outputs[1].proxy_env: environment variable METRICS_PROXY is not set (proxy of output prometheus-rw (http://h2/api/v1/write))",
        ]
    );
    assert!(!errors.join("\n").contains("s3cret"));
}
