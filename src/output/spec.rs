//! What the user asked of one output: its kind, target, the options every
//! network output shares, and the options only its kind understands.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::protocol::http::proxy::ProxyConfig;

/// The kinds of output, named as on the command line (`--out KIND=TARGET`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutputKind {
    /// `prometheus-rw=URL`: Prometheus remote-write 1.0.
    PrometheusRw,
    /// `otlp=URL`: OTLP metrics over HTTP/protobuf, or gRPC with
    /// `otlp+grpc://` or port 4317.
    Otlp,
    /// `influxdb=URL`: line protocol to the v2 API (`?org=..&bucket=..`) or
    /// v1 (`http://host:8086/dbname`).
    InfluxDb,
    /// `json=FILE`: k6's JSON-lines shape; gzip when FILE ends in `.gz`.
    Json,
    /// `csv=FILE`: k6's CSV columns.
    Csv,
}

impl OutputKind {
    pub const ALL: [OutputKind; 5] = [
        OutputKind::PrometheusRw,
        OutputKind::Otlp,
        OutputKind::InfluxDb,
        OutputKind::Json,
        OutputKind::Csv,
    ];

    /// The name used on the command line, in the scenario file and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::PrometheusRw => "prometheus-rw",
            OutputKind::Otlp => "otlp",
            OutputKind::InfluxDb => "influxdb",
            OutputKind::Json => "json",
            OutputKind::Csv => "csv",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the target is a network endpoint (as opposed to a file).
    pub fn is_network(self) -> bool {
        !matches!(self, OutputKind::Json | OutputKind::Csv)
    }
}

impl std::fmt::Display for OutputKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A credential. Its `Debug` and `Display` never show the value, so a spec
/// can be logged or printed in an error safely.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for building the request that needs it. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicAuth {
    /// Grafana Cloud: the instance (user) id.
    pub username: String,
    /// Grafana Cloud: an access-policy token.
    pub password: Secret,
}

/// Options every network output understands. File outputs use only
/// `push_interval` and `flush_timeout`.
#[derive(Clone, Debug, PartialEq)]
pub struct CommonOptions {
    /// How often data is sent. Snapshots arriving in between are merged.
    pub push_interval: Duration,
    /// Extra request headers (e.g. `X-Scope-OrgID`). Values are secrets:
    /// an `Authorization` header may be among them.
    pub headers: Vec<(String, Secret)>,
    pub basic_auth: Option<BasicAuth>,
    pub bearer_token: Option<Secret>,
    /// PEM file with CA certificates trusted in addition to the public roots.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate and key shown to a backend that asks for one
    /// (mTLS); read by the same loader as the scenario's `http.tls`.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate (opt-in, for self-signed test stacks).
    pub insecure_skip_tls_verify: bool,
    /// Forward proxies to the backend: `HTTP_PROXY` / `HTTPS_PROXY` /
    /// `NO_PROXY` as the load's requests read them, replaced by the `proxy`
    /// (or `proxy_env`) and `no_proxy` options. Default: none (a spec made
    /// in code); `SpecBuilder::finish` reads the environment.
    pub proxy: ProxyConfig,
    /// Deadline of one request to the backend.
    pub timeout: Duration,
    /// Most points (samples, series values) in one request.
    pub batch_size: usize,
    /// Most points held for later delivery while the backend is unreachable;
    /// beyond it the oldest are dropped (and counted).
    pub buffer_points: u64,
    /// How long the final delivery at the end of the test may take.
    pub flush_timeout: Duration,
    /// Abort before the test starts when the endpoint is unreachable
    /// (otherwise a warning is printed and the test runs).
    pub required: bool,
}

impl Default for CommonOptions {
    fn default() -> Self {
        CommonOptions {
            push_interval: Duration::from_secs(5),
            headers: Vec::new(),
            basic_auth: None,
            bearer_token: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            insecure_skip_tls_verify: false,
            proxy: ProxyConfig::default(),
            timeout: Duration::from_secs(10),
            batch_size: 10_000,
            buffer_points: 1_000_000,
            flush_timeout: Duration::from_secs(5),
            required: false,
        }
    }
}

/// One output as the user configured it, secrets already resolved from the
/// environment.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputSpec {
    pub kind: OutputKind,
    /// URL (network outputs) or file path (json, csv), as given.
    pub target: String,
    pub common: CommonOptions,
    /// Options only this kind understands (`trend_stats`, `histograms`,
    /// `naming`, `mode`, `temporality`, ...), as text; lists are joined with
    /// `,`. The kind's constructor validates them and rejects unknown keys.
    pub extra: BTreeMap<String, String>,
    /// Where it was configured, for messages: `--out #2` or
    /// `scenario.yaml:14:5`.
    pub origin: String,
}

impl OutputSpec {
    /// A spec with default options (tests and ad-hoc construction).
    pub fn new(kind: OutputKind, target: impl Into<String>) -> Self {
        OutputSpec {
            kind,
            target: target.into(),
            common: CommonOptions::default(),
            extra: BTreeMap::new(),
            origin: format!("--out {kind}"),
        }
    }

    /// Refuses any kind-specific option not in `known`.
    pub fn check_options(&self, known: &[&str]) -> Result<(), OutputConfigError> {
        match self.extra.keys().find(|k| !known.contains(&k.as_str())) {
            Some(key) => Err(OutputConfigError::UnknownOption {
                origin: self.origin.clone(),
                kind: self.kind,
                key: key.clone(),
                known: if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                },
            }),
            None => Ok(()),
        }
    }

    /// The name shown in messages and the summary: `prometheus-rw`, or
    /// `prometheus-rw#2` when a run has two of the same kind is up to the
    /// caller; this is the kind and target without credentials or query.
    pub fn display_name(&self) -> String {
        let target = match url::Url::parse(&self.target) {
            Ok(mut u) if self.kind.is_network() => {
                let _ = u.set_password(None);
                let _ = u.set_username("");
                u.set_query(None);
                u.to_string()
            }
            _ => self.target.clone(),
        };
        format!("{} ({target})", self.kind)
    }
}

/// Why an output cannot be built. Messages name the output's origin.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OutputConfigError {
    #[error(
        "{origin}: unknown output kind {kind:?}; expected one of prometheus-rw, otlp, influxdb, json, csv"
    )]
    UnknownKind { origin: String, kind: String },
    #[error("{origin}: unknown option {key:?} for {kind} (known: {known})")]
    UnknownOption {
        origin: String,
        kind: OutputKind,
        key: String,
        known: String,
    },
    #[error("{origin}: option {key}: {message}")]
    BadOption {
        origin: String,
        key: String,
        message: String,
    },
    #[error("{origin}: {message}")]
    BadTarget { origin: String, message: String },
    /// A k6 or OpenTelemetry variable read as a fallback holds a value
    /// stampede cannot use. The message never repeats a secret's value.
    #[error("{origin}: environment variable {var}: {message}")]
    BadEnv {
        origin: String,
        var: String,
        message: String,
    },
    #[error("{origin}: environment variable {var} is not set ({what})")]
    MissingEnv {
        origin: String,
        var: String,
        what: String,
    },
}
