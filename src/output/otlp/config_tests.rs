use std::collections::HashMap;

use super::*;
use crate::output::spec::OutputKind;

fn spec(target: &str, extra: &[(&str, &str)]) -> OutputSpec {
    let mut spec = OutputSpec::new(OutputKind::Otlp, target);
    for (k, v) in extra {
        spec.extra.insert(k.to_string(), v.to_string());
    }
    spec
}

fn parse_with(spec: &OutputSpec, vars: &[(&str, &str)]) -> Result<OtlpConfig, OutputConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse(spec, &|name| vars.get(name).cloned())
}

fn endpoint_of(target: &str, vars: &[(&str, &str)]) -> (Protocol, String) {
    let c = parse_with(&spec(target, &[]), vars).unwrap();
    (c.protocol, c.endpoint)
}

#[test]
fn targets_choose_protocol_and_path() {
    use Protocol::*;
    assert_eq!(
        endpoint_of("http://127.0.0.1:4318", &[]),
        (HttpProtobuf, "http://127.0.0.1:4318/v1/metrics".into())
    );
    assert_eq!(
        endpoint_of("https://gw.example/otlp/v1/metrics", &[]),
        (HttpProtobuf, "https://gw.example/otlp/v1/metrics".into())
    );
    assert_eq!(
        endpoint_of("otlp+grpc://collector:4317", &[]),
        (Grpc, "http://collector:4317".into())
    );
    assert_eq!(
        endpoint_of("otlp+grpc://collector:9000", &[]),
        (Grpc, "http://collector:9000".into())
    );
    assert_eq!(
        endpoint_of("http://collector:4317", &[]),
        (Grpc, "http://collector:4317".into())
    );
    assert_eq!(
        endpoint_of(
            "http://collector:9000",
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]
        ),
        (Grpc, "http://collector:9000".into())
    );
}

#[test]
fn endpoint_variables_follow_the_otel_spec() {
    use Protocol::*;
    assert_eq!(
        endpoint_of(
            "",
            &[(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://otlp-gateway-prod-eu-west-2.grafana.net/otlp"
            )]
        ),
        (
            HttpProtobuf,
            "https://otlp-gateway-prod-eu-west-2.grafana.net/otlp/v1/metrics".into()
        )
    );
    assert_eq!(
        endpoint_of(
            "",
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
                (
                    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                    "http://m:4318/custom"
                )
            ]
        ),
        (HttpProtobuf, "http://m:4318/custom".into())
    );
    let missing = parse_with(&spec("", &[]), &[]).unwrap_err();
    assert!(
        missing.to_string().contains("OTEL_EXPORTER_OTLP_ENDPOINT"),
        "{missing}"
    );
}

#[test]
fn headers_are_url_decoded_and_the_metrics_variable_wins() {
    let c = parse_with(
        &spec("http://h:4318", &[]),
        &[
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization=Basic%20MTIzOmFiYz+/,X-Scope-OrgID=a",
            ),
            ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-scope-orgid=b"),
        ],
    )
    .unwrap();
    let shown: Vec<(&str, &str)> = c
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    assert_eq!(
        shown,
        [
            ("Authorization", "Basic MTIzOmFiYz+/"),
            ("x-scope-orgid", "b")
        ]
    );
    let err = parse_with(
        &spec("http://h:4318", &[]),
        &[("OTEL_EXPORTER_OTLP_HEADERS", "Authorization secret")],
    )
    .unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[test]
fn options_are_validated() {
    let c = parse_with(
        &spec(
            "http://h:4318",
            &[("temporality", "delta"), ("buckets", "0.1, 1,10")],
        ),
        &[],
    )
    .unwrap();
    assert_eq!(c.temporality, Temporality::Delta);
    assert_eq!(
        c.histograms,
        HistogramMode::Explicit(vec![0.1, 1.0, 10.0].into())
    );
    let c = parse_with(
        &spec("http://h:4318", &[("histograms", "exponential")]),
        &[(
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "LowMemory",
        )],
    )
    .unwrap();
    assert_eq!(
        (c.histograms, c.temporality),
        (HistogramMode::Exponential, Temporality::Delta)
    );

    let unknown = parse_with(&spec("http://h:4318", &[("trend_stats", "p99")]), &[]);
    assert!(matches!(
        unknown,
        Err(OutputConfigError::UnknownOption { ref key, .. }) if key == "trend_stats"
    ));
    for (key, value) in [
        ("buckets", "1,0.5"),
        ("buckets", "fast"),
        ("temporality", "sometimes"),
        ("histograms", "native"),
        ("protocol", "udp"),
    ] {
        let err = parse_with(&spec("http://h:4318", &[(key, value)]), &[]).unwrap_err();
        assert!(
            matches!(err, OutputConfigError::BadOption { key: ref k, .. } if k == key),
            "{key}={value}: {err}"
        );
    }
}

#[test]
fn histograms_default_to_exponential_unless_buckets_are_given() {
    let c = parse_with(&spec("http://h:4318", &[]), &[]).unwrap();
    assert_eq!(c.histograms, HistogramMode::Exponential);
    let c = parse_with(&spec("http://h:4318", &[("histograms", "explicit")]), &[]).unwrap();
    assert_eq!(
        c.histograms,
        HistogramMode::Explicit(DEFAULT_BUCKETS.into())
    );
    let c = parse_with(&spec("http://h:4318", &[("buckets", "0.5,2")]), &[]).unwrap();
    assert_eq!(c.histograms, HistogramMode::Explicit(vec![0.5, 2.0].into()));
    let both = parse_with(
        &spec(
            "http://h:4318",
            &[("histograms", "exponential"), ("buckets", "0.5,2")],
        ),
        &[],
    );
    assert!(matches!(
        both,
        Err(OutputConfigError::BadOption { ref key, .. }) if key == "buckets"
    ));
}
