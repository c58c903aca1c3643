//! The InfluxDB output's settings, parsed from its spec: which API (v1 or
//! v2) the target names, where to write, how to authenticate, and the
//! kind's own options (`mode`, `token_env`, `precision`, `gzip`).

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};

use crate::output::spec::{OutputConfigError, OutputSpec};

/// The environment variable holding the v2 API token, unless `token_env`
/// names another.
pub const DEFAULT_TOKEN_ENV: &str = "STAMPEDE_INFLUXDB_TOKEN";

/// k6's (xk6-output-influxdb) token variable, read when neither `token_env`
/// nor [`DEFAULT_TOKEN_ENV`] gives one.
pub const K6_TOKEN_ENV: &str = "K6_INFLUXDB_TOKEN";

/// The options this kind understands in `spec.extra`.
pub const KNOWN_OPTIONS: &[&str] = &["mode", "token_env", "precision", "gzip"];

/// What each write carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One point per sample (k6's layout): measurement = metric, field `value`.
    Points,
    /// One point per series per push interval with summary fields.
    Aggregate,
}

/// Which HTTP API the target speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Api {
    /// `/api/v2/write?org=&bucket=` with `Authorization: Token ...`.
    V2 { org: String, bucket: String },
    /// `/write?db=`; the database is created when missing through
    /// `query_url` (`/query?q=CREATE DATABASE "db"`).
    V1 { database: String, query_url: String },
}

/// Everything the sink needs besides the spec's common options.
#[derive(Debug)]
pub struct InfluxConfig {
    pub api: Api,
    /// Full write URL with its query (db or org/bucket, precision).
    pub write_url: String,
    pub mode: Mode,
    /// Compress request bodies (`Content-Encoding: gzip`).
    pub gzip: bool,
    /// Headers of every request (the v2 token).
    pub headers: HeaderMap,
}

impl InfluxConfig {
    pub fn from_spec(spec: &OutputSpec) -> Result<Self, OutputConfigError> {
        Self::from_spec_with_env(spec, |var| std::env::var(var).ok())
    }

    /// Like [`from_spec`](Self::from_spec), reading environment variables
    /// through `env` (tests pass a map).
    pub fn from_spec_with_env(
        spec: &OutputSpec,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, OutputConfigError> {
        let bad_option = |key: &str, message: String| OutputConfigError::BadOption {
            origin: spec.origin.clone(),
            key: key.to_string(),
            message,
        };
        spec.check_options(KNOWN_OPTIONS)?;
        let mode = match spec.extra.get("mode").map(String::as_str) {
            None | Some("points") => Mode::Points,
            Some("aggregate") => Mode::Aggregate,
            Some(other) => {
                return Err(bad_option(
                    "mode",
                    format!("expected points or aggregate, got {other:?}"),
                ));
            }
        };
        match spec.extra.get("precision").map(String::as_str) {
            None | Some("ns") => {}
            Some(other) => {
                return Err(bad_option(
                    "precision",
                    format!("only ns is supported (timestamps are nanoseconds), got {other:?}"),
                ));
            }
        }
        let gzip = match spec.extra.get("gzip").map(String::as_str) {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(bad_option(
                    "gzip",
                    format!("expected true or false, got {other:?}"),
                ));
            }
        };
        let token_env = spec.extra.get("token_env").map(String::as_str);
        let (api, write_url) = parse_target(spec)?;
        let mut headers = HeaderMap::new();
        match &api {
            Api::V2 { .. } => {
                let var = token_env.unwrap_or(DEFAULT_TOKEN_ENV);
                let mut source = var;
                let mut token = env(var).filter(|t| !t.is_empty());
                // k6's variable, when stampede's options and variable are silent.
                if token.is_none() && token_env.is_none() {
                    source = K6_TOKEN_ENV;
                    token = env(source).filter(|t| !t.is_empty());
                }
                // Credentials given another way (an `Authorization` header
                // from the environment, basic auth or a bearer token, e.g.
                // for a proxy or VictoriaMetrics) stand in for the token.
                let other_credentials = token_env.is_none()
                    && (spec.common.basic_auth.is_some()
                        || spec.common.bearer_token.is_some()
                        || spec
                            .common
                            .headers
                            .iter()
                            .any(|(name, _)| name.eq_ignore_ascii_case("authorization")));
                match token {
                    Some(token) => {
                        let value = token_header(&token).map_err(|()| {
                            bad_option(
                                "token_env",
                                format!("{source} holds characters not allowed in a header"),
                            )
                        })?;
                        headers.insert(AUTHORIZATION, value);
                    }
                    None if other_credentials => {}
                    None => {
                        return Err(OutputConfigError::MissingEnv {
                            origin: spec.origin.clone(),
                            var: var.to_string(),
                            what: "the InfluxDB v2 API token".to_string(),
                        });
                    }
                }
            }
            Api::V1 { .. } => {
                if token_env.is_some() {
                    return Err(bad_option(
                        "token_env",
                        "a v1 target (http://host:8086/dbname) uses basic_auth, not a token"
                            .to_string(),
                    ));
                }
            }
        }
        Ok(InfluxConfig {
            api,
            write_url,
            mode,
            gzip,
            headers,
        })
    }
}

/// `Authorization: Token <token>`, marked sensitive.
fn token_header(token: &str) -> Result<HeaderValue, ()> {
    let mut value = HeaderValue::from_str(&format!("Token {token}")).map_err(|_| ())?;
    value.set_sensitive(true);
    Ok(value)
}

/// `http://host:8086?org=O&bucket=B` → v2; `http://host:8086/db` → v1.
/// A path before the database (v1) or before `/api/v2/write` (v2) is kept,
/// for InfluxDB behind a reverse proxy.
fn parse_target(spec: &OutputSpec) -> Result<(Api, String), OutputConfigError> {
    let bad = |message: String| OutputConfigError::BadTarget {
        origin: spec.origin.clone(),
        message,
    };
    let url = url::Url::parse(&spec.target)
        .map_err(|e| bad(format!("invalid URL {:?}: {e}", spec.target)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!(
            "InfluxDB URL must be http:// or https://, got {:?}",
            spec.target
        )));
    }
    let (mut org, mut bucket) = (None, None);
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "org" => org = Some(value.into_owned()),
            "bucket" => bucket = Some(value.into_owned()),
            other => {
                return Err(bad(format!(
                    "unknown query parameter {other:?} in the InfluxDB URL (expected org and bucket for v2)"
                )));
            }
        }
    }
    let path = url.path().trim_end_matches('/').to_string();
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    match (org, bucket) {
        (Some(org), Some(bucket)) if !org.is_empty() && !bucket.is_empty() => {
            base.set_path(&format!("{path}/api/v2/write"));
            base.query_pairs_mut()
                .append_pair("org", &org)
                .append_pair("bucket", &bucket)
                .append_pair("precision", "ns");
            Ok((Api::V2 { org, bucket }, base.to_string()))
        }
        (None, None) => {
            let (prefix, database) = match path.rsplit_once('/') {
                Some((prefix, db)) if !db.is_empty() => (prefix.to_string(), db.to_string()),
                _ => {
                    return Err(bad(
                        "name the database (v1: http://host:8086/dbname) or org and bucket (v2: http://host:8086?org=ORG&bucket=BUCKET)"
                            .to_string(),
                    ));
                }
            };
            let database = percent_decode(&database);
            let mut write = base.clone();
            write.set_path(&format!("{prefix}/write"));
            write
                .query_pairs_mut()
                .append_pair("db", &database)
                .append_pair("precision", "ns");
            let mut query = base;
            query.set_path(&format!("{prefix}/query"));
            query.query_pairs_mut().append_pair(
                "q",
                &format!("CREATE DATABASE \"{}\"", database.replace('"', "\\\"")),
            );
            Ok((
                Api::V1 {
                    database,
                    query_url: query.to_string(),
                },
                write.to_string(),
            ))
        }
        _ => Err(bad(
            "a v2 target needs both org and bucket: http://host:8086?org=ORG&bucket=BUCKET"
                .to_string(),
        )),
    }
}

/// The database name as the user typed it (`my%20db` → `my db`).
fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| segment.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::spec::OutputKind;

    fn spec(target: &str, extra: &[(&str, &str)]) -> OutputSpec {
        let mut spec = OutputSpec::new(OutputKind::InfluxDb, target);
        for (k, v) in extra {
            spec.extra.insert(k.to_string(), v.to_string());
        }
        spec
    }

    fn env_with_token(var: &str) -> Option<String> {
        (var == DEFAULT_TOKEN_ENV || var == "MY_TOKEN").then(|| "s3cret".to_string())
    }

    #[test]
    fn v2_target_writes_to_api_v2_with_a_token() {
        let config = InfluxConfig::from_spec_with_env(
            &spec("http://127.0.0.1:8086?org=acme&bucket=load tests", &[]),
            env_with_token,
        )
        .unwrap();
        assert_eq!(
            config.write_url,
            "http://127.0.0.1:8086/api/v2/write?org=acme&bucket=load+tests&precision=ns"
        );
        assert_eq!(
            config.api,
            Api::V2 {
                org: "acme".into(),
                bucket: "load tests".into()
            }
        );
        assert_eq!(config.headers[AUTHORIZATION], "Token s3cret");
        assert_eq!(config.mode, Mode::Points);
        assert!(config.gzip);
    }

    #[test]
    fn v2_without_a_token_names_the_variable() {
        let err = InfluxConfig::from_spec_with_env(
            &spec("http://h:8086?org=o&bucket=b", &[("token_env", "OTHER")]),
            env_with_token,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--out influxdb: environment variable OTHER is not set (the InfluxDB v2 API token)"
        );
        let ok = InfluxConfig::from_spec_with_env(
            &spec("http://h:8086?org=o&bucket=b", &[("token_env", "MY_TOKEN")]),
            env_with_token,
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn v2_accepts_other_credentials_instead_of_the_token() {
        let mut with_auth = spec("http://h:8086?org=o&bucket=b", &[]);
        with_auth.common.headers = vec![(
            "Authorization".into(),
            crate::output::Secret::new("Token from-header"),
        )];
        let config = InfluxConfig::from_spec_with_env(&with_auth, |_| None).unwrap();
        assert!(
            config.headers.is_empty(),
            "the common header is applied by Delivery"
        );
    }

    #[test]
    fn v1_target_names_the_database() {
        let config = InfluxConfig::from_spec_with_env(
            &spec("http://127.0.0.1:8086/k6", &[("mode", "aggregate")]),
            |_| None,
        )
        .unwrap();
        assert_eq!(
            config.write_url,
            "http://127.0.0.1:8086/write?db=k6&precision=ns"
        );
        assert_eq!(
            config.api,
            Api::V1 {
                database: "k6".into(),
                query_url: "http://127.0.0.1:8086/query?q=CREATE+DATABASE+%22k6%22".into()
            }
        );
        assert_eq!(config.mode, Mode::Aggregate);
        assert!(config.headers.is_empty());
    }

    #[test]
    fn v1_behind_a_proxy_keeps_the_prefix() {
        let config =
            InfluxConfig::from_spec_with_env(&spec("https://proxy/influx/my%20db", &[]), |_| None)
                .unwrap();
        assert_eq!(
            config.write_url,
            "https://proxy/influx/write?db=my+db&precision=ns"
        );
    }

    #[test]
    fn bad_targets_and_options_are_refused() {
        let err = |target: &str, extra: &[(&str, &str)]| {
            InfluxConfig::from_spec_with_env(&spec(target, extra), env_with_token)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("http://h:8086", &[]),
            "--out influxdb: name the database (v1: http://host:8086/dbname) or org and bucket (v2: http://host:8086?org=ORG&bucket=BUCKET)"
        );
        assert_eq!(
            err("http://h:8086?org=o", &[]),
            "--out influxdb: a v2 target needs both org and bucket: http://host:8086?org=ORG&bucket=BUCKET"
        );
        assert_eq!(
            err("http://h:8086/db", &[("batch", "1")]),
            "--out influxdb: unknown option \"batch\" for influxdb (known: mode, token_env, precision, gzip)"
        );
        assert_eq!(
            err("http://h:8086/db", &[("mode", "raw")]),
            "--out influxdb: option mode: expected points or aggregate, got \"raw\""
        );
        assert_eq!(
            err("http://h:8086/db", &[("precision", "ms")]),
            "--out influxdb: option precision: only ns is supported (timestamps are nanoseconds), got \"ms\""
        );
        assert_eq!(
            err("udp://h:8089/db", &[]),
            "--out influxdb: InfluxDB URL must be http:// or https://, got \"udp://h:8089/db\""
        );
    }
}
