//! Unit tests of option parsing and credential resolution.
use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |var| pairs.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone())
}

fn builder() -> SpecBuilder {
    SpecBuilder::new(
        OutputKind::PrometheusRw,
        "http://127.0.0.1:9090/api/v1/write",
        "--out #1",
    )
}

#[test]
fn common_options_are_parsed_and_others_kept_as_text() {
    let mut b = builder();
    b.set("push_interval", "1s").unwrap();
    b.set("timeout", "2500ms").unwrap();
    b.set("flush_timeout", "0").unwrap();
    b.set("batch_size", "500").unwrap();
    b.set("buffer_points", "1_000").unwrap();
    b.set("required", "true").unwrap();
    b.set("insecure_skip_tls_verify", "true").unwrap();
    b.set("ca_file", "/etc/ca.pem").unwrap();
    b.set("header", "X-Scope-OrgID: tenant-1").unwrap();
    b.set("trend_stats", "p(95),p(99)").unwrap();
    let spec = b.finish(env(&[])).unwrap();
    let c = &spec.common;
    assert_eq!(c.push_interval, Duration::from_secs(1));
    assert_eq!(c.timeout, Duration::from_millis(2500));
    assert_eq!(c.flush_timeout, Duration::ZERO);
    assert_eq!((c.batch_size, c.buffer_points), (500, 1000));
    assert!(c.required && c.insecure_skip_tls_verify);
    assert_eq!(c.ca_file, Some(PathBuf::from("/etc/ca.pem")));
    assert_eq!(
        c.headers,
        vec![("X-Scope-OrgID".to_string(), Secret::new("tenant-1"))]
    );
    assert_eq!(
        spec.extra.get("trend_stats").map(String::as_str),
        Some("p(95),p(99)")
    );
    assert_eq!(spec.extra.len(), 1);
    assert_eq!(spec.origin, "--out #1");
}

#[test]
fn bad_values_name_the_option() {
    let cases = [
        (
            "push_interval",
            "fast",
            "--out #1: option push_interval: invalid duration \"fast\"; expected a number with a unit (h, m, s, ms, us), e.g. 30s, 5m, 500ms, 1h30m",
        ),
        (
            "push_interval",
            "0s",
            "--out #1: option push_interval: must be longer than 0s",
        ),
        (
            "batch_size",
            "0",
            "--out #1: option batch_size: expected a whole number above 0, got \"0\"",
        ),
        (
            "required",
            "yes",
            "--out #1: option required: expected true or false, got \"yes\"",
        ),
        (
            "password",
            "hunter2",
            "--out #1: option password: secrets are not accepted here; use password_env=VAR, or STAMPEDE_<KIND>_PASSWORD",
        ),
        (
            "header",
            "Authorization: Bearer x",
            "--out #1: option header: the Authorization header holds a secret; give it from the environment (header_env=Authorization:VAR, headers_env in a file) or use bearer_token_env / basic auth",
        ),
        (
            "password_env",
            "my-var",
            "--out #1: option password_env: expected the NAME of an environment variable, got \"my-var\"",
        ),
    ];
    for (key, value, expected) in cases {
        let err = builder().set(key, value).unwrap_err();
        assert_eq!(err.to_string(), expected, "{key}={value}");
        assert!(!err.to_string().contains("hunter2"));
    }
}

#[test]
fn default_env_vars_give_credentials() {
    let spec = builder()
        .finish(env(&[
            ("STAMPEDE_PROMETHEUS_RW_USERNAME", "123456"),
            ("STAMPEDE_PROMETHEUS_RW_PASSWORD", "glc_secret"),
        ]))
        .unwrap();
    let auth = spec.common.basic_auth.clone().unwrap();
    assert_eq!(auth.username, "123456");
    assert_eq!(auth.password.expose(), "glc_secret");
    assert!(!format!("{spec:?}").contains("glc_secret"));

    let spec = builder()
        .finish(env(&[("STAMPEDE_PROMETHEUS_RW_BEARER_TOKEN", "tok")]))
        .unwrap();
    assert_eq!(spec.common.bearer_token.unwrap().expose(), "tok");
    assert_eq!(env_prefix(OutputKind::InfluxDb), "STAMPEDE_INFLUXDB");
}

#[test]
fn named_env_vars_must_be_set() {
    let mut b = builder();
    b.set("username", "123456").unwrap();
    b.set("password_env", "GRAFANA_TOKEN").unwrap();
    let err = b.clone().finish(env(&[])).unwrap_err();
    assert_eq!(err.field, "password_env");
    assert_eq!(
        err.error.to_string(),
        "--out #1: environment variable GRAFANA_TOKEN is not set (basic-auth password of output prometheus-rw (http://127.0.0.1:9090/api/v1/write))"
    );
    let spec = b.finish(env(&[("GRAFANA_TOKEN", "s3cr3t")])).unwrap();
    assert_eq!(spec.common.basic_auth.unwrap().password.expose(), "s3cr3t");

    let mut b = builder();
    b.set("header_env", "Authorization:AUTH").unwrap();
    let err = b.clone().finish(env(&[])).unwrap_err();
    assert!(
        err.error
            .to_string()
            .contains("environment variable AUTH is not set (header Authorization")
    );
    let spec = b.finish(env(&[("AUTH", "Token abc")])).unwrap();
    assert_eq!(spec.common.headers[0].1.expose(), "Token abc");
}

#[test]
fn username_without_password_and_password_without_username_are_errors() {
    let mut b = builder();
    b.set("username", "u").unwrap();
    let err = b.finish(env(&[])).unwrap_err();
    assert!(
        err.error
            .to_string()
            .contains("environment variable STAMPEDE_PROMETHEUS_RW_PASSWORD is not set")
    );
    let err = builder()
        .finish(env(&[("STAMPEDE_PROMETHEUS_RW_PASSWORD", "p")]))
        .unwrap_err();
    assert_eq!(
        err.error.to_string(),
        "--out #1: option username: STAMPEDE_PROMETHEUS_RW_PASSWORD holds a basic-auth password but no user name is given; set username (or STAMPEDE_PROMETHEUS_RW_USERNAME)"
    );
    assert!(!err.error.to_string().contains("=p"));
}

#[test]
fn message_without_origin_strips_the_prefix() {
    let e = OutputConfigError::BadTarget {
        origin: "a.yaml:3:5".into(),
        message: "no".into(),
    };
    assert_eq!(message_without_origin(&e), "no");
}

#[test]
fn proxies_come_from_the_environment_unless_the_options_name_others() {
    let proxied = |b: SpecBuilder, vars: &[(&str, &str)]| -> ProxyConfig {
        b.finish(env(vars)).unwrap().common.proxy
    };
    let vars = [
        ("HTTP_PROXY", "http://127.0.0.1:3128"),
        ("HTTPS_PROXY", "http://127.0.0.1:3129"),
        ("NO_PROXY", "internal.test"),
    ];
    // The load's variables, read the load's way.
    let from_env = proxied(builder(), &vars);
    assert_eq!(from_env.for_host(false, "127.0.0.1").unwrap().port, 3128);
    assert_eq!(from_env.for_host(true, "metrics.test").unwrap().port, 3129);
    assert!(from_env.for_host(true, "x.internal.test").is_none());

    // `proxy` replaces both variables' proxies; `no_proxy` replaces NO_PROXY.
    let mut b = builder();
    b.set("proxy", "127.0.0.1:8888").unwrap();
    b.set("no_proxy", "*").unwrap();
    let explicit = proxied(b, &vars);
    assert_eq!(explicit.http.as_ref().unwrap().port, 8888);
    assert_eq!(explicit.https.as_ref().unwrap().port, 8888);
    assert!(
        explicit.for_host(false, "127.0.0.1").is_none(),
        "no_proxy=*"
    );

    // A file's YAML list is the comma-separated list; other common
    // options still take one value.
    let mut b = builder();
    b.set_list("no_proxy", &["internal.test".into(), "127.0.0.1".into()])
        .unwrap();
    let listed = proxied(b, &vars);
    assert!(listed.for_host(false, "127.0.0.1").is_none());
    assert!(listed.for_host(true, "x.internal.test").is_none());
    assert_eq!(listed.for_host(true, "metrics.test").unwrap().port, 3129);
    let mut b = builder();
    b.set("no_proxy", "internal.test,127.0.0.1").unwrap();
    assert_eq!(proxied(b, &vars), listed, "the same list either way");
    let err = builder()
        .set_list("timeout", &["1s".into(), "2s".into()])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "--out #1: option timeout: expected a single value, not a list"
    );

    // Credentials only through a variable, never echoed.
    let err = builder()
        .set("proxy", "http://agent:s3cret@127.0.0.1:3128")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "--out #1: option proxy: proxy credentials are not accepted here; give the whole URL from the environment (proxy_env=VAR, or HTTPS_PROXY / HTTP_PROXY)"
    );
    let mut b = builder();
    b.set("proxy_env", "METRICS_PROXY").unwrap();
    let named = proxied(
        b,
        &[("METRICS_PROXY", "http://agent:s3cret@127.0.0.1:3130")],
    );
    let server = named.for_host(false, "127.0.0.1").unwrap();
    assert!(server.has_credentials() && server.port == 3130);
    assert!(!format!("{named:?}").contains("s3cret"));

    let mut b = builder();
    b.set("proxy_env", "METRICS_PROXY").unwrap();
    let err = b.finish(env(&[])).unwrap_err();
    assert_eq!(err.field, "proxy_env");
    assert_eq!(
        err.error.to_string(),
        "--out #1: environment variable METRICS_PROXY is not set (proxy of output prometheus-rw (http://127.0.0.1:9090/api/v1/write))"
    );
    let err = builder()
        .finish(env(&[("HTTPS_PROXY", "socks5://u:s3cret@p:1080")]))
        .unwrap_err();
    assert_eq!(
        err.error.to_string(),
        "--out #1: environment variable HTTPS_PROXY: proxy scheme \"socks5\" is not supported (use http://; the tunnel to https:// targets is still encrypted end to end)"
    );

    // A file output has no connection to proxy.
    let file = SpecBuilder::new(OutputKind::Json, "out.json", "--out #2");
    assert_eq!(proxied(file, &vars), ProxyConfig::default());
}

#[test]
fn a_file_output_refuses_the_options_of_a_network_one() {
    for key in ["ca_file", "proxy", "timeout", "push_interval", "header"] {
        let mut file = SpecBuilder::new(OutputKind::Json, "out.json", "--out #2");
        let err = file.set(key, "x").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("--out #2: option {key}: does not apply to a json output, which writes a file")
        );
    }
    let mut csv = SpecBuilder::new(OutputKind::Csv, "out.csv", "outputs[0]");
    assert!(csv.set("required", "true").is_ok());
    assert!(csv.set("insecure_skip_tls_verify", "true").is_err());
}
