//! Unit tests of the k6 / OpenTelemetry variables: each fills its option,
//! stampede's options and `STAMPEDE_*` variables win, and a bad value is one
//! line naming the variable (never its secret value).

use std::time::Duration;

use super::*;
use crate::output::influxdb::InfluxConfig;
use crate::output::otlp::config as otlp_config;
use crate::output::prometheus_rw::{HistogramMode, RemoteWriteOptions, TrendStatsWindow};
use crate::output::{OutputSpec, SpecBuilder};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |var| pairs.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone())
}

fn finish(
    kind: OutputKind,
    target: &str,
    options: &[(&str, &str)],
    vars: &[(&str, &str)],
) -> Result<OutputSpec, String> {
    let mut b = SpecBuilder::new(kind, target, "--out #1");
    for (k, v) in options {
        b.set(k, v).unwrap();
    }
    b.finish(env(vars)).map_err(|p| p.error.to_string())
}

const RW: OutputKind = OutputKind::PrometheusRw;
const RW_URL: &str = "http://127.0.0.1:9090/api/v1/write";

#[test]
fn k6_prometheus_variables_fill_every_unset_option() {
    let spec = finish(
        RW,
        "",
        &[("naming", "k6")],
        &[
            ("K6_PROMETHEUS_RW_SERVER_URL", RW_URL),
            ("K6_PROMETHEUS_RW_USERNAME", "123456"),
            ("K6_PROMETHEUS_RW_PASSWORD", "glc_k6secret"),
            ("K6_PROMETHEUS_RW_PUSH_INTERVAL", "2s"),
            ("K6_PROMETHEUS_RW_TREND_STATS", "p(95),p(99),min,max"),
            ("K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", "false"),
            ("K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY", "true"),
            ("K6_PROMETHEUS_RW_STALE_MARKERS", "0"),
        ],
    )
    .unwrap();
    assert_eq!(spec.target, RW_URL);
    let auth = spec.common.basic_auth.as_ref().unwrap();
    assert_eq!(
        (auth.username.as_str(), auth.password.expose()),
        ("123456", "glc_k6secret")
    );
    assert!(!format!("{spec:?}").contains("glc_k6secret"));
    assert_eq!(spec.common.push_interval, Duration::from_secs(2));
    assert!(spec.common.insecure_skip_tls_verify);
    let options = RemoteWriteOptions::from_spec(&spec).unwrap();
    let stats: Vec<&str> = options.trend_stats.iter().map(|s| s.suffix()).collect();
    assert_eq!(stats, ["p95", "p99", "min", "max"]);
    assert_eq!(options.histograms, HistogramMode::None);
    assert!(!options.stale_markers);
    assert_eq!(options.trend_stats_window, TrendStatsWindow::Cumulative);

    let native = finish(
        RW,
        RW_URL,
        &[],
        &[("K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", "TRUE")],
    )
    .unwrap();
    assert_eq!(
        RemoteWriteOptions::from_spec(&native).unwrap().histograms,
        HistogramMode::Native
    );
}

#[test]
fn stampede_options_and_variables_win_over_k6_ones() {
    let k6 = [
        ("K6_PROMETHEUS_RW_SERVER_URL", "http://127.0.0.1:1/k6"),
        ("K6_PROMETHEUS_RW_USERNAME", "k6user"),
        ("K6_PROMETHEUS_RW_PASSWORD", "k6pass"),
        ("K6_PROMETHEUS_RW_PUSH_INTERVAL", "9s"),
        ("K6_PROMETHEUS_RW_TREND_STATS", "avg"),
        ("K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", "false"),
        ("K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY", "true"),
        ("K6_PROMETHEUS_RW_STALE_MARKERS", "false"),
    ];
    let spec = finish(
        RW,
        RW_URL,
        &[
            ("push_interval", "1s"),
            ("trend_stats", "p(90)"),
            ("histograms", "native"),
            ("insecure_skip_tls_verify", "false"),
            ("stale_markers", "true"),
            ("username", "me"),
            ("password_env", "MY_PASSWORD"),
        ],
        &[k6.as_slice(), &[("MY_PASSWORD", "mine")]].concat(),
    )
    .unwrap();
    assert_eq!(spec.target, RW_URL);
    let auth = spec.common.basic_auth.as_ref().unwrap();
    assert_eq!(
        (auth.username.as_str(), auth.password.expose()),
        ("me", "mine")
    );
    assert_eq!(spec.common.push_interval, Duration::from_secs(1));
    assert!(!spec.common.insecure_skip_tls_verify);
    let extra: Vec<(&str, &str)> = spec
        .extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        extra,
        [
            ("histograms", "native"),
            ("stale_markers", "true"),
            ("trend_stats", "p(90)")
        ]
    );

    // STAMPEDE_* credentials beat k6's.
    let spec = finish(
        RW,
        RW_URL,
        &[],
        &[
            k6.as_slice(),
            &[
                ("STAMPEDE_PROMETHEUS_RW_USERNAME", "st"),
                ("STAMPEDE_PROMETHEUS_RW_PASSWORD", "stpass"),
            ],
        ]
        .concat(),
    )
    .unwrap();
    let auth = spec.common.basic_auth.as_ref().unwrap();
    assert_eq!(
        (auth.username.as_str(), auth.password.expose()),
        ("st", "stpass")
    );
}

#[test]
fn bad_k6_prometheus_values_name_the_variable() {
    let cases = [
        (
            "K6_PROMETHEUS_RW_PUSH_INTERVAL",
            "fast",
            "--out #1: environment variable K6_PROMETHEUS_RW_PUSH_INTERVAL: invalid duration \"fast\"; expected a number with a unit (h, m, s, ms, us), e.g. 30s, 5m, 500ms, 1h30m",
        ),
        (
            "K6_PROMETHEUS_RW_PUSH_INTERVAL",
            "0s",
            "--out #1: environment variable K6_PROMETHEUS_RW_PUSH_INTERVAL: must be longer than 0s",
        ),
        (
            "K6_PROMETHEUS_RW_TREND_STATS",
            "p(95),p95",
            "--out #1: environment variable K6_PROMETHEUS_RW_TREND_STATS: unknown statistic \"p95\"; use p(N), avg, min, max, med, count or sum",
        ),
        (
            "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM",
            "yes",
            "--out #1: environment variable K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM: expected true or false, got \"yes\"",
        ),
        (
            "K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY",
            "on",
            "--out #1: environment variable K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY: expected true or false, got \"on\"",
        ),
        (
            "K6_PROMETHEUS_RW_STALE_MARKERS",
            "2",
            "--out #1: environment variable K6_PROMETHEUS_RW_STALE_MARKERS: expected true or false, got \"2\"",
        ),
        (
            "K6_PROMETHEUS_RW_CLIENT_CERTIFICATE",
            "/etc/client.pem",
            "--out #1: environment variable K6_PROMETHEUS_RW_CLIENT_CERTIFICATE: client certificates are not supported by stampede's outputs; unset it",
        ),
    ];
    for (var, value, message) in cases {
        assert_eq!(
            finish(RW, RW_URL, &[], &[(var, value)]).unwrap_err(),
            message
        );
    }
    // Half of k6's credential pair: the message names the missing variable,
    // never the value of the other.
    let err = finish(RW, RW_URL, &[], &[("K6_PROMETHEUS_RW_USERNAME", "123")]).unwrap_err();
    assert_eq!(
        err,
        "--out #1: environment variable K6_PROMETHEUS_RW_PASSWORD is not set (basic-auth password of output prometheus-rw (http://127.0.0.1:9090/api/v1/write))"
    );
    let err = finish(
        RW,
        RW_URL,
        &[],
        &[
            ("K6_PROMETHEUS_RW_PASSWORD", "glc_hidden"),
            ("K6_PROMETHEUS_RW_PUSH_INTERVAL", "x"),
        ],
    )
    .unwrap_err();
    assert!(!err.contains("glc_hidden"), "{err}");
}

const INFLUX: OutputKind = OutputKind::InfluxDb;

#[test]
fn k6_influxdb_variables_make_the_target_and_fill_options() {
    let vars = [
        ("K6_INFLUXDB_ADDR", "http://127.0.0.1:8086"),
        ("K6_INFLUXDB_ORGANIZATION", "my org"),
        ("K6_INFLUXDB_BUCKET", "k6"),
        ("K6_INFLUXDB_TOKEN", "k6-token"),
        ("K6_INFLUXDB_PUSH_INTERVAL", "1s"),
        ("K6_INFLUXDB_INSECURE", "true"),
        ("K6_INFLUXDB_PRECISION", "1ns"),
        ("K6_INFLUXDB_TAGS_AS_FIELDS", "vu:int,iter:int,url"),
        ("K6_INFLUXDB_CONCURRENT_WRITES", "1"),
        ("K6_INFLUXDB_ENABLE_UNIQUE_TAG", "false"),
    ];
    let spec = finish(INFLUX, "", &[], &vars).unwrap();
    assert_eq!(spec.target, "http://127.0.0.1:8086/?org=my+org&bucket=k6");
    assert_eq!(spec.common.push_interval, Duration::from_secs(1));
    assert!(spec.common.insecure_skip_tls_verify);
    let config = InfluxConfig::from_spec_with_env(&spec, env(&vars)).unwrap();
    assert_eq!(
        config.write_url,
        "http://127.0.0.1:8086/api/v2/write?org=my+org&bucket=k6&precision=ns"
    );
    assert_eq!(
        config.headers[http::header::AUTHORIZATION],
        "Token k6-token"
    );

    // k6's default address; a target on the command line wins over the variables.
    let spec = finish(
        INFLUX,
        "",
        &[],
        &[
            ("K6_INFLUXDB_ORGANIZATION", "o"),
            ("K6_INFLUXDB_BUCKET", "b"),
        ],
    )
    .unwrap();
    assert_eq!(spec.target, "http://localhost:8086/?org=o&bucket=b");
    let given = "http://127.0.0.1:8087?org=x&bucket=y";
    assert_eq!(finish(INFLUX, given, &[], &vars).unwrap().target, given);
    // push_interval given: k6's is not used.
    let spec = finish(INFLUX, given, &[("push_interval", "3s")], &vars).unwrap();
    assert_eq!(spec.common.push_interval, Duration::from_secs(3));
}

#[test]
fn influxdb_token_precedence_token_env_then_stampede_then_k6() {
    let spec = finish(INFLUX, "http://127.0.0.1:8086?org=o&bucket=b", &[], &[]).unwrap();
    let token = |vars: &[(&str, &str)], spec: &OutputSpec| {
        InfluxConfig::from_spec_with_env(spec, env(vars))
            .map(|c| {
                c.headers[http::header::AUTHORIZATION]
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .map_err(|e| e.to_string())
    };
    let both = [
        ("STAMPEDE_INFLUXDB_TOKEN", "st"),
        ("K6_INFLUXDB_TOKEN", "k6"),
    ];
    assert_eq!(token(&both, &spec).unwrap(), "Token st");
    assert_eq!(token(&both[1..], &spec).unwrap(), "Token k6");
    let mut named = spec.clone();
    named.extra.insert("token_env".into(), "MINE".into());
    // token_env names the only variable read: k6's is not a fallback for it.
    assert_eq!(
        token(&both[1..], &named).unwrap_err(),
        "--out #1: environment variable MINE is not set (the InfluxDB v2 API token)"
    );
    assert_eq!(
        token(&[], &spec).unwrap_err(),
        "--out #1: environment variable STAMPEDE_INFLUXDB_TOKEN is not set (the InfluxDB v2 API token)"
    );
}

#[test]
fn k6_influxdb_values_stampede_cannot_honour_are_refused() {
    let url = "http://127.0.0.1:8086?org=o&bucket=b";
    let cases = [
        (
            "K6_INFLUXDB_PRECISION",
            "1ms",
            "--out #1: environment variable K6_INFLUXDB_PRECISION: stampede writes nanosecond timestamps; only 1ns can be honoured, got \"1ms\"",
        ),
        (
            "K6_INFLUXDB_TAGS_AS_FIELDS",
            "vu:int,status",
            "--out #1: environment variable K6_INFLUXDB_TAGS_AS_FIELDS: stampede cannot write tag \"status\" as a field (only vu, iter and url, which are never tags, may be listed)",
        ),
        (
            "K6_INFLUXDB_CONCURRENT_WRITES",
            "4",
            "--out #1: environment variable K6_INFLUXDB_CONCURRENT_WRITES: stampede sends one write at a time; only 1 can be honoured, got \"4\"",
        ),
        (
            "K6_INFLUXDB_ENABLE_UNIQUE_TAG",
            "true",
            "--out #1: environment variable K6_INFLUXDB_ENABLE_UNIQUE_TAG: stampede does not add a unique tag per point (points of one series never share a timestamp); unset it",
        ),
        (
            "K6_INFLUXDB_ENABLE_UNIQUE_TAG",
            "maybe",
            "--out #1: environment variable K6_INFLUXDB_ENABLE_UNIQUE_TAG: expected true or false, got \"maybe\"",
        ),
        (
            "K6_INFLUXDB_INSECURE",
            "sometimes",
            "--out #1: environment variable K6_INFLUXDB_INSECURE: expected true or false, got \"sometimes\"",
        ),
        (
            "K6_INFLUXDB_PUSH_INTERVAL",
            "5",
            "--out #1: environment variable K6_INFLUXDB_PUSH_INTERVAL: invalid duration \"5\"; expected a number with a unit (h, m, s, ms, us), e.g. 30s, 5m, 500ms, 1h30m",
        ),
    ];
    for (var, value, message) in cases {
        assert_eq!(
            finish(INFLUX, url, &[], &[(var, value)]).unwrap_err(),
            message
        );
    }
    assert_eq!(
        finish(INFLUX, "", &[], &[("K6_INFLUXDB_BUCKET", "b")]).unwrap_err(),
        "--out #1: environment variable K6_INFLUXDB_ORGANIZATION: not set; K6_INFLUXDB_BUCKET needs it (the v2 API writes to an organization's bucket)"
    );
    assert!(
        finish(
            INFLUX,
            "",
            &[],
            &[
                ("K6_INFLUXDB_BUCKET", "b"),
                ("K6_INFLUXDB_ORGANIZATION", "o"),
                ("K6_INFLUXDB_ADDR", "not a url"),
            ],
        )
        .unwrap_err()
        .starts_with(
            "--out #1: environment variable K6_INFLUXDB_ADDR: invalid URL \"not a url\": "
        )
    );
}

const OTLP: OutputKind = OutputKind::Otlp;
const OTLP_URL: &str = "http://127.0.0.1:4318";

#[test]
fn otel_timeout_and_certificate_metrics_variants_win_and_options_win_over_both() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let general = [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/general.pem"),
    ];
    let spec = finish(OTLP, OTLP_URL, &[], &general[..1]).unwrap();
    assert_eq!(spec.common.timeout, Duration::from_millis(2500));
    let metrics = [
        ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "700"),
        ("OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", file),
    ];
    let spec = finish(OTLP, OTLP_URL, &[], &[general, metrics].concat()).unwrap();
    assert_eq!(spec.common.timeout, Duration::from_millis(700));
    assert_eq!(
        spec.common.ca_file.as_deref(),
        Some(std::path::Path::new(file))
    );
    let spec = finish(
        OTLP,
        OTLP_URL,
        &[("timeout", "3s"), ("ca_file", "/etc/mine.pem")],
        &[general, metrics].concat(),
    )
    .unwrap();
    assert_eq!(spec.common.timeout, Duration::from_secs(3));
    assert_eq!(
        spec.common.ca_file.as_deref(),
        Some(std::path::Path::new("/etc/mine.pem"))
    );
}

#[test]
fn otel_compression_none_is_honoured_and_gzip_refused() {
    assert!(
        finish(
            OTLP,
            OTLP_URL,
            &[],
            &[("OTEL_EXPORTER_OTLP_COMPRESSION", "none")]
        )
        .is_ok()
    );
    // The metrics variant wins: none here, so the general gzip does not apply.
    assert!(
        finish(
            OTLP,
            OTLP_URL,
            &[],
            &[
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
                ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none"),
            ],
        )
        .is_ok()
    );
    let cases = [
        (
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            "gzip",
            "--out #1: environment variable OTEL_EXPORTER_OTLP_COMPRESSION: stampede's OTLP output sends uncompressed requests; gzip cannot be honoured (set none or unset it)",
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
            "zstd",
            "--out #1: environment variable OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: expected gzip or none, got \"zstd\"",
        ),
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "10s",
            "--out #1: environment variable OTEL_EXPORTER_OTLP_TIMEOUT: expected a whole number of milliseconds above 0, got \"10s\"",
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
            "0",
            "--out #1: environment variable OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: expected a whole number of milliseconds above 0, got \"0\"",
        ),
        (
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "/nonexistent/ca.pem",
            "--out #1: environment variable OTEL_EXPORTER_OTLP_CERTIFICATE: /nonexistent/ca.pem is not a readable file",
        ),
    ];
    for (var, value, message) in cases {
        assert_eq!(
            finish(OTLP, OTLP_URL, &[], &[(var, value)]).unwrap_err(),
            message
        );
    }
}

#[test]
fn otel_resource_attributes_are_decoded_and_the_service_name_wins() {
    let spec = finish(OTLP, OTLP_URL, &[], &[]).unwrap();
    let attributes = |vars: &[(&str, &str)]| {
        let env = env(vars);
        otlp_config::parse(&spec, &env)
            .map(|c| c.resource_attributes)
            .map_err(|e| e.to_string())
    };
    let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(attributes(&[]).unwrap(), vec![]);
    assert_eq!(
        attributes(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=from-attrs, deployment.environment=load%20test ,team=a+b%2Cc"
        )])
        .unwrap(),
        owned(&[
            ("service.name", "from-attrs"),
            ("deployment.environment", "load test"),
            ("team", "a+b,c"),
        ])
    );
    assert_eq!(
        attributes(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,team=x"),
            ("OTEL_SERVICE_NAME", "checkout-load"),
        ])
        .unwrap(),
        owned(&[("service.name", "checkout-load"), ("team", "x")])
    );
    assert_eq!(
        attributes(&[("OTEL_RESOURCE_ATTRIBUTES", "team=x,oops")]).unwrap_err(),
        "--out #1: environment variable OTEL_RESOURCE_ATTRIBUTES: attribute #2 is not key=value"
    );
    assert_eq!(
        attributes(&[("OTEL_RESOURCE_ATTRIBUTES", "=x")]).unwrap_err(),
        "--out #1: environment variable OTEL_RESOURCE_ATTRIBUTES: attribute #1 has an empty key"
    );
}

#[test]
fn go_booleans_are_read_like_k6_reads_them() {
    for t in ["1", "t", "T", "TRUE", "true", "True"] {
        assert_eq!(go_bool(t), Some(true), "{t}");
    }
    for f in ["0", "f", "F", "FALSE", "false", "False"] {
        assert_eq!(go_bool(f), Some(false), "{f}");
    }
    assert_eq!(go_bool("yes"), None);
}
